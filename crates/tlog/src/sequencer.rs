//! The sequencer: one thread that owns the tree, batches concurrent submissions into one
//! tree update and one checkpoint, and answers each submitter only once its entry is
//! durable.
//!
//! Per batch: append the leaf hashes to the in-memory right edge (frontier and the last,
//! partial tile of every level); write every new full tile, the new partial tiles, the
//! entry bundle(s) and integrated-time sidecar(s) (put-if-absent, durable on return); sign
//! the checkpoint; compare-and-swap it into the [`CheckpointLock`]; publish it as the
//! `checkpoint` object; compute each entry's inclusion proof from the (cached) tiles; reply.
//!
//! **Crash safety.** The lock only ever holds a checkpoint whose tiles were durable before
//! the swap, so after a crash the lock's checkpoint is backed by tiles and every
//! acknowledged entry (acknowledged only after the swap) is in it. Objects written for a
//! batch that never reached the lock cover only leaves beyond the committed size; the next
//! batch may find them under the same keys with other content and overwrites them — an
//! object covering only committed leaves is never overwritten (that would be a fork, and
//! stops the sequencer). Any error after the tree was advanced in memory stops the
//! sequencer (callers get [`Error::Stopped`]); reopening resumes from the lock.

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use crate::error::Error;
use crate::layout::{Appended, Clock, LogConfig};
use crate::note::{Checkpoint, LogKey, SignedCheckpoint, sign_checkpoint, verify_checkpoint};
use crate::state::State;
use crate::store::{CheckpointLock, TileStorage, Upload, Uploaded};
use crate::tile::{MAX_ENTRY_BYTES, TILE_WIDTH, TileKind, TilePath};

/// Tuning knobs.
#[derive(Clone)]
pub struct Options {
    /// Most entries per batch.
    pub max_batch: usize,
    /// Time source (default: the system clock).
    pub clock: Clock,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            max_batch: 8192,
            clock: Arc::new(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            }),
        }
    }
}

struct Request {
    body: Vec<u8>,
    reply: oneshot::Sender<Result<Appended, Error>>,
}

/// A submission waiting for its batch.
#[derive(Debug)]
pub struct Pending(oneshot::Receiver<Result<Appended, Error>>);

impl Pending {
    /// Blocks until the entry is durable (do not call on an async runtime thread).
    ///
    /// # Errors
    /// The batch failed or the sequencer stopped.
    pub fn wait(self) -> Result<Appended, Error> {
        self.0
            .blocking_recv()
            .map_err(|_| Error::Stopped("sequencer thread exited".into()))?
    }

    /// Awaits the entry.
    ///
    /// # Errors
    /// As [`Pending::wait`].
    pub async fn wait_async(self) -> Result<Appended, Error> {
        self.0
            .await
            .map_err(|_| Error::Stopped("sequencer thread exited".into()))?
    }
}

/// Handle to a running sequencer. Dropping it drains the queue and stops the thread.
pub struct Sequencer {
    tx: Option<Sender<Request>>,
    thread: Option<JoinHandle<()>>,
    latest: Arc<RwLock<Arc<SignedCheckpoint>>>,
}

impl std::fmt::Debug for Sequencer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sequencer")
            .field("latest", &self.latest().checkpoint)
            .finish()
    }
}

impl Sequencer {
    /// Opens (or creates) the log and starts the sequencer thread.
    ///
    /// # Errors
    /// Storage failures, a checkpoint not signed by `key` or for another origin, or a
    /// checkpoint not backed by the stored tiles.
    pub fn open(
        cfg: LogConfig,
        key: Arc<LogKey>,
        store: Arc<dyn TileStorage>,
        lock: Arc<dyn CheckpointLock>,
        opts: Options,
    ) -> Result<Self, Error> {
        let committed = open_or_create(&cfg, &key, &*lock)?;
        let state = State::open(cfg, key, store, committed, opts.clock.clone())?;
        let latest = Arc::new(RwLock::new(Arc::new(state.committed.clone())));
        let (tx, rx) = mpsc::channel();
        let l2 = Arc::clone(&latest);
        let thread = std::thread::Builder::new()
            .name("tlog-sequencer".into())
            .spawn(move || run(state, &*lock, &rx, opts.max_batch.max(1), &l2))
            .map_err(|e| Error::Stopped(format!("cannot start the sequencer thread: {e}")))?;
        Ok(Self {
            tx: Some(tx),
            thread: Some(thread),
            latest,
        })
    }

    /// Queues an entry (its leaf bytes, e.g. a canonicalized Rekor body).
    #[must_use]
    pub fn submit(&self, body: Vec<u8>) -> Pending {
        let (reply, rx) = oneshot::channel();
        if let Err(e) = check_entry_size(&body) {
            let _ = reply.send(Err(e));
        } else if let Some(tx) = &self.tx
            && let Err(mpsc::SendError(r)) = tx.send(Request { body, reply })
        {
            let _ = r
                .reply
                .send(Err(Error::Stopped("sequencer thread exited".into())));
        }
        Pending(rx)
    }

    /// Appends and waits until durable.
    ///
    /// # Errors
    /// As [`Pending::wait`].
    pub fn append(&self, body: Vec<u8>) -> Result<Appended, Error> {
        self.submit(body).wait()
    }

    /// The latest committed checkpoint.
    #[must_use]
    pub fn latest(&self) -> Arc<SignedCheckpoint> {
        self.latest
            .read()
            .map(|g| Arc::clone(&g))
            .unwrap_or_else(|p| Arc::clone(&p.into_inner()))
    }
}

impl Drop for Sequencer {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Refuses an entry larger than a tile's entry bundle can hold.
pub(crate) fn check_entry_size(body: &[u8]) -> Result<(), Error> {
    if body.len() > MAX_ENTRY_BYTES {
        return Err(Error::InvalidEntry(format!(
            "entry of {} bytes exceeds {MAX_ENTRY_BYTES}",
            body.len()
        )));
    }
    Ok(())
}

/// `note` parsed and verified as a checkpoint of this log: signed by `key`, for its host
/// and origin.
pub(crate) fn verify_own(
    cfg: &LogConfig,
    key: &LogKey,
    note: &str,
) -> Result<SignedCheckpoint, Error> {
    verify_checkpoint(note, key.verifier(), Some(&cfg.host), Some(&cfg.origin()))
}

/// The checkpoint in `lock`, verified; or a new empty log's, created in it.
pub(crate) fn open_or_create(
    cfg: &LogConfig,
    key: &LogKey,
    lock: &dyn CheckpointLock,
) -> Result<SignedCheckpoint, Error> {
    match lock.fetch()? {
        Some(note) => verify_own(cfg, key, &note),
        None => {
            let s = empty_checkpoint(cfg, key)?;
            lock.create(&s.text)?;
            Ok(s)
        }
    }
}

/// The signed checkpoint of an empty log.
pub(crate) fn empty_checkpoint(cfg: &LogConfig, key: &LogKey) -> Result<SignedCheckpoint, Error> {
    let cp = Checkpoint {
        origin: cfg.origin(),
        size: 0,
        root: crate::merkle::empty_root(),
    };
    sign_checkpoint(&cp, &cfg.host, key)
}

fn run(
    mut state: State,
    lock: &dyn CheckpointLock,
    rx: &Receiver<Request>,
    max_batch: usize,
    latest: &RwLock<Arc<SignedCheckpoint>>,
) {
    let mut stopped: Option<String> = None;
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < max_batch {
            match rx.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        if let Some(why) = &stopped {
            for r in batch {
                let _ = r.reply.send(Err(Error::Stopped(why.clone())));
            }
            continue;
        }
        match process(&mut state, lock, &batch) {
            Ok((cp, results)) => {
                if let Ok(mut g) = latest.write() {
                    *g = Arc::clone(&cp);
                }
                for (r, res) in batch.into_iter().zip(results) {
                    let _ = r.reply.send(res);
                }
            }
            Err(e) => {
                let why = e.to_string();
                let _ = r_send_all(batch, &e);
                stopped = Some(why);
            }
        }
    }
}

fn r_send_all(batch: Vec<Request>, e: &Error) -> usize {
    let n = batch.len();
    for r in batch {
        let _ = r
            .reply
            .send(Err(Error::Stopped(format!("batch failed: {e}"))));
    }
    n
}

/// A committed batch: its checkpoint and each entry's outcome.
type BatchResult = (Arc<SignedCheckpoint>, Vec<Result<Appended, Error>>);

/// One local batch: objects put-if-absent (durable), then the compare-and-swap.
fn process(
    state: &mut State,
    lock: &dyn CheckpointLock,
    batch: &[Request],
) -> Result<BatchResult, Error> {
    let bodies: Vec<&[u8]> = batch.iter().map(|r| r.body.as_slice()).collect();
    let staged = state.stage(&bodies)?;
    let old_n = staged.old_size;
    let outcomes = state.store.upload_all(&staged.objects, Upload::IfAbsent)?;
    for ((key, data), o) in staged.objects.iter().zip(outcomes) {
        if o == Uploaded::Differs {
            // Only objects covering leaves beyond the committed size may be replaced.
            let p = TilePath::parse(key)
                .ok_or_else(|| Error::Corrupt(format!("unparseable key {key}")))?;
            let shift = match p.kind {
                TileKind::Hash(l) => 8 * u32::from(l),
                _ => 0,
            };
            let covers = (p.index * TILE_WIDTH + u64::from(p.width)) << shift;
            if covers <= old_n {
                return Err(Error::Fork(format!(
                    "{key} holds other data for committed leaves (< {old_n})"
                )));
            }
            state.store.upload(key, data, Upload::Replace)?;
        }
    }
    lock.replace(&state.committed.text, &staged.signed.text)?;
    let cp = state.committed(&staged);
    let results = state.appended(staged, &cp);
    Ok((cp, results))
}
