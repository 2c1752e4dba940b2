//! # hallmark-hash
//!
//! Enumerates a model and hashes it the way OpenSSF Model Signing (OMS) v1.0
//! serializes it, byte-compatible with the reference `model_signing` 1.1.1:
//!
//! * [`enumerate`] / [`stat_files`]: which files a model consists of and what they
//!   are called (`docs/oms-spec.md` §2.1–§2.4): every regular file at any depth,
//!   hidden ones included, named by its model-relative POSIX path (`"."` for a
//!   model that is a single file), sorted in the reference's component-wise order;
//!   [`IgnoreSet`] implements `ignore_paths` (component-wise prefix, no globbing).
//! * [`hash_files`]: the `files` and `shards` serializations (§2.5–§2.6) with
//!   SHA-256 (aws-lc-rs), BLAKE2b-512 and BLAKE3, on a bounded pool of threads
//!   with one reused buffer each, largest units first, results in reference order.
//!   Progress and cancellation are a callback ([`Progress`]) and a flag; drawing a
//!   bar is the caller's business.
//! * [`StreamHasher`]: the same digests computed from a file's bytes as they arrive (a
//!   download hashed in flight, never read twice).
//! * [`StatCache`]: incremental hashing, reusing the digests of files whose `stat`
//!   (device, inode, size, mtime, ctime) is unchanged since a previous run and which
//!   the previous manifest records identically; racily clean files are re-hashed.
//!
//! ## Deviations from `model_signing` 1.1.1
//!
//! * Ignored paths are skipped **before** the symlink check (the reference's `main`
//!   branch, PR #550): a symlink under an ignored `.git/` does not abort signing.
//! * A dangling symlink or a loop of links is an error even with symlinks allowed
//!   (the OMS conformance suite expects that); links to directories are skipped,
//!   as in the reference.
//! * File names that are not valid UTF-8 are refused (the reference would carry
//!   surrogate escapes into the manifest).
//! * A file whose size changes between enumeration and hashing is an error rather
//!   than silently hashing whatever is there.
//! * BLAKE3 with `shards` is hashed as requested; the reference silently falls
//!   back to `files` — callers that want the reference's behaviour must do that
//!   mapping themselves.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod engine;
mod error;
mod hasher;
mod ignore;
mod incremental;
mod mmap;
mod model;
mod options;
mod parwalk;
mod shared;
mod statbind;
mod statcache;
mod statfile;
mod stream;
pub mod timing;
mod walk;

pub use engine::{DEFAULT_BUFFER_SIZE, hash_files, hash_files_with_buffer};
pub use error::{FoundSize, HashError};
pub use ignore::IgnoreSet;
pub use model::{FileStat, ModelFile, ModelFiles, WalkOptions};
pub use options::{EngineOptions, MmapChoice, Progress};
pub use statcache::{RehashReason, Rehashed, StatCache};
pub use statfile::{Frame, MAX_LINE_BYTES, MAX_NAME_BYTES, StatCacheError};
pub use stream::StreamHasher;
pub use walk::{enumerate, stat_files};
