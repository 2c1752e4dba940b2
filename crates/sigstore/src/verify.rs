//! Keyless DSSE bundle verification through `sigstore-verify`, with OMS-friendly reporting.

use std::time::SystemTime;

use regex_lite::Regex;
use sigstore_verify::types::{Bundle, KindVersion, Sha256Hash, SignatureContent};
use sigstore_verify::{
    CertificateError, Error as VerifyError, TimestampError, TransparencyLogError,
    VerificationPolicy,
};

use crate::{SigstoreError, TrustedRoot};

/// Largest signature bundle accepted, in bytes (the same default as `hallmark-format`).
pub const MAX_BUNDLE_BYTES: usize = 256 * 1024 * 1024;

/// Check names, in the order they are reported.
pub mod check {
    /// The bundle parses as a Sigstore bundle holding one DSSE envelope and one log entry.
    pub const BUNDLE: &str = "bundle";
    /// A signing time authenticated by the transparency log or a trusted timestamp authority.
    pub const SIGNING_TIME: &str = "signing time";
    /// The signing certificate chains to a Fulcio CA of the trust root, valid at the signing time.
    pub const CERTIFICATE_CHAIN: &str = "certificate chain";
    /// The certificate's embedded SCT is signed by a CT log of the trust root.
    pub const SCT: &str = "certificate transparency";
    /// The transparency-log entry: inclusion proof, signed checkpoint, signed entry timestamp.
    pub const TRANSPARENCY_LOG: &str = "transparency log";
    /// The DSSE signature over the pre-authentication encoding verifies with the leaf key.
    pub const DSSE_SIGNATURE: &str = "DSSE signature";
    /// The log entry body records this envelope and this certificate.
    pub const LOG_ENTRY_BINDING: &str = "log entry binding";
    /// The certificate identity (SAN) matches the policy.
    pub const IDENTITY: &str = "identity";
    /// The certificate's OIDC issuer matches the policy.
    pub const ISSUER: &str = "issuer";
    /// The trust root could be used.
    pub const TRUST_ROOT: &str = "trust root";
}

/// Who must have signed: the certificate identity and OIDC issuer expected.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IdentityPolicy {
    /// Exact certificate identity (the email or URI subject alternative name).
    pub identity: Option<String>,
    /// Regular expression the identity must match in full (it is anchored at both ends).
    pub identity_regex: Option<String>,
    /// Exact OIDC issuer URL, read from extension 1.3.6.1.4.1.57264.1.8, or the legacy
    /// 1.3.6.1.4.1.57264.1.1 when the certificate has no `.1.8`.
    pub issuer: String,
}

/// One verification check and its outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// Short name of the check (see [`check`]).
    pub name: &'static str,
    /// Whether it passed.
    pub passed: bool,
    /// What was checked, with the values involved.
    pub detail: String,
}

/// A bundle that passed every check. Only [`verify_dsse_bundle`] makes one.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SigstoreVerified {
    /// The DSSE payload bytes, verbatim (for OMS: the in-toto statement to check next).
    pub payload: Vec<u8>,
    /// The DSSE payload type (for OMS: `application/vnd.in-toto+json`).
    pub payload_type: String,
    /// The certificate identity (SAN) that signed.
    pub identity: String,
    /// The certificate's OIDC issuer.
    pub issuer: String,
    /// The earliest authenticated signing time (Rekor integrated time or RFC 3161 time).
    pub signed_at: SystemTime,
    /// Index of the transparency-log entry, when the bundle records one.
    pub log_index: Option<u64>,
    /// Every check that ran, in order; all passed.
    pub checks: Vec<Check>,
}

/// Verify a keyless Sigstore bundle carrying a DSSE envelope, offline, against `trust`, and
/// return its payload. The payload is authenticated but not interpreted: the caller checks
/// the in-toto statement and the manifest it describes.
///
/// Checks, in order: signing time, certificate chain, SCT, transparency log, DSSE signature,
/// log entry binding (all delegated to `sigstore-verify`), then identity and issuer.
pub fn verify_dsse_bundle(
    bundle_json: &[u8],
    trust: &TrustedRoot,
    policy: &IdentityPolicy,
) -> Result<SigstoreVerified, SigstoreError> {
    let matcher = IdentityMatcher::new(policy)?;
    let verifier = trust.verifier()?;

    if bundle_json.len() > MAX_BUNDLE_BYTES {
        return Err(SigstoreError::Bundle(format!(
            "signature bundle is {} bytes, over the {MAX_BUNDLE_BYTES}-byte limit",
            bundle_json.len()
        )));
    }
    let text = std::str::from_utf8(bundle_json)
        .map_err(|e| SigstoreError::Bundle(format!("signature bundle is not UTF-8: {e}")))?;
    let bundle = Bundle::from_json(text).map_err(|e| {
        SigstoreError::Bundle(format!("signature file is not a Sigstore bundle: {e}"))
    })?;

    let SignatureContent::DsseEnvelope(envelope) = &bundle.content else {
        return Err(SigstoreError::Bundle(
            "the bundle holds a message signature, not a DSSE envelope (OMS signatures are DSSE)"
                .into(),
        ));
    };
    if bundle.signing_certificate().is_none() {
        return Err(SigstoreError::Bundle(
            "the bundle has no signing certificate: it was signed with a key, not keylessly \
             (verify it with the key or certificate method)"
                .into(),
        ));
    }
    let entries = &bundle.verification_material.tlog_entries;
    let [entry] = entries.as_slice() else {
        return Err(SigstoreError::CheckFailed {
            check: check::BUNDLE,
            reason: format!(
                "the bundle must record exactly one transparency-log entry, it has {}",
                entries.len()
            ),
        });
    };
    let payload = envelope.payload.as_bytes().to_vec();
    let payload_type = envelope.payload_type.clone();

    // sigstore-verify binds an in-toto statement to an "artifact" by subject digest. For OMS
    // the subject is the model's root digest, which the caller recomputes from the manifest;
    // here we hand back the statement's own subject digest so that only the signature, the
    // certificate and the log are judged. The caller must check the subject.
    let subject = subject_sha256(&payload)?;

    let verify_policy = VerificationPolicy::any_identity();
    let result = verifier
        .verify(subject, &bundle, &verify_policy)
        .map_err(refusal)?;

    let mut checks = Vec::new();
    let kind = entry.kind_version;
    checks.push(Check {
        name: check::BUNDLE,
        passed: true,
        detail: format!(
            "{}, DSSE envelope of type {payload_type}, one {} {} log entry",
            bundle.media_type,
            kind.kind(),
            kind.version()
        ),
    });

    let times = result.verified_timestamps();
    let Some(signed_at) = times.iter().min().copied() else {
        return Err(SigstoreError::CheckFailed {
            check: check::SIGNING_TIME,
            reason: "no authenticated signing time".into(),
        });
    };
    let tsa_count = times
        .len()
        .saturating_sub(usize::from(result.integrated_time().is_some()));
    let mut sources = Vec::new();
    if let Some(t) = result.integrated_time() {
        sources.push(format!(
            "Rekor integrated time {t} (authenticated by the signed entry timestamp)"
        ));
    }
    if tsa_count > 0 {
        sources.push(format!(
            "{tsa_count} RFC 3161 timestamp(s) from a timestamp authority in the trust root"
        ));
    }
    checks.push(Check {
        name: check::SIGNING_TIME,
        passed: true,
        detail: format!("signed at {signed_at}; from {}", sources.join(" and ")),
    });

    let cert = result.certificate();
    checks.push(Check {
        name: check::CERTIFICATE_CHAIN,
        passed: result.certificate_verified(),
        detail: match cert {
            Some(c) => format!(
                "chains to a Fulcio certificate authority in the trust root; valid {} to {}, \
                 which covers every signing time",
                c.not_before, c.not_after
            ),
            None => "chains to a Fulcio certificate authority in the trust root".into(),
        },
    });
    checks.push(Check {
        name: check::SCT,
        passed: result.sct_verified(),
        detail: "embedded signed certificate timestamp is signed by a CT log in the trust root"
            .into(),
    });
    checks.push(Check {
        name: check::TRANSPARENCY_LOG,
        passed: result.tlog_verified(),
        detail: tlog_detail(entry),
    });
    checks.push(Check {
        name: check::DSSE_SIGNATURE,
        passed: true,
        detail: "signature over the DSSE pre-authentication encoding verifies with the \
                 certificate's key"
            .into(),
    });
    checks.push(Check {
        name: check::LOG_ENTRY_BINDING,
        passed: true,
        detail: format!(
            "the {} entry records this envelope's signature and this certificate",
            kind.kind()
        ),
    });

    let identity = result
        .identity()
        .map(|san| san.as_str().to_owned())
        .ok_or_else(|| SigstoreError::CheckFailed {
            check: check::IDENTITY,
            reason: "the certificate has no email or URI identity".into(),
        })?;
    matcher.check_identity(&identity)?;
    checks.push(Check {
        name: check::IDENTITY,
        passed: true,
        detail: format!("certificate identity is {identity}, {}", matcher.describe()),
    });

    let issuer = result
        .issuer()
        .map(str::to_owned)
        .ok_or_else(|| SigstoreError::CheckFailed {
            check: check::ISSUER,
            reason: "the certificate has no OIDC issuer extension".into(),
        })?;
    if issuer != policy.issuer {
        return Err(SigstoreError::CheckFailed {
            check: check::ISSUER,
            reason: format!("issuer is {issuer}, expected {}", policy.issuer),
        });
    }
    checks.push(Check {
        name: check::ISSUER,
        passed: true,
        detail: format!("issuer is {issuer}, as expected"),
    });

    Ok(SigstoreVerified {
        payload,
        payload_type,
        identity,
        issuer,
        signed_at: SystemTime::from(signed_at),
        log_index: Some(u64::from(entry.log_index)),
        checks,
    })
}

fn tlog_detail(entry: &sigstore_verify::types::bundle::TransparencyLogEntry) -> String {
    let kind = entry.kind_version;
    let version = match kind {
        KindVersion::HashedRekordV002 => "Rekor v2",
        _ => "Rekor v1",
    };
    let mut parts = vec![format!(
        "{version} {} {} entry at index {}",
        kind.kind(),
        kind.version(),
        u64::from(entry.log_index)
    )];
    if entry.inclusion_proof.is_some() {
        parts.push(
            "inclusion proof verified against a checkpoint signed by a log in the trust root"
                .into(),
        );
    }
    if entry.inclusion_promise.is_some() {
        parts.push("signed entry timestamp verified".into());
    }
    parts.join("; ")
}

/// The `subject[0].digest.sha256` of an in-toto statement.
fn subject_sha256(payload: &[u8]) -> Result<Sha256Hash, SigstoreError> {
    let bad = |why: &str| SigstoreError::Bundle(format!("DSSE payload: {why}"));
    let doc: serde_json::Value =
        serde_json::from_slice(payload).map_err(|e| bad(&format!("not JSON: {e}")))?;
    let hex = doc
        .get("subject")
        .and_then(|s| s.get(0))
        .and_then(|s| s.get("digest"))
        .and_then(|d| d.get("sha256"))
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| bad("the in-toto statement has no subject with a sha256 digest"))?;
    Sha256Hash::from_hex(hex).map_err(|e| bad(&format!("subject sha256 digest: {e}")))
}

struct IdentityMatcher<'a> {
    exact: Option<&'a str>,
    regex: Option<(Regex, &'a str)>,
}

impl<'a> IdentityMatcher<'a> {
    fn new(policy: &'a IdentityPolicy) -> Result<Self, SigstoreError> {
        if policy.issuer.is_empty() {
            return Err(SigstoreError::Policy(
                "an expected OIDC issuer is required".into(),
            ));
        }
        let regex = match &policy.identity_regex {
            Some(re) => {
                let anchored = Regex::new(&format!("^(?:{re})$")).map_err(|e| {
                    SigstoreError::Policy(format!(
                        "invalid identity regular expression {re:?}: {e}"
                    ))
                })?;
                Some((anchored, re.as_str()))
            }
            None => None,
        };
        let exact = policy.identity.as_deref();
        if exact.is_none() && regex.is_none() {
            return Err(SigstoreError::Policy(
                "an expected identity or identity regular expression is required".into(),
            ));
        }
        Ok(Self { exact, regex })
    }

    fn check_identity(&self, actual: &str) -> Result<(), SigstoreError> {
        if let Some(expected) = self.exact
            && actual != expected
        {
            return Err(SigstoreError::CheckFailed {
                check: check::IDENTITY,
                reason: format!("certificate identity is {actual}, expected {expected}"),
            });
        }
        if let Some((re, source)) = &self.regex
            && !re.is_match(actual)
        {
            return Err(SigstoreError::CheckFailed {
                check: check::IDENTITY,
                reason: format!(
                    "certificate identity is {actual}, which does not match the regular expression {source}"
                ),
            });
        }
        Ok(())
    }

    fn describe(&self) -> String {
        match (self.exact, &self.regex) {
            (Some(_), Some((_, re))) => format!("as expected and matching {re}"),
            (None, Some((_, re))) => format!("matching {re}"),
            _ => "as expected".into(),
        }
    }
}

/// Turn a `sigstore-verify` refusal into a named check with a readable reason.
fn refusal(err: VerifyError) -> SigstoreError {
    let (check, reason) = match &err {
        VerifyError::Certificate(c) => match c {
            CertificateError::Sct(d) => (
                check::SCT,
                format!(
                    "the certificate's signed certificate timestamp is not from a CT log in the trust root, or is invalid ({d})"
                ),
            ),
            CertificateError::Expired { time, not_after } => (
                check::CERTIFICATE_CHAIN,
                format!(
                    "the signing certificate had expired at the signing time {time} (valid until {not_after})"
                ),
            ),
            CertificateError::NotYetValid { time, not_before } => (
                check::CERTIFICATE_CHAIN,
                format!(
                    "the signing certificate was not yet valid at the signing time {time} (valid from {not_before})"
                ),
            ),
            CertificateError::NoValidAuthority { time } => (
                check::CERTIFICATE_CHAIN,
                format!(
                    "no certificate authority in the trust root was valid at the signing time {time}"
                ),
            ),
            CertificateError::ChainInvalid(d) if d.contains("CertExpired") => (
                check::CERTIFICATE_CHAIN,
                format!("the signing certificate had expired at the signing time ({d})"),
            ),
            CertificateError::ChainInvalid(d) if d.contains("CertNotValidYet") => (
                check::CERTIFICATE_CHAIN,
                format!("the signing certificate was not yet valid at the signing time ({d})"),
            ),
            other => (
                check::CERTIFICATE_CHAIN,
                format!(
                    "the signing certificate does not chain to a certificate authority in the trust root ({other})"
                ),
            ),
        },
        VerifyError::TransparencyLog(t) => match t {
            TransparencyLogError::EntryMismatch(d) => (
                check::LOG_ENTRY_BINDING,
                format!(
                    "the transparency-log entry does not record this envelope and certificate ({d})"
                ),
            ),
            TransparencyLogError::UnknownLog { log_id } => (
                check::TRANSPARENCY_LOG,
                format!(
                    "the entry was logged by {log_id}, a transparency log not in the trust root"
                ),
            ),
            TransparencyLogError::InclusionProof(d) => (
                check::TRANSPARENCY_LOG,
                format!("the inclusion proof does not prove this entry is in the log ({d})"),
            ),
            TransparencyLogError::Checkpoint(d) => (
                check::TRANSPARENCY_LOG,
                format!(
                    "the checkpoint is not signed by a transparency log in the trust root, or does not match the proof ({d})"
                ),
            ),
            TransparencyLogError::InclusionPromise(d) => (
                check::TRANSPARENCY_LOG,
                format!(
                    "the signed entry timestamp does not verify with a transparency log in the trust root ({d})"
                ),
            ),
            other => (check::TRANSPARENCY_LOG, other.to_string()),
        },
        VerifyError::Timestamp(t) => match t {
            TimestampError::NoVerifiedTimestamp(d) => (
                check::SIGNING_TIME,
                format!(
                    "no signing time is authenticated by the transparency log or a timestamp authority in the trust root ({d})"
                ),
            ),
            other => (
                check::SIGNING_TIME,
                format!(
                    "the RFC 3161 timestamp does not verify against a timestamp authority in the trust root ({other})"
                ),
            ),
        },
        VerifyError::SignatureInvalid(d) => (
            check::DSSE_SIGNATURE,
            format!("the envelope signature does not verify with the certificate's key ({d})"),
        ),
        VerifyError::InvalidTrustRoot(_)
        | VerifyError::TrustRoot(_)
        | VerifyError::TrustedCertificate(_) => (check::TRUST_ROOT, err.to_string()),
        _ => (check::BUNDLE, err.to_string()),
    };
    SigstoreError::CheckFailed { check, reason }
}
