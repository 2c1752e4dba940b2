//! What both sequencers, the state and the readers share: the log's identity and clock,
//! the key of the public checkpoint, the integrated-time sidecars' encoding, and what an
//! appended entry is (a leaf of the crate's import graph).

use std::sync::Arc;

use crate::error::Error;
use crate::merkle::Hash;
use crate::note::{LogKey, SignedCheckpoint};
use crate::rekor;

pub use crate::tile::CHECKPOINT_KEY;

/// A source of Unix time in seconds (the Rekor `integratedTime`).
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// A monotonic clock for leases: time elapsed since an arbitrary fixed origin. The
/// sequencer decides when to renew by it; tests drive it by hand to make lease expiry
/// independent of how fast the machine runs.
pub type LeaseClock = Arc<dyn Fn() -> std::time::Duration + Send + Sync>;

/// The real monotonic clock ([`std::time::Instant`] since the first call).
#[must_use]
pub fn monotonic_clock() -> LeaseClock {
    static ORIGIN: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    Arc::new(|| ORIGIN.get_or_init(std::time::Instant::now).elapsed())
}

/// Identity of a log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogConfig {
    /// Host name: the checkpoint key name and the first half of the origin.
    pub host: String,
    /// Numeric tree ID (Rekor v1 style; part of the origin and of entry UUIDs), or
    /// [`LogConfig::REKOR_V2_TREE_ID`].
    pub tree_id: u64,
}

impl LogConfig {
    /// The tree ID of a Rekor v2 (rekor-tiles) style log, which has none: its origin is
    /// the host alone (sigstore-go requires the origin of a v2 log to equal the host name
    /// of the log's `baseUrl`, and takes origins ending in `" - <digits>"` for Rekor v1).
    pub const REKOR_V2_TREE_ID: u64 = 0;

    /// A Rekor v2 style log named `host` (the origin and the checkpoint key name).
    #[must_use]
    pub fn rekor_v2(host: &str) -> Self {
        Self {
            host: host.to_owned(),
            tree_id: Self::REKOR_V2_TREE_ID,
        }
    }

    /// The checkpoint origin: `"<host> - <tree_id>"` as Rekor v1 writes it, or `<host>`
    /// for a Rekor v2 style log.
    #[must_use]
    pub fn origin(&self) -> String {
        if self.tree_id == Self::REKOR_V2_TREE_ID {
            return self.host.clone();
        }
        format!("{} - {}", self.host, self.tree_id)
    }
}

/// A durably appended entry.
#[derive(Clone, Debug)]
pub struct Appended {
    /// Leaf index.
    pub index: u64,
    /// Leaf hash.
    pub leaf: Hash,
    /// Integrated time of the batch.
    pub integrated_time: i64,
    /// Inclusion proof against `checkpoint`.
    pub proof: Vec<Hash>,
    /// The checkpoint committed with the entry.
    pub checkpoint: Arc<SignedCheckpoint>,
}

impl Appended {
    /// Signs this entry's SET (done by the caller, off the sequencer thread) by the log
    /// `cfg` whose checkpoint key is `key`.
    ///
    /// # Errors
    /// Key failures.
    pub fn sign_set(&self, key: &LogKey, cfg: &LogConfig, body: &[u8]) -> Result<Vec<u8>, Error> {
        rekor::sign_set(key, &cfg.host, body, self.integrated_time, self.index)
    }
}

/// Encodes integrated times (big-endian `i64` seconds).
#[must_use]
pub fn encode_times(times: &[i64]) -> Vec<u8> {
    times.iter().flat_map(|t| t.to_be_bytes()).collect()
}

/// Decodes `width` integrated times.
///
/// # Errors
/// [`Error::Corrupt`] on a wrong length.
pub fn decode_times(key: &str, data: &[u8], width: u16) -> Result<Vec<i64>, Error> {
    let need = usize::from(width) * 8;
    if data.len() < need || !data.len().is_multiple_of(8) {
        return Err(Error::Corrupt(format!(
            "{key} has {} bytes, expected {need}",
            data.len()
        )));
    }
    Ok(data[..need]
        .chunks_exact(8)
        .map(|c| i64::from_be_bytes(<[u8; 8]>::try_from(c).unwrap_or_default()))
        .collect())
}

/// Why a sequencer cannot append (a closed set with fixed words: no paths or backend
/// messages, so readiness probes may show it to anyone).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The storage is full ([`Error::StorageFull`]).
    StorageFull,
    /// The storage failed otherwise (I/O, an unavailable backend, a lost lock).
    Storage,
    /// The log's data is inconsistent (fork, corruption, a bad checkpoint or key).
    Integrity,
}

impl Fault {
    /// The class of `e`.
    #[must_use]
    pub fn of(e: &Error) -> Self {
        if e.is_storage_full() {
            Self::StorageFull
        } else if e.is_transient() {
            Self::Storage
        } else {
            Self::Integrity
        }
    }

    /// Fixed words for readiness answers.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::StorageFull => "log storage full",
            Self::Storage => "log storage failing",
            Self::Integrity => "log data inconsistent",
        }
    }
}

/// Whether a sequencer can append now (what readiness probes report).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Health {
    /// Appends work: nothing failed, or the last failure was recovered from.
    Ready,
    /// The last batch failed with a transient error: appends fail fast with it while the
    /// sequencer retries with backoff; it turns [`Health::Ready`] by itself once storage
    /// works again.
    Recovering(Fault),
    /// Stopped for good (the log's data is inconsistent): an operator must look.
    Stopped(Fault),
}

impl Health {
    /// Whether appends work now.
    #[must_use]
    pub fn is_ready(self) -> bool {
        self == Self::Ready
    }

    /// Why not, in fixed words (`None` when ready).
    #[must_use]
    pub fn reason(self) -> Option<&'static str> {
        match self {
            Self::Ready => None,
            Self::Recovering(f) | Self::Stopped(f) => Some(f.as_str()),
        }
    }

    /// After a failure `e`: recovering if it may pass, stopped if not.
    #[must_use]
    pub fn after(e: &Error) -> Self {
        if e.is_transient() {
            Self::Recovering(Fault::of(e))
        } else {
            Self::Stopped(Fault::of(e))
        }
    }
}
