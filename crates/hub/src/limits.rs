//! How many files a revision may hold, derived from the transparency log's envelope limit.
//!
//! A revision's signature is one DSSE envelope whose payload is the in-toto statement
//! listing every signed file (its path and SHA-256), base64-encoded; the log refuses
//! envelopes over [`MAX_ENVELOPE_BYTES`] (16 MiB). So, before any byte is uploaded (at
//! upload open, from the file count and path bytes the client states) and again before
//! signing (at commit, from the statement itself), the hub checks:
//!
//! * statement budget = (`MAX_ENVELOPE_BYTES` − [`ENVELOPE_OVERHEAD`]) ÷ 4 × 3 bytes
//!   (base64) = 12,582,144 bytes;
//! * one file adds [`StatementSize::per_file`] bytes (the indented JSON of a resource,
//!   measured from `build_statement` itself, not written down) plus its path;
//! * default file limit = (budget − the rest of the statement) ÷ (per-file bytes +
//!   [`ASSUMED_PATH_BYTES`]): with the
//!   100-byte paths assumed, 49,729 files (a 10,000-file model fits; 100,000 do not).
//!
//! Both limits are settings ([`RevisionLimits`], in [`crate::HubConfig`]); an upload
//! over either is answered 413 with the limit in the message.

use std::sync::LazyLock;

use hallmark_format::statement::build_statement;
use hallmark_store::FileEntry;
pub use hallmark_tlog::rekor::MAX_ENVELOPE_BYTES;
use thiserror::Error;

use crate::signer::revision_manifest;

/// How large a revision may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RevisionLimits {
    /// Most files in a revision (default [`default_max_files`]).
    pub max_files: usize,
    /// Largest signed statement, in bytes (default [`DEFAULT_MAX_STATEMENT_BYTES`]: its
    /// base64 fits the log's envelope).
    pub max_statement_bytes: usize,
}

impl Default for RevisionLimits {
    fn default() -> Self {
        Self {
            max_files: default_max_files(),
            max_statement_bytes: DEFAULT_MAX_STATEMENT_BYTES,
        }
    }
}

/// Why a revision is too large to sign (answered with 413).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum TooLarge {
    /// More files than [`RevisionLimits::max_files`].
    #[error(
        "{files} files: a revision holds at most {max} files (its signed statement must fit the transparency log's {MAX_ENVELOPE_BYTES}-byte envelope)"
    )]
    Files {
        /// Files in the revision.
        files: u64,
        /// The limit.
        max: usize,
    },
    /// A statement over [`RevisionLimits::max_statement_bytes`].
    #[error(
        "the signed statement of {files} files would take {bytes} bytes, over the {max}-byte limit (its base64 must fit the transparency log's {MAX_ENVELOPE_BYTES}-byte envelope): use fewer files or shorter paths"
    )]
    Statement {
        /// Files in the revision.
        files: u64,
        /// The statement's size.
        bytes: u64,
        /// The limit.
        max: usize,
    },
}

/// Checks a revision of `files` files whose paths take `path_bytes` bytes (as JSON
/// strings, without the quotes) against the configured limits.
///
/// # Errors
/// The limit it exceeds.
pub fn check(config: &RevisionLimits, files: u64, path_bytes: u64) -> Result<(), TooLarge> {
    if files > config.max_files as u64 {
        return Err(TooLarge::Files {
            files,
            max: config.max_files,
        });
    }
    let bytes = StatementSize::get().estimate(files, path_bytes);
    if bytes > config.max_statement_bytes as u64 {
        return Err(TooLarge::Statement {
            files,
            bytes,
            max: config.max_statement_bytes,
        });
    }
    Ok(())
}

/// The bytes a path takes in the statement: its JSON string without the quotes.
#[must_use]
pub fn json_path_bytes(path: &str) -> u64 {
    serde_json::to_string(path).map_or(path.len(), |s| s.len() - 2) as u64
}

/// Envelope bytes besides the base64 payload: the keys, the payload type and one
/// signature (a base64 DER ECDSA signature is under 200 bytes), with room to spare.
pub const ENVELOPE_OVERHEAD: usize = 1024;

/// The largest statement whose base64 fits an envelope.
pub const DEFAULT_MAX_STATEMENT_BYTES: usize = (MAX_ENVELOPE_BYTES - ENVELOPE_OVERHEAD) / 4 * 3;

/// The mean path length the default file limit assumes.
pub const ASSUMED_PATH_BYTES: usize = 100;

/// The default most files per revision (see the module documentation).
#[must_use]
pub fn default_max_files() -> usize {
    let s = StatementSize::get();
    (DEFAULT_MAX_STATEMENT_BYTES - s.fixed) / (s.per_file + ASSUMED_PATH_BYTES)
}

/// The size of a revision's statement as a function of its files, measured once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatementSize {
    /// Bytes of a statement besides its files (with a 96-byte repo name, the longest).
    pub fixed: usize,
    /// Bytes each file adds besides its path.
    pub per_file: usize,
}

impl StatementSize {
    /// The measured sizes.
    #[must_use]
    pub fn get() -> Self {
        static SIZE: LazyLock<StatementSize> = LazyLock::new(|| {
            let measure = |paths: &[&str]| {
                let files: Vec<FileEntry> = paths
                    .iter()
                    .map(|p| FileEntry {
                        path: (*p).to_owned(),
                        sha256: "0".repeat(64),
                        size: 0,
                    })
                    .collect();
                let name = "n".repeat(96);
                revision_manifest(&name, &files).map_or(0, |m| build_statement(&m, &[0; 32]).len())
            };
            let (one, two) = (measure(&["a"]), measure(&["a", "b"]));
            let per_file = two - one - 1;
            StatementSize {
                fixed: one - per_file - 1,
                per_file,
            }
        });
        *SIZE
    }

    /// The statement's size for `files` files whose paths total `path_bytes` (paths
    /// needing no JSON escapes).
    #[must_use]
    pub fn estimate(self, files: u64, path_bytes: u64) -> u64 {
        (self.fixed as u64)
            .saturating_add(files.saturating_mul(self.per_file as u64))
            .saturating_add(path_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_limits_follow_from_the_envelope_limit() {
        assert_eq!(MAX_ENVELOPE_BYTES, 16 * 1024 * 1024);
        assert_eq!(DEFAULT_MAX_STATEMENT_BYTES, 12_582_144);
        let s = StatementSize::get();
        assert!(s.per_file > 64 && s.per_file < 200, "{s:?}");
        let max = default_max_files();
        assert_eq!(max, (12_582_144 - s.fixed) / (s.per_file + 100));
        println!(
            "statement: {} + {} bytes per file + path; default limit {max} files",
            s.fixed, s.per_file
        );
        // The e2e's 10,000-file model fits; the report's 100,000 files do not.
        assert!((10_000..100_000).contains(&max), "{max}");
        // At the limit with the assumed paths the statement fits, with base64 and
        // overhead, in the envelope.
        let st = s.estimate(max as u64, (max * ASSUMED_PATH_BYTES) as u64);
        assert!(st.div_ceil(3) * 4 + ENVELOPE_OVERHEAD as u64 <= MAX_ENVELOPE_BYTES as u64);
    }

    #[test]
    fn the_estimate_is_exact_for_plain_paths() {
        let files: Vec<FileEntry> = (0..50)
            .map(|i| FileEntry {
                path: format!("dir/file-{i}.bin"),
                sha256: "1".repeat(64),
                size: 1,
            })
            .collect();
        let paths: u64 = files.iter().map(|f| f.path.len() as u64).sum();
        let m = revision_manifest(&"n".repeat(96), &files).unwrap();
        let real = build_statement(&m, &[0; 32]).len() as u64;
        assert_eq!(StatementSize::get().estimate(50, paths), real);
    }
}
