//! # hallmark-tlog
//!
//! An append-only Merkle transparency log for the model hub's signing events, shaped so
//! that stock Sigstore verifiers accept its entries inside bundles (Rekor v1 style) and
//! anyone can audit it from static tiles (C2SP tlog-tiles), sunlight style.
//!
//! ## Specs implemented
//!
//! * **RFC 6962 §2.1 / RFC 9162 §2.1** — SHA-256 leaf/node hashing, inclusion and
//!   consistency proofs (generation from tiles, verification per RFC 9162 §2.1.3.2 and
//!   §2.1.4.2): [`merkle`].
//! * **C2SP tlog-tiles** (v1.0) — hash tiles of height 8 (`tile/L/N[.p/W]`), entry bundles
//!   (`tile/entries/N[.p/W]`, `u16` length prefixes), `/checkpoint`: [`tile`].
//! * **C2SP signed-note** and **C2SP tlog-checkpoint** — checkpoints are notes with one
//!   signature by the log key, ECDSA P-256 (key hint = first 4 bytes of `SHA-256(SPKI)`)
//!   or Ed25519 (C2SP typed key ID): [`note`], [`logkey`];
//!   Ed25519 note keys with C2SP typed key IDs, vkeys, and one verifier over both key
//!   types: [`notekey`].
//! * **Rekor v1 `dsse` v0.0.1** — canonicalized (RFC 8785) bodies, entry UUIDs, signed entry
//!   timestamps, the bundle `tlogEntries[]` JSON and the `/api/v1/log…` JSON: [`rekor`],
//!   [`api`].
//! * **Rekor v2 `hashedrekord` v0.0.2** (rekor-tiles) — `CreateEntryRequest` parsing, the
//!   canonicalized body and the `TransparencyLogEntry` answer: [`rekor2`]; a v2 log is a
//!   log whose origin is its host alone ([`LogConfig::rekor_v2`]).
//!
//! ## Deviations and choices
//!
//! * **Origin** is `"<host> - <tree id>"` and the note key name is `<host>`, as Rekor v1
//!   writes them: sigstore-go takes its Rekor v1 path only for origins matching
//!   `.* - [0-9]+$`, sigstore-python matches the key hint against the bundle's `logId`.
//!   Checkpoints carry only the log's signature (sigstore-go's v1 note check refuses any
//!   other) and no extension lines (Rekor v1's old `Timestamp:` line is omitted).
//! * **Key type**: ECDSA P-256 (what Rekor v1 uses) or Ed25519 (Rekor v2, the C2SP
//!   witness network), chosen when a log is created ([`LogKeyType`], [`logkey`]). The
//!   `logId` is `SHA-256(SPKI)` for ECDSA (the Sigstore convention for ECDSA note keys)
//!   and the C2SP typed key hash for Ed25519 (as Rekor v2 trusted roots carry it).
//! * **Extra resources**: `hallmark/time/N[.p/W]` holds each entry's `integratedTime`
//!   (Rekor v1 keeps it outside the Merkle leaf, and so do we). SETs are not stored: like
//!   Rekor v1 the log signs them when it answers (submitters sign theirs in their own
//!   thread, off the sequencer).
//! * **One partial object per tile series is stored.** Once a newer checkpoint is
//!   committed and published, the partial tiles, bundles and time sidecars it supersedes
//!   (by a wider partial or the full tile) are deleted, so log bytes grow linearly (a
//!   62,000-byte entry costs 62,042 bytes; keeping every partial cost Σ k·size, 313 MB for
//!   100 such entries). C2SP asks logs to keep serving the partial tiles of every
//!   checkpoint until the full tile exists: the read API does, cutting a narrower partial
//!   from the wider stored object ([`tile::fetch_tile`], [`tile::truncate_to_width`]), and
//!   the crate's readers and auditor decode theirs from it the same way.
//! * **UUID lookup** (`/api/v1/log/entries/{uuid}`) uses an in-memory index built from the
//!   level-0 tiles on demand; a persistent index belongs to the hub's database.
//!
//! ## Storage, and why it is synchronous
//!
//! Two narrow traits, sunlight style ([`TileStorage`]: fetch / upload / discard, the
//! upload's [`Upload`] mode saying whether it may replace; [`CheckpointLock`]: fetch /
//! create / replace), implemented here on a local directory ([`DirStore`], [`DirLock`]:
//! fsync, hard-link-if-absent, atomic rename) and in memory for tests ([`mem`]). The
//! database and object-store backends (SQLite, PostgreSQL, S3) live in `hallmark-store`'s
//! `log` module, beside the engines the hub already links.
//! The core is **synchronous**: the sequencer is one dedicated thread whose every step is a
//! durable write it must wait for, so async buys nothing there and a sync core works from
//! the CLI without a runtime.
//!
//! ## Several replicas, one log
//!
//! [`SharedSequencer`] (module [`shared`]) lets every replica of a hub append to one log:
//! a third narrow trait, [`Coordinator`] (checkpoint + fenced sequencer lease + entry
//! queue, one transaction per batch), decides who sequences; tiles are written only after
//! the commit that fixes their content. `hallmark-store` implements it on PostgreSQL and
//! [`TileStorage`] on `object_store` (S3).

//! ## Crash safety
//!
//! See [`sequencer`]: the lock holds only checkpoints whose tiles were durable first, it
//! never moves backwards, and submitters are answered only after the swap. For the shared
//! log see [`shared`]: a batch is staged in one object, committed with its index
//! assignment, and only then written under tile keys (a successor rewrites it).

#![cfg_attr(test, allow(clippy::unwrap_used))]

#[cfg(feature = "server")]
pub mod api;
pub mod audit;
mod bounded;
mod coordinator;
mod error;
pub mod layout;
pub mod logkey;
pub mod mem;
pub mod merkle;
pub mod monitor;
pub mod note;
pub mod notekey;
pub mod proposed;
pub mod reader;
pub mod rekor;
pub mod rekor2;
pub mod sequencer;
pub mod shared;
mod state;
mod store;
pub mod tile;

pub use audit::{AuditReport, DirFetch, audit};
#[cfg(feature = "http")]
pub use audit::{HttpFetch, https_tls};
pub use error::{Error, is_out_of_space};
pub use layout::{Appended, Fault, Health, LogConfig};
pub use logkey::{LogKey, LogKeyType, LogVerifier};
pub use merkle::Hash;
pub use note::{Checkpoint, SignedCheckpoint};
pub use notekey::{Ed25519NoteKey, NoteVerifier, Vkey};
pub use reader::LogReader;
pub use sequencer::{Options, Sequencer};
pub use shared::{Coordinator, SharedOptions, SharedSequencer};
pub use store::{
    CheckpointLock, DirLock, DirStore, TileStorage, Upload, Uploaded, compare_existing, upload_each,
};
pub use tile::TileFetch;
