//! The Rekor v2 write API and the RFC 3161 timestamp authority, in process: a DSSE
//! signature logged as `hashedrekord` 0.0.2 with a TSA timestamp makes a bundle that
//! `hallmark-sigstore` verifies offline against the instance's trust config; malformed
//! requests answer 400 naming the field; the write policy, the rate and the body bounds
//! apply to both.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::*;
use hallmark_crypto::SigningKey;
use hallmark_instance::{Instance, LogWrites, Rate};
use hallmark_sigstore::{IdentityPolicy, TrustedRoot, verify_dsse_bundle};
use serde_json::{Value, json};
use tower::ServiceExt as _;

const IN_TOTO: &str = "application/vnd.in-toto+json";

fn statement() -> Vec<u8> {
    json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "model", "digest": {"sha256": "ab".repeat(32)}}],
        "predicateType": "https://model_signing/signature/v1.0",
        "predicate": {},
    })
    .to_string()
    .into_bytes()
}

fn der_of(pem: &str) -> Vec<u8> {
    hallmark_crypto::load_certificates_pem(pem.as_bytes()).unwrap()[0]
        .der()
        .to_vec()
}

/// A `hashedRekordRequestV002` for a DSSE envelope, as sigstore-python 4.5 builds it.
fn v2_request(payload: &[u8], key: &SigningKey, leaf_pem: &str) -> (Vec<u8>, Vec<u8>) {
    let pae = pae(IN_TOTO, payload);
    let sig = key.sign(&pae).unwrap();
    let body = json!({"hashedRekordRequestV002": {
        "digest": STANDARD.encode(hallmark_crypto::sha256(&pae)),
        "signature": {"content": STANDARD.encode(&sig), "verifier": {
            "x509Certificate": {"rawBytes": STANDARD.encode(der_of(leaf_pem))},
            "keyDetails": "PKIX_ECDSA_P256_SHA_256"}},
    }});
    (body.to_string().into_bytes(), sig)
}

async fn post(
    app: &axum::Router,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
    ip: IpAddr,
) -> (StatusCode, Vec<u8>) {
    let mut req = Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", content_type)
        .body(Body::from(body))
        .unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::new(ip, 40000)));
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, bytes.to_vec())
}

const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn json_of(b: &[u8]) -> Value {
    serde_json::from_slice(b).unwrap_or_else(|_| json!(String::from_utf8_lossy(b)))
}

/// Logs a signed statement on the v2 log, timestamps the signature, assembles the bundle.
async fn signed_bundle(app: &axum::Router, dir: &std::path::Path, who: &str) -> (Value, Value) {
    let (key, leaf) = certified(dir, email(who));
    let payload = statement();
    let (req, sig) = v2_request(&payload, &key, &leaf);
    let (status, tsr) = post(
        app,
        "/api/v1/timestamp",
        "application/timestamp-query",
        hallmark_ca::tsa::request_for(&sig, [7; 8]).unwrap(),
        LOCAL,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&tsr));
    hallmark_ca::tsa::check_answer(&tsr, &sig, [7; 8]).unwrap();
    let (status, tle) = post(app, "/api/v2/log/entries", "application/json", req, LOCAL).await;
    let tle = json_of(&tle);
    assert_eq!(status, StatusCode::CREATED, "{tle}");
    let bundle = json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {
            "certificate": {"rawBytes": STANDARD.encode(der_of(&leaf))},
            "tlogEntries": [tle.clone()],
            "timestampVerificationData": {"rfc3161Timestamps": [{"signedTimestamp": STANDARD.encode(&tsr)}]},
        },
        "dsseEnvelope": {"payload": STANDARD.encode(&payload), "payloadType": IN_TOTO,
            "signatures": [{"sig": STANDARD.encode(&sig), "keyid": ""}]},
    });
    (bundle, tle)
}

fn trust(inst: &Instance) -> TrustedRoot {
    TrustedRoot::from_client_trust_config_json(inst.trust_config().to_string().as_bytes()).unwrap()
}

fn policy(who: &str) -> IdentityPolicy {
    IdentityPolicy {
        identity: Some(who.into()),
        identity_regex: None,
        issuer: URL.into(),
    }
}

/// Issue 22: with witnesses, the v2 entry embeds the cosigned checkpoint, and the bundle
/// still verifies (note verifiers ignore the other keys' lines).
#[tokio::test(flavor = "multi_thread")]
async fn a_witnessed_v2_entry_embeds_the_cosigned_checkpoint() {
    let d = tempfile::tempdir().unwrap();
    let w = witness::Honest::new("alpha");
    let inst = witness::witnessed_instance(d.path(), vec![w.clone() as _]);
    let app = hallmark_instance::router(Arc::clone(&inst), unlimited());
    for who in ["alice@example.com", "bob@example.com"] {
        let (bundle, tle) = signed_bundle(&app, d.path(), who).await;
        let note = tle["inclusionProof"]["checkpoint"]["envelope"]
            .as_str()
            .unwrap();
        assert_eq!(witness::cosigners(note), ["alpha"], "{note}");
        let v =
            verify_dsse_bundle(bundle.to_string().as_bytes(), &trust(&inst), &policy(who)).unwrap();
        assert_eq!(v.identity, who);
    }
    // The witness saw the v2 log's sizes 1 and 2 (and proved 1 -> 2).
    assert_eq!(w.state.lock().unwrap().unwrap().0, 2);
}

#[tokio::test]
async fn a_v2_entry_with_a_tsa_timestamp_verifies_offline() {
    let d = tempfile::tempdir().unwrap();
    let inst = instance(d.path());
    let app = hallmark_instance::router(Arc::clone(&inst), unlimited());
    let (bundle, tle) = signed_bundle(&app, d.path(), "alice@example.com").await;

    // The entry is Rekor v2's: no SET, integrated time 0, log ID = the v2 checkpoint key ID
    // (the trusted root's second tlog), proof fields equal to the checkpoint's.
    assert!(tle.get("inclusionPromise").is_none(), "{tle}");
    assert_eq!(tle["integratedTime"], "0");
    assert_eq!(
        tle["kindVersion"],
        json!({"kind": "hashedrekord", "version": "0.0.2"})
    );
    let tc = inst.trust_config();
    let tlogs = tc["trustedRoot"]["tlogs"].as_array().unwrap();
    assert_eq!(tlogs.len(), 2, "v1 and v2 logs");
    assert_eq!(tle["logId"]["keyId"], tlogs[1]["logId"]["keyId"]);
    assert_ne!(tlogs[0]["logId"], tlogs[1]["logId"]);
    let checkpoint = tle["inclusionProof"]["checkpoint"]["envelope"]
        .as_str()
        .unwrap();
    assert!(
        checkpoint.starts_with("hub.test\n1\n"),
        "origin = host name: {checkpoint}"
    );
    assert_eq!(
        tc["trustedRoot"]["timestampAuthorities"][0]["certChain"]["certificates"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let versions: Vec<u64> = tc["signingConfig"]["rekorTlogUrls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["majorApiVersion"].as_u64().unwrap())
        .collect();
    assert_eq!(versions, [1, 2]);
    assert_eq!(
        tc["signingConfig"]["tsaUrls"][0]["url"],
        "http://hub.test/api/v1/timestamp"
    );

    let v = verify_dsse_bundle(
        bundle.to_string().as_bytes(),
        &trust(&inst),
        &policy("alice@example.com"),
    )
    .unwrap();
    assert_eq!(v.log_index, Some(0));
    assert_eq!(v.identity, "alice@example.com");

    // Without the timestamp there is no verified time: refused.
    let mut no_ts = bundle.clone();
    no_ts["verificationMaterial"]["timestampVerificationData"] = json!({});
    let e = verify_dsse_bundle(
        no_ts.to_string().as_bytes(),
        &trust(&inst),
        &policy("alice@example.com"),
    )
    .unwrap_err();
    assert!(e.to_string().contains("time"), "{e}");
    // A tampered payload: the entry no longer binds the envelope.
    let mut other = bundle.clone();
    let mut st: Value = serde_json::from_slice(&statement()).unwrap();
    st["predicate"] = json!({"x": 1});
    other["dsseEnvelope"]["payload"] = json!(STANDARD.encode(st.to_string()));
    assert!(
        verify_dsse_bundle(
            other.to_string().as_bytes(),
            &trust(&inst),
            &policy("alice@example.com")
        )
        .is_err()
    );

    // The v2 log's checkpoint is served for auditors under /rekor2.
    let req = Request::builder()
        .uri("/rekor2/checkpoint")
        .body(Body::empty())
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_dsse_v2_request_is_logged_as_hashedrekord_and_verifies() {
    let d = tempfile::tempdir().unwrap();
    let inst = instance(d.path());
    let app = hallmark_instance::router(Arc::clone(&inst), unlimited());
    let (key, leaf) = certified(d.path(), email("bob@example.com"));
    let payload = statement();
    let sig = key.sign(&pae(IN_TOTO, &payload)).unwrap();
    let req = json!({"dsseRequestV002": {
        "envelope": {"payload": STANDARD.encode(&payload), "payloadType": IN_TOTO, "signatures": [{"sig": STANDARD.encode(&sig), "keyid": ""}]},
        "verifiers": [{"x509Certificate": {"rawBytes": STANDARD.encode(der_of(&leaf))}, "keyDetails": "PKIX_ECDSA_P256_SHA_256"}],
    }});
    let (status, tle) = post(
        &app,
        "/api/v2/log/entries",
        "application/json",
        req.to_string().into_bytes(),
        LOCAL,
    )
    .await;
    let tle = json_of(&tle);
    assert_eq!(status, StatusCode::CREATED, "{tle}");
    let (_, tsr) = post(
        &app,
        "/api/v1/timestamp",
        "application/timestamp-query",
        hallmark_ca::tsa::request_for(&sig, [1; 8]).unwrap(),
        LOCAL,
    )
    .await;
    let bundle = json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {
            "certificate": {"rawBytes": STANDARD.encode(der_of(&leaf))},
            "tlogEntries": [tle],
            "timestampVerificationData": {"rfc3161Timestamps": [{"signedTimestamp": STANDARD.encode(&tsr)}]},
        },
        "dsseEnvelope": {"payload": STANDARD.encode(&payload), "payloadType": IN_TOTO, "signatures": [{"sig": STANDARD.encode(&sig), "keyid": ""}]},
    });
    verify_dsse_bundle(
        bundle.to_string().as_bytes(),
        &trust(&inst),
        &policy("bob@example.com"),
    )
    .unwrap();
}

#[tokio::test]
async fn malformed_v2_and_tsa_requests_answer_400_naming_the_field() {
    let d = tempfile::tempdir().unwrap();
    let inst = instance(d.path());
    let app = hallmark_instance::router(Arc::clone(&inst), unlimited());
    let (key, leaf) = certified(d.path(), email("carol@example.com"));
    let (good, _) = v2_request(&statement(), &key, &leaf);
    let good: Value = serde_json::from_slice(&good).unwrap();
    let mut cases: Vec<(Value, &str)> = Vec::new();
    let mut c = good.clone();
    c["hashedRekordRequestV002"]["digest"] = json!("not base64!");
    cases.push((c, "hashedRekordRequestV002.digest: is not base64"));
    let mut c = good.clone();
    c["hashedRekordRequestV002"]["signature"]["verifier"]["keyDetails"] =
        json!("PKIX_RSA_PKCS1V15_2048_SHA256");
    cases.push((c, "hashedRekordRequestV002.signature.verifier.keyDetails"));
    let mut c = good.clone();
    c["hashedRekordRequestV002"]["surprise"] = json!(1);
    cases.push((c, "unknown field `surprise`"));
    let mut c = good.clone();
    c["hashedRekordRequestV002"]["digest"] = json!(STANDARD.encode([0u8; 32]));
    cases.push((c, "signature.content: does not verify"));
    cases.push((
        json!({"hashedRekordRequestV002": null}),
        "needs hashedRekordRequestV002",
    ));
    for (body, want) in cases {
        let (status, b) = post(
            &app,
            "/api/v2/log/entries",
            "application/json",
            body.to_string().into_bytes(),
            LOCAL,
        )
        .await;
        let msg = json_of(&b)["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert_eq!(status, StatusCode::BAD_REQUEST, "{want}: {msg}");
        assert!(msg.contains(want), "{want:?} not in {msg:?}");
    }
    // The write policy: a certificate of another CA, a bare key.
    let other = tempfile::tempdir().unwrap();
    let (fkey, fleaf) = certified(other.path(), email("mallory@example.com"));
    let (foreign, _) = v2_request(&statement(), &fkey, &fleaf);
    let (status, b) = post(
        &app,
        "/api/v2/log/entries",
        "application/json",
        foreign,
        LOCAL,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{}", json_of(&b));
    let mut bare = good.clone();
    bare["hashedRekordRequestV002"]["signature"]["verifier"] = json!({"publicKey": {"rawBytes": STANDARD.encode(key.public_key().spki_der())}, "keyDetails": "PKIX_ECDSA_P256_SHA_256"});
    let (status, _) = post(
        &app,
        "/api/v2/log/entries",
        "application/json",
        bare.to_string().into_bytes(),
        LOCAL,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        inst.trust_config()["trustedRoot"]["tlogs"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // TSA: not DER, a truncated request, SHA-1.
    for (body, want) in [
        (
            b"hello".to_vec(),
            "TimeStampReq: not a DER RFC 3161 request",
        ),
        (
            hallmark_ca::tsa::request_for(b"s", [1; 8]).unwrap()[..20].to_vec(),
            "TimeStampReq: not a DER",
        ),
    ] {
        let (status, b) = post(
            &app,
            "/api/v1/timestamp",
            "application/timestamp-query",
            body,
            LOCAL,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let msg = json_of(&b)["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(msg.contains(want), "{want:?} not in {msg:?}");
    }
}

#[tokio::test]
async fn an_oversized_timestamp_request_is_refused_before_it_is_read() {
    let d = tempfile::tempdir().unwrap();
    let inst = instance(d.path());
    let app = hallmark_instance::router(Arc::clone(&inst), unlimited());
    // 4 MiB of request: the TSA reads at most 4 KiB of it.
    let huge = vec![0x30u8; 4 << 20];
    let (status, b) = post(
        &app,
        "/api/v1/timestamp",
        "application/timestamp-query",
        huge,
        LOCAL,
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{}", json_of(&b));
    let msg = json_of(&b)["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        msg.contains(&hallmark_instance::MAX_TIMESTAMP_REQUEST_BYTES.to_string()),
        "{msg}"
    );
}

#[tokio::test]
async fn the_tsa_and_the_v2_log_are_rate_limited_per_client() {
    let d = tempfile::tempdir().unwrap();
    let inst = instance(d.path());
    let writes = LogWrites {
        rate: Some(Rate {
            burst: 3,
            per_minute: 1,
        }),
        ..LogWrites::open()
    };
    let app = hallmark_instance::router(Arc::clone(&inst), writes);
    let tsq = hallmark_ca::tsa::request_for(b"sig", [3; 8]).unwrap();
    let mut codes = Vec::new();
    for _ in 0..5 {
        codes.push(
            post(
                &app,
                "/api/v1/timestamp",
                "application/timestamp-query",
                tsq.clone(),
                LOCAL,
            )
            .await
            .0
            .as_u16(),
        );
    }
    assert_eq!(codes, [200, 200, 200, 429, 429]);
    // Another client has its own bucket.
    let other = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 9));
    assert_eq!(
        post(
            &app,
            "/api/v1/timestamp",
            "application/timestamp-query",
            tsq,
            other
        )
        .await
        .0,
        StatusCode::OK
    );
    let (key, leaf) = certified(d.path(), email("dan@example.com"));
    let mut codes = Vec::new();
    for _ in 0..5 {
        let (req, _) = v2_request(&statement(), &key, &leaf);
        codes.push(
            post(&app, "/api/v2/log/entries", "application/json", req, LOCAL)
                .await
                .0
                .as_u16(),
        );
    }
    assert_eq!(codes, [201, 201, 201, 429, 429]);
}
