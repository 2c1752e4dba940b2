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
    /// The log's storage is out of space (`ENOSPC`, a quota, SQLite's `SQLITE_FULL`): the
    /// entry was not logged. Transient: the one-node [`crate::Sequencer`] retries with
    /// backoff and appends again once space returns, no restart needed.
    ///
    /// HTTP layers answer it with **507 Insufficient Storage**. The message names the
    /// operation only, never the path or object key (those are in `path`, for the server's
    /// own log), so it may be shown to clients as is.
    #[error("the log's storage is full: cannot {op}; the entry was not logged")]
    StorageFull {
        /// What was being done.
        op: &'static str,
        /// The file, directory or object key (for the operator's log; not in the message).
        path: String,
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
    /// A file-system failure; out-of-space ones become [`Error::StorageFull`].
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        let path = path.into();
        if is_out_of_space(&source) {
            return Self::StorageFull {
                op,
                path: path.display().to_string(),
            };
        }
        Self::Io { op, path, source }
    }

    /// Whether this is [`Error::StorageFull`].
    #[must_use]
    pub fn is_storage_full(&self) -> bool {
        matches!(self, Self::StorageFull { .. })
    }

    /// Whether the failure can pass by itself (storage full or unavailable, a lost lock
    /// race), as opposed to a broken log (fork, corrupt data, bad checkpoint, bad key),
    /// which needs an operator.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        !matches!(
            self,
            Self::Fork(_)
                | Self::Corrupt(_)
                | Self::BadCheckpoint(_)
                | Self::Rollback { .. }
                | Self::ProofMismatch(_)
                | Self::Key(_)
        )
    }

    /// The same failure again, for the next waiter of a failed batch (errors are not
    /// `Clone`: an I/O source is kept only in the first copy's message).
    #[must_use]
    pub(crate) fn for_waiter(&self) -> Self {
        match self {
            Self::StorageFull { op, path } => Self::StorageFull {
                op,
                path: path.clone(),
            },
            other => Self::Stopped(format!("batch failed: {other}")),
        }
    }
}

/// Whether `e`, or any error in its `source()` chain, is an out-of-space I/O error
/// (`ENOSPC`, `EDQUOT`): for backends that wrap the OS error in their own.
#[must_use]
pub fn is_out_of_space(e: &(dyn std::error::Error + 'static)) -> bool {
    if let Some(io) = e.downcast_ref::<std::io::Error>() {
        if matches!(
            io.kind(),
            std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
        ) {
            return true;
        }
        // A wrapped error (`io::Error::other(inner)`) is not its `source()`.
        if let Some(inner) = io.get_ref()
            && is_out_of_space(inner)
        {
            return true;
        }
    }
    e.source().is_some_and(is_out_of_space)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Error as IoError, ErrorKind};

    #[test]
    fn out_of_space_is_storage_full_without_the_path() {
        let e = Error::io(
            "write",
            "/srv/secret/log/x",
            IoError::from(ErrorKind::StorageFull),
        );
        assert!(e.is_storage_full() && e.is_transient(), "{e:?}");
        assert!(!e.to_string().contains("/srv"), "{e}");
        assert!(e.for_waiter().is_storage_full());
        let q = Error::io("fsync", "/x", IoError::from(ErrorKind::QuotaExceeded));
        assert!(q.is_storage_full());
        let other = Error::io("read", "/x", IoError::from(ErrorKind::NotFound));
        assert!(matches!(other, Error::Io { .. }));
        assert!(!Error::Fork("x".into()).is_transient());
    }
}
