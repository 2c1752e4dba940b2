//! Errors of the certificate authority. Request errors are the caller's fault (4xx);
//! the rest are the server's.

use std::path::PathBuf;

use thiserror::Error;

/// What went wrong.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CaError {
    /// The request body is not a valid signing-certificate request.
    #[error("bad certificate request: {0}")]
    BadRequest(String),
    /// The proof of possession does not verify with the submitted key.
    #[error("proof of possession failed: {0}")]
    ProofOfPossession(String),
    /// The identity token was refused.
    #[error("identity token refused: {0}")]
    Token(#[from] hallmark_oidc::OidcError),
    /// Reading or writing CA material failed.
    #[error("CA material {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A stored key or certificate is unusable.
    #[error("CA material {path} is unusable: {reason}")]
    BadMaterial {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Encoding the certificate failed.
    #[error("certificate issuance failed: DER: {0}")]
    Der(#[source] der::Error),
    /// Signing failed.
    #[error("certificate issuance failed: {0}")]
    Crypto(#[source] Box<hallmark_crypto::CryptoError>),
    /// Another step of issuance failed.
    #[error("certificate issuance failed: {0}")]
    Internal(IssueFailure),
}

/// The issuance steps that fail without an underlying error (a closed set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum IssueFailure {
    /// The random generator gave no serial number.
    #[error("random serial")]
    RandomSerial,
    /// The TBS certificate does not fit an SCT's 24-bit length.
    #[error("TBS too large for an SCT")]
    TbsTooLarge,
    /// The SCT signature does not fit its 16-bit length.
    #[error("SCT signature length")]
    SctSignatureLength,
    /// The SCT does not fit its 16-bit length.
    #[error("SCT length")]
    SctLength,
}

impl CaError {
    /// Whether the client caused this error (the HTTP layer answers 4xx).
    #[must_use]
    pub fn is_client_error(&self) -> bool {
        matches!(
            self,
            Self::BadRequest(_) | Self::ProofOfPossession(_) | Self::Token(_)
        )
    }
}

impl From<der::Error> for CaError {
    fn from(e: der::Error) -> Self {
        Self::Der(e)
    }
}

impl From<hallmark_crypto::CryptoError> for CaError {
    fn from(e: hallmark_crypto::CryptoError) -> Self {
        Self::Crypto(Box::new(e))
    }
}
