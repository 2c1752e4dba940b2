//! Integration tests for hallmark-crypto against the reference's fixtures
//! and the generated PKI in testdata/crypto.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, SystemTime};

use hallmark_crypto::{
    CertSignatureRefusal, Certificate, ChainError, ChainPolicy, ChainTime, CryptoError, Curve,
    DigestAlg, PasswordRefusal, PathStop, PublicKey, SigningKey, load_certificates_pem,
    verify_certificate_chain,
};

fn data(rel: &str) -> Vec<u8> {
    hallmark_testkit::read(hallmark_testkit::testdata("crypto").join(rel))
}

fn cert(rel: &str) -> Certificate {
    let mut certs = load_certificates_pem(&data(rel)).unwrap();
    assert_eq!(certs.len(), 1, "{rel}");
    certs.remove(0)
}

fn certs(rels: &[&str]) -> Vec<Certificate> {
    rels.iter().map(|r| cert(r)).collect()
}

fn default_policy() -> ChainPolicy {
    ChainPolicy::default()
}

// ---------- keys ----------

#[test]
fn golden_public_key_hint() {
    let pk = PublicKey::from_pem(&data("golden/signing-key-pub.pem")).unwrap();
    assert_eq!(pk.curve(), Curve::P384);
    assert_eq!(
        pk.hint(),
        "e8450dec4eb99dae995da9af1bc2cc9f76ed669ee2e744f57abba763df3e3f8e"
    );
    assert_eq!(
        pk.fingerprint(),
        "sha256:c1e49d63327f85c7e2971aefd30b5a0d1c6b9b5e1a892e7f5fba995adace816d"
    );
    // The private key (certtool text before the PEM block) has the same public key.
    let sk = SigningKey::from_pem(&data("golden/signing-key.pem"), None).unwrap();
    assert_eq!(sk.curve(), Curve::P384);
    assert_eq!(sk.public_key(), pk);
    // ...and so does the leaf certificate.
    let leaf = cert("golden/signing-key-cert.pem");
    assert_eq!(leaf.public_key().unwrap(), pk);
}

#[test]
fn case01_hint_is_sha256_of_pub_file() {
    let pub_pem = data("case01/p256.pub");
    let pk = PublicKey::from_pem(&pub_pem).unwrap();
    assert_eq!(pk.curve(), Curve::P256);
    assert_eq!(
        pk.hint(),
        "a0db88b9dd4d451d63b28d03167646ad314fa6560af9a9d6da95021695fa410e"
    );
    assert_eq!(pk.to_pem().as_bytes(), &pub_pem[..]);
    let sk = SigningKey::from_pem(&data("case01/p256.key"), None).unwrap();
    assert_eq!(sk.public_key(), pk);
}

#[test]
fn sign_verify_roundtrip_all_curves() {
    let cases = [
        ("case01/p256.key", "case01/p256.pub", Curve::P256, 72),
        (
            "conformance/p384/signing-key.pem",
            "conformance/p384/signing-key-pub.pem",
            Curve::P384,
            104,
        ),
        (
            "conformance/p521/signing-key.pem",
            "conformance/p521/signing-key-pub.pem",
            Curve::P521,
            139,
        ),
    ];
    let msg = b"DSSEv1 28 application/vnd.in-toto+json 5 hello";
    for (key, public, curve, max_len) in cases {
        let sk = SigningKey::from_pem(&data(key), None).unwrap();
        let pk = PublicKey::from_pem(&data(public)).unwrap();
        assert_eq!(sk.curve(), curve);
        assert_eq!(sk.public_key(), pk, "{key}");
        let sig = sk.sign(msg).unwrap();
        assert_eq!(sig[0], 0x30, "DER SEQUENCE");
        assert!(sig.len() <= max_len, "{} > {max_len}", sig.len());
        pk.verify(msg, &sig).unwrap();
        // Tampered message fails.
        let mut tampered = msg.to_vec();
        tampered[10] ^= 1;
        let err = pk.verify(&tampered, &sig).unwrap_err();
        assert!(matches!(err, CryptoError::BadSignature { .. }), "{err}");
        // Wrong hash fails.
        let other = match curve.digest() {
            DigestAlg::Sha256 => DigestAlg::Sha384,
            _ => DigestAlg::Sha256,
        };
        assert!(pk.verify_with_digest(msg, &sig, other).is_err());
    }
}

#[test]
fn signature_from_another_key_fails() {
    let sk = SigningKey::from_pem(&data("conformance/self-signed/signing-key.pem"), None).unwrap();
    let wrong = PublicKey::from_pem(&data("conformance/wrong/wrong-key-pub.pem")).unwrap();
    let sig = sk.sign(b"message").unwrap();
    sk.public_key().verify(b"message", &sig).unwrap();
    let err = wrong.verify(b"message", &sig).unwrap_err();
    assert!(
        matches!(&err, CryptoError::BadSignature { key, .. } if key.starts_with("P-256 key ")),
        "{err}"
    );
}

#[test]
fn p384_with_sha256_compat_path() {
    let sk = SigningKey::from_pem(&data("golden/signing-key.pem"), None).unwrap();
    let pk = sk.public_key();
    // No signing API for SHA-256 on P-384: check the mismatch is detected
    // and that the explicit-digest path agrees with verify() for the curve hash.
    let sig = sk.sign(b"x").unwrap();
    pk.verify_with_digest(b"x", &sig, DigestAlg::Sha384)
        .unwrap();
    assert!(
        pk.verify_with_digest(b"x", &sig, DigestAlg::Sha256)
            .is_err()
    );
}

#[test]
fn encrypted_pkcs8_needs_password() {
    let pem = data("keys/p256-encrypted-pkcs8.key");
    let expected = PublicKey::from_pem(&data("keys/p256-sec1.pub")).unwrap();
    let sk = SigningKey::from_pem(&pem, Some(b"hallmark-test")).unwrap();
    assert_eq!(sk.public_key(), expected);
    let err = SigningKey::from_pem(&pem, None).unwrap_err();
    assert!(
        matches!(
            err,
            CryptoError::Password {
                reason: PasswordRefusal::Required,
                ..
            }
        ),
        "{err}"
    );
    let err = SigningKey::from_pem(&pem, Some(b"wrong")).unwrap_err();
    assert!(
        matches!(
            err,
            CryptoError::Password {
                reason: PasswordRefusal::Decrypt(_),
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("wrong password"), "{err}");
    let sk = SigningKey::from_pem(&data("keys/p256-sec1.key"), None).unwrap();
    assert_eq!(sk.public_key(), expected);
}

#[test]
fn legacy_encrypted_pem_is_rejected_with_hint() {
    let err = SigningKey::from_pem(
        &data("keys/p256-legacy-encrypted.key"),
        Some(b"hallmark-test"),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            CryptoError::Password {
                reason: PasswordRefusal::LegacyEncryption,
                ..
            }
        ),
        "{err}"
    );
    // The message tells the user how to convert the key.
    assert!(err.to_string().contains("openssl pkcs8 -topk8"), "{err}");
}

#[test]
fn non_ec_private_keys_are_rejected() {
    for (file, kind) in [
        ("keys/rsa-pkcs8.key", "RSA"),
        ("keys/rsa-traditional.key", "RSA"),
        ("keys/ed25519.key", "Ed25519"),
        ("keys/secp256k1.key", "secp256k1"),
    ] {
        let err = SigningKey::from_pem_with_source(&data(file), None, file).unwrap_err();
        assert!(
            matches!(&err, CryptoError::UnsupportedKey { source_name, key_type }
                if source_name == file && key_type.contains(kind)),
            "{err}"
        );
        // The user-facing message says what is supported.
        assert!(
            err.to_string()
                .starts_with("only elliptic-curve keys on P-256, P-384 or P-521 are supported"),
            "{err}"
        );
    }
    for (file, kind) in [
        ("keys/ed25519.pub", "Ed25519"),
        ("keys/secp256k1.pub", "secp256k1"),
    ] {
        let err = PublicKey::from_pem(&data(file)).unwrap_err();
        assert!(
            matches!(&err, CryptoError::UnsupportedKey { key_type, .. } if key_type.contains(kind)),
            "{err}"
        );
    }
}

#[test]
fn rsa_certificate_key_is_named() {
    let err = cert("golden/ca-cert.pem").public_key().unwrap_err();
    assert!(
        matches!(&err, CryptoError::UnsupportedKey { source_name, key_type }
            if source_name.contains("CN=root-ca") && key_type == "RSA"),
        "{err}"
    );
}

#[test]
fn debug_of_signing_key_has_no_key_material() {
    let pem = data("golden/signing-key.pem");
    let sk = SigningKey::from_pem(&pem, None).unwrap();
    let dbg = format!("{sk:?}");
    assert!(dbg.contains("P-384"), "{dbg}");
    // The private scalar (from the certtool dump) must not appear in any form.
    let scalar = "5a2e8081314567";
    assert!(!dbg.to_lowercase().contains(scalar), "{dbg}");
    assert!(!dbg.contains("MIGkAgEBBDBa"), "{dbg}");
}

#[test]
fn no_pem_block_is_an_error() {
    let err = PublicKey::from_pem(b"hello").unwrap_err();
    assert!(matches!(err, CryptoError::PemNotFound { .. }), "{err}");
    let err = load_certificates_pem(b"nothing here").unwrap_err();
    assert!(
        matches!(&err, CryptoError::PemNotFound { expected, .. } if expected == "CERTIFICATE"),
        "{err}"
    );
}

// ---------- certificates ----------

#[test]
fn certificate_accessors() {
    let leaf = cert("pki/leaf-expired.crt");
    assert_eq!(leaf.subject(), "CN=Hallmark Expired Leaf");
    assert_eq!(leaf.issuer(), "CN=Hallmark Test Intermediate");
    assert_eq!(
        leaf.san_values(),
        vec!["signer@example.com", "https://example.com/signer"]
    );
    let nb = leaf.not_before();
    assert_eq!(
        nb,
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_609_459_200)
    );
    assert_eq!(leaf.not_after(), nb + Duration::from_secs(86_400));
    assert_eq!(leaf.fingerprint().len(), 64);
    assert!(format!("{leaf:?}").contains("Hallmark Expired Leaf"));
    let chain = load_certificates_pem(&data("case04/ca-chain.pem")).unwrap();
    assert_eq!(chain.len(), 2);
}

/// The OIDC issuer a Fulcio-like CA records: `.1.8` (UTF8String) first, the legacy `.1.1`
/// (raw bytes) when it is the only one, nothing for an ordinary certificate.
#[test]
fn oidc_issuer_comes_from_the_fulcio_extensions() {
    let both = cert("pki/leaf-fulcio.crt");
    assert_eq!(
        both.oidc_issuer().as_deref(),
        Some("https://issuer-v2.example")
    );
    assert_eq!(both.san_values(), ["https://ci.example/builder"]);
    let legacy = cert("pki/leaf-fulcio-v1.crt");
    assert_eq!(
        legacy.oidc_issuer().as_deref(),
        Some("https://issuer-v1.example")
    );
    assert_eq!(cert("pki/leaf-expired.crt").oidc_issuer(), None);
}

// ---------- chain validation ----------

#[test]
fn golden_chain_validates() {
    let leaf = cert("golden/signing-key-cert.pem");
    let int = certs(&["golden/int-ca-cert.pem"]);
    let root = certs(&["golden/ca-cert.pem"]);
    let v = verify_certificate_chain(&leaf, &int, &root, &default_policy()).unwrap();
    assert_eq!(v.path.len(), 3);
    assert_eq!(v.path[2].subject(), "CN=root-ca");
    assert_eq!(v.checked_at, leaf.not_before());
    // Intermediate passed in the anchor set works too (it is a path element).
    let both = certs(&["golden/int-ca-cert.pem", "golden/ca-cert.pem"]);
    verify_certificate_chain(&leaf, &[], &both, &default_policy()).unwrap();
    // Only the intermediate as anchor: no partial chains.
    let err = verify_certificate_chain(&leaf, &[], &int, &default_policy()).unwrap_err();
    assert!(matches!(err, ChainError::NoPath { .. }), "{err}");
}

#[test]
fn case04_chain_validates() {
    let leaf = cert("case04/leaf.crt");
    let int = certs(&["case04/intermediate-ca.crt"]);
    let root = certs(&["case04/root-ca.crt"]);
    let v = verify_certificate_chain(&leaf, &int, &root, &default_policy()).unwrap();
    assert_eq!(v.path.len(), 3);
    let chain = load_certificates_pem(&data("case04/ca-chain.pem")).unwrap();
    verify_certificate_chain(&leaf, &int, &chain, &default_policy()).unwrap();
    verify_certificate_chain(&leaf, &[], &chain, &default_policy()).unwrap();
    // Intermediate missing entirely.
    let err = verify_certificate_chain(&leaf, &[], &root, &default_policy()).unwrap_err();
    assert!(
        matches!(
            err,
            ChainError::NoPath {
                stop: PathStop::IssuerNotFound,
                ..
            }
        ),
        "{err}"
    );
    // OpenSSL's wording, which users search for.
    assert!(
        err.to_string()
            .contains("unable to get local issuer certificate"),
        "{err}"
    );
    // Only intermediate as anchor.
    let err = verify_certificate_chain(&leaf, &int, &int, &default_policy()).unwrap_err();
    assert!(
        matches!(&err, ChainError::NoPath { stuck_at, stop: PathStop::IssuerNotFound, .. }
            if stuck_at.contains("Intermediate CA")),
        "{err}"
    );
}

#[test]
fn case28_other_root_fails() {
    let leaf = cert("case28/leaf.crt");
    let int = certs(&["case28/intermediate-ca.crt"]);
    let other = certs(&["case28/other-root-ca.crt"]);
    let err = verify_certificate_chain(&leaf, &int, &other, &default_policy()).unwrap_err();
    assert!(matches!(err, ChainError::NoPath { .. }), "{err}");
}

#[test]
fn self_signed_leaf_as_its_own_anchor() {
    let leaf = cert("conformance/self-signed/signing-cert.pem");
    let v = verify_certificate_chain(&leaf, &[], std::slice::from_ref(&leaf), &default_policy())
        .unwrap();
    assert_eq!(v.path.len(), 1);
    // Not trusted: fails.
    let wrong = certs(&["conformance/wrong/wrong-ca-cert.pem"]);
    assert!(verify_certificate_chain(&leaf, &[], &wrong, &default_policy()).is_err());
}

#[test]
fn expired_leaf_validates_at_not_before_only() {
    let leaf = cert("pki/leaf-expired.crt");
    let int = certs(&["pki/int.crt"]);
    let root = certs(&["pki/root.crt"]);
    verify_certificate_chain(&leaf, &int, &root, &default_policy()).unwrap();
    let now = ChainPolicy {
        time: ChainTime::Now,
    };
    let err = verify_certificate_chain(&leaf, &int, &root, &now).unwrap_err();
    assert!(
        matches!(&err, ChainError::Expired { subject, .. } if subject == "CN=Hallmark Expired Leaf"),
        "{err}"
    );
    let before = ChainPolicy {
        time: ChainTime::At(leaf.not_before() - Duration::from_secs(1)),
    };
    let err = verify_certificate_chain(&leaf, &int, &root, &before).unwrap_err();
    assert!(matches!(err, ChainError::NotYetValid { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("is not yet valid at 2020-12-31T23:59:59Z (notBefore 2021-01-01T00:00:00Z)"),
        "{err}"
    );
}

#[test]
fn conformance_expired_fails_because_issuer_not_yet_valid() {
    // The suite's expired leaf (2020) is issued by the 2025 intermediate:
    // the reference rejects it as "not yet valid", and so do we.
    let leaf = cert("conformance/expired/signing-key-cert.pem");
    let int = certs(&["golden/int-ca-cert.pem"]);
    let root = certs(&["golden/ca-cert.pem"]);
    let err = verify_certificate_chain(&leaf, &int, &root, &default_policy()).unwrap_err();
    assert!(
        matches!(
            err,
            ChainError::NotYetValid { .. } | ChainError::BadCertSignature { .. }
        ),
        "{err}"
    );
}

#[test]
fn leaf_usage_rules() {
    let int = certs(&["pki/int.crt"]);
    let root = certs(&["pki/root.crt"]);
    let err =
        verify_certificate_chain(&cert("pki/leaf-nosign.crt"), &int, &root, &default_policy())
            .unwrap_err();
    assert_eq!(
        err.to_string(),
        "certificate 'CN=Hallmark No-Sign Leaf' cannot be used for signing: keyUsage lacks digitalSignature and extendedKeyUsage lacks codeSigning"
    );
    let noext = cert("pki/leaf-noext.crt");
    assert!(!noext.has_usage_extensions());
    verify_certificate_chain(&noext, &int, &root, &default_policy()).unwrap();
}

#[test]
fn unknown_critical_extension_is_rejected() {
    let int = certs(&["pki/int.crt"]);
    let root = certs(&["pki/root.crt"]);
    let err = verify_certificate_chain(
        &cert("pki/leaf-critical.crt"),
        &int,
        &root,
        &default_policy(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, ChainError::UnhandledCriticalExtension { oid, .. } if oid == "1.3.6.1.4.1.99999.1"),
        "{err}"
    );
}

#[test]
fn path_len_constraint_is_enforced() {
    let untrusted = certs(&["pki/subca.crt", "pki/int.crt"]);
    let root = certs(&["pki/root.crt"]);
    let err = verify_certificate_chain(
        &cert("pki/leaf-deep.crt"),
        &untrusted,
        &root,
        &default_policy(),
    )
    .unwrap_err();
    assert!(
        matches!(err, ChainError::PathLenExceeded { path_len: 0, .. }),
        "{err}"
    );
}

#[test]
fn sha1_and_weak_rsa_are_rejected() {
    let root = certs(&["pki/root.crt"]);
    let err = verify_certificate_chain(&cert("pki/leaf-sha1.crt"), &[], &root, &default_policy())
        .unwrap_err();
    assert!(
        matches!(
            err,
            ChainError::BadCertSignature {
                reason: CertSignatureRefusal::Sha1,
                ..
            }
        ),
        "{err}"
    );
    let weak = certs(&["pki/rsa1024-root.crt"]);
    let err = verify_certificate_chain(&cert("pki/leaf-weak.crt"), &[], &weak, &default_policy())
        .unwrap_err();
    assert!(
        matches!(
            err,
            ChainError::BadCertSignature {
                reason: CertSignatureRefusal::RsaKeyTooSmall { bits: 1024 },
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn rsa_pss_issuer_is_supported() {
    let root = certs(&["pki/pss-root.crt"]);
    verify_certificate_chain(&cert("pki/leaf-pss.crt"), &[], &root, &default_policy()).unwrap();
}

#[test]
fn no_anchors_is_an_error() {
    let leaf = cert("case04/leaf.crt");
    let err = verify_certificate_chain(&leaf, &[], &[], &default_policy()).unwrap_err();
    assert!(matches!(err, ChainError::NoTrustAnchors { .. }), "{err}");
}
