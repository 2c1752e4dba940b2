//! Keyless DSSE bundle verification through `sigstore-verify`, with OMS-friendly reporting.

use std::time::SystemTime;

use regex_lite::Regex;
use sigstore_verify::types::{Bundle, KindVersion, Sha256Hash, SignatureContent};
use sigstore_verify::{
    CertificateError, Error as VerifyError, TimestampError, TransparencyLogError,
    VerificationPolicy,
};

use crate::check::Check;
use crate::error::{BundleRefusal, PolicyRefusal, SigstoreError};
use crate::limits::MAX_BUNDLE_BYTES;
use crate::trust::TrustedRoot;

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
pub struct CheckOutcome {
    /// Which check.
    pub check: Check,
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
    pub checks: Vec<CheckOutcome>,
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
        return Err(SigstoreError::Bundle(BundleRefusal::TooLarge {
            size: bundle_json.len(),
        }));
    }
    let text = std::str::from_utf8(bundle_json)
        .map_err(|e| SigstoreError::Bundle(BundleRefusal::NotUtf8(e)))?;
    let bundle = Bundle::from_json(text)
        .map_err(|e| SigstoreError::Bundle(BundleRefusal::NotSigstore(e)))?;

    let SignatureContent::DsseEnvelope(envelope) = &bundle.content else {
        return Err(SigstoreError::Bundle(BundleRefusal::MessageSignature));
    };
    if bundle.signing_certificate().is_none() {
        return Err(SigstoreError::Bundle(BundleRefusal::NoCertificate));
    }
    let entries = &bundle.verification_material.tlog_entries;
    let [entry] = entries.as_slice() else {
        return Err(SigstoreError::check_failed(
            Check::Bundle,
            format!(
                "the bundle must record exactly one transparency-log entry, it has {}",
                entries.len()
            ),
        ));
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
    checks.push(CheckOutcome {
        check: Check::Bundle,
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
        return Err(SigstoreError::check_failed(
            Check::SigningTime,
            "no authenticated signing time",
        ));
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
    checks.push(CheckOutcome {
        check: Check::SigningTime,
        passed: true,
        detail: format!("signed at {signed_at}; from {}", sources.join(" and ")),
    });

    let cert = result.certificate();
    checks.push(CheckOutcome {
        check: Check::CertificateChain,
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
    checks.push(CheckOutcome {
        check: Check::Sct,
        passed: result.sct_verified(),
        detail: "embedded signed certificate timestamp is signed by a CT log in the trust root"
            .into(),
    });
    checks.push(CheckOutcome {
        check: Check::TransparencyLog,
        passed: result.tlog_verified(),
        detail: tlog_detail(entry),
    });
    checks.push(CheckOutcome {
        check: Check::DsseSignature,
        passed: true,
        detail: "signature over the DSSE pre-authentication encoding verifies with the \
                 certificate's key"
            .into(),
    });
    checks.push(CheckOutcome {
        check: Check::LogEntryBinding,
        passed: true,
        detail: format!(
            "the {} entry records this envelope's signature and this certificate",
            kind.kind()
        ),
    });

    let identity = result
        .identity()
        .map(|san| san.as_str().to_owned())
        .ok_or_else(|| {
            SigstoreError::check_failed(
                Check::Identity,
                "the certificate has no email or URI identity",
            )
        })?;
    matcher.check_identity(&identity)?;
    checks.push(CheckOutcome {
        check: Check::Identity,
        passed: true,
        detail: format!("certificate identity is {identity}, {}", matcher.describe()),
    });

    let issuer = result.issuer().map(str::to_owned).ok_or_else(|| {
        SigstoreError::check_failed(
            Check::Issuer,
            "the certificate has no OIDC issuer extension",
        )
    })?;
    if issuer != policy.issuer {
        return Err(SigstoreError::check_failed(
            Check::Issuer,
            format!("issuer is {issuer}, expected {}", policy.issuer),
        ));
    }
    checks.push(CheckOutcome {
        check: Check::Issuer,
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
    let doc: serde_json::Value = serde_json::from_slice(payload)
        .map_err(|e| SigstoreError::Bundle(BundleRefusal::PayloadNotJson(e)))?;
    let hex = doc
        .get("subject")
        .and_then(|s| s.get(0))
        .and_then(|s| s.get("digest"))
        .and_then(|d| d.get("sha256"))
        .and_then(serde_json::Value::as_str)
        .ok_or(SigstoreError::Bundle(BundleRefusal::NoSubjectDigest))?;
    Sha256Hash::from_hex(hex).map_err(|e| SigstoreError::Bundle(BundleRefusal::BadSubjectDigest(e)))
}

struct IdentityMatcher<'a> {
    exact: Option<&'a str>,
    regex: Option<(Regex, &'a str)>,
}

impl<'a> IdentityMatcher<'a> {
    fn new(policy: &'a IdentityPolicy) -> Result<Self, SigstoreError> {
        if policy.issuer.is_empty() {
            return Err(SigstoreError::Policy(PolicyRefusal::NoIssuer));
        }
        let regex = match &policy.identity_regex {
            Some(re) => {
                let anchored = Regex::new(&format!("^(?:{re})$")).map_err(|source| {
                    SigstoreError::Policy(PolicyRefusal::InvalidRegex {
                        regex: re.clone(),
                        source,
                    })
                })?;
                Some((anchored, re.as_str()))
            }
            None => None,
        };
        let exact = policy.identity.as_deref();
        if exact.is_none() && regex.is_none() {
            return Err(SigstoreError::Policy(PolicyRefusal::NoIdentity));
        }
        Ok(Self { exact, regex })
    }

    fn check_identity(&self, actual: &str) -> Result<(), SigstoreError> {
        if let Some(expected) = self.exact
            && actual != expected
        {
            return Err(SigstoreError::check_failed(
                Check::Identity,
                format!("certificate identity is {actual}, expected {expected}"),
            ));
        }
        if let Some((re, source)) = &self.regex
            && !re.is_match(actual)
        {
            return Err(SigstoreError::check_failed(
                Check::Identity,
                format!(
                    "certificate identity is {actual}, which does not match the regular expression {source}"
                ),
            ));
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
                Check::Sct,
                format!(
                    "the certificate's signed certificate timestamp is not from a CT log in the trust root, or is invalid ({d})"
                ),
            ),
            CertificateError::Expired { time, not_after } => (
                Check::CertificateChain,
                format!(
                    "the signing certificate had expired at the signing time {time} (valid until {not_after})"
                ),
            ),
            CertificateError::NotYetValid { time, not_before } => (
                Check::CertificateChain,
                format!(
                    "the signing certificate was not yet valid at the signing time {time} (valid from {not_before})"
                ),
            ),
            CertificateError::NoValidAuthority { time } => (
                Check::CertificateChain,
                format!(
                    "no certificate authority in the trust root was valid at the signing time {time}"
                ),
            ),
            CertificateError::ChainInvalid(d) if d.contains("CertExpired") => (
                Check::CertificateChain,
                format!("the signing certificate had expired at the signing time ({d})"),
            ),
            CertificateError::ChainInvalid(d) if d.contains("CertNotValidYet") => (
                Check::CertificateChain,
                format!("the signing certificate was not yet valid at the signing time ({d})"),
            ),
            other => (
                Check::CertificateChain,
                format!(
                    "the signing certificate does not chain to a certificate authority in the trust root ({other})"
                ),
            ),
        },
        VerifyError::TransparencyLog(t) => match t {
            TransparencyLogError::EntryMismatch(d) => (
                Check::LogEntryBinding,
                format!(
                    "the transparency-log entry does not record this envelope and certificate ({d})"
                ),
            ),
            TransparencyLogError::UnknownLog { log_id } => (
                Check::TransparencyLog,
                format!(
                    "the entry was logged by {log_id}, a transparency log not in the trust root"
                ),
            ),
            TransparencyLogError::InclusionProof(d) => (
                Check::TransparencyLog,
                format!("the inclusion proof does not prove this entry is in the log ({d})"),
            ),
            TransparencyLogError::Checkpoint(d) => (
                Check::TransparencyLog,
                format!(
                    "the checkpoint is not signed by a transparency log in the trust root, or does not match the proof ({d})"
                ),
            ),
            TransparencyLogError::InclusionPromise(d) => (
                Check::TransparencyLog,
                format!(
                    "the signed entry timestamp does not verify with a transparency log in the trust root ({d})"
                ),
            ),
            other => (Check::TransparencyLog, other.to_string()),
        },
        VerifyError::Timestamp(t) => match t {
            TimestampError::NoVerifiedTimestamp(d) => (
                Check::SigningTime,
                format!(
                    "no signing time is authenticated by the transparency log or a timestamp authority in the trust root ({d})"
                ),
            ),
            other => (
                Check::SigningTime,
                format!(
                    "the RFC 3161 timestamp does not verify against a timestamp authority in the trust root ({other})"
                ),
            ),
        },
        VerifyError::SignatureInvalid(d) => (
            Check::DsseSignature,
            format!("the envelope signature does not verify with the certificate's key ({d})"),
        ),
        VerifyError::InvalidTrustRoot(_)
        | VerifyError::TrustRoot(_)
        | VerifyError::TrustedCertificate(_) => (Check::TrustRoot, err.to_string()),
        _ => (Check::Bundle, err.to_string()),
    };
    SigstoreError::CheckFailed {
        check,
        reason,
        source: Some(Box::new(err)),
    }
}
