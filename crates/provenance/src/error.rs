//! Errors of building, signing and verifying provenance.

use hallmark_crypto::CryptoError;
use hallmark_format::FormatError;
use hallmark_signing::{SignError, VerifyError};
use thiserror::Error;

/// Why provenance could not be built, signed or verified.
///
/// [`ProvenanceError::is_input_error`] separates unreadable inputs from attestations that
/// do not check out.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ProvenanceError {
    /// A value given to build the statement is unacceptable.
    #[error("{field}: {reason}")]
    Input {
        /// Option or field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The statement could not be serialized for signing.
    #[error("statement: {0}")]
    Encode(#[source] serde_json::Error),
    /// Signing failed.
    #[error("signing the provenance failed: {0}")]
    Sign(#[from] SignError),
    /// The key cannot sign.
    #[error("signing the provenance failed: {0}")]
    Crypto(#[from] CryptoError),
    /// The bundle does not parse.
    #[error("attestation bundle: {0}")]
    Bundle(#[from] FormatError),
    /// The DSSE signature or its signer does not verify.
    #[error("attestation signature: {0}")]
    Authenticate(#[from] VerifyError),
    /// The signed statement is not SLSA v1 provenance of the ML training buildType.
    #[error("provenance statement: {field}: {reason}")]
    Statement {
        /// JSON path of the offending field.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// The statement's subject is not the artifact on disk.
    #[error(
        "provenance subject does not match {path}: the attestation names sha256:{attested}, the files on disk hash to sha256:{actual}{detail}"
    )]
    SubjectMismatch {
        /// The artifact path.
        path: String,
        /// Root digest in the statement.
        attested: String,
        /// Root digest on disk.
        actual: String,
        /// Per-file differences, rendered.
        detail: String,
    },
    /// A dependency given for checking is not the one the statement resolved.
    #[error("provenance dependency {name}: {reason}")]
    Dependency {
        /// Dependency name or purl.
        name: String,
        /// What differs.
        reason: String,
    },
}

impl ProvenanceError {
    /// Whether this is a problem with the caller's inputs rather than the attestation.
    #[must_use]
    pub fn is_input_error(&self) -> bool {
        match self {
            Self::Input { .. } | Self::Encode(_) | Self::Crypto(_) | Self::Sign(_) => true,
            Self::Authenticate(e) => e.is_input_error(),
            _ => false,
        }
    }
}
