//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong in the log. Verification failures ([`Error::ProofMismatch`],
/// [`Error::BadCheckpoint`], [`Error::Rollback`], [`Error::Fork`], [`Error::Corrupt`]) are
/// distinct from I/O failures ([`Error::Io`], [`Error::Storage`], [`Error::Fetch`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file-system operation failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A storage backend (object store, database) failed.
    #[error("log storage: {op}: {reason}")]
    Storage {
        /// What was being done.
        op: &'static str,
        /// The backend's message.
        reason: String,
    },
    /// Fetching a tile or checkpoint from a remote log failed.
    #[error("fetch {url}: {reason}")]
    Fetch {
        /// The URL or path.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// A required object is missing from storage.
    #[error("missing object {key}{}", if context.is_empty() { String::new() } else { format!(" ({context})") })]
    Missing {
        /// Object key (tile path).
        key: String,
        /// Why it was needed.
        context: String,
    },
    /// An index at or beyond the tree size.
    #[error("index {index} is out of range for tree size {size}")]
    IndexOutOfRange {
        /// The index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// An empty or reversed range.
    #[error("invalid range [{lo}, {hi})")]
    InvalidRange {
        /// Start.
        lo: u64,
        /// End.
        hi: u64,
    },
    /// A Merkle proof did not verify.
    #[error("proof does not verify: {0}")]
    ProofMismatch(&'static str),
    /// A checkpoint or signed note is malformed or its signature does not verify.
    #[error("bad checkpoint: {0}")]
    BadCheckpoint(String),
    /// A newer checkpoint is smaller than an older one.
    #[error("the log rolled back: tree size {new} is smaller than the previously seen {old}")]
    Rollback {
        /// Size seen before.
        old: u64,
        /// Size seen now.
        new: u64,
    },
    /// Two different trees claim the same history, or committed data changed.
    #[error("the log forked: {0}")]
    Fork(String),
    /// Stored data is inconsistent (a tile, bundle or checkpoint disagrees with the rest).
    #[error("corrupt log data: {0}")]
    Corrupt(String),
    /// The checkpoint lock changed under us (another writer, or a lost update).
    #[error(
        "checkpoint compare-and-swap failed for {log}: the stored checkpoint is not the one this sequencer wrote"
    )]
    LockConflict {
        /// The log origin.
        log: String,
    },
    /// An entry could not be accepted.
    #[error("invalid entry: {0}")]
    InvalidEntry(String),
    /// A key could not be loaded or used.
    #[error("key: {0}")]
    Key(String),
    /// The sequencer stopped (after a fatal error, or shut down).
    #[error("the sequencer has stopped: {0}")]
    Stopped(String),
}

impl Error {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            op,
            path: path.into(),
            source,
        }
    }
}
