//! The hub's transparency log on shared storage, for several replicas (issue 10): the
//! two narrow interfaces of [`hallmark_tlog`] implemented on the engines the hub already
//! uses.
//!
//! * [`TileStore`] — tiles, entry bundles and staging objects through [`object_store`]
//!   (a local directory or any S3-compatible endpoint), under `log/<tree id>/` in the
//!   hub's blob store.
//! * [`PgCoordinator`] — the log's [`hallmark_tlog::Coordinator`] on PostgreSQL: the
//!   checkpoint row with its fenced sequencer lease, and the queue of submitted entries
//!   (see [`hallmark_tlog::shared`] for the protocol).
//!
//! Both are synchronous (the tlog core is) and block on the hub's tokio runtime through a
//! [`tokio::runtime::Handle`]: call them from the sequencer thread or the blocking pool,
//! never from an async worker.

mod pg;
mod tiles;

pub use pg::PgCoordinator;
pub use tiles::{LOG_PREFIX, TileStore};

/// Maps a backend failure into the log's error type, naming what was being done.
pub(crate) fn storage_error(op: &'static str, e: impl std::fmt::Display) -> hallmark_tlog::Error {
    hallmark_tlog::Error::Storage {
        op,
        reason: e.to_string(),
    }
}
