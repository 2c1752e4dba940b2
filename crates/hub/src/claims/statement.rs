//! The statements claims carry: the hub's scan statement, and reading the subjects and
//! predicate type of someone else's.

use hallmark_format::Manifest;
use hallmark_format::bundle::Bundle;
use hallmark_format::dsse::IN_TOTO_PAYLOAD_TYPE;
use hallmark_format::statement::STATEMENT_TYPE;
use hallmark_instance::LoggedEntry;
use hallmark_store::{Repo, ScanResult};
use serde_json::{Value, json};

use super::refusal::ClaimRefusal;
use crate::error::HubError;

/// Predicate type of the hub's `scan` claims. The predicate:
/// `{"scanner": "hallmark-scan", "policyVersion", "verdict": clean|unverified|suspicious|dangerous,
/// "repo": "owner/name", "revision": commit id, "findings": [{path, rule, severity, message}]}`.
pub const SCAN_PREDICATE_TYPE: &str = "https://hallmark.dev/attestations/scan/v1";

/// The revision's OMS root digest (hex): SHA-256 over its resource digests in order,
/// the subject of every claim.
#[must_use]
pub fn root_digest(manifest: &Manifest) -> String {
    hex::encode(hallmark_crypto::sha256(manifest.root_digest_input()))
}

/// The hub's scan statement about a revision.
#[must_use]
pub fn scan_statement(
    repo: &Repo,
    commit: &str,
    manifest: &Manifest,
    scan: &ScanResult,
) -> Vec<u8> {
    let statement = json!({
        "_type": STATEMENT_TYPE,
        "subject": [{ "name": manifest.model_name, "digest": { "sha256": root_digest(manifest) } }],
        "predicateType": SCAN_PREDICATE_TYPE,
        "predicate": {
            "scanner": "hallmark-scan",
            "policyVersion": scan.policy_version,
            "verdict": scan.verdict,
            "repo": repo.full_name(),
            "revision": commit,
            "findings": scan.findings,
        },
    });
    statement.to_string().into_bytes()
}

/// Signs an in-toto statement (exact bytes) into a Sigstore bundle.
///
/// # Errors
/// The signer failed.
pub fn sign(payload: Vec<u8>, signer: &hallmark_signing::Signer) -> Result<Vec<u8>, HubError> {
    use hallmark_provenance::ProvenanceError as P;
    hallmark_provenance::sign_payload(payload, signer).map_err(|e| match e {
        P::Sign(e) => HubError::Sign(e),
        P::Crypto(e) => HubError::Key(e),
        other => HubError::Sign(hallmark_signing::SignError::Keyless(Box::new(other))),
    })
}

/// Where the first transparency-log entry of a bundle says it is logged.
#[must_use]
pub fn bundle_log_entry(bundle_json: &[u8]) -> Option<LoggedEntry> {
    let v: Value = serde_json::from_slice(bundle_json).ok()?;
    let e = v.pointer("/verificationMaterial/tlogEntries/0")?;
    let num = |k: &str| {
        let f = e.get(k)?;
        f.as_str()
            .and_then(|s| s.parse().ok())
            .or_else(|| f.as_i64())
    };
    Some(LoggedEntry {
        index: u64::try_from(num("logIndex")?).ok()?,
        integrated_time: num("integratedTime")?,
    })
}

/// An in-toto statement's predicate type and `sha256` subject digests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subjects {
    /// `predicateType`.
    pub predicate_type: String,
    /// Every subject's `digest.sha256`, lower-case.
    pub sha256: Vec<String>,
    /// The statement.
    pub statement: Value,
}

/// Reads the in-toto statement of a parsed bundle.
///
/// # Errors
/// [`ClaimRefusal::Malformed`] naming the field.
pub fn subjects(bundle: &Bundle, what: &str) -> Result<Subjects, ClaimRefusal> {
    let bad = |why: String| ClaimRefusal::Malformed {
        what: what.to_owned(),
        why,
    };
    let env = &bundle.envelope;
    if env.payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err(bad(format!(
            "dsseEnvelope.payloadType is {:?}, expected {IN_TOTO_PAYLOAD_TYPE}",
            env.payload_type
        )));
    }
    let statement: Value =
        serde_json::from_slice(&env.payload).map_err(|e| bad(format!("payload: {e}")))?;
    if statement.get("_type").and_then(Value::as_str) != Some(STATEMENT_TYPE) {
        return Err(bad(format!("_type is not {STATEMENT_TYPE}")));
    }
    let predicate_type = statement
        .get("predicateType")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("predicateType missing".into()))?
        .to_owned();
    let subjects = statement
        .get("subject")
        .and_then(Value::as_array)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| bad("subject missing or empty".into()))?;
    let mut sha256 = Vec::with_capacity(subjects.len());
    for (i, s) in subjects.iter().enumerate() {
        let d = s
            .pointer("/digest/sha256")
            .and_then(Value::as_str)
            .filter(|d| d.len() == 64 && d.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| bad(format!("subject[{i}].digest.sha256 is not 64 hex digits")))?;
        sha256.push(d.to_ascii_lowercase());
    }
    Ok(Subjects {
        predicate_type,
        sha256,
        statement,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_entries_are_read_from_bundles() {
        let b = json!({"verificationMaterial": {"tlogEntries": [
            {"logIndex": "7", "integratedTime": "1700000000"}]}});
        assert_eq!(
            bundle_log_entry(b.to_string().as_bytes()),
            Some(LoggedEntry {
                index: 7,
                integrated_time: 1_700_000_000
            })
        );
        assert_eq!(bundle_log_entry(b"{}"), None);
    }
}
