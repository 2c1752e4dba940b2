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
//! stops the sequencer).
//!
//! **Failures.** A failed batch's submitters get its error ([`Error::StorageFull`] when the
//! storage is out of space, for a 507). The in-memory tree may hold the failed batch, so it
//! is dropped: until the sequencer has reopened the log from the lock and the stored tiles
//! (retried with backoff, 50 ms doubling to 2 s; the reopen rewrites the public checkpoint,
//! a durable write that shows storage works again) appends fail fast with the same error
//! and [`Sequencer::health`] says [`Health::Recovering`]. A broken log (fork, corrupt
//! data) stops it for good ([`Health::Stopped`]).
//!
//! **Disk.** Partial tiles superseded by a committed, published checkpoint are deleted
//! (see the notes of the `state` module): log bytes grow linearly in the entries.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::error::Error;
use crate::layout::{Appended, Clock, Fault, Health, LogConfig};
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
    health: Arc<Mutex<Health>>,
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
        let max_batch = opts.max_batch.max(1);
        let state = State::open(
            cfg.clone(),
            Arc::clone(&key),
            Arc::clone(&store),
            committed,
            opts.clock.clone(),
            max_batch,
        )?;
        let latest = Arc::new(RwLock::new(Arc::new(state.committed.clone())));
        let health = Arc::new(Mutex::new(Health::Ready));
        let (tx, rx) = mpsc::channel();
        let (l2, h2) = (Arc::clone(&latest), Arc::clone(&health));
        let thread = std::thread::Builder::new()
            .name("tlog-sequencer".into())
            .spawn(move || {
                Runner {
                    state: Some(state),
                    cfg,
                    key,
                    store,
                    clock: opts.clock,
                    max_batch,
                    lock: &*lock,
                    latest: &l2,
                    health: &h2,
                    last_error: None,
                    backoff: FIRST_BACKOFF,
                    next_attempt: Instant::now(),
                    needed: 0,
                }
                .run(&rx);
            })
            .map_err(|e| Error::Stopped(format!("cannot start the sequencer thread: {e}")))?;
        Ok(Self {
            tx: Some(tx),
            thread: Some(thread),
            latest,
            health,
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

    /// Whether appends work now (see [`Health`]): after a transient failure (storage
    /// full) it is [`Health::Recovering`] until the sequencer reopened the log by itself.
    #[must_use]
    pub fn health(&self) -> Health {
        self.health
            .lock()
            .map_or(Health::Stopped(Fault::Integrity), |g| *g)
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

/// How long the sequencer waits before its first attempt to recover from a transient
/// failure; each failed attempt doubles it, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
/// Longest wait between attempts to recover.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// The sequencer thread's state.
struct Runner<'a> {
    /// The tree's right edge; `None` after a failed batch until reopened from the lock.
    state: Option<State>,
    /// To reopen it: identity, key, storage, clock, batch size.
    cfg: LogConfig,
    key: Arc<LogKey>,
    store: Arc<dyn TileStorage>,
    clock: Clock,
    max_batch: usize,
    lock: &'a dyn CheckpointLock,
    latest: &'a RwLock<Arc<SignedCheckpoint>>,
    health: &'a Mutex<Health>,
    /// The failure appends get while not ready.
    last_error: Option<Error>,
    backoff: Duration,
    /// When to try to reopen next (while `state` is `None` and the failure transient).
    next_attempt: Instant,
    /// Bytes the failed batch wrote (the size of the probe that shows space is back).
    needed: usize,
}

/// Key of the scratch object a recovering sequencer writes to see that storage works.
const PROBE_KEY: &str = "hallmark/probe";
/// Largest probe written.
const MAX_PROBE: usize = 64 << 20;

/// Writes `n` incompressible bytes durably under [`PROBE_KEY`] and deletes them.
fn probe(store: &dyn TileStorage, n: usize) -> Result<(), Error> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let data: Vec<u8> = (0..n.min(MAX_PROBE).div_ceil(8))
        .flat_map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()
        })
        .collect();
    let written = store.upload(PROBE_KEY, &data, Upload::Replace);
    let deleted = store.discard(PROBE_KEY);
    written.and(deleted)
}

impl Runner<'_> {
    fn set_health(&self, h: Health) {
        if let Ok(mut g) = self.health.lock() {
            *g = h;
        }
    }

    fn health(&self) -> Health {
        self.health.lock().map_or(Health::Ready, |g| *g)
    }

    /// A batch failed: drop the in-memory tree (it may hold the failed batch) and either
    /// retry later or stop for good.
    fn failed(&mut self, e: Error) {
        let h = Health::after(&e);
        match &e {
            Error::StorageFull { op, path } => eprintln!(
                "hallmark log: storage full ({op} {path}); appends fail until space returns"
            ),
            other => eprintln!("hallmark log: append failed: {other}"),
        }
        self.state = None;
        self.backoff = FIRST_BACKOFF;
        self.next_attempt = Instant::now() + self.backoff;
        self.last_error = Some(e);
        self.set_health(h);
    }

    /// Whether the tree is gone and a transient failure is to be retried.
    fn recovering(&self) -> bool {
        self.state.is_none() && matches!(self.health(), Health::Recovering(_))
    }

    /// Reopens if recovering and the backoff has passed.
    fn recover_if_due(&mut self) {
        if self.recovering() && Instant::now() >= self.next_attempt {
            self.recover();
        }
    }

    /// Reopens the tree from the lock's checkpoint and the stored tiles (which also
    /// rewrites the public checkpoint), after a durable write as large as the failed
    /// batch's shows storage takes it again.
    fn recover(&mut self) {
        let opened = probe(&*self.store, self.needed)
            .and_then(|()| self.lock.fetch())
            .and_then(|note| {
                let note =
                    note.ok_or_else(|| Error::Corrupt("the checkpoint lock is empty".into()))?;
                let committed = verify_own(&self.cfg, &self.key, &note)?;
                State::open(
                    self.cfg.clone(),
                    Arc::clone(&self.key),
                    Arc::clone(&self.store),
                    committed,
                    Arc::clone(&self.clock),
                    self.max_batch,
                )
            });
        match opened {
            Ok(state) => {
                if let Ok(mut g) = self.latest.write() {
                    *g = Arc::new(state.committed.clone());
                }
                self.state = Some(state);
                self.last_error = None;
                self.set_health(Health::Ready);
                eprintln!("hallmark log: recovered; appending again");
            }
            Err(e) => {
                self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                self.next_attempt = Instant::now() + self.backoff;
                if !e.is_transient() {
                    self.set_health(Health::after(&e));
                }
                self.last_error = Some(e);
            }
        }
    }

    fn refuse(&self, batch: Vec<Request>) {
        for r in batch {
            let e = match (&self.last_error, self.health()) {
                (Some(e), _) => e.for_waiter(),
                (None, h) => Error::Stopped(h.reason().unwrap_or("not ready").to_owned()),
            };
            let _ = r.reply.send(Err(e));
        }
    }

    fn run(mut self, rx: &Receiver<Request>) {
        loop {
            self.recover_if_due();
            let first = if self.recovering() {
                rx.recv_timeout(self.next_attempt.saturating_duration_since(Instant::now()))
            } else {
                rx.recv().map_err(|_| RecvTimeoutError::Disconnected)
            };
            let first = match first {
                Ok(r) => r,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => break,
            };
            let mut batch = vec![first];
            while batch.len() < self.max_batch {
                match rx.try_recv() {
                    Ok(r) => batch.push(r),
                    Err(_) => break,
                }
            }
            self.recover_if_due();
            let Some(state) = self.state.as_mut() else {
                self.refuse(batch);
                continue;
            };
            let needed = state.partial_bytes() + batch.iter().map(|r| r.body.len()).sum::<usize>();
            match process(state, self.lock, &batch) {
                Ok((cp, results)) => {
                    if let Ok(mut g) = self.latest.write() {
                        *g = Arc::clone(&cp);
                    }
                    for (r, res) in batch.into_iter().zip(results) {
                        let _ = r.reply.send(res);
                    }
                    state.clean_up();
                }
                Err(e) => {
                    let replies: Vec<Error> = batch.iter().map(|_| e.for_waiter()).collect();
                    self.needed = needed;
                    // Health first: a submitter that got the error sees it at once.
                    self.failed(e);
                    for (r, e) in batch.into_iter().zip(replies) {
                        let _ = r.reply.send(Err(e));
                    }
                }
            }
        }
    }
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
