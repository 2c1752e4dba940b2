//! Issuance end to end within Rust: the leaf chains to the root, names the identity and
//! issuer, and carries an SCT; bad proofs of possession are refused.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, SystemTime};

use hallmark_ca::{Ca, CaMaterial, SanIdentity};
use hallmark_crypto::{
    Certificate, ChainPolicy, ChainTime, Curve, SigningKey, verify_certificate_chain,
};
use hallmark_oidc::Claims;

fn ca(dir: &std::path::Path) -> Ca {
    Ca::new(
        CaMaterial::load_or_create(&dir.join("ca"), "Test Hub").unwrap(),
        Duration::from_secs(600),
    )
}

fn claims(email: Option<&str>, sub: &str) -> Claims {
    Claims {
        iss: "https://hub.example".into(),
        sub: sub.into(),
        aud: "sigstore".into(),
        email: email.map(Into::into),
        email_verified: email.is_some(),
        iat: 0,
        nbf: 0,
        exp: u64::MAX,
    }
}

#[test]
fn issued_leaf_chains_to_the_root_and_names_the_identity() {
    let d = tempfile::tempdir().unwrap();
    let ca = ca(d.path());
    let key = SigningKey::generate(Curve::P256).unwrap();
    let issued = ca
        .issue(
            key.public_key().spki_der(),
            &SanIdentity::Uri("https://hub.example/alice".into()),
            "https://hub.example",
            SystemTime::now(),
        )
        .unwrap();
    let leaf = Certificate::from_der(&issued.leaf_der).unwrap();
    let inter = Certificate::from_der(&issued.chain_der[0]).unwrap();
    let root = Certificate::from_der(&issued.chain_der[1]).unwrap();
    let chain = verify_certificate_chain(
        &leaf,
        &[inter],
        &[root],
        &ChainPolicy {
            time: ChainTime::Now,
        },
    )
    .unwrap();
    assert_eq!(chain.path.len(), 3);
    assert_eq!(
        leaf.san_values(),
        vec!["https://hub.example/alice".to_owned()]
    );
    assert_eq!(leaf.public_key().unwrap(), key.public_key());
    let lifetime = leaf.not_after().duration_since(leaf.not_before()).unwrap();
    assert_eq!(lifetime, Duration::from_secs(600));
    // The issuer appears raw under .1.1 and the SCT list extension is present.
    let der = &issued.leaf_der;
    assert!(
        der.windows(b"https://hub.example".len())
            .any(|w| w == b"https://hub.example")
    );
    assert!(
        der.windows(10)
            .any(|w| w == [0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02]),
        "SCT list OID"
    );
}

#[test]
fn material_survives_a_restart_and_keys_are_private() {
    let d = tempfile::tempdir().unwrap();
    let first = ca(d.path()).material().intermediate_der.clone();
    let second = ca(d.path()).material().intermediate_der.clone();
    assert_eq!(first, second);
    for k in ["root.key", "intermediate.key", "ctlog.key"] {
        let mode = std::fs::metadata(d.path().join("ca").join(k))
            .unwrap()
            .permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
            0o600,
            "{k}"
        );
    }
    assert!(!format!("{:?}", ca(d.path()).material()).contains("BEGIN"));
}

#[test]
fn requests_without_a_valid_proof_are_refused() {
    let d = tempfile::tempdir().unwrap();
    let ca = ca(d.path());
    let c = claims(Some("alice@example.com"), "alice");
    let err = ca
        .handle_signing_cert(&c, br#"{"certificateSigningRequest": "bm90IGEgY3Ny"}"#)
        .unwrap_err();
    assert!(err.is_client_error(), "{err}");
    let key = SigningKey::generate(Curve::P256).unwrap();
    let other = SigningKey::generate(Curve::P256).unwrap();
    let pem = key.public_key().to_pem();
    let b64 = |b: &[u8]| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, b);
    let good = other.sign(b"alice").unwrap();
    let body = serde_json::json!({"publicKeyRequest": {"publicKey": {"algorithm": "ECDSA", "content": pem}, "proofOfPossession": b64(&good)}});
    let err = ca
        .handle_signing_cert(&c, body.to_string().as_bytes())
        .unwrap_err();
    assert!(err.to_string().contains("proof of possession"), "{err}");
    let right = key.sign(b"alice").unwrap();
    let body = serde_json::json!({"publicKeyRequest": {"publicKey": {"algorithm": "ECDSA", "content": pem}, "proofOfPossession": b64(&right)}});
    let issued = ca
        .handle_signing_cert(&c, body.to_string().as_bytes())
        .unwrap();
    let leaf = Certificate::from_der(&issued.leaf_der).unwrap();
    assert_eq!(leaf.san_values(), vec!["alice@example.com".to_owned()]);
    assert!(
        issued.fulcio_response()["signedCertificateEmbeddedSct"]["chain"]["certificates"]
            .as_array()
            .unwrap()
            .len()
            == 3
    );
}
