//! Why an export failed, and reading the times its options take.

use hallmark_bom::BomError;
use hallmark_store::StoreError;
use thiserror::Error;

use crate::error::HubError;

/// Why an export failed (nothing was left behind).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The target holds files and `--force` was not given.
    #[error("{0} exists and is not empty (pass --force to replace it)")]
    NotEmpty(String),
    /// The target exists and is not a directory.
    #[error("{0} exists and is not a directory")]
    NotADirectory(String),
    /// A time is not RFC 3339.
    #[error("{option} {value:?} is not an RFC 3339 time (e.g. 2026-12-05T00:00:00Z)")]
    Time {
        /// `--since` or `--until`.
        option: &'static str,
        /// What was given.
        value: String,
    },
    /// `--repo` names no repository.
    #[error("no repository {0} (write owner/name)")]
    UnknownRepo(String),
    /// `--org` names no account.
    #[error("no user or organisation {0}")]
    UnknownOwner(String),
    /// A stored blob no longer hashes to its digest.
    #[error("{what}: blob sha256:{sha256} now hashes to sha256:{got}; nothing exported")]
    Tampered {
        /// Which revision file or claim.
        what: String,
        /// Its recorded digest.
        sha256: String,
        /// What its bytes hash to.
        got: String,
    },
    /// A stored bundle is over the claim size limit.
    #[error(
        "{what}: blob sha256:{sha256} exceeds {} bytes",
        crate::claims::MAX_CLAIM_BYTES
    )]
    TooLarge {
        /// Which revision file or claim.
        what: String,
        /// Its digest.
        sha256: String,
    },
    /// A path inside the export would escape it.
    #[error("refusing to write {0:?} in the export")]
    BadPath(String),
    /// Writing failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// Where.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Storage failed (boxed: keeps results small).
    #[error(transparent)]
    Store(Box<StoreError>),
    /// A stored revision could not be read as a manifest.
    #[error(transparent)]
    Hub(#[from] HubError),
    /// A BOM could not be made.
    #[error(transparent)]
    Bom(#[from] BomError),
}

/// Parses an RFC 3339 time (`Z` or an offset, fractions allowed) into Unix seconds.
///
/// # Errors
/// [`ExportError::Time`] naming the option.
pub fn parse_time(option: &'static str, value: &str) -> Result<i64, ExportError> {
    value
        .parse::<jiff::Timestamp>()
        .map(|t| t.as_second())
        .map_err(|_| ExportError::Time {
            option,
            value: value.to_owned(),
        })
}

impl From<StoreError> for ExportError {
    fn from(e: StoreError) -> Self {
        Self::Store(Box::new(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc_3339() {
        assert_eq!(parse_time("--since", "1970-01-01T00:01:00Z").unwrap(), 60);
        assert_eq!(
            parse_time("--since", "1970-01-01T01:01:00.5+01:00").unwrap(),
            60
        );
        let e = parse_time("--until", "yesterday").unwrap_err().to_string();
        assert!(e.contains("--until") && e.contains("yesterday"), "{e}");
    }
}
