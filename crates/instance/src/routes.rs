//! HTTP routes: OIDC discovery and JWKS, Fulcio v2, Rekor v1 write API, trust config,
//! and the log's read API.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hallmark_tlog::api::{ApiState, router as log_router};
use hallmark_tlog::rekor::{EntryProof, dsse_body, hashedrekord_body};
use serde_json::{Value, json};

use crate::state::Instance;

/// Largest request body (a DSSE envelope for a model with many files).
const MAX_BODY: usize = 64 * 1024 * 1024;

fn error(status: StatusCode, msg: impl Into<String>) -> Response {
    (
        status,
        Json(json!({ "code": status.as_u16(), "message": msg.into() })),
    )
        .into_response()
}

/// All routes of the instance.
pub fn router(instance: Arc<Instance>) -> Router {
    let log_api = log_router(Arc::new(ApiState {
        fetch: Arc::clone(&instance.store) as Arc<dyn hallmark_tlog::TileFetch>,
        reader: instance.log_reader(),
        key: Some(Arc::clone(&instance.log_key)),
    }));
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .route("/api/v2/signingCert", post(signing_cert))
        .route("/api/v1/log/entries", post(create_entry))
        .route("/trust-config.json", get(trust_config))
        .with_state(instance)
        .merge(log_router_without_conflicts(log_api))
        .layer(DefaultBodyLimit::max(MAX_BODY))
}

fn log_router_without_conflicts(r: Router) -> Router {
    r
}

async fn discovery(State(i): State<Arc<Instance>>) -> Json<Value> {
    Json(i.oidc_documents().0)
}

async fn jwks(State(i): State<Arc<Instance>>) -> Json<Value> {
    Json(i.oidc_documents().1)
}

async fn trust_config(State(i): State<Arc<Instance>>) -> Json<Value> {
    Json(i.trust_config())
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

async fn signing_cert(State(i): State<Arc<Instance>>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(token) = bearer(&headers) else {
        return error(
            StatusCode::UNAUTHORIZED,
            "missing `Authorization: Bearer <identity token>`",
        );
    };
    let validator = match i.token_validator() {
        Ok(v) => v,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let claims = match validator.validate(token) {
        Ok(c) => c,
        Err(e) => return error(StatusCode::UNAUTHORIZED, e.to_string()),
    };
    match i.ca.handle_signing_cert(&claims, &body) {
        Ok(issued) => (StatusCode::CREATED, Json(issued.fulcio_response())).into_response(),
        Err(e) if e.is_client_error() => error(StatusCode::BAD_REQUEST, e.to_string()),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

fn proposed_dsse(req: &Value) -> Result<(String, Vec<String>), String> {
    let kind = req.get("kind").and_then(Value::as_str).unwrap_or_default();
    if kind != "dsse" {
        return Err(format!(
            "entry kind {kind:?} is not supported; this log accepts `dsse` v0.0.1"
        ));
    }
    let content = req
        .pointer("/spec/proposedContent")
        .ok_or("missing spec.proposedContent")?;
    let envelope = content
        .get("envelope")
        .and_then(Value::as_str)
        .ok_or("missing spec.proposedContent.envelope")?
        .to_owned();
    let verifiers = content
        .get("verifiers")
        .and_then(Value::as_array)
        .ok_or("missing spec.proposedContent.verifiers")?
        .iter()
        .map(|v| {
            let b64 = v.as_str().ok_or("verifier is not a string")?;
            let pem = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64)
                .map_err(|_| "verifier is not base64")?;
            String::from_utf8(pem).map_err(|_| "verifier is not PEM text")
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((envelope, verifiers))
}

/// `{"kind":"hashedrekord","apiVersion":"0.0.1","spec":{"data":{"hash":{"algorithm":"sha256",
/// "value":HEX}},"signature":{"content":B64,"publicKey":{"content":B64(PEM)}}}}`.
fn proposed_hashedrekord(req: &Value) -> Result<(String, String, String), String> {
    let spec = req.get("spec").ok_or("missing spec")?;
    let alg = spec
        .pointer("/data/hash/algorithm")
        .and_then(Value::as_str)
        .ok_or("missing spec.data.hash.algorithm")?;
    if alg != "sha256" {
        return Err(format!(
            "hash algorithm {alg:?} is not supported (sha256 only)"
        ));
    }
    let digest = spec
        .pointer("/data/hash/value")
        .and_then(Value::as_str)
        .ok_or("missing spec.data.hash.value")?
        .to_owned();
    let sig = spec
        .pointer("/signature/content")
        .and_then(Value::as_str)
        .ok_or("missing spec.signature.content")?
        .to_owned();
    let pem_b64 = spec
        .pointer("/signature/publicKey/content")
        .and_then(Value::as_str)
        .ok_or("missing spec.signature.publicKey.content")?;
    let pem = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, pem_b64)
        .map_err(|_| "publicKey.content is not base64")?;
    Ok((
        digest,
        sig,
        String::from_utf8(pem).map_err(|_| "publicKey.content is not PEM text")?,
    ))
}

async fn create_entry(State(i): State<Arc<Instance>>, body: Bytes) -> Response {
    let req: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("request body: {e}")),
    };
    let built = if req.get("kind").and_then(Value::as_str) == Some("hashedrekord") {
        proposed_hashedrekord(&req)
            .and_then(|(d, sig, pem)| hashedrekord_body(&d, &sig, &pem).map_err(|e| e.to_string()))
    } else {
        proposed_dsse(&req).and_then(|(envelope, verifiers)| {
            let refs: Vec<&str> = verifiers.iter().map(String::as_str).collect();
            dsse_body(&envelope, &refs).map_err(|e| e.to_string())
        })
    };
    let entry_body = match built {
        Ok(b) => b,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let appended = match i.append_async(entry_body.clone()).await {
        Ok(a) => a,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let set = match appended.sign_set(&i.log_key, &entry_body) {
        Ok(s) => s,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let proof = EntryProof {
        body: &entry_body,
        index: appended.index,
        integrated_time: appended.integrated_time,
        log_id: i.log_key.verifier().log_id(),
        set: &set,
        proof: &appended.proof,
        checkpoint: &appended.checkpoint,
    };
    (
        StatusCode::CREATED,
        Json(proof.rekor_v1_entry(i.log_cfg.tree_id)),
    )
        .into_response()
}
