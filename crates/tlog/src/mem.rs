//! In-memory backends with the contracts of the real ones, for tests of the sequencers
//! and of code built on them: [`MemTiles`] (a [`TileStorage`] that can be told to fail
//! uploads, as a holder dying mid-write would), [`MemLock`] (a [`CheckpointLock`]) and
//! [`MemCoordinator`] (a [`Coordinator`] with the PostgreSQL one's semantics: fenced
//! commit, expiring lease, queue). Nothing here is durable.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::error::Error;
use crate::layout::{LeaseClock, monotonic_clock};
use crate::shared::{BatchCommit, Committed, Coordinator, Lease, Sequenced};
use crate::store::{CheckpointLock, TileStorage, Upload, Uploaded, compare_existing};
use crate::tile::TileFetch;

fn guard<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Objects in a map. Uploads under a prefix set with [`MemTiles::fail_uploads_under`]
/// fail, and uploads past a capacity set with [`MemTiles::set_capacity`] fail with
/// [`Error::StorageFull`] (fault injection: a holder dying mid-write, a full disk).
#[derive(Debug, Default)]
pub struct MemTiles {
    objects: Mutex<BTreeMap<String, Vec<u8>>>,
    failing: Mutex<Option<String>>,
    capacity: Mutex<Option<u64>>,
    written: std::sync::atomic::AtomicU64,
}

impl MemTiles {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// From now on, uploads of keys starting with `prefix` fail with
    /// [`Error::Storage`] (`None`: none fail).
    pub fn fail_uploads_under(&self, prefix: Option<&str>) {
        *guard(&self.failing) = prefix.map(str::to_owned);
    }

    /// From now on, an upload that would make the stored bytes exceed `bytes` fails with
    /// [`Error::StorageFull`] (`None`: unlimited).
    pub fn set_capacity(&self, bytes: Option<u64>) {
        *guard(&self.capacity) = bytes;
    }

    /// Bytes stored (object data, not keys).
    #[must_use]
    pub fn bytes(&self) -> u64 {
        guard(&self.objects).values().map(|d| d.len() as u64).sum()
    }

    /// Bytes ever written (what the store would hold had nothing been deleted or replaced).
    #[must_use]
    pub fn bytes_written(&self) -> u64 {
        self.written.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Every stored key, sorted.
    #[must_use]
    pub fn keys(&self) -> Vec<String> {
        guard(&self.objects).keys().cloned().collect()
    }
}

impl TileFetch for MemTiles {
    fn fetch(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        Ok(guard(&self.objects).get(key).cloned())
    }
}

impl TileStorage for MemTiles {
    fn upload(&self, key: &str, data: &[u8], mode: Upload) -> Result<Uploaded, Error> {
        if guard(&self.failing)
            .as_deref()
            .is_some_and(|p| key.starts_with(p))
        {
            return Err(Error::Storage {
                op: "upload (injected failure)",
                reason: key.to_owned(),
            });
        }
        let mut objects = guard(&self.objects);
        if mode == Upload::IfAbsent
            && let Some(existing) = objects.get(key)
        {
            return Ok(compare_existing(existing, data));
        }
        if let Some(cap) = *guard(&self.capacity) {
            let stored: u64 = objects.values().map(|d| d.len() as u64).sum();
            let freed = objects.get(key).map_or(0, |d| d.len() as u64);
            if stored - freed + data.len() as u64 > cap {
                return Err(Error::StorageFull {
                    op: "upload (injected: over capacity)",
                    path: key.to_owned(),
                });
            }
        }
        objects.insert(key.to_owned(), data.to_vec());
        self.written
            .fetch_add(data.len() as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(Uploaded::Written)
    }

    fn discard(&self, key: &str) -> Result<(), Error> {
        guard(&self.objects).remove(key);
        Ok(())
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, Error> {
        Ok(guard(&self.objects)
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect())
    }
}

/// A checkpoint in memory.
#[derive(Debug, Default)]
pub struct MemLock(Mutex<Option<String>>);

impl CheckpointLock for MemLock {
    fn fetch(&self) -> Result<Option<String>, Error> {
        Ok(guard(&self.0).clone())
    }

    fn create(&self, note: &str) -> Result<(), Error> {
        let mut g = guard(&self.0);
        if g.is_some() {
            return Err(Error::LockConflict { log: "mem".into() });
        }
        *g = Some(note.to_owned());
        Ok(())
    }

    fn replace(&self, old: &str, new: &str) -> Result<(), Error> {
        let mut g = guard(&self.0);
        if g.as_deref() != Some(old) {
            return Err(Error::LockConflict { log: "mem".into() });
        }
        *g = Some(new.to_owned());
        Ok(())
    }
}

/// A queued entry and, once sequenced, its status.
type Queued = (Vec<u8>, Option<Sequenced>);

#[derive(Debug, Default)]
struct CoordState {
    note: Option<String>,
    staging: Option<String>,
    holder: Option<String>,
    epoch: i64,
    until: Option<Duration>,
    queue: Vec<Queued>,
}

/// The [`Coordinator`] contract in memory, timing leases by a [`LeaseClock`].
pub struct MemCoordinator {
    state: Mutex<CoordState>,
    clock: LeaseClock,
}

impl Default for MemCoordinator {
    fn default() -> Self {
        Self::with_lease_clock(monotonic_clock())
    }
}

impl std::fmt::Debug for MemCoordinator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemCoordinator")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl MemCoordinator {
    /// A coordinator whose leases run out by `clock` (give the sequencers the same one).
    #[must_use]
    pub fn with_lease_clock(clock: LeaseClock) -> Self {
        Self {
            state: Mutex::default(),
            clock,
        }
    }

    fn now(&self) -> Duration {
        (self.clock)()
    }

    /// Ends the current lease now (a holder that stalled past its TTL).
    pub fn expire(&self) {
        let now = self.now();
        guard(&self.state).until = Some(now);
    }

    /// The lease's fencing epoch.
    #[must_use]
    pub fn epoch(&self) -> i64 {
        guard(&self.state).epoch
    }

    /// The lease holder, if any.
    #[must_use]
    pub fn holder(&self) -> Option<String> {
        guard(&self.state).holder.clone()
    }
}

fn queue_slot(id: i64) -> Result<usize, Error> {
    usize::try_from(id).map_err(|_| Error::Corrupt(format!("queue id {id}")))
}

impl Coordinator for MemCoordinator {
    fn init(&self, empty_note: &str) -> Result<(), Error> {
        guard(&self.state)
            .note
            .get_or_insert_with(|| empty_note.to_owned());
        Ok(())
    }

    fn acquire(&self, holder: &str, ttl: Duration) -> Result<Option<(Lease, Committed)>, Error> {
        let now = self.now();
        let mut s = guard(&self.state);
        let free = s.holder.as_deref() == Some(holder) || s.until.is_none_or(|u| u <= now);
        let Some(note) = s.note.clone().filter(|_| free) else {
            return Ok(None);
        };
        s.epoch += 1;
        s.holder = Some(holder.to_owned());
        s.until = Some(now + ttl);
        let lease = Lease {
            holder: holder.to_owned(),
            epoch: s.epoch,
        };
        let staging = s.staging.clone();
        Ok(Some((lease, Committed { note, staging })))
    }

    fn renew(&self, lease: &Lease, ttl: Duration) -> Result<bool, Error> {
        let now = self.now();
        let mut s = guard(&self.state);
        let held = s.holder.as_deref() == Some(&lease.holder) && s.epoch == lease.epoch;
        if held {
            s.until = Some(now + ttl);
        }
        Ok(held)
    }

    fn release(&self, lease: &Lease) -> Result<(), Error> {
        let mut s = guard(&self.state);
        if s.holder.as_deref() == Some(&lease.holder) && s.epoch == lease.epoch {
            s.until = None;
        }
        Ok(())
    }

    fn enqueue(&self, body: &[u8]) -> Result<i64, Error> {
        let mut s = guard(&self.state);
        s.queue.push((body.to_vec(), None));
        i64::try_from(s.queue.len() - 1).map_err(|_| Error::Corrupt("queue overflow".into()))
    }

    fn pending(&self, max: usize) -> Result<Vec<(i64, Vec<u8>)>, Error> {
        let s = guard(&self.state);
        Ok(s.queue
            .iter()
            .zip(0i64..)
            .filter(|((_, st), _)| st.is_none())
            .take(max)
            .map(|((b, _), i)| (i, b.clone()))
            .collect())
    }

    fn commit(&self, b: &BatchCommit<'_>) -> Result<(), Error> {
        let mut s = guard(&self.state);
        let fenced = s.holder.as_deref() != Some(&b.lease.holder) || s.epoch != b.lease.epoch;
        if fenced || s.note.as_deref() != Some(b.old_note) {
            return Err(Error::LockConflict { log: "mem".into() });
        }
        let slots = b
            .ids
            .iter()
            .map(|&id| queue_slot(id))
            .collect::<Result<Vec<_>, _>>()?;
        if slots
            .iter()
            .any(|&k| s.queue.get(k).is_none_or(|e| e.1.is_some()))
        {
            return Err(Error::Corrupt(
                "a committed entry is unknown or was sequenced already".into(),
            ));
        }
        s.note = Some(b.new_note.to_owned());
        s.staging = Some(b.staging.to_owned());
        for ((k, slot), proof) in slots.into_iter().enumerate().zip(b.proofs) {
            s.queue[slot].1 = Some(Sequenced {
                index: b.first_index + k as u64,
                integrated_time: b.integrated_time,
                proof: proof.clone(),
                note: b.new_note.to_owned(),
            });
        }
        Ok(())
    }

    fn status(&self, id: i64) -> Result<Option<Sequenced>, Error> {
        let s = guard(&self.state);
        let e = s
            .queue
            .get(queue_slot(id)?)
            .ok_or_else(|| Error::Corrupt(format!("queued log entry {id} vanished")))?;
        Ok(e.1.clone())
    }

    fn latest(&self) -> Result<Option<String>, Error> {
        Ok(guard(&self.state).note.clone())
    }
}

/// Checks what every [`TileStorage`] promises, on an empty one (for backends' tests):
/// put-if-absent outcomes, replace, batches, staging listing, discard, publish.
///
/// # Errors
/// The first broken promise, described.
pub fn check_storage_contract(s: &dyn TileStorage) -> Result<(), String> {
    let expect = |what: &str, ok: bool| if ok { Ok(()) } else { Err(what.to_owned()) };
    let e = |e: Error| e.to_string();
    for (data, outcome) in [
        (b"one", Uploaded::Written),
        (b"one", Uploaded::Identical),
        (b"two", Uploaded::Differs),
    ] {
        let got = s.upload("tile/0/000", data, Upload::IfAbsent).map_err(e)?;
        expect(
            &format!("upload-if-absent gave {got:?}, not {outcome:?}"),
            got == outcome,
        )?;
    }
    let read = |k: &str| s.fetch(k).map_err(e);
    expect(
        "a Differs upload wrote",
        read("tile/0/000")? == Some(b"one".to_vec()),
    )?;
    s.upload("tile/0/000", b"two", Upload::Replace).map_err(e)?;
    expect(
        "replace did not write",
        read("tile/0/000")? == Some(b"two".to_vec()),
    )?;
    expect("a missing key was found", read("tile/0/001")?.is_none())?;
    let batch = [
        ("tile/0/000".to_owned(), b"two".to_vec()),
        ("tile/0/001".to_owned(), b"new".to_vec()),
    ];
    let got = s.upload_all(&batch, Upload::IfAbsent).map_err(e)?;
    expect(
        &format!("batch outcomes {got:?}"),
        got == [Uploaded::Identical, Uploaded::Written],
    )?;
    let staging = "hallmark/staging/1-aa-1";
    s.upload(staging, b"s", Upload::Replace).map_err(e)?;
    let listed = s.list("hallmark/staging/").map_err(e)?;
    expect(&format!("listed {listed:?}"), listed == [staging])?;
    s.discard(staging).map_err(e)?;
    s.discard(staging).map_err(e)?;
    expect("discard left the object", read(staging)?.is_none())?;
    s.upload("checkpoint", b"c", Upload::Publish).map_err(e)?;
    expect(
        "publish did not write",
        read("checkpoint")? == Some(b"c".to_vec()),
    )
}

/// Checks what every [`CheckpointLock`] promises, on a fresh one (for backends' tests).
///
/// # Errors
/// The first broken promise, described.
pub fn check_lock_contract(l: &dyn CheckpointLock) -> Result<(), String> {
    let conflict = |r: Result<(), Error>| matches!(r, Err(Error::LockConflict { .. }));
    let e = |e: Error| e.to_string();
    if l.fetch().map_err(e)?.is_some() {
        return Err("a fresh lock holds a checkpoint".into());
    }
    l.create("a").map_err(e)?;
    if !conflict(l.create("b")) {
        return Err("a second create was not a conflict".into());
    }
    if !conflict(l.replace("x", "b")) {
        return Err("replacing a note that is not stored was not a conflict".into());
    }
    l.replace("a", "b").map_err(e)?;
    if l.fetch().map_err(e)?.as_deref() != Some("b") {
        return Err("replace did not store the new note".into());
    }
    Ok(())
}
