//! Storage errors.

use thiserror::Error;

/// Everything that can go wrong in metadata or blob storage.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database refused or failed a query.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Applying the schema migrations failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A unique name or a concurrent update collided.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A referenced row does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// A stored value could not be interpreted (corrupt row).
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    /// The object store failed.
    #[error("blob store error: {0}")]
    Blob(#[from] object_store::Error),
    /// Local I/O on the data directory failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The path involved.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// Uploaded bytes did not hash to what the client announced.
    #[error("content digest mismatch: announced sha256:{announced}, received sha256:{received}")]
    DigestMismatch {
        /// What the client said.
        announced: String,
        /// What the hub computed.
        received: String,
    },
    /// An upload exceeded the size limit.
    #[error("blob larger than the limit of {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// A storage URL or setting is unusable.
    #[error("storage configuration: {0}")]
    Config(String),
    /// A stored blob no longer hashes to its name (storage was altered).
    #[error("stored blob sha256:{expected} altered: its content now hashes to sha256:{found}")]
    Altered {
        /// The blob's name (the digest on record).
        expected: String,
        /// What its stored bytes hash to now.
        found: String,
    },
    /// A background hashing task failed.
    #[error("background task failed: {0}")]
    Task(String),
}

/// Shorthand.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
