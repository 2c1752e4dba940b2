//! Errors returned by this crate.

use thiserror::Error;

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
    Bundle(String),
    /// The identity policy itself is unusable (for example an invalid regular expression).
    #[error("identity policy: {0}")]
    Policy(String),
    /// A verification check ran and refused the bundle.
    #[error("{check} check failed: {reason}")]
    CheckFailed {
        /// Name of the failing check, as in [`crate::Check::name`].
        check: &'static str,
        /// What was wrong, in words a user understands.
        reason: String,
    },
}

impl SigstoreError {
    /// The name of the failing check, if a verification check refused the bundle.
    pub fn failed_check(&self) -> Option<&'static str> {
        match self {
            Self::CheckFailed { check, .. } => Some(check),
            _ => None,
        }
    }
}
