//! HTTP routes: OIDC discovery and JWKS, Fulcio v2, Rekor v1 and v2 write APIs (see
//! [`crate::entries`], [`crate::rekor2`]), the timestamp authority ([`crate::timestamp`]),
//! trust config, and the logs' read APIs.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hallmark_tlog::api::{ApiState, router as log_router};
use serde_json::Value;

use crate::entries::{WriteState, create_entry};
use crate::rekor2::create_entry_v2;
use crate::reply::{bearer, error, internal};
use crate::state::Instance;
use crate::timestamp::{TsaState, timestamp};
use crate::writes::LogWrites;

/// Largest body of the other requests (a Fulcio CSR or public-key request is ~1 KiB).
const MAX_SMALL_BODY: usize = 64 * 1024;

/// All routes of the instance; `writes` says who may append to the log over HTTP.
pub fn router(instance: Arc<Instance>, writes: LogWrites) -> Router {
    let log_api = log_router(Arc::new(ApiState {
        fetch: Arc::clone(&instance.store) as Arc<dyn hallmark_tlog::TileFetch>,
        reader: instance.log_reader(),
        key: Some(Arc::clone(&instance.log_key)),
    }))
    .route_layer(axum::middleware::from_fn_with_state(
        Arc::clone(&instance),
        witnessed_checkpoint,
    ));
    let tsa_state = Arc::new(TsaState::new(Arc::clone(&instance.tsa), &writes));
    let v2_api = instance.rekor_v2.as_ref().map(|v2| {
        log_router(Arc::new(ApiState {
            fetch: Arc::clone(&v2.store) as Arc<dyn hallmark_tlog::TileFetch>,
            reader: v2.reader(),
            key: Some(Arc::clone(&v2.key)),
        }))
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&instance),
            witnessed_checkpoint_v2,
        ))
    });
    let write_state = Arc::new(WriteState::new(Arc::clone(&instance), writes));
    let router = Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .route("/api/v2/signingCert", post(signing_cert))
        .route("/trust-config.json", get(trust_config))
        .route("/witness-policy", get(witness_policy))
        .with_state(instance)
        .route(
            "/api/v1/log/entries",
            post(create_entry).with_state(Arc::clone(&write_state)),
        )
        .route(
            "/api/v2/log/entries",
            post(create_entry_v2).with_state(write_state),
        )
        .route("/api/v1/timestamp", post(timestamp).with_state(tsa_state))
        .merge(log_api);
    // The v2 log's checkpoint and tiles, for auditors (`hallmark log audit URL/rekor2`).
    let router = match v2_api {
        Some(api) => router.nest("/rekor2", api),
        None => router,
    };
    router.layer(DefaultBodyLimit::max(MAX_SMALL_BODY))
}

async fn discovery(State(i): State<Arc<Instance>>) -> Json<Value> {
    Json(i.oidc_documents().0)
}

async fn jwks(State(i): State<Arc<Instance>>) -> Json<Value> {
    Json(i.oidc_documents().1)
}

/// `/checkpoint` of a witnessed log: the published checkpoint with its cosignatures
/// (other log routes pass through).
async fn witnessed_checkpoint(
    State(i): State<Arc<Instance>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let note = i.witnessed_checkpoint();
    serve_checkpoint(note, req, next).await
}

/// The same for the Rekor v2 log (under `/rekor2`).
async fn witnessed_checkpoint_v2(
    State(i): State<Arc<Instance>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let note = i
        .rekor_v2
        .as_ref()
        .and_then(|v2| v2.witnessing.as_ref())
        .and_then(|w| w.published())
        .map(|p| p.text.clone());
    serve_checkpoint(note, req, next).await
}

async fn serve_checkpoint(
    note: Option<String>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match note {
        Some(note) if req.uri().path() == "/checkpoint" => (
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            note,
        )
            .into_response(),
        _ => next.run(req).await,
    }
}

/// `GET /witness-policy`: the logs' vkeys and the witnesses they ask, as a policy clients
/// may pin (`hallmark pull --witness-policy`).
async fn witness_policy(State(i): State<Arc<Instance>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        i.witness_policy(),
    )
        .into_response()
}

async fn trust_config(State(i): State<Arc<Instance>>) -> Json<Value> {
    Json(i.trust_config())
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
        Err(e) => return internal("token validator", e),
    };
    let claims = match validator.validate(token) {
        Ok(c) => c,
        Err(e) => return error(StatusCode::UNAUTHORIZED, e.to_string()),
    };
    match i.ca.handle_signing_cert(&claims, &body) {
        Ok(issued) => (StatusCode::CREATED, Json(issued.fulcio_response())).into_response(),
        Err(e) if e.is_client_error() => error(StatusCode::BAD_REQUEST, e.to_string()),
        Err(e) => internal("certificate issuance", e),
    }
}
