//! Helpers of the log write API's attack tests: an instance, certificates of its CA (or
//! of another instance's), proposed entries, requests through the router.

#![allow(dead_code, unreachable_pub)]

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hallmark_ca::{Ca, CaMaterial, SanIdentity};
use hallmark_crypto::{Curve, SigningKey};
use hallmark_instance::{Instance, InstanceConfig, LogWrites};
use serde_json::{Value, json};
use tower::ServiceExt as _;

pub mod witness;

pub const URL: &str = "http://hub.test";

pub fn instance(dir: &Path) -> Arc<Instance> {
    Arc::new(Instance::open(InstanceConfig::new(dir, URL)).unwrap())
}

/// Open writes without a rate limit (the tests that are not about the rate).
pub fn unlimited() -> LogWrites {
    LogWrites {
        rate: None,
        ..LogWrites::open()
    }
}

/// A fresh key and a certificate for `identity` from the CA in `data_dir` (this
/// instance's, or another's: a foreign CA).
pub fn certified(data_dir: &Path, identity: SanIdentity) -> (SigningKey, String) {
    certified_at(data_dir, identity, SystemTime::now())
}

/// As [`certified`], the certificate issued at `at` (valid for ten minutes from then).
pub fn certified_at(
    data_dir: &Path,
    identity: SanIdentity,
    at: SystemTime,
) -> (SigningKey, String) {
    let ca = Ca::new(
        CaMaterial::load_or_create(&data_dir.join("ca"), "Hallmark").unwrap(),
        Duration::from_secs(600),
    );
    let key = SigningKey::generate(Curve::P256).unwrap();
    let issued = ca
        .issue(key.public_key().spki_der(), &identity, URL, at)
        .unwrap();
    (
        key,
        hallmark_ca::material::pem("CERTIFICATE", &issued.leaf_der),
    )
}

pub fn email(e: &str) -> SanIdentity {
    SanIdentity::Email(e.to_owned())
}

pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut v = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    v.extend_from_slice(payload);
    v
}

/// A `dsse` proposed entry: `payload` signed by each of `signers`, with `verifiers`
/// (PEM texts) as given.
pub fn dsse_request(payload: &[u8], signers: &[&SigningKey], verifiers: &[&str]) -> Vec<u8> {
    let t = "application/vnd.in-toto+json";
    let pae = pae(t, payload);
    let sigs: Vec<Value> = signers
        .iter()
        .map(|k| json!({"sig": STANDARD.encode(k.sign(&pae).unwrap())}))
        .collect();
    let env = json!({"payload": STANDARD.encode(payload), "payloadType": t, "signatures": sigs});
    let verifiers: Vec<String> = verifiers.iter().map(|v| STANDARD.encode(v)).collect();
    json!({"apiVersion": "0.0.1", "kind": "dsse", "spec": {"proposedContent": {"envelope": env.to_string(), "verifiers": verifiers}}})
        .to_string()
        .into_bytes()
}

/// POSTs `body` to `/api/v1/log/entries` as a client at `ip`, with an optional bearer
/// token.
pub async fn post_entry(
    app: &axum::Router,
    body: Vec<u8>,
    ip: Option<IpAddr>,
    token: Option<&str>,
) -> (StatusCode, HeaderMap, Value) {
    let mut req = Request::builder()
        .method("POST")
        .uri("/api/v1/log/entries")
        .header("content-type", "application/json")
        .header("content-length", body.len());
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let mut req = req.body(Body::from(body)).unwrap();
    if let Some(ip) = ip {
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::new(ip, 40000)));
    }
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        headers,
        serde_json::from_slice(&bytes).unwrap_or_else(|_| json!(String::from_utf8_lossy(&bytes))),
    )
}

pub fn log_size(inst: &Instance) -> u64 {
    inst.log_reader().checkpoint().unwrap().checkpoint.size
}
