//! Errors returned by this crate.

use thiserror::Error;

use crate::check::Check;

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
    TrustRoot(TrustRootRefusal),
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

/// Why a trust root is unusable ([`SigstoreError::TrustRoot`]). `what` names the document
/// ("trust config" or "trusted root").
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TrustRootRefusal {
    /// Over the size limit.
    #[error("{what} is {size} bytes, over the {limit}-byte limit")]
    TooLarge {
        /// Which document.
        what: &'static str,
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Not JSON.
    #[error("{what} is not valid JSON: {source}")]
    Json {
        /// Which document.
        what: &'static str,
        /// Parser error.
        #[source]
        source: serde_json::Error,
    },
    /// The ClientTrustConfig is not a JSON object.
    #[error("trust config is not a JSON object")]
    ConfigNotObject,
    /// The ClientTrustConfig has no `trustedRoot`.
    #[error("trust config has no `trustedRoot`")]
    NoTrustedRoot,
    /// The trusted root is not a JSON object.
    #[error("{what}: trusted root is not a JSON object")]
    RootNotObject {
        /// Which document.
        what: &'static str,
    },
    /// The wrong media type.
    #[error("{what} has media type {found:?}, expected {expected:?}")]
    MediaType {
        /// Which document.
        what: &'static str,
        /// The media type found.
        found: String,
        /// The one accepted.
        expected: &'static str,
    },
    /// No media type.
    #[error("{what} has no mediaType (expected {expected:?})")]
    NoMediaType {
        /// Which document.
        what: &'static str,
        /// The one accepted.
        expected: &'static str,
    },
    /// The trusted root does not have the expected shape.
    #[error("{what}: invalid trusted root: {source}")]
    Invalid {
        /// Which document.
        what: &'static str,
        /// Parser error.
        #[source]
        source: serde_json::Error,
    },
    /// No Fulcio certificate authority.
    #[error("{what}: the trusted root lists no Fulcio certificate authorities")]
    NoCertificateAuthorities {
        /// Which document.
        what: &'static str,
    },
    /// No transparency log.
    #[error("{what}: the trusted root lists no transparency logs")]
    NoTransparencyLogs {
        /// Which document.
        what: &'static str,
    },
    /// `sigstore-verify` cannot build a verifier from it.
    #[error("{what}: unusable trusted root: {source}")]
    Unusable {
        /// Which document.
        what: &'static str,
        /// Its refusal.
        #[source]
        source: Box<sigstore_verify::Error>,
    },
    /// The compiled-in public-good snapshot did not load (a build defect).
    #[error("the built-in public-good trust root could not be loaded: {0}")]
    BuiltIn(#[source] std::sync::Arc<SigstoreError>),
}

/// Why a signature file is not a keyless DSSE bundle this verifier reads
/// ([`SigstoreError::Bundle`]).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum BundleRefusal {
    /// Over [`crate::limits::MAX_BUNDLE_BYTES`].
    #[error("signature bundle is {size} bytes, over the {limit}-byte limit", limit = crate::limits::MAX_BUNDLE_BYTES)]
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
