//! Adversarial bundles made from case40 by `testdata/sigstore/gen.py` (see its README):
//! each must be refused by the named check, and the re-logged control must verify.

use hallmark_sigstore::{
    BundleRefusal, Check, SigstoreError, SigstoreVerified, TrustedRoot, verify_dsse_bundle,
};

use crate::*;

fn run(name: &str) -> Result<SigstoreVerified, SigstoreError> {
    let dir = testdata("sigstore").join(name);
    let trust_file = dir.join("trust_config.json");
    let trust = if trust_file.exists() {
        TrustedRoot::from_client_trust_config_json(&read(trust_file)).expect("trust config")
    } else {
        private_config()
    };
    verify_dsse_bundle(
        &read(dir.join("model.sig")),
        &trust,
        &policy(PRIVATE_IDENTITY, PRIVATE_ISSUER),
    )
}

#[test]
fn control_relogged_bundle_verifies() {
    // The generator's re-logging (new proof, checkpoint and SET with the real keys) is sound,
    // so the refusals below are caused by the mutation alone.
    run("control-relogged").expect("control verifies");
}

#[test]
fn inclusion_proof_for_another_leaf() {
    assert_refused(
        run("inclusion-proof-other-leaf"),
        Check::TransparencyLog,
        "the inclusion proof does not prove this entry is in the log",
    );
}

#[test]
fn checkpoint_signed_by_unknown_key() {
    assert_refused(
        run("checkpoint-unknown-key"),
        Check::TransparencyLog,
        "the checkpoint is not signed by a transparency log in the trust root",
    );
}

#[test]
fn certificate_expired_at_integration_time() {
    assert_refused(
        run("cert-expired-at-integration"),
        Check::CertificateChain,
        "the signing certificate had expired at the signing time",
    );
}

#[test]
fn sct_from_unknown_log() {
    assert_refused(
        run("sct-unknown-log"),
        Check::Sct,
        "signed certificate timestamp is not from a CT log in the trust root",
    );
}

#[test]
fn entry_body_binds_another_envelope() {
    assert_refused(
        run("entry-binds-other-envelope"),
        Check::LogEntryBinding,
        "the transparency-log entry does not record this envelope and certificate",
    );
}

#[test]
fn envelope_payload_swapped() {
    assert_refused(
        run("envelope-payload-swapped"),
        Check::DsseSignature,
        "the envelope signature does not verify with the certificate's key",
    );
}

#[test]
fn envelope_signature_tampered() {
    assert_refused(
        run("envelope-signature-tampered"),
        Check::DsseSignature,
        "the envelope signature does not verify with the certificate's key",
    );
}

#[test]
fn signed_entry_timestamp_by_unknown_key() {
    assert_refused(
        run("set-unknown-key"),
        Check::TransparencyLog,
        "the signed entry timestamp does not verify with a transparency log in the trust root",
    );
}

#[test]
fn whole_log_signed_by_unknown_key() {
    assert_refused(
        run("log-entirely-unknown-key"),
        Check::TransparencyLog,
        "does not verify with a transparency log in the trust root",
    );
}

#[test]
fn not_a_bundle() {
    let err = verify_dsse_bundle(
        b"{}",
        &private_config(),
        &policy(PRIVATE_IDENTITY, PRIVATE_ISSUER),
    )
    .expect_err("refused");
    assert!(matches!(err, SigstoreError::Bundle(_)), "{err}");
    let err = verify_dsse_bundle(
        b"\xff",
        &private_config(),
        &policy(PRIVATE_IDENTITY, PRIVATE_ISSUER),
    )
    .expect_err("refused");
    assert!(matches!(err, SigstoreError::Bundle(_)), "{err}");
}

#[test]
fn key_signed_bundle_is_not_keyless() {
    let bundle = read(testdata("golden/v1.1.0-elliptic-key/model.sig"));
    let err = verify_dsse_bundle(
        &bundle,
        &private_config(),
        &policy(PRIVATE_IDENTITY, PRIVATE_ISSUER),
    )
    .expect_err("refused");
    assert!(
        matches!(err, SigstoreError::Bundle(BundleRefusal::NoCertificate)),
        "{err}"
    );
}

#[test]
fn two_log_entries_are_refused() {
    let mut doc: serde_json::Value = serde_json::from_slice(&read(testdata(
        "oms/case40-sigstore-private-offline/model.sig",
    )))
    .expect("json");
    let entries = doc["verificationMaterial"]["tlogEntries"]
        .as_array_mut()
        .expect("entries");
    let first = entries[0].clone();
    entries.push(first);
    let bytes = serde_json::to_vec(&doc).expect("json");
    assert_refused(
        verify_dsse_bundle(
            &bytes,
            &private_config(),
            &policy(PRIVATE_IDENTITY, PRIVATE_ISSUER),
        ),
        Check::Bundle,
        "exactly one transparency-log entry, it has 2",
    );
}

/// Bundles from `shared/docs/sigstore-infra-oracle.py` (an emulated private instance; each
/// verified by the reference `model_signing verify sigstore` 1.1.1 before being copied here).
fn oracle(name: &str, identity: &str) -> Result<SigstoreVerified, SigstoreError> {
    let dir = testdata("sigstore").join(name);
    let trust = TrustedRoot::from_client_trust_config_json(&read(dir.join("trust_config.json")))
        .expect("trust");
    verify_dsse_bundle(
        &read(dir.join("model.sig")),
        &trust,
        &policy(identity, "https://hub.example.internal/oidc"),
    )
}

const ORACLE_EMAIL: &str = "alice@hub.example.internal";

#[test]
fn rekor_v2_hashedrekord_with_rfc3161_timestamp_verifies() {
    for name in ["oracle-rekor-v2-tsa", "oracle-rekor-v2-ed25519-checkpoint"] {
        let v = oracle(name, ORACLE_EMAIL).unwrap_or_else(|e| panic!("{name}: {e}"));
        let tlog = v
            .checks
            .iter()
            .find(|c| c.check == Check::TransparencyLog)
            .expect("tlog");
        assert!(
            tlog.detail.contains("Rekor v2 hashedrekord 0.0.2"),
            "{}",
            tlog.detail
        );
        let time = v
            .checks
            .iter()
            .find(|c| c.check == Check::SigningTime)
            .expect("time");
        assert!(time.detail.contains("RFC 3161"), "{}", time.detail);
        assert!(
            !time.detail.contains("Rekor integrated time"),
            "{}",
            time.detail
        );
    }
}

#[test]
fn rekor_v1_with_rfc3161_timestamp_verifies() {
    oracle("oracle-rekor-v1-tsa", ORACLE_EMAIL).expect("verifies");
}

#[test]
fn uri_identity_through_an_intermediate_verifies() {
    let v = oracle(
        "oracle-rekor-v2-uri-intermediate",
        "https://hub.example.internal/users/alice",
    )
    .expect("verifies");
    assert_eq!(v.identity, "https://hub.example.internal/users/alice");
}

#[test]
fn rekor_v2_without_its_timestamp_authority_fails() {
    let dir = testdata("sigstore").join("oracle-rekor-v2-tsa");
    let mut tc: serde_json::Value =
        serde_json::from_slice(&read(dir.join("trust_config.json"))).expect("json");
    tc["trustedRoot"]["timestampAuthorities"] = serde_json::json!([]);
    let trust = TrustedRoot::from_client_trust_config_json(&serde_json::to_vec(&tc).expect("json"))
        .expect("trust");
    let err = verify_dsse_bundle(
        &read(dir.join("model.sig")),
        &trust,
        &policy(ORACLE_EMAIL, "https://hub.example.internal/oidc"),
    )
    .expect_err("no TSA, no time");
    assert_eq!(err.failed_check(), Some(Check::SigningTime), "{err}");
}

#[test]
fn hashedrekord_v001_entry_cannot_bind_a_dsse_envelope() {
    let mut doc: serde_json::Value = serde_json::from_slice(&read(testdata(
        "oms/case40-sigstore-private-offline/model.sig",
    )))
    .expect("json");
    doc["verificationMaterial"]["tlogEntries"][0]["kindVersion"] =
        serde_json::json!({"kind": "hashedrekord", "version": "0.0.1"});
    let bytes = serde_json::to_vec(&doc).expect("json");
    let err = verify_dsse_bundle(
        &bytes,
        &private_config(),
        &policy(PRIVATE_IDENTITY, PRIVATE_ISSUER),
    )
    .expect_err("refused");
    assert_eq!(err.failed_check(), Some(Check::Bundle), "{err}");
    assert!(
        err.to_string()
            .contains("incompatible with a DSSE envelope"),
        "{err}"
    );
}
