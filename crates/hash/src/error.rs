//! The error type of this crate.

use std::io;
use std::path::PathBuf;

use hallmark_format::FormatError;

/// Everything that can go wrong while enumerating or hashing a model.
///
/// Every variant that concerns a file names it, so a message such as
/// `model/w.bin: is a symbolic link; …` can be shown to the user as it is.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HashError {
    /// An I/O operation on `path` failed (stat, open, read, directory listing).
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A symbolic link was found and symlinks are not allowed.
    #[error("{}: is a symbolic link; symlinks are refused unless --allow-symlinks", path.display())]
    Symlink {
        /// The link.
        path: PathBuf,
    },
    /// A symbolic link whose target does not exist or cannot be resolved
    /// (dangling link, or a loop of links).
    #[error("{}: symbolic link cannot be resolved ({source})", path.display())]
    BrokenSymlink {
        /// The link.
        path: PathBuf,
        /// Why resolution failed (`NotFound` for a dangling link, `ELOOP` for a cycle).
        #[source]
        source: io::Error,
    },
    /// A FIFO, socket, device or other special file.
    #[error("{}: not a regular file or directory", path.display())]
    NotRegular {
        /// The offending entry.
        path: PathBuf,
    },
    /// A file or directory name that is not valid UTF-8 (OMS names are UTF-8 strings).
    #[error("{}: file name is not valid UTF-8; such names cannot be signed", path.display())]
    NonUtf8Name {
        /// The entry, rendered lossily.
        path: PathBuf,
    },
    /// A model-relative name that cannot be joined safely to the model root
    /// (absolute, `..`, NUL, …).
    #[error("{name}: not a safe model-relative path ({source})")]
    BadName {
        /// The name as given.
        name: String,
        /// Why it was rejected (boxed: it is rare, and keeps every `Result` small).
        #[source]
        source: Box<FormatError>,
    },
    /// A file's size differs from the size seen when the model was enumerated:
    /// it was modified while being hashed.
    #[error("{}: file changed while hashing (enumerated as {expected} bytes, now {found})", path.display())]
    FileChanged {
        /// The file.
        path: PathBuf,
        /// Size at enumeration.
        expected: u64,
        /// What was found.
        found: FoundSize,
    },
    /// A shard size of zero was requested.
    #[error("invalid shard size {shard_size}: must be at least 1 byte")]
    InvalidShardSize {
        /// The rejected value.
        shard_size: u64,
    },
    /// A hash algorithm this version of the engine does not implement.
    #[error("hash algorithm {algorithm} is not supported")]
    UnsupportedAlgorithm {
        /// Its name.
        algorithm: String,
    },
    /// The cancellation flag was raised.
    #[error("hashing cancelled")]
    Cancelled,
    /// The model's file names pass what a compact list addresses (4 GiB in total).
    #[error(transparent)]
    NamesFull(#[from] hallmark_format::NamesFull),
}

/// The size of a file found changed while hashing ([`HashError::FileChanged`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FoundSize {
    /// The file ended after this many bytes (it shrank, or was read short).
    Bytes(u64),
    /// The file has more bytes than this (it grew).
    MoreThan(u64),
}

impl std::fmt::Display for FoundSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Bytes(n) => write!(f, "{n} bytes"),
            Self::MoreThan(n) => write!(f, "more than {n} bytes"),
        }
    }
}

impl HashError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
