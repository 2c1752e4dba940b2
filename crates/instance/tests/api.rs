//! The instance's HTTP API, in process: token and proof-of-possession refusals, and
//! 200 concurrent keyless signings each logged exactly once with valid proofs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hallmark_crypto::{Curve, SigningKey};
use hallmark_instance::{Instance, InstanceConfig, LogWrites};
use serde_json::{Value, json};
use tower::ServiceExt as _;

const URL: &str = "http://hub.test";

/// The routes with open log writes and no rate limit (these tests run many signings
/// from one client).
fn router(inst: Arc<Instance>) -> axum::Router {
    hallmark_instance::router(
        inst,
        LogWrites {
            rate: None,
            ..LogWrites::open()
        },
    )
}

fn instance(dir: &std::path::Path) -> Arc<Instance> {
    Arc::new(Instance::open(InstanceConfig::new(dir, URL)).unwrap())
}

async fn call(
    app: &axum::Router,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: Value,
) -> (StatusCode, Value) {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json");
    if let Some(t) = bearer {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let req = if method == "GET" {
        req.body(Body::empty())
    } else {
        req.body(Body::from(body.to_string()))
    }
    .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 64 << 20)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn csr_body(key: &SigningKey) -> Value {
    json!({ "certificateSigningRequest": STANDARD.encode(hallmark_ca::csr::build_csr(key).unwrap()) })
}

#[tokio::test]
async fn discovery_jwks_and_trust_config_are_served() {
    let d = tempfile::tempdir().unwrap();
    let app = router(instance(d.path()));
    let (s, disc) = call(
        &app,
        "GET",
        "/.well-known/openid-configuration",
        None,
        Value::Null,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(disc["issuer"], URL);
    let (_, jwks) = call(&app, "GET", "/jwks", None, Value::Null).await;
    assert_eq!(jwks["keys"][0]["alg"], "ES256");
    let (_, tc) = call(&app, "GET", "/trust-config.json", None, Value::Null).await;
    assert_eq!(
        tc["mediaType"],
        "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json"
    );
    assert_eq!(
        tc["trustedRoot"]["certificateAuthorities"][0]["certChain"]["certificates"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(tc["signingConfig"]["caUrls"][0]["url"], URL);
}

#[tokio::test]
async fn bad_tokens_and_bad_proofs_get_4xx_and_no_certificate() {
    let d = tempfile::tempdir().unwrap();
    let inst = instance(d.path());
    let app = router(Arc::clone(&inst));
    let key = SigningKey::generate(Curve::P256).unwrap();

    let (s, _) = call(&app, "POST", "/api/v2/signingCert", None, csr_body(&key)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    let keys =
        hallmark_oidc::KeyRing::load_or_create(&d.path().join("oidc"), Duration::from_secs(60))
            .unwrap();
    let same_keys = hallmark_oidc::Issuer::new(URL, keys);
    let wrong_aud = same_keys
        .mint(
            "alice@example.com",
            Some("alice@example.com"),
            "not-sigstore",
            Duration::from_secs(60),
        )
        .unwrap();
    let (s, e) = call(
        &app,
        "POST",
        "/api/v2/signingCert",
        Some(&wrong_aud),
        csr_body(&key),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(e["message"].as_str().unwrap().contains("audience"), "{e}");

    let other = tempfile::tempdir().unwrap();
    let foreign = hallmark_oidc::Issuer::new(
        URL,
        hallmark_oidc::KeyRing::load_or_create(other.path(), Duration::from_secs(60)).unwrap(),
    );
    let unknown = foreign
        .mint(
            "alice@example.com",
            Some("alice@example.com"),
            "sigstore",
            Duration::from_secs(60),
        )
        .unwrap();
    let (s, e) = call(
        &app,
        "POST",
        "/api/v2/signingCert",
        Some(&unknown),
        csr_body(&key),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(
        e["message"].as_str().unwrap().contains("unknown key"),
        "{e}"
    );

    let active = same_keys.keys().active().unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some(active.kid.clone());
    let expired = jsonwebtoken::encode(
        &header,
        &json!({"iss": URL, "sub": "alice@example.com", "aud": "sigstore", "email": "alice@example.com", "email_verified": true, "iat": 1000, "nbf": 1000, "exp": 2000}),
        &jsonwebtoken::EncodingKey::from_ec_der(active.pkcs8_der()),
    )
    .unwrap();
    let (s, e) = call(
        &app,
        "POST",
        "/api/v2/signingCert",
        Some(&expired),
        csr_body(&key),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(e["message"].as_str().unwrap().contains("expired"), "{e}");

    // A CSR whose signature was made by another key: proof of possession fails.
    let good = inst
        .mint_token("alice@example.com", Some("alice@example.com"))
        .unwrap();
    let csr_pem = hallmark_ca::csr::build_csr(&key).unwrap();
    let other_key = SigningKey::generate(Curve::P256).unwrap();
    let forged = swap_csr_key(&csr_pem, &other_key);
    let (s, e) = call(
        &app,
        "POST",
        "/api/v2/signingCert",
        Some(&good),
        json!({ "certificateSigningRequest": STANDARD.encode(forged) }),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("proof of possession"),
        "{e}"
    );

    // A log entry whose signature does not verify is refused and nothing is logged.
    let before = inst.log_reader().checkpoint().unwrap().checkpoint.size;
    let (_, cert) = call(
        &app,
        "POST",
        "/api/v2/signingCert",
        Some(&good),
        csr_body(&key),
    )
    .await;
    let leaf_pem = cert["signedCertificateEmbeddedSct"]["chain"]["certificates"][0]
        .as_str()
        .unwrap()
        .to_owned();
    let env = json!({"payload": STANDARD.encode(b"{}"), "payloadType": "application/vnd.in-toto+json", "signatures": [{"sig": STANDARD.encode(other_key.sign(b"x").unwrap())}]});
    let (s, _) = call(
        &app,
        "POST",
        "/api/v1/log/entries",
        None,
        entry_request(&env, &leaf_pem),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        inst.log_reader().checkpoint().unwrap().checkpoint.size,
        before
    );
}

fn swap_csr_key(pem: &str, other: &SigningKey) -> String {
    use der::{Decode as _, Encode as _};
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let mut req = x509_cert::request::CertReq::from_der(&STANDARD.decode(body).unwrap()).unwrap();
    req.info.public_key =
        spki::SubjectPublicKeyInfoOwned::from_der(other.public_key().spki_der()).unwrap();
    hallmark_ca::material::pem("CERTIFICATE REQUEST", &req.to_der().unwrap())
}

fn entry_request(envelope: &Value, leaf_pem: &str) -> Value {
    json!({"apiVersion": "0.0.1", "kind": "dsse", "spec": {"proposedContent": {"envelope": envelope.to_string(), "verifiers": [STANDARD.encode(leaf_pem)]}}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_signings_are_each_logged_once() {
    let d = tempfile::tempdir().unwrap();
    let inst = instance(d.path());
    let app = router(Arc::clone(&inst));
    let mut clients = Vec::new();
    for c in 0..16 {
        let app = app.clone();
        let inst = Arc::clone(&inst);
        clients.push(tokio::spawn(async move {
            let mut out = Vec::new();
            for n in 0..(200 / 16 + usize::from(c < 200 % 16)) {
                let email = format!("user{c}-{n}@example.com");
                let token = inst.mint_token(&email, Some(&email)).unwrap();
                let key = SigningKey::generate(Curve::P256).unwrap();
                let (s, cert) = call(&app, "POST", "/api/v2/signingCert", Some(&token), csr_body(&key)).await;
                assert_eq!(s, StatusCode::CREATED, "{cert}");
                let leaf_pem = cert["signedCertificateEmbeddedSct"]["chain"]["certificates"][0].as_str().unwrap().to_owned();
                let payload = format!("{{\"n\":\"{email}\"}}");
                let pae = hallmark_format_pae(payload.as_bytes());
                let env = json!({"payload": STANDARD.encode(&payload), "payloadType": "application/vnd.in-toto+json", "signatures": [{"sig": STANDARD.encode(key.sign(&pae).unwrap())}]});
                let (s, entry) = call(&app, "POST", "/api/v1/log/entries", None, entry_request(&env, &leaf_pem)).await;
                assert_eq!(s, StatusCode::CREATED, "{entry}");
                let (_, e) = entry.as_object().unwrap().iter().next().unwrap();
                out.push((e["logIndex"].as_u64().unwrap(), STANDARD.decode(e["body"].as_str().unwrap()).unwrap()));
            }
            out
        }));
    }
    let mut all = Vec::new();
    for c in clients {
        all.extend(c.await.unwrap());
    }
    assert_eq!(all.len(), 200);
    let reader = inst.log_reader();
    let cp = tokio::task::spawn_blocking(move || {
        let cp = reader.checkpoint().unwrap();
        assert_eq!(cp.checkpoint.size, 200, "every signing logged exactly once");
        let mut seen = std::collections::HashSet::new();
        for (index, body) in &all {
            assert!(seen.insert(*index), "index {index} handed out twice");
            let proof = reader.inclusion_proof(*index, cp.checkpoint.size).unwrap();
            let leaf = hallmark_tlog::merkle::leaf_hash(body);
            hallmark_tlog::merkle::verify_inclusion(
                &leaf,
                *index,
                cp.checkpoint.size,
                &proof,
                &cp.checkpoint.root,
            )
            .unwrap();
        }
        cp
    })
    .await
    .unwrap();
    assert_eq!(cp.checkpoint.size, 200);
}

fn hallmark_format_pae(payload: &[u8]) -> Vec<u8> {
    let t = "application/vnd.in-toto+json";
    let mut v = format!("DSSEv1 {} {t} {} ", t.len(), payload.len()).into_bytes();
    v.extend_from_slice(payload);
    v
}

#[test]
fn embedded_signer_produces_bundles_the_verifier_accepts() {
    let d = tempfile::tempdir().unwrap();
    let inst = instance(d.path());
    let model = d.path().join("model");
    std::fs::create_dir_all(&model).unwrap();
    std::fs::write(model.join("w.bin"), b"weights").unwrap();
    let signer = hallmark_signing::Signer::Keyless(Box::new(
        hallmark_instance::EmbeddedSigner::new(Arc::clone(&inst), "http://hub.test/alice", None),
    ));
    let signed =
        hallmark_signing::sign_model(&model, &signer, &hallmark_signing::SignOptions::default())
            .unwrap();
    let trust = hallmark_sigstore::TrustedRoot::from_client_trust_config_json(
        inst.trust_config().to_string().as_bytes(),
    )
    .unwrap();
    let verifier = hallmark_signing::keyless::KeylessVerifier {
        trust,
        policy: hallmark_sigstore::IdentityPolicy {
            identity: Some("http://hub.test/alice".into()),
            identity_regex: None,
            issuer: URL.into(),
        },
    };
    let v = hallmark_signing::verify_model(
        &model,
        &signed.bundle_json,
        &verifier,
        &hallmark_signing::VerifyOptions::default(),
    )
    .unwrap();
    assert_eq!(v.method, "sigstore");
    let bob = hallmark_signing::keyless::KeylessVerifier {
        trust: hallmark_sigstore::TrustedRoot::from_client_trust_config_json(
            inst.trust_config().to_string().as_bytes(),
        )
        .unwrap(),
        policy: hallmark_sigstore::IdentityPolicy {
            identity: Some("http://hub.test/bob".into()),
            identity_regex: None,
            issuer: URL.into(),
        },
    };
    let err = hallmark_signing::verify_model(
        &model,
        &signed.bundle_json,
        &bob,
        &hallmark_signing::VerifyOptions::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("http://hub.test/alice"), "{err}");
}

#[tokio::test]
async fn hashedrekord_entries_are_logged_and_bad_ones_refused() {
    let d = tempfile::tempdir().unwrap();
    let inst = instance(d.path());
    let app = router(Arc::clone(&inst));
    let key = SigningKey::generate(Curve::P256).unwrap();
    let token = inst
        .mint_token("carol@example.com", Some("carol@example.com"))
        .unwrap();
    let (_, cert) = call(
        &app,
        "POST",
        "/api/v2/signingCert",
        Some(&token),
        csr_body(&key),
    )
    .await;
    let leaf_pem = cert["signedCertificateEmbeddedSct"]["chain"]["certificates"][0]
        .as_str()
        .unwrap()
        .to_owned();
    let artifact = b"model weights";
    let digest = hallmark_crypto::sha256(artifact);
    let entry = |sig: &[u8]| {
        json!({"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": digest.iter().map(|b| format!("{b:02x}")).collect::<String>()}},
            "signature": {"content": STANDARD.encode(sig), "publicKey": {"content": STANDARD.encode(&leaf_pem)}}}})
    };
    let (s, e) = call(
        &app,
        "POST",
        "/api/v1/log/entries",
        None,
        entry(&key.sign(artifact).unwrap()),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    let (_, body) = e.as_object().unwrap().iter().next().unwrap();
    let kind: Value =
        serde_json::from_slice(&STANDARD.decode(body["body"].as_str().unwrap()).unwrap()).unwrap();
    assert_eq!(kind["kind"], "hashedrekord");
    let other = SigningKey::generate(Curve::P256).unwrap();
    let (s, e) = call(
        &app,
        "POST",
        "/api/v1/log/entries",
        None,
        entry(&other.sign(artifact).unwrap()),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(
        inst.log_reader().checkpoint().unwrap().checkpoint.size,
        1,
        "the refused entry was not logged"
    );
}

#[test]
fn a_corrupt_tree_id_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("log")).unwrap();
    let tree_id = dir.path().join("log/tree-id");
    std::fs::write(&tree_id, "not a number").unwrap();
    let err = hallmark_instance::log_config(dir.path(), "http://hub.test").unwrap_err();
    assert!(
        matches!(&err, hallmark_instance::InstanceError::TreeId { path } if *path == tree_id),
        "{err:?}"
    );
    assert!(
        err.to_string().ends_with("tree-id is not a number"),
        "{err}"
    );
}

/// Issue 15 finding 6: the log's storage fills up. Signing fails, `/readyz` answers 503
/// naming the cause in fixed words (no path); once space returns the sequencer recovers by
/// itself and the next signing is logged, no restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_log_disk_makes_the_instance_unready_until_space_returns() {
    use hallmark_signing::KeylessSigner as _;
    use hallmark_tlog::mem::{MemLock, MemTiles};
    let d = tempfile::tempdir().unwrap();
    let tiles = Arc::new(MemTiles::new());
    let inst = Arc::new(
        Instance::open_with_log(
            InstanceConfig::new(d.path(), URL),
            hallmark_instance::LogBackend::Single {
                store: Arc::clone(&tiles) as Arc<dyn hallmark_tlog::TileStorage>,
                lock: Arc::new(MemLock::default()),
            },
        )
        .unwrap(),
    );
    let app = hallmark_instance::health_router(Arc::clone(&inst));
    let signer =
        hallmark_instance::EmbeddedSigner::new(Arc::clone(&inst), "http://hub.test/alice", None);
    let signer = Arc::new(signer);
    let sign = |s: Arc<hallmark_instance::EmbeddedSigner>, n: usize| async move {
        tokio::task::spawn_blocking(move || {
            let payload = vec![b'p'; n];
            s.sign(&payload, &hallmark_format_pae(&payload)).map(|_| ())
        })
        .await
        .unwrap()
    };
    assert_eq!(
        call(&app, "GET", "/healthz", None, Value::Null).await.0,
        StatusCode::OK
    );
    sign(Arc::clone(&signer), 100).await.unwrap();
    let (s, v) = call(&app, "GET", "/readyz", None, Value::Null).await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("ready")),
        "{v}"
    );
    assert_eq!(v["log"]["size"], 1);

    tiles.set_capacity(Some(tiles.bytes() + 2_000));
    let e = sign(Arc::clone(&signer), 20_000).await.unwrap_err();
    assert!(e.to_string().contains("storage is full"), "{e}");
    let (s, v) = call(&app, "GET", "/readyz", None, Value::Null).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    assert_eq!(v, json!({"status": "unready", "log": "log storage full"}));

    tiles.set_capacity(None);
    // The sequencer retries every ≤ 2 s: 60 s is 30× headroom on a loaded machine.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while call(&app, "GET", "/readyz", None, Value::Null).await.0 != StatusCode::OK {
        assert!(std::time::Instant::now() < deadline, "never ready again");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    sign(Arc::clone(&signer), 20_000).await.unwrap();
    let (_, v) = call(&app, "GET", "/readyz", None, Value::Null).await;
    assert_eq!(
        v["log"]["size"], 2,
        "the failed entry was not logged, the next one was"
    );
}

/// `log_key_type` applies to logs created at this start: an instance created with
/// Ed25519 publishes both logs as `PKIX_ED25519` with the C2SP typed key hash as log ID
/// (and its log's checkpoints verify under it); reopened with ECDSA asked for, both logs
/// keep their Ed25519 keys.
#[test]
fn log_key_type_is_chosen_at_creation_and_kept() {
    use hallmark_tlog::{LogKeyType, LogVerifier};
    let d = tempfile::tempdir().unwrap();
    let open = |kind: LogKeyType| {
        let mut cfg = InstanceConfig::new(d.path(), URL);
        cfg.log_key_type = Some(kind);
        Instance::open(cfg).unwrap()
    };
    let first = open(LogKeyType::Ed25519);
    let tlogs = |i: &Instance| i.trust_config()["trustedRoot"]["tlogs"].clone();
    let created = tlogs(&first);
    // Both logs' key name is the host of the public URL.
    for t in created.as_array().unwrap() {
        assert_eq!(t["publicKey"]["keyDetails"], "PKIX_ED25519", "{t}");
        let raw = STANDARD
            .decode(t["publicKey"]["rawBytes"].as_str().unwrap())
            .unwrap();
        let v = LogVerifier::from_spki_der(&raw).unwrap();
        assert_eq!(v.key_type(), LogKeyType::Ed25519);
        assert_eq!(
            t["logId"]["keyId"],
            STANDARD.encode(hallmark_tlog::notekey::key_hash(
                "hub.test",
                hallmark_tlog::notekey::SIG_ED25519,
                v.ed25519_key().unwrap()
            ))
        );
    }
    assert_eq!(first.log_reader().checkpoint().unwrap().checkpoint.size, 0);
    drop(first);
    let again = open(LogKeyType::EcdsaP256);
    assert_eq!(tlogs(&again), created, "an existing log keeps its key");
    assert_eq!(
        again.log_reader().verifier().key_type(),
        LogKeyType::Ed25519
    );
}
