//! hallmark-tlog integration tests (one binary).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    unreachable_pub
)]

mod api;
mod audit;
mod crash;
mod disk;
mod log;
mod proofs;
mod shared;
mod sigstore_e2e;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hallmark_tlog::{DirLock, DirStore, LogConfig, LogKey, Options, Sequencer, TileStorage};

pub fn cfg() -> LogConfig {
    LogConfig {
        host: "log.hallmark.test".into(),
        tree_id: 7_001,
    }
}

pub fn testdata() -> PathBuf {
    hallmark_testkit::testdata("tlog")
}

/// A directory-backed log: (sequencer, store). The lock lives in `dir/lock`.
pub fn dir_log(dir: &Path, key: &Arc<LogKey>, opts: Options) -> (Sequencer, Arc<DirStore>) {
    let store = Arc::new(DirStore::open(dir.join("public")).unwrap());
    let lock = Arc::new(DirLock::open(dir.join("lock")).unwrap());
    let seq = Sequencer::open(
        cfg(),
        Arc::clone(key),
        Arc::clone(&store) as Arc<dyn TileStorage>,
        lock,
        opts,
    )
    .unwrap();
    (seq, store)
}

/// Appends `n` entries concurrently (all submitted, then awaited).
pub fn fill(seq: &Sequencer, prefix: &str, n: usize) -> Vec<hallmark_tlog::Appended> {
    let pending: Vec<_> = (0..n)
        .map(|i| seq.submit(format!("{prefix}-{i}").into_bytes()))
        .collect();
    pending.into_iter().map(|p| p.wait().unwrap()).collect()
}

/// Small deterministic PRNG for tests (xorshift64*).
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}
