//! Bundles signed by the reference: public-good goldens and a private instance (case40/41).

use std::time::{Duration, SystemTime};

use hallmark_sigstore::{
    CLIENT_TRUST_CONFIG_MEDIA_TYPE, Check, IdentityPolicy, PolicyRefusal, SigstoreError,
    TrustRootRefusal, TrustedRoot, verify_dsse_bundle,
};

use crate::*;

const GOLDEN: [&str; 4] = [
    "v0.3.1-sigstore",
    "v1.0.0-sigstore",
    "v1.0.1-sigstore",
    "v1.1.0-sigstore",
];

fn golden_bundle(name: &str) -> Vec<u8> {
    read(testdata("golden").join(name).join("model.sig"))
}

#[test]
fn golden_bundles_verify_with_public_good_trust_config() {
    let trust = public_good_config();
    for name in GOLDEN {
        let v = verify_dsse_bundle(
            &golden_bundle(name),
            &trust,
            &policy(GOLDEN_IDENTITY, GOLDEN_ISSUER),
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(v.identity, GOLDEN_IDENTITY);
        assert_eq!(v.issuer, GOLDEN_ISSUER);
        assert_eq!(v.payload_type, "application/vnd.in-toto+json");
        assert!(
            v.payload.starts_with(b"{"),
            "{name}: payload is the statement JSON"
        );
        assert!(v.log_index.is_some());
        // Integrated in 2025.
        let year_2025 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_735_689_600);
        assert!(v.signed_at > year_2025, "{name}");
        for c in &v.checks {
            assert!(c.passed, "{name}: {c:?}");
        }
        let names: Vec<_> = v.checks.iter().map(|c| c.check).collect();
        assert_eq!(
            names,
            [
                Check::Bundle,
                Check::SigningTime,
                Check::CertificateChain,
                Check::Sct,
                Check::TransparencyLog,
                Check::DsseSignature,
                Check::LogEntryBinding,
                Check::Identity,
                Check::Issuer
            ]
        );
    }
}

#[test]
fn golden_bundles_verify_with_built_in_public_good_root() {
    let trust = TrustedRoot::public_good();
    for name in GOLDEN {
        verify_dsse_bundle(
            &golden_bundle(name),
            &trust,
            &policy(GOLDEN_IDENTITY, GOLDEN_ISSUER),
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn golden_v1_1_0_uses_the_rfc3161_timestamp_too() {
    let v = verify_dsse_bundle(
        &golden_bundle("v1.1.0-sigstore"),
        &public_good_config(),
        &policy(GOLDEN_IDENTITY, GOLDEN_ISSUER),
    )
    .expect("verifies");
    let time = v
        .checks
        .iter()
        .find(|c| c.check == Check::SigningTime)
        .expect("time check");
    assert!(time.detail.contains("RFC 3161"), "{}", time.detail);
    assert!(
        time.detail.contains("Rekor integrated time"),
        "{}",
        time.detail
    );
}

#[test]
fn golden_wrong_identity_fails() {
    let trust = public_good_config();
    for name in GOLDEN {
        assert_refused(
            verify_dsse_bundle(
                &golden_bundle(name),
                &trust,
                &policy("bob@example.com", GOLDEN_ISSUER),
            ),
            Check::Identity,
            "certificate identity is stefanb@us.ibm.com, expected bob@example.com",
        );
    }
}

#[test]
fn golden_wrong_issuer_fails() {
    let trust = public_good_config();
    for name in GOLDEN {
        assert_refused(
            verify_dsse_bundle(
                &golden_bundle(name),
                &trust,
                &policy(GOLDEN_IDENTITY, "https://accounts.google.com"),
            ),
            Check::Issuer,
            "issuer is https://sigstore.verify.ibm.com/oauth2, expected https://accounts.google.com",
        );
    }
}

#[test]
fn identity_regex_is_fully_anchored() {
    let trust = public_good_config();
    let bundle = golden_bundle("v1.0.0-sigstore");
    let with_re = |re: &str| IdentityPolicy {
        identity: None,
        identity_regex: Some(re.to_owned()),
        issuer: GOLDEN_ISSUER.to_owned(),
    };
    verify_dsse_bundle(&bundle, &trust, &with_re(r".*@us\.ibm\.com")).expect("regex matches");
    assert_refused(
        verify_dsse_bundle(&bundle, &trust, &with_re("stefanb")),
        Check::Identity,
        "does not match the regular expression stefanb",
    );
    assert_refused(
        verify_dsse_bundle(&bundle, &trust, &with_re("us.ibm.com")),
        Check::Identity,
        "certificate identity is stefanb@us.ibm.com",
    );
    let err = verify_dsse_bundle(&bundle, &trust, &with_re("(")).expect_err("bad regex");
    assert!(
        matches!(&err, SigstoreError::Policy(PolicyRefusal::InvalidRegex { regex, .. }) if regex == "("),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("invalid identity regular expression"),
        "{err}"
    );
}

#[test]
fn policy_needs_an_identity() {
    let err = verify_dsse_bundle(
        &golden_bundle("v1.0.0-sigstore"),
        &public_good_config(),
        &IdentityPolicy {
            identity: None,
            identity_regex: None,
            issuer: GOLDEN_ISSUER.into(),
        },
    )
    .expect_err("no identity");
    assert!(
        matches!(err, SigstoreError::Policy(PolicyRefusal::NoIdentity)),
        "{err}"
    );
}

fn case(name: &str) -> Vec<u8> {
    read(testdata("oms").join(name).join("model.sig"))
}

#[test]
fn private_instance_bundle_verifies_offline() {
    let v = verify_dsse_bundle(
        &case("case40-sigstore-private-offline"),
        &private_config(),
        &policy(PRIVATE_IDENTITY, PRIVATE_ISSUER),
    )
    .expect("case40 verifies");
    let expected = read(testdata("oms/case40-sigstore-private-offline/payload.json"));
    assert_eq!(v.payload, expected, "payload is returned verbatim");
    assert_eq!(v.identity, PRIVATE_IDENTITY);
}

#[test]
fn private_instance_trusted_root_json_also_works() {
    let trust = TrustedRoot::from_trusted_root_json(&read(testdata(
        "oms/case40-sigstore-private-offline/sigstore/trusted_root.json",
    )))
    .expect("trusted_root.json loads");
    verify_dsse_bundle(
        &case("case40-sigstore-private-offline"),
        &trust,
        &policy(PRIVATE_IDENTITY, PRIVATE_ISSUER),
    )
    .expect("case40 verifies");
}

#[test]
fn private_instance_bundle_fails_against_public_good() {
    for trust in [public_good_config(), TrustedRoot::public_good()] {
        assert_refused(
            verify_dsse_bundle(
                &case("case40-sigstore-private-offline"),
                &trust,
                &policy(PRIVATE_IDENTITY, PRIVATE_ISSUER),
            ),
            // The private Rekor is unknown to the public-good root; its SET is the first thing checked.
            Check::TransparencyLog,
            "",
        );
    }
}

#[test]
fn public_good_bundle_fails_against_private_root() {
    let err = verify_dsse_bundle(
        &golden_bundle("v1.0.0-sigstore"),
        &private_config(),
        &policy(GOLDEN_IDENTITY, GOLDEN_ISSUER),
    )
    .expect_err("must fail");
    assert!(err.failed_check().is_some(), "{err}");
}

#[test]
fn case41_wrong_identity_fails() {
    let dir = testdata("oms/case41-neg-sigstore-wrong-identity");
    let trust =
        TrustedRoot::from_client_trust_config_json(&read(dir.join("sigstore/trust_config.json")))
            .expect("trust config");
    // CASE.md: `--identity someone-else@example.com`, which the leaf does not carry.
    assert_refused(
        verify_dsse_bundle(
            &read(dir.join("model.sig")),
            &trust,
            &policy("someone-else@example.com", PRIVATE_ISSUER),
        ),
        Check::Identity,
        "certificate identity is model-signer@example.com, expected someone-else@example.com",
    );
    // The same bundle is otherwise sound.
    verify_dsse_bundle(
        &read(dir.join("model.sig")),
        &trust,
        &policy(PRIVATE_IDENTITY, PRIVATE_ISSUER),
    )
    .expect("case41 verifies with the signer's real identity");
}

#[test]
fn snake_case_trust_config_is_accepted() {
    let text = String::from_utf8(read(testdata(
        "oms/case40-sigstore-private-offline/sigstore/trust_config.json",
    )))
    .expect("utf-8");
    let snake = text
        .replace("\"trustedRoot\"", "\"trusted_root\"")
        .replace("\"signingConfig\"", "\"signing_config\"")
        .replace("\"mediaType\"", "\"media_type\"")
        .replace("\"certificateAuthorities\"", "\"certificate_authorities\"")
        .replace("\"rawBytes\"", "\"raw_bytes\"");
    let trust =
        TrustedRoot::from_client_trust_config_json(snake.as_bytes()).expect("snake_case loads");
    verify_dsse_bundle(
        &case("case40-sigstore-private-offline"),
        &trust,
        &policy(PRIVATE_IDENTITY, PRIVATE_ISSUER),
    )
    .expect("case40 verifies");
}

#[test]
fn bare_trusted_root_is_not_a_client_trust_config() {
    let err = TrustedRoot::from_client_trust_config_json(&read(testdata(
        "oms/case40-sigstore-private-offline/sigstore/trusted_root.json",
    )))
    .expect_err("wrong media type");
    assert!(
        matches!(
            err,
            SigstoreError::TrustRoot(TrustRootRefusal::MediaType {
                expected: CLIENT_TRUST_CONFIG_MEDIA_TYPE,
                ..
            })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("clienttrustconfig"), "{err}");
}
