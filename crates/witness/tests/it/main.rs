//! hallmark-witness integration tests.

#![allow(clippy::unwrap_used, missing_docs)]

mod interop;
mod policy;
mod serve;

use hallmark_tlog::merkle::{LeafList, consistency_proof, leaf_hash, tree_root};
use hallmark_tlog::note::Checkpoint;
use hallmark_tlog::{Ed25519NoteKey, Hash};

/// A test log: `n` leaves of one history (`fork` changes every leaf from index `fork` on).
pub struct TestLog {
    pub key: Ed25519NoteKey,
    pub origin: String,
    pub leaves: Vec<Hash>,
}

impl TestLog {
    pub fn new(origin: &str) -> Self {
        Self {
            key: Ed25519NoteKey::generate(origin, hallmark_tlog::notekey::SIG_ED25519).unwrap(),
            origin: origin.into(),
            leaves: Vec::new(),
        }
    }

    /// Grows to `n` leaves; leaves from `fork_at` on differ by `tag`.
    pub fn grow(&mut self, n: usize, tag: u8) {
        while self.leaves.len() < n {
            let i = self.leaves.len() as u64;
            let mut d = i.to_be_bytes().to_vec();
            d.push(tag);
            self.leaves.push(leaf_hash(&d));
        }
    }

    pub fn checkpoint(&self, n: u64) -> String {
        let root = tree_root(&mut LeafList(&self.leaves), n).unwrap();
        let cp = Checkpoint {
            origin: self.origin.clone(),
            size: n,
            root,
        };
        self.key.sign_checkpoint(&cp).unwrap().text
    }

    pub fn proof(&self, old: u64, new: u64) -> Vec<Hash> {
        if old == 0 || old > new {
            return Vec::new();
        }
        consistency_proof(&mut LeafList(&self.leaves), old, new).unwrap()
    }

    pub fn vkey(&self) -> String {
        self.key.vkey().to_string()
    }
}
