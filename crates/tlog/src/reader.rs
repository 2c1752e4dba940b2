//! Read side of a log: the latest checkpoint, entries, proofs and UUID lookups, computed
//! from the stored tiles (what the read API serves).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::error::Error;
use crate::layout::{CHECKPOINT_KEY, LogConfig, decode_times};
use crate::merkle::{Hash, consistency_proof, inclusion_proof, leaf_hash};
use crate::note::{LogKey, LogVerifier, SignedCheckpoint, verify_checkpoint};
use crate::rekor::{EntryProof, sign_set};
use crate::tile::{
    TILE_WIDTH, TileFetch, TileKind, TilePath, TileReader, decode_bundle, fetch_tile, width_in_tree,
};

/// Fetches `path` at its width in the tree, or the wider object that replaced it
/// ([`fetch_tile`]).
pub(crate) fn fetch_sized(fetch: &dyn TileFetch, path: TilePath) -> Result<Vec<u8>, Error> {
    fetch_tile(fetch, path)?.ok_or_else(|| Error::Missing {
        key: path.key(),
        context: String::new(),
    })
}

struct Inner {
    checkpoint: Option<SignedCheckpoint>,
    tiles: TileReader,
    index: HashMap<Hash, u64>,
    indexed: u64,
}

/// A verified, read-only view of a log.
pub struct LogReader {
    fetch: Arc<dyn TileFetch>,
    cfg: LogConfig,
    verifier: LogVerifier,
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for LogReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogReader")
            .field("origin", &self.cfg.origin())
            .finish_non_exhaustive()
    }
}

impl LogReader {
    /// A reader of the log `cfg` signed by `verifier`, stored behind `fetch`.
    #[must_use]
    pub fn new(fetch: Arc<dyn TileFetch>, cfg: LogConfig, verifier: LogVerifier) -> Self {
        let tiles = TileReader::new(Arc::clone(&fetch), 0);
        Self {
            fetch,
            cfg,
            verifier,
            inner: Mutex::new(Inner {
                checkpoint: None,
                tiles,
                index: HashMap::new(),
                indexed: 0,
            }),
        }
    }

    /// The log's identity.
    #[must_use]
    pub fn config(&self) -> &LogConfig {
        &self.cfg
    }

    /// The log's public key.
    #[must_use]
    pub fn verifier(&self) -> &LogVerifier {
        &self.verifier
    }

    fn inner(&self) -> Result<MutexGuard<'_, Inner>, Error> {
        self.inner
            .lock()
            .map_err(|_| Error::Stopped("reader mutex poisoned".into()))
    }

    /// Reads and verifies the latest checkpoint; it never moves backwards.
    ///
    /// # Errors
    /// Missing or invalid checkpoint, or [`Error::Rollback`].
    pub fn checkpoint(&self) -> Result<SignedCheckpoint, Error> {
        let note = self
            .fetch
            .fetch(CHECKPOINT_KEY)?
            .ok_or_else(|| Error::Missing {
                key: CHECKPOINT_KEY.into(),
                context: String::new(),
            })?;
        let note = String::from_utf8(note).map_err(|_| Error::BadCheckpoint("not UTF-8".into()))?;
        let cp = verify_checkpoint(
            &note,
            &self.verifier,
            Some(&self.cfg.host),
            Some(&self.cfg.origin()),
        )?;
        let mut inner = self.inner()?;
        if let Some(old) = &inner.checkpoint
            && cp.checkpoint.size < old.checkpoint.size
        {
            return Ok(old.clone());
        }
        inner.tiles.set_size(cp.checkpoint.size);
        inner.checkpoint = Some(cp.clone());
        Ok(cp)
    }

    fn current(&self) -> Result<(SignedCheckpoint, MutexGuard<'_, Inner>), Error> {
        let cp = self.checkpoint()?;
        Ok((cp, self.inner()?))
    }

    /// Entry `index`: its leaf bytes and integrated time.
    ///
    /// # Errors
    /// Out of range, missing or corrupt bundles.
    pub fn entry(&self, index: u64) -> Result<(Vec<u8>, i64), Error> {
        let (cp, _g) = self.current()?;
        let size = cp.checkpoint.size;
        if index >= size {
            return Err(Error::IndexOutOfRange { index, size });
        }
        let n = index / TILE_WIDTH;
        let w = width_in_tree(TileKind::Entries, n, size);
        let p = TilePath {
            kind: TileKind::Entries,
            index: n,
            width: w,
        };
        let bundle = decode_bundle(&p.key(), &fetch_sized(self.fetch.as_ref(), p)?, w)?;
        let tp = TilePath {
            kind: TileKind::Time,
            ..p
        };
        let times = decode_times(&tp.key(), &fetch_sized(self.fetch.as_ref(), tp)?, w)?;
        let i = (index % TILE_WIDTH) as usize;
        match (bundle.into_iter().nth(i), times.get(i)) {
            (Some(b), Some(&t)) => Ok((b, t)),
            _ => Err(Error::Corrupt(format!(
                "entry {index} missing from {}",
                p.key()
            ))),
        }
    }

    /// Inclusion proof of `index` in the tree of `size` (≤ the latest size).
    ///
    /// # Errors
    /// Out of range or storage errors.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, Error> {
        let (cp, mut g) = self.current()?;
        if size > cp.checkpoint.size {
            return Err(Error::IndexOutOfRange {
                index: size,
                size: cp.checkpoint.size,
            });
        }
        inclusion_proof(&mut g.tiles, index, size)
    }

    /// Consistency proof between sizes `old ≤ new ≤` the latest size.
    ///
    /// # Errors
    /// Bad sizes or storage errors.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, Error> {
        let (cp, mut g) = self.current()?;
        if new > cp.checkpoint.size {
            return Err(Error::IndexOutOfRange {
                index: new,
                size: cp.checkpoint.size,
            });
        }
        consistency_proof(&mut g.tiles, old, new)
    }

    /// Root hash of the tree of `size` (≤ the latest size).
    ///
    /// # Errors
    /// Bad size or storage errors.
    pub fn root_at(&self, size: u64) -> Result<Hash, Error> {
        let (cp, mut g) = self.current()?;
        if size > cp.checkpoint.size {
            return Err(Error::IndexOutOfRange {
                index: size,
                size: cp.checkpoint.size,
            });
        }
        crate::merkle::tree_root(&mut g.tiles, size)
    }

    /// The index of the entry whose leaf hash is `leaf` (indexes level-0 tiles on demand;
    /// memory grows with the log — a persistent index belongs to the hub's database).
    ///
    /// # Errors
    /// Storage errors.
    pub fn find(&self, leaf: &Hash) -> Result<Option<u64>, Error> {
        let (cp, mut g) = self.current()?;
        let size = cp.checkpoint.size;
        while g.indexed < size {
            let n = g.indexed / TILE_WIDTH;
            let tile = g.tiles.tile(0, n)?;
            let hashes: Vec<Hash> = tile.hashes().to_vec();
            let start = n * TILE_WIDTH;
            for (i, h) in hashes.iter().enumerate().skip((g.indexed - start) as usize) {
                g.index.entry(*h).or_insert(start + i as u64);
            }
            g.indexed = start + hashes.len() as u64;
        }
        Ok(g.index.get(leaf).copied())
    }

    /// Everything about entry `index` with an inclusion proof to the latest checkpoint and,
    /// if `key` is given, a freshly signed SET (Rekor v1 signs SETs on read, too).
    ///
    /// # Errors
    /// As [`LogReader::entry`] and [`LogReader::inclusion_proof`].
    pub fn entry_proof(&self, index: u64, key: Option<&LogKey>) -> Result<OwnedEntryProof, Error> {
        let cp = self.checkpoint()?;
        let (body, integrated_time) = self.entry(index)?;
        let tile = self.inner()?.tiles.tile(0, index / TILE_WIDTH)?;
        if tile.hashes().get((index % TILE_WIDTH) as usize) != Some(&leaf_hash(&body)) {
            return Err(Error::Corrupt(format!(
                "entry {index} does not match its leaf hash"
            )));
        }
        let proof = self.inclusion_proof(index, cp.checkpoint.size)?;
        let set = match key {
            Some(k) => sign_set(k, &self.cfg.host, &body, integrated_time, index)?,
            None => Vec::new(),
        };
        Ok(OwnedEntryProof {
            body,
            index,
            integrated_time,
            set,
            proof,
            checkpoint: cp,
            log_id: self.verifier.log_id(&self.cfg.host),
        })
    }
}

/// Owned form of [`EntryProof`].
#[derive(Clone, Debug)]
pub struct OwnedEntryProof {
    /// Leaf bytes.
    pub body: Vec<u8>,
    /// Leaf index.
    pub index: u64,
    /// Integrated time.
    pub integrated_time: i64,
    /// SET (empty if not signed).
    pub set: Vec<u8>,
    /// Inclusion proof.
    pub proof: Vec<Hash>,
    /// Checkpoint.
    pub checkpoint: SignedCheckpoint,
    /// Log ID.
    pub log_id: Hash,
}

impl OwnedEntryProof {
    /// Borrowed view for JSON rendering.
    #[must_use]
    pub fn as_ref(&self) -> EntryProof<'_> {
        EntryProof {
            body: &self.body,
            index: self.index,
            integrated_time: self.integrated_time,
            log_id: self.log_id,
            set: &self.set,
            proof: &self.proof,
            checkpoint: &self.checkpoint,
        }
    }
}
