//! Integration tests for hallmark-sigstore: golden public-good bundles, a private instance,
//! the conformance suite's Sigstore cases and adversarial bundles.

mod adversarial;
mod conformance;
mod conformance_rekor2;
mod fixtures;

use hallmark_sigstore::{Check, IdentityPolicy, SigstoreError, TrustedRoot};

pub(crate) const GOLDEN_IDENTITY: &str = "stefanb@us.ibm.com";
pub(crate) const GOLDEN_ISSUER: &str = "https://sigstore.verify.ibm.com/oauth2";
pub(crate) const PRIVATE_IDENTITY: &str = "model-signer@example.com";
pub(crate) const PRIVATE_ISSUER: &str = "https://oidc.oms-fixtures.test";

pub(crate) use hallmark_testkit::{read, testdata};

pub(crate) fn public_good_config() -> TrustedRoot {
    TrustedRoot::from_client_trust_config_json(&read(testdata(
        "golden/trust_config.public-good.json",
    )))
    .expect("public-good trust config loads")
}

pub(crate) fn private_config() -> TrustedRoot {
    TrustedRoot::from_client_trust_config_json(&read(testdata(
        "oms/case40-sigstore-private-offline/sigstore/trust_config.json",
    )))
    .expect("private trust config loads")
}

pub(crate) fn policy(identity: &str, issuer: &str) -> IdentityPolicy {
    IdentityPolicy {
        identity: Some(identity.to_owned()),
        identity_regex: None,
        issuer: issuer.to_owned(),
    }
}

/// Assert a refusal by the named check whose message contains `words`.
#[track_caller]
pub(crate) fn assert_refused(
    result: Result<impl std::fmt::Debug, SigstoreError>,
    check: Check,
    words: &str,
) {
    let err = result.expect_err("verification must fail");
    assert_eq!(err.failed_check(), Some(check), "wrong check failed: {err}");
    let text = err.to_string();
    assert!(text.contains(words), "message {text:?} lacks {words:?}");
}
