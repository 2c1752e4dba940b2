//! Several replicas, one log: the [`SharedSequencer`].
//!
//! Every replica runs one; at any time at most one of them — the holder of a lease kept in
//! the [`Coordinator`] (a PostgreSQL row in production) — sequences. Submitters on any
//! replica put their entry into the coordinator's queue and wait until a commit assigns it
//! an index; the holder drains the queue in batches.
//!
//! ## Protocol, per batch
//!
//! 1. **Stage**: the holder advances its in-memory tree and writes every object the batch
//!    adds (tiles, entry bundles, time sidecars) into **one staging object**, keyed by tree
//!    size, root and lease epoch. Nothing under a public tile key is written yet.
//! 2. **Commit** (one coordinator transaction): swap the checkpoint `old → new` *only if*
//!    the lease is still this holder's with the same epoch (fencing: a holder that stalled
//!    past its lease cannot commit after a successor took over), record the staging key,
//!    and assign each queued entry its index and integrated time.
//! 3. **Publish**: write the staged objects under their tile keys (concurrently, with the
//!    deletion of the previous batch's staging object), then publish the checkpoint.
//!
//! Each entry's inclusion proof is computed by the holder from its in-memory tiles and
//! committed with its index, so a submitter on any replica gets its proof from the
//! coordinator without reading the object store (and checks it before answering).
//!
//! Why this never forks or rolls back: committed checkpoints form one chain (the fenced
//! compare-and-swap), an entry is sequenced exactly once (its index is assigned in the
//! same transaction as the checkpoint that contains it), and an object is written under a
//! tile key only *after* the checkpoint that determines its content was committed — so a
//! tile key has one possible content, and a late write by a deposed holder rewrites the
//! same bytes. A holder killed between commit and publish leaves its staging object
//! behind; whoever takes the lease next rewrites it before sequencing.
//!
//! The lease only keeps replicas from racing each other for nothing; safety rests on the
//! fenced commit, not on clocks. A deposed holder may still overwrite the public
//! `checkpoint` copy with an older (consistent) checkpoint after a multi-second stall; the
//! coordinator's note is the truth ([`SharedSequencer::latest`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub use crate::coordinator::{BatchCommit, Committed, Coordinator, Lease, Sequenced};
use crate::error::Error;
use crate::layout::{Appended, Clock, Health, LeaseClock, LogConfig, monotonic_clock};
use crate::merkle::{leaf_hash, verify_inclusion};
use crate::note::{LogKey, SignedCheckpoint};
use crate::sequencer::{Options, check_entry_size, empty_checkpoint, verify_own};
use crate::state::State;
use crate::store::{TileStorage, Upload};
use crate::tile::TilePath;

/// Key prefix of staging objects.
pub const STAGING_PREFIX: &str = "hallmark/staging/";

/// Largest staging object accepted when taking over (a batch of 8,192 entries of 64 KiB
/// with their tiles fits comfortably).
const MAX_STAGING_BYTES: usize = 1 << 30;

/// Settings of a [`SharedSequencer`].
#[derive(Clone)]
pub struct SharedOptions {
    /// Unique name of this replica's sequencer (host, process, random suffix).
    pub holder: String,
    /// Lease time-to-live; a dead holder is replaced after at most this long.
    pub lease_ttl: Duration,
    /// How long a submitter waits for its entry to be sequenced and provable.
    pub append_timeout: Duration,
    /// Batch size and clock.
    pub base: Options,
    /// The clock by which the holder times its lease renewals.
    pub lease_clock: LeaseClock,
}

impl std::fmt::Debug for SharedOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedOptions")
            .field("holder", &self.holder)
            .field("lease_ttl", &self.lease_ttl)
            .finish_non_exhaustive()
    }
}

impl SharedOptions {
    /// Defaults: 5-second lease, 60-second append timeout.
    #[must_use]
    pub fn new(holder: impl Into<String>) -> Self {
        Self {
            holder: holder.into(),
            lease_ttl: Duration::from_secs(5),
            append_timeout: Duration::from_secs(60),
            base: Options::default(),
            lease_clock: monotonic_clock(),
        }
    }
}

struct Inner {
    cfg: LogConfig,
    key: Arc<LogKey>,
    store: Arc<dyn TileStorage>,
    coord: Arc<dyn Coordinator>,
    opts: SharedOptions,
    stop: AtomicBool,
    sequencing: AtomicBool,
    /// This replica's last failure to take over or sequence, until it next succeeds.
    fault: std::sync::Mutex<Option<Health>>,
}

/// One replica's handle on a log shared with other replicas (see the module docs).
/// Dropping it releases the lease if held and stops its thread.
pub struct SharedSequencer {
    inner: Arc<Inner>,
    thread: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for SharedSequencer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedSequencer")
            .field("holder", &self.inner.opts.holder)
            .field("sequencing", &self.is_sequencing())
            .finish()
    }
}

impl SharedSequencer {
    /// Joins (creating if needed) the log kept by `coord` and `store`, and starts this
    /// replica's sequencer thread, which competes for the lease.
    ///
    /// # Errors
    /// Storage failures, or a stored checkpoint not signed by `key` for this origin (the
    /// replicas do not share the same log key and configuration).
    pub fn open(
        cfg: LogConfig,
        key: Arc<LogKey>,
        store: Arc<dyn TileStorage>,
        coord: Arc<dyn Coordinator>,
        opts: SharedOptions,
    ) -> Result<Self, Error> {
        coord.init(&empty_checkpoint(&cfg, &key)?.text)?;
        let note = coord
            .latest()?
            .ok_or_else(|| Error::Corrupt("the coordinator has no checkpoint after init".into()))?;
        verify_own(&cfg, &key, &note)?;
        let inner = Arc::new(Inner {
            cfg,
            key,
            store,
            coord,
            opts,
            stop: AtomicBool::new(false),
            sequencing: AtomicBool::new(false),
            fault: std::sync::Mutex::new(None),
        });
        let i2 = Arc::clone(&inner);
        let thread = std::thread::Builder::new()
            .name("tlog-shared-sequencer".into())
            .spawn(move || run(&i2))
            .map_err(|e| Error::Stopped(format!("cannot start the sequencer thread: {e}")))?;
        Ok(Self {
            inner,
            thread: std::sync::Mutex::new(Some(thread)),
        })
    }

    /// Whether this replica currently holds the lease.
    #[must_use]
    pub fn is_sequencing(&self) -> bool {
        self.inner.sequencing.load(Ordering::Relaxed)
    }

    /// Whether this replica's sequencer works: [`Health::Recovering`] from its failure
    /// to take the log over or to sequence a batch (storage full, …) until it next
    /// succeeds — it keeps retrying — and [`Health::Ready`] otherwise, also while another
    /// replica holds the lease.
    #[must_use]
    pub fn health(&self) -> Health {
        self.inner
            .fault
            .lock()
            .map_or(Health::Ready, |f| f.unwrap_or(Health::Ready))
    }

    /// The committed checkpoint, verified.
    ///
    /// # Errors
    /// Storage failures or a bad note.
    pub fn latest(&self) -> Result<SignedCheckpoint, Error> {
        let i = &self.inner;
        let note = i
            .coord
            .latest()?
            .ok_or_else(|| Error::Corrupt("the log has no checkpoint".into()))?;
        verify_own(&i.cfg, &i.key, &note)
    }

    /// Queues `body`, waits until some replica sequenced it, and returns it with an
    /// inclusion proof against a committed checkpoint. Blocking: never call it on an
    /// async runtime thread.
    ///
    /// # Errors
    /// An oversized entry, storage failures, or no replica sequencing within the timeout.
    pub fn append(&self, body: &[u8]) -> Result<Appended, Error> {
        check_entry_size(body)?;
        let i = &self.inner;
        let deadline = Instant::now() + i.opts.append_timeout;
        let id = i.coord.enqueue(body)?;
        let seq = loop {
            let seen = i.coord.changes();
            if let Some(s) = i.coord.status(id)? {
                break s;
            }
            if Instant::now() > deadline {
                return Err(Error::Stopped(format!(
                    "entry {id} was not sequenced within {:?}: is any replica holding the log's sequencer lease?",
                    i.opts.append_timeout
                )));
            }
            i.coord.wait_for_change(seen, Duration::from_millis(200));
        };
        // The coordinator's word is checked, not trusted: the note must be this log's and
        // the proof must lead from this entry to its root.
        let cp = verify_own(&i.cfg, &i.key, &seq.note)?;
        let leaf = leaf_hash(body);
        verify_inclusion(
            &leaf,
            seq.index,
            cp.checkpoint.size,
            &seq.proof,
            &cp.checkpoint.root,
        )?;
        Ok(Appended {
            index: seq.index,
            leaf,
            integrated_time: seq.integrated_time,
            proof: seq.proof,
            checkpoint: Arc::new(cp),
        })
    }
}

impl SharedSequencer {
    /// Stops this replica's sequencer thread, releasing the lease if held (another
    /// replica takes over at once). Appends through this handle still work while another
    /// replica sequences. Blocking; idempotent.
    pub fn stop(&self) {
        self.inner.stop.store(true, Ordering::Relaxed);
        let thread = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(t) = thread {
            let _ = t.join();
        }
    }
}

impl Drop for SharedSequencer {
    fn drop(&mut self) {
        self.stop();
    }
}

struct Held {
    lease: Lease,
    state: State,
    renewed: Duration,
    staging: Option<String>,
}

/// Records the outcome of a takeover or step for [`SharedSequencer::health`].
fn note_outcome(i: &Inner, failure: Option<&Error>) {
    if let Ok(mut f) = i.fault.lock() {
        *f = failure.map(|e| match Health::after(e) {
            // Another replica may sequence; this one keeps trying.
            Health::Stopped(f) => Health::Recovering(f),
            h => h,
        });
    }
}

fn run(i: &Inner) {
    let ttl = i.opts.lease_ttl;
    let mut held: Option<Held> = None;
    while !i.stop.load(Ordering::Relaxed) {
        i.sequencing.store(held.is_some(), Ordering::Relaxed);
        held = match held.take() {
            None => match try_take_over(i) {
                Ok(Some(h)) => {
                    note_outcome(i, None);
                    eprintln!(
                        "hallmark log: {} sequences {} from tree size {} (lease epoch {})",
                        i.opts.holder,
                        i.cfg.origin(),
                        h.state.size(),
                        h.lease.epoch
                    );
                    Some(h)
                }
                Ok(None) => {
                    // Another replica sequences: appends through this one work.
                    note_outcome(i, None);
                    sleep_unless_stopped(i, ttl / 5);
                    None
                }
                Err(e) => {
                    note_outcome(i, Some(&e));
                    eprintln!("hallmark log: {} cannot take over: {e}", i.opts.holder);
                    sleep_unless_stopped(i, ttl / 5);
                    None
                }
            },
            Some(h) => match step(i, h) {
                Ok(h) => {
                    note_outcome(i, None);
                    Some(h)
                }
                Err(e) => {
                    note_outcome(i, Some(&e));
                    eprintln!("hallmark log: {} stops sequencing: {e}", i.opts.holder);
                    sleep_unless_stopped(i, Duration::from_millis(100));
                    None
                }
            },
        };
    }
    i.sequencing.store(false, Ordering::Relaxed);
    if let Some(h) = held {
        let _ = i.coord.release(&h.lease);
    }
}

fn sleep_unless_stopped(i: &Inner, d: Duration) {
    let end = Instant::now() + d;
    while !i.stop.load(Ordering::Relaxed) && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20).min(d));
    }
}

/// Takes the lease if free, rewrites the committed batch's staged objects (a predecessor
/// may have died before writing them), and opens the tree.
fn try_take_over(i: &Inner) -> Result<Option<Held>, Error> {
    let Some((lease, committed)) = i.coord.acquire(&i.opts.holder, i.opts.lease_ttl)? else {
        return Ok(None);
    };
    let renewed = (i.opts.lease_clock)();
    let cp = verify_own(&i.cfg, &i.key, &committed.note)?;
    if let Some(key) = &committed.staging {
        match i.store.fetch(key)? {
            Some(data) => {
                i.store
                    .upload_all(&decode_staging(key, &data)?, Upload::Replace)?;
            }
            None => {
                return Err(Error::Missing {
                    key: key.clone(),
                    context: format!(
                        "staging object of the committed tree size {}",
                        cp.checkpoint.size
                    ),
                });
            }
        }
    }
    // Batches staged by holders that died before their commit: never to be committed
    // (the epoch moved on), so their staging objects can go.
    for orphan in i.store.list(STAGING_PREFIX)? {
        if Some(&orphan) != committed.staging.as_ref() {
            i.store.discard(&orphan)?;
        }
    }
    let state = State::open(
        i.cfg.clone(),
        Arc::clone(&i.key),
        Arc::clone(&i.store),
        cp,
        Arc::clone(&i.opts.base.clock) as Clock,
        i.opts.base.max_batch.max(1),
    )?;
    Ok(Some(Held {
        lease,
        state,
        renewed,
        staging: committed.staging,
    }))
}

/// One turn of the holder: renew the lease when due, sequence one batch if any.
fn step(i: &Inner, mut h: Held) -> Result<Held, Error> {
    let ttl = i.opts.lease_ttl;
    let now = (i.opts.lease_clock)();
    if now.saturating_sub(h.renewed) >= ttl / 3 {
        if !i.coord.renew(&h.lease, ttl)? {
            return Err(Error::LockConflict {
                log: format!("{}: the lease passed to another replica", i.cfg.origin()),
            });
        }
        h.renewed = now;
    }
    let seen = i.coord.changes();
    let batch = i.coord.pending(i.opts.base.max_batch.max(1))?;
    if batch.is_empty() {
        i.coord.wait_for_change(seen, ttl / 10);
        return Ok(h);
    }
    let bodies: Vec<&[u8]> = batch.iter().map(|(_, b)| b.as_slice()).collect();
    let staged = h.state.stage(&bodies)?;
    let proofs = h.state.staged_proofs(&staged)?;
    let staging = format!(
        "{STAGING_PREFIX}{}-{}-{}",
        staged.signed.checkpoint.size,
        hex::encode(&staged.signed.checkpoint.root[..8]),
        h.lease.epoch
    );
    i.store
        .upload(&staging, &encode_staging(&staged.objects), Upload::Replace)?;
    let ids: Vec<i64> = batch.iter().map(|(id, _)| *id).collect();
    i.coord.commit(&BatchCommit {
        lease: &h.lease,
        old_note: &h.state.committed.text,
        new_note: &staged.signed.text,
        staging: &staging,
        ids: &ids,
        first_index: staged.old_size,
        integrated_time: staged.time,
        proofs: &proofs,
    })?;
    // The previous batch's objects are all in place: its staging object can go.
    i.store.upload_all(&staged.objects, Upload::Replace)?;
    if let Some(old) = h.staging.replace(staging) {
        i.store.discard(&old)?;
    }
    h.state.committed(&staged);
    h.state.clean_up();
    Ok(h)
}

/// Encodes staged objects: for each, `u32` key length, key, `u32` data length, data
/// (big-endian lengths).
#[must_use]
pub fn encode_staging(objects: &[(String, Vec<u8>)]) -> Vec<u8> {
    let len: usize = objects.iter().map(|(k, d)| 8 + k.len() + d.len()).sum();
    let mut out = Vec::with_capacity(len);
    for (k, d) in objects {
        out.extend_from_slice(&(k.len() as u32).to_be_bytes());
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(&(d.len() as u32).to_be_bytes());
        out.extend_from_slice(d);
    }
    out
}

/// Decodes a staging object; only tile keys are accepted.
///
/// # Errors
/// [`Error::Corrupt`] naming `key` on truncation, an oversized object or a non-tile key.
pub fn decode_staging(key: &str, mut data: &[u8]) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let bad = |why: String| Error::Corrupt(format!("staging object {key}: {why}"));
    if data.len() > MAX_STAGING_BYTES {
        return Err(bad(format!(
            "{} bytes exceeds {MAX_STAGING_BYTES}",
            data.len()
        )));
    }
    let mut out = Vec::new();
    let take = |data: &mut &[u8]| -> Result<Vec<u8>, Error> {
        let (len, rest) = data
            .split_first_chunk::<4>()
            .ok_or_else(|| bad("truncated length".into()))?;
        let len = u32::from_be_bytes(*len) as usize;
        if rest.len() < len {
            return Err(bad(format!("a {len}-byte field runs past the end")));
        }
        let (field, rest) = rest.split_at(len);
        *data = rest;
        Ok(field.to_vec())
    };
    while !data.is_empty() {
        let k = String::from_utf8(take(&mut data)?).map_err(|_| bad("non-UTF-8 key".into()))?;
        if TilePath::parse(&k).is_none() {
            return Err(bad(format!("{k:?} is not a tile key")));
        }
        let d = take(&mut data)?;
        out.push((k, d));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staging_round_trips_and_refuses_what_is_not_a_tile() {
        let objects = vec![
            ("tile/0/000.p/3".to_owned(), vec![1u8; 96]),
            ("tile/entries/000.p/3".to_owned(), b"abc".to_vec()),
            ("hallmark/time/000.p/3".to_owned(), vec![0u8; 24]),
        ];
        let enc = encode_staging(&objects);
        assert_eq!(decode_staging("s", &enc).unwrap(), objects);
        assert!(decode_staging("s", &enc[..enc.len() - 1]).is_err());
        let evil = encode_staging(&[("checkpoint".to_owned(), b"x".to_vec())]);
        let e = decode_staging("hallmark/staging/3-ab-1", &evil).unwrap_err();
        assert!(e.to_string().contains("hallmark/staging/3-ab-1"), "{e}");
        assert!(decode_staging("s", &[0, 0, 0, 9, b'a']).is_err());
        assert!(decode_staging("s", &[]).unwrap().is_empty());
    }
}
