//! Why a claim was refused.

use axum::http::StatusCode;
use thiserror::Error;

use crate::error::ApiError;

/// Largest claim bundle accepted (a publisher's `model.sig`, an attachment), in bytes.
pub const MAX_CLAIM_BYTES: u64 = 1 << 20;

/// Why a claim was refused (422; nothing was stored or logged).
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClaimRefusal {
    /// The bundle does not parse or is not a DSSE in-toto statement.
    #[error("{what} refused: not a Sigstore bundle with a DSSE in-toto statement: {why}")]
    Malformed {
        /// Which claim (`model.sig`, the attachment).
        what: String,
        /// What is wrong.
        why: String,
    },
    /// Larger than [`MAX_CLAIM_BYTES`].
    #[error("{what} refused: {size} bytes exceed the limit of {MAX_CLAIM_BYTES}")]
    TooLarge {
        /// Which claim.
        what: String,
        /// Its size.
        size: u64,
    },
    /// The signature does not verify over the statement.
    #[error("{what} refused: the signature does not verify: {why}")]
    BadSignature {
        /// Which claim.
        what: String,
        /// The verifier's words.
        why: String,
    },
    /// The signed statement does not describe the uploaded files.
    #[error("{what} refused: it does not sign the uploaded files: {why}")]
    Mismatch {
        /// Which claim.
        what: String,
        /// The first difference, naming the file.
        why: String,
    },
    /// A subject digest that is not the revision's.
    #[error(
        "{what} refused: it names sha256:{digest}, which is neither revision {commit}'s manifest \
         root nor one of its files"
    )]
    OtherRevision {
        /// Which claim.
        what: String,
        /// The digest named.
        digest: String,
        /// The revision.
        commit: String,
    },
    /// The predicate type is not a BOM or provenance the hub keeps.
    #[error(
        "{what} refused: predicate type {predicate_type:?} is not an AI-BOM or SLSA provenance"
    )]
    PredicateType {
        /// Which claim.
        what: String,
        /// The predicate type given.
        predicate_type: String,
    },
}

impl From<ClaimRefusal> for ApiError {
    fn from(e: ClaimRefusal) -> Self {
        match e {
            ClaimRefusal::TooLarge { .. } => {
                Self::new(StatusCode::PAYLOAD_TOO_LARGE, e.to_string())
            }
            _ => Self::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
        }
    }
}
