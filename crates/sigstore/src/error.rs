//! Errors returned by this crate.

use thiserror::Error;

use crate::Check;

/// Why a trust root could not be loaded, or a bundle was not accepted.
///
/// Loading and input problems ([`SigstoreError::TrustRoot`], [`SigstoreError::Bundle`],
/// [`SigstoreError::Policy`]) are distinct from a verification check that ran and
/// refused the bundle ([`SigstoreError::CheckFailed`]).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SigstoreError {
    /// The trust root (ClientTrustConfig or trusted_root.json) is unreadable or unusable.
    #[error("trust root: {0}")]
    TrustRoot(String),
    /// The signature file is not a Sigstore bundle this verifier can read.
    #[error("signature bundle: {0}")]
    Bundle(BundleRefusal),
    /// The identity policy itself is unusable (for example an invalid regular expression).
    #[error("identity policy: {0}")]
    Policy(PolicyRefusal),
    /// A verification check ran and refused the bundle.
    #[error("{check} check failed: {reason}")]
    CheckFailed {
        /// The failing check.
        check: Check,
        /// What was wrong, in words a user understands.
        reason: String,
        /// The `sigstore-verify` refusal behind it, when there is one.
        #[source]
        source: Option<Box<sigstore_verify::Error>>,
    },
}

/// Why a signature file is not a keyless DSSE bundle this verifier reads
/// ([`SigstoreError::Bundle`]).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum BundleRefusal {
    /// Over [`crate::MAX_BUNDLE_BYTES`].
    #[error("signature bundle is {size} bytes, over the {limit}-byte limit", limit = crate::MAX_BUNDLE_BYTES)]
    TooLarge {
        /// Size of the file.
        size: usize,
    },
    /// Not UTF-8 text.
    #[error("signature bundle is not UTF-8: {0}")]
    NotUtf8(#[source] std::str::Utf8Error),
    /// Not a Sigstore bundle.
    #[error("signature file is not a Sigstore bundle: {0}")]
    NotSigstore(#[source] sigstore_verify::types::Error),
    /// A message signature instead of a DSSE envelope.
    #[error("the bundle holds a message signature, not a DSSE envelope (OMS signatures are DSSE)")]
    MessageSignature,
    /// Signed with a key, not keylessly.
    #[error(
        "the bundle has no signing certificate: it was signed with a key, not keylessly \
         (verify it with the key or certificate method)"
    )]
    NoCertificate,
    /// The DSSE payload is not JSON.
    #[error("DSSE payload: not JSON: {0}")]
    PayloadNotJson(#[source] serde_json::Error),
    /// The in-toto statement has no `subject[0].digest.sha256`.
    #[error("DSSE payload: the in-toto statement has no subject with a sha256 digest")]
    NoSubjectDigest,
    /// The subject digest is not a SHA-256 digest.
    #[error("DSSE payload: subject sha256 digest: {0}")]
    BadSubjectDigest(#[source] sigstore_verify::types::Error),
}

/// Why an identity policy is unusable ([`SigstoreError::Policy`]).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PolicyRefusal {
    /// No expected OIDC issuer.
    #[error("an expected OIDC issuer is required")]
    NoIssuer,
    /// Neither an identity nor an identity regular expression.
    #[error("an expected identity or identity regular expression is required")]
    NoIdentity,
    /// The identity regular expression does not compile.
    #[error("invalid identity regular expression {regex:?}: {source}")]
    InvalidRegex {
        /// The expression as given.
        regex: String,
        /// The regex compiler's error.
        #[source]
        source: regex_lite::Error,
    },
}

impl SigstoreError {
    /// The failing check, if a verification check refused the bundle.
    pub fn failed_check(&self) -> Option<Check> {
        match self {
            Self::CheckFailed { check, .. } => Some(*check),
            _ => None,
        }
    }

    pub(crate) fn check_failed(check: Check, reason: impl Into<String>) -> Self {
        Self::CheckFailed {
            check,
            reason: reason.into(),
            source: None,
        }
    }
}
