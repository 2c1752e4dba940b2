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
//! backend waits on the hub's tokio runtime through one `Bridge` (bridge.rs), so call them from the
//! sequencer thread or the blocking pool, never from an async worker.

mod bridge;
mod pg;
mod sqlite;
mod tiles;

pub use pg::PgCoordinator;
pub use sqlite::{SqliteLock, SqliteTiles};
pub use tiles::{LOG_PREFIX, ObjectStoreTiles};
