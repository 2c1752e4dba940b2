//! Errors of the scanner. A parse error inside a file is not an error of the scan: it
//! becomes an "unverified" finding. [`ScanError`] is what stops one file's scan.

use std::path::PathBuf;

/// Why scanning (part of) a file stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScanError {
    /// The top-level path could not be opened or listed.
    #[error("cannot read {path}: {source}")]
    Input {
        /// The path given by the caller.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// An I/O error while reading content (including truncated input).
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The content does not follow its format.
    #[error("malformed {format}: {detail}")]
    Malformed {
        /// The format being parsed.
        format: &'static str,
        /// What is wrong, with the offset when known.
        detail: String,
    },
    /// A resource limit was reached (the rest was not inspected).
    #[error("limit reached: {0}")]
    Limit(String),
    /// A variant of a format this scanner does not understand.
    #[error("unsupported {format}: {detail}")]
    Unsupported {
        /// The format.
        format: &'static str,
        /// The variant.
        detail: String,
    },
}

impl ScanError {
    pub(crate) fn malformed(format: &'static str, detail: impl Into<String>) -> Self {
        Self::Malformed {
            format,
            detail: detail.into(),
        }
    }

    pub(crate) fn unsupported(format: &'static str, detail: impl Into<String>) -> Self {
        Self::Unsupported {
            format,
            detail: detail.into(),
        }
    }
}

/// Result alias of the crate.
pub type Result<T, E = ScanError> = std::result::Result<T, E>;
