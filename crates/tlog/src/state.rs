//! The tree's in-memory right edge, shared by both sequencers ([`crate::Sequencer`] on one
//! node, [`crate::SharedSequencer`] across replicas): opened from a committed checkpoint
//! and its tiles, advanced one batch at a time into the objects the batch adds (full and
//! partial hash tiles, entry bundles, integrated-time sidecars) and a signed checkpoint.
//!
//! How the objects become durable and the checkpoint committed is the caller's business:
//! the local sequencer writes them put-if-absent before a compare-and-swap, the shared one
//! stages them in one object before a fenced commit and writes them after it.
//!
//! **One partial object per tile series.** Every batch rewrites the partial tiles, bundle
//! and sidecar at their new width; once its checkpoint is committed *and* published,
//! [`State::discard_superseded`] deletes the partial objects the previous checkpoint
//! referenced and this one does not, and every partial object beside a tile this batch
//! completed. Readers that verified an older checkpoint find the wider object through the
//! published one ([`crate::tile::fetch_tile`]), so log bytes on disk grow linearly in
//! the entries (without this, the n-th entry of a tile rewrote all before it: quadratic).
//! A crash between publish and delete leaves garbage, never a referenced object missing;
//! [`State::open`] sweeps it.

use std::sync::Arc;

use crate::error::Error;
use crate::layout::{Appended, CHECKPOINT_KEY, Clock, LogConfig, decode_times, encode_times};
use crate::merkle::{Frontier, Hash, inclusion_proof, leaf_hash};
use crate::note::{Checkpoint, LogKey, SignedCheckpoint, sign_checkpoint};
use crate::store::{TileStorage, Upload};
use crate::tile::{
    ExpandedTile, TILE_WIDTH, TileFetch, TileKind, TilePath, TileReader, decode_bundle,
    encode_bundle, encode_hashes,
};

/// One batch, advanced in memory but not yet committed.
pub(crate) struct Staged {
    /// Objects the batch adds or replaces (keys in the tlog-tiles URL space).
    pub objects: Vec<(String, Vec<u8>)>,
    /// The checkpoint after the batch.
    pub signed: SignedCheckpoint,
    /// Leaf hashes of the batch, in order.
    pub leaves: Vec<Hash>,
    /// Tree size before the batch.
    pub old_size: u64,
    /// Integrated time of the batch.
    pub time: i64,
}

pub(crate) struct State {
    cfg: LogConfig,
    origin: String,
    key: Arc<LogKey>,
    pub(crate) store: Arc<dyn TileStorage>,
    clock: Clock,
    pub(crate) committed: SignedCheckpoint,
    frontier: Frontier,
    /// Per tile level, the hashes of the last (partial) tile.
    edge: Vec<Vec<Hash>>,
    bundle: Vec<Vec<u8>>,
    times: Vec<i64>,
    reader: TileReader,
    last_time: i64,
    /// Sizes of committed trees whose superseded partial objects wait for a published
    /// checkpoint before they can go.
    unpublished: Vec<u64>,
    /// Whether the last committed checkpoint was published.
    published: bool,
}

/// Most committed-but-unpublished sizes remembered for clean-up.
const MAX_UNPUBLISHED: usize = 1024;

impl State {
    /// Opens the right edge of the tree committed as `committed` from the stored tiles,
    /// checking that they hash to its root, and republishes it as the public checkpoint.
    ///
    /// Then deletes partial objects the checkpoint does not reference in the tiles a batch
    /// of up to `max_batch` entries before it could have touched (leftovers of a crash
    /// before [`State::discard_superseded`], or of batches that never committed); a failed
    /// deletion is only reported.
    pub(crate) fn open(
        cfg: LogConfig,
        key: Arc<LogKey>,
        store: Arc<dyn TileStorage>,
        committed: SignedCheckpoint,
        clock: Clock,
        max_batch: usize,
    ) -> Result<Self, Error> {
        let origin = cfg.origin();
        let n = committed.checkpoint.size;
        let fetch: Arc<dyn TileFetch> = Arc::clone(&store) as Arc<dyn TileFetch>;
        let mut reader = TileReader::new(fetch, n);
        let frontier = Frontier::from_source(&mut reader, n)?;
        if frontier.root() != committed.checkpoint.root {
            return Err(Error::Corrupt(format!(
                "the tiles do not hash to the checkpoint root at size {n}"
            )));
        }
        let mut edge = Vec::new();
        let mut level = 0u8;
        while level < 8 && (n >> (8 * u32::from(level))) > 0 {
            let count = n >> (8 * u32::from(level));
            let w = count % TILE_WIDTH;
            edge.push(if w > 0 {
                reader.tile(level, count / TILE_WIDTH)?.hashes().to_vec()
            } else {
                Vec::new()
            });
            level += 1;
        }
        let (mut bundle, mut times) = (Vec::new(), Vec::new());
        let w = (n % TILE_WIDTH) as u16;
        if w > 0 {
            let p = TilePath {
                kind: TileKind::Entries,
                index: n / TILE_WIDTH,
                width: w,
            };
            bundle = decode_bundle(&p.key(), &fetch_required(&*store, &p, n)?, w)?;
            let tp = TilePath {
                kind: TileKind::Time,
                ..p
            };
            times = decode_times(&tp.key(), &fetch_required(&*store, &tp, n)?, w)?;
            let leaves: Vec<Hash> = bundle.iter().map(|b| leaf_hash(b)).collect();
            if edge.first().map(Vec::as_slice) != Some(leaves.as_slice()) {
                return Err(Error::Corrupt(format!(
                    "entry bundle {} does not match tile 0",
                    p.key()
                )));
            }
        }
        store.upload(CHECKPOINT_KEY, committed.text.as_bytes(), Upload::Replace)?;
        if let Err(e) = sweep_leftovers(&*store, n, max_batch as u64) {
            eprintln!("hallmark log: leftover partial tiles of {origin} stay: {e}");
        }
        let last_time = times.last().copied().unwrap_or(0);
        Ok(Self {
            cfg,
            origin,
            key,
            store,
            clock,
            committed,
            frontier,
            edge,
            bundle,
            times,
            reader,
            last_time,
            unpublished: Vec::new(),
            published: true,
        })
    }

    /// Bytes of the partial objects the next batch rewrites besides its own entries (the
    /// partial bundle, sidecar and hash tiles).
    pub(crate) fn partial_bytes(&self) -> usize {
        self.bundle.iter().map(|b| b.len() + 2).sum::<usize>()
            + self.times.len() * 8
            + self.edge.iter().map(|e| e.len() * 32).sum::<usize>()
    }

    /// The committed tree size.
    pub(crate) fn size(&self) -> u64 {
        self.committed.checkpoint.size
    }

    /// Appends `bodies` to the in-memory tree and signs the resulting checkpoint. After an
    /// error, or if the batch is not committed, this state must be discarded.
    pub(crate) fn stage<B: AsRef<[u8]>>(&mut self, bodies: &[B]) -> Result<Staged, Error> {
        let old_n = self.frontier.size();
        let time = (self.clock)().max(self.last_time);
        let mut objects: Vec<(String, Vec<u8>)> = Vec::new();
        let mut finished = Vec::new();
        let mut leaves = Vec::with_capacity(bodies.len());
        for body in bodies {
            let body = body.as_ref();
            let leaf = leaf_hash(body);
            leaves.push(leaf);
            finished.clear();
            self.frontier.push(leaf, &mut finished);
            for &(lvl, idx, h) in finished.iter().filter(|f| f.0 % 8 == 0) {
                let t = usize::from(lvl / 8);
                if self.edge.len() <= t {
                    self.edge.push(Vec::new());
                }
                let e = &mut self.edge[t];
                e.push(h);
                if e.len() as u64 == TILE_WIDTH {
                    let tile = Arc::new(ExpandedTile::new(std::mem::take(e)));
                    objects.push((
                        TilePath::hash(lvl / 8, idx / TILE_WIDTH, 256).key(),
                        encode_hashes(tile.hashes()),
                    ));
                    self.reader.insert(lvl / 8, idx / TILE_WIDTH, tile);
                }
            }
            self.bundle.push(body.to_vec());
            self.times.push(time);
            if self.bundle.len() as u64 == TILE_WIDTH {
                let n = (self.frontier.size() - 1) / TILE_WIDTH;
                self.push_bundle(&mut objects, n);
                self.bundle.clear();
                self.times.clear();
            }
        }
        let n = self.frontier.size();
        for (t, e) in self.edge.iter().enumerate() {
            let shift = 8 * t as u32;
            if e.is_empty() || (n >> shift) == (old_n >> shift) {
                continue;
            }
            let (lvl, idx) = (t as u8, (n >> shift) / TILE_WIDTH);
            let tile = Arc::new(ExpandedTile::new(e.clone()));
            objects.push((
                TilePath::hash(lvl, idx, e.len() as u16).key(),
                encode_hashes(e),
            ));
            self.reader.insert(lvl, idx, tile);
        }
        if !self.bundle.is_empty() {
            self.push_bundle(&mut objects, n / TILE_WIDTH);
        }
        let cp = Checkpoint {
            origin: self.origin.clone(),
            size: n,
            root: self.frontier.root(),
        };
        let signed = sign_checkpoint(&cp, &self.cfg.host, &self.key)?;
        Ok(Staged {
            objects,
            signed,
            leaves,
            old_size: old_n,
            time,
        })
    }

    fn push_bundle(&self, objects: &mut Vec<(String, Vec<u8>)>, index: u64) {
        let p = TilePath {
            kind: TileKind::Entries,
            index,
            width: self.bundle.len() as u16,
        };
        objects.push((p.key(), encode_bundle(&self.bundle)));
        objects.push((
            TilePath {
                kind: TileKind::Time,
                ..p
            }
            .key(),
            encode_times(&self.times),
        ));
    }

    /// Records that `staged` was committed (its checkpoint is now the truth) and publishes
    /// the public checkpoint copy (best effort: the lock is the truth); [`State::clean_up`]
    /// then deletes the partial objects no longer referenced.
    pub(crate) fn committed(&mut self, staged: &Staged) -> Arc<SignedCheckpoint> {
        self.committed = staged.signed.clone();
        self.last_time = staged.time;
        let published = self.store.upload(
            CHECKPOINT_KEY,
            self.committed.text.as_bytes(),
            Upload::Publish,
        );
        self.reader.set_size(self.size());
        self.unpublished.push(staged.old_size);
        self.published = published.is_ok();
        if !self.published && self.unpublished.len() > MAX_UNPUBLISHED {
            // Publishing keeps failing: forget the oldest (garbage, swept when its tile fills).
            self.unpublished.remove(0);
        }
        Arc::new(self.committed.clone())
    }

    /// Once the last committed checkpoint is published: deletes the partial objects it
    /// and those before it superseded ([`State::discard_superseded`]). Called after the
    /// batch's submitters were answered, off their path; a failure leaves garbage only.
    pub(crate) fn clean_up(&mut self) {
        if !self.published {
            return;
        }
        let new = self.size();
        for old in std::mem::take(&mut self.unpublished) {
            if let Err(e) = self.discard_superseded(old, new) {
                eprintln!(
                    "hallmark log: superseded partial tiles of {} stay: {e}",
                    self.origin
                );
            }
        }
    }

    /// Deletes the partial objects the tree of size `old` referenced and the (committed,
    /// published) tree of size `new` does not, and every partial object beside a tile that
    /// is full in `new` but was not in `old`.
    pub(crate) fn discard_superseded(&self, old: u64, new: u64) -> Result<(), Error> {
        let keep = partials(new);
        for p in partials(old) {
            if !keep.contains(&p) {
                self.store.discard(&p.key())?;
            }
        }
        for (kind, count) in series(new) {
            let before = series_count(kind, old);
            for index in before / TILE_WIDTH..count / TILE_WIDTH {
                sweep_partials(&*self.store, kind, index, None)?;
            }
        }
        Ok(())
    }

    /// Inclusion proofs of a staged batch's entries against its own checkpoint, computed
    /// from the in-memory tiles before the commit (the shared log stores them with it).
    pub(crate) fn staged_proofs(&mut self, staged: &Staged) -> Result<Vec<Vec<Hash>>, Error> {
        let n = staged.signed.checkpoint.size;
        self.reader.set_size(n);
        (0..staged.leaves.len() as u64)
            .map(|i| inclusion_proof(&mut self.reader, staged.old_size + i, n))
            .collect()
    }

    /// Each entry of a committed batch with its inclusion proof against `cp`.
    pub(crate) fn appended(
        &mut self,
        staged: Staged,
        cp: &Arc<SignedCheckpoint>,
    ) -> Vec<Result<Appended, Error>> {
        let n = cp.checkpoint.size;
        staged
            .leaves
            .into_iter()
            .enumerate()
            .map(|(i, leaf)| {
                let index = staged.old_size + i as u64;
                inclusion_proof(&mut self.reader, index, n).map(|proof| Appended {
                    index,
                    leaf,
                    integrated_time: staged.time,
                    proof,
                    checkpoint: Arc::clone(cp),
                })
            })
            .collect()
    }
}

/// Every tile series of a tree of `size` with its item count: entry bundles, time
/// sidecars, and the hash tiles of each level that has any.
fn series(size: u64) -> Vec<(TileKind, u64)> {
    let mut out = vec![(TileKind::Entries, size), (TileKind::Time, size)];
    for level in 0..8u8 {
        let count = series_count(TileKind::Hash(level), size);
        if count == 0 {
            break;
        }
        out.push((TileKind::Hash(level), count));
    }
    out
}

/// Items of series `kind` in a tree of `size`.
fn series_count(kind: TileKind, size: u64) -> u64 {
    match kind {
        TileKind::Hash(l) => size >> (8 * u32::from(l)),
        TileKind::Entries | TileKind::Time => size,
    }
}

/// The partial objects a tree of `size` references.
pub(crate) fn partials(size: u64) -> Vec<TilePath> {
    series(size)
        .into_iter()
        .filter(|(_, count)| count % TILE_WIDTH != 0)
        .map(|(kind, count)| TilePath {
            kind,
            index: count / TILE_WIDTH,
            width: (count % TILE_WIDTH) as u16,
        })
        .collect()
}

/// Deletes the partial objects of tile `index` of series `kind`, except `keep`.
fn sweep_partials(
    store: &dyn TileStorage,
    kind: TileKind,
    index: u64,
    keep: Option<&TilePath>,
) -> Result<(), Error> {
    let full = TilePath {
        kind,
        index,
        width: TILE_WIDTH as u16,
    };
    let keep = keep.map(TilePath::key);
    for key in store.list(&format!("{}.p/", full.key()))? {
        if Some(&key) != keep.as_ref() {
            store.discard(&key)?;
        }
    }
    Ok(())
}

/// Deletes the partial objects a tree of `size` does not reference, in the tiles of each
/// series that a batch of up to `max_batch` entries ending at `size` could have touched.
fn sweep_leftovers(store: &dyn TileStorage, size: u64, max_batch: u64) -> Result<(), Error> {
    let current = partials(size);
    for (kind, count) in series(size) {
        let span = match kind {
            TileKind::Hash(l) => max_batch >> (8 * u32::from(l)),
            TileKind::Entries | TileKind::Time => max_batch,
        };
        let last = count / TILE_WIDTH;
        let keep = current.iter().find(|p| p.kind == kind && p.index == last);
        for index in last.saturating_sub(span / TILE_WIDTH + 1)..=last {
            sweep_partials(store, kind, index, keep.filter(|p| p.index == index))?;
        }
    }
    Ok(())
}

fn fetch_required(store: &dyn TileStorage, p: &TilePath, n: u64) -> Result<Vec<u8>, Error> {
    store.fetch(&p.key())?.ok_or_else(|| Error::Missing {
        key: p.key(),
        context: format!("tree size {n}"),
    })
}
