//! sigstore-conformance's Rekor v2 DSSE cases (`testdata/conformance-rekor2`, copied from
//! sigstore/sigstore-conformance): DSSE envelopes logged as `hashedrekord` 0.0.2 over the
//! PAE on staging's Rekor v2, with staging TSA timestamps. The happy path verifies; each
//! `_fail` case is refused by the check its construction breaks. (The suite's other Rekor v2
//! cases sign a message, not a DSSE envelope, which OMS never does.)

use hallmark_sigstore::{Check, TrustedRoot, verify_dsse_bundle};

use crate::*;

const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn case(
    name: &str,
) -> Result<hallmark_sigstore::SigstoreVerified, hallmark_sigstore::SigstoreError> {
    let dir = testdata("conformance-rekor2").join(name);
    let trust = TrustedRoot::from_trusted_root_json(&read(dir.join("trusted_root.json")))
        .expect("staging trusted root loads");
    verify_dsse_bundle(
        &read(dir.join("bundle.sigstore.json")),
        &trust,
        &policy(IDENTITY, ISSUER),
    )
}

#[test]
fn rekor2_dsse_happy_path_verifies() {
    let v = case("rekor2-dsse-happy-path").expect("verifies");
    assert_eq!(v.identity, IDENTITY);
    assert!(
        v.checks
            .iter()
            .any(|c| c.check == Check::SigningTime && c.detail.contains("RFC 3161")),
        "{:?}",
        v.checks
    );
}

#[test]
fn rekor2_dsse_fail_cases_are_refused_by_the_right_check() {
    for (name, check) in [
        ("rekor2-dsse-invalid-sig_fail", Check::DsseSignature),
        ("rekor2-dsse-mismatch-envelope_fail", Check::Bundle),
        ("rekor2-dsse-mismatch-sig_fail", Check::LogEntryBinding),
    ] {
        let err = case(name).expect_err(name);
        eprintln!("{name}: {err}");
        assert_eq!(err.failed_check(), Some(check), "{name}: {err}");
    }
}
