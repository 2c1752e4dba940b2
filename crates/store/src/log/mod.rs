//! The transparency log's database and object-store backends: the narrow interfaces of
//! [`hallmark_tlog`] implemented on the engines the hub already uses (the directory and
//! in-memory backends live in `hallmark-tlog` itself).
//!
//! * [`ObjectStoreTiles`] — a [`hallmark_tlog::TileStorage`] through [`object_store`]
//!   (a local directory or any S3-compatible endpoint): tiles, entry bundles and staging
//!   objects under `log/<tree id>/` in the hub's blob store.
//! * [`PgCoordinator`] — the log's [`hallmark_tlog::Coordinator`] on PostgreSQL: the
//!   checkpoint row with its fenced sequencer lease, and the queue of submitted entries
//!   (see [`hallmark_tlog::shared`] for the protocol).
//! * [`SqliteTiles`] and [`SqliteLock`] — a one-node log's objects and checkpoint in one
//!   SQLite file.
//!
//! The tlog traits are synchronous and these engines async (sqlx, object_store): every
//! backend waits on the hub's tokio runtime through one [`Bridge`], so call them from the
//! sequencer thread or the blocking pool, never from an async worker.

mod pg;
mod sqlite;
mod tiles;

pub use pg::PgCoordinator;
pub use sqlite::{SqliteLock, SqliteTiles};
pub use tiles::{LOG_PREFIX, ObjectStoreTiles};

/// The one place where the synchronous log traits wait for the async engines: futures run
/// on the runtime behind the handle (where the pools' connections live), the caller's
/// thread blocks until they finish. tokio panics if that thread is an async worker.
#[derive(Clone, Debug)]
pub(crate) struct Bridge(tokio::runtime::Handle);

impl Bridge {
    pub(crate) fn new(rt: tokio::runtime::Handle) -> Self {
        Self(rt)
    }

    /// Runs `fut` to completion from a synchronous caller.
    pub(crate) fn wait<F: std::future::Future>(&self, fut: F) -> F::Output {
        self.0.block_on(fut)
    }
}

/// Maps a backend failure into the log's error type, naming what was being done.
pub(crate) fn storage_error(op: &'static str, e: impl std::fmt::Display) -> hallmark_tlog::Error {
    hallmark_tlog::Error::Storage {
        op,
        reason: e.to_string(),
    }
}
