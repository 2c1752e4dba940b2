//! Errors of describing artifacts and building BOMs.

use hallmark_format::FormatError;
use hallmark_hash::HashError;
use thiserror::Error;

/// Why an artifact could not be described or a BOM input could not be read.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum BomError {
    /// Enumerating or hashing an artifact failed.
    #[error("{what} {path}: {source}")]
    Hash {
        /// `model`, `dataset` or `base model`.
        what: &'static str,
        /// The path given.
        path: String,
        /// The hashing error.
        #[source]
        source: HashError,
    },
    /// The artifact has no files.
    #[error("{what} {path} has no files (after the default git-path exclusions)")]
    Empty {
        /// `model`, `dataset` or `base model`.
        what: &'static str,
        /// The path given.
        path: String,
    },
    /// A package URL is malformed.
    #[error("package URL {purl:?}: {reason}")]
    Purl {
        /// The purl given.
        purl: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A signature bundle could not be decoded.
    #[error("signature {path}: {source}")]
    Signature {
        /// The signature file.
        path: String,
        /// Why (boxed: keeps every `Result` of this crate small).
        #[source]
        source: Box<FormatError>,
    },
    /// A scan report is not JSON at all.
    #[error("scan report {path}: not JSON ({source}); write it with `hallmark scan --json`")]
    ScanReportJson {
        /// The report file.
        path: String,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// A scan report is JSON, but not what `hallmark scan --json` writes.
    #[error("scan report {path}: {reason}")]
    ScanReport {
        /// The report file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A field value is not acceptable.
    #[error("{field}: {reason}")]
    Field {
        /// Which option or field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
}
