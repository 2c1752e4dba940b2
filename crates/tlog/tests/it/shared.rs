//! Several replicas, one log: the shared sequencer's protocol against an in-memory
//! coordinator with the same semantics as the PostgreSQL one (fenced commit, expiring
//! lease, queue). Scenario names say what a replica does wrong.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hallmark_tlog::merkle::{leaf_hash, verify_inclusion};
use hallmark_tlog::shared::{BatchCommit, Committed, Lease, Sequenced};
use hallmark_tlog::{
    Coordinator, DirStore, Error, LogKey, ObjectStore, PutOutcome, SharedOptions, SharedSequencer,
    TileFetch, audit,
};

use crate::cfg;

/// A queued entry and, once sequenced, its status.
type Queued = (Vec<u8>, Option<Sequenced>);

#[derive(Default)]
struct MemState {
    note: Option<String>,
    staging: Option<String>,
    holder: Option<String>,
    epoch: i64,
    until: Option<Instant>,
    queue: Vec<Queued>,
}

/// The coordinator contract in memory.
#[derive(Default)]
pub struct MemCoordinator(Mutex<MemState>);

impl MemCoordinator {
    /// Ends the current lease now (a holder that stalled past its TTL).
    fn expire(&self) {
        self.0.lock().unwrap().until = Some(Instant::now());
    }

    fn epoch(&self) -> i64 {
        self.0.lock().unwrap().epoch
    }

    fn holder(&self) -> Option<String> {
        self.0.lock().unwrap().holder.clone()
    }
}

impl Coordinator for MemCoordinator {
    fn init(&self, empty_note: &str) -> Result<(), Error> {
        let mut s = self.0.lock().unwrap();
        if s.note.is_none() {
            s.note = Some(empty_note.to_owned());
        }
        Ok(())
    }

    fn acquire(&self, holder: &str, ttl: Duration) -> Result<Option<(Lease, Committed)>, Error> {
        let mut s = self.0.lock().unwrap();
        let free =
            s.holder.as_deref() == Some(holder) || s.until.is_none_or(|u| u <= Instant::now());
        if !free {
            return Ok(None);
        }
        s.epoch += 1;
        s.holder = Some(holder.to_owned());
        s.until = Some(Instant::now() + ttl);
        Ok(Some((
            Lease {
                holder: holder.to_owned(),
                epoch: s.epoch,
            },
            Committed {
                note: s.note.clone().unwrap(),
                staging: s.staging.clone(),
            },
        )))
    }

    fn renew(&self, lease: &Lease, ttl: Duration) -> Result<bool, Error> {
        let mut s = self.0.lock().unwrap();
        if s.holder.as_deref() == Some(&lease.holder) && s.epoch == lease.epoch {
            s.until = Some(Instant::now() + ttl);
            return Ok(true);
        }
        Ok(false)
    }

    fn release(&self, lease: &Lease) -> Result<(), Error> {
        let mut s = self.0.lock().unwrap();
        if s.holder.as_deref() == Some(&lease.holder) && s.epoch == lease.epoch {
            s.until = None;
        }
        Ok(())
    }

    fn enqueue(&self, body: &[u8]) -> Result<i64, Error> {
        let mut s = self.0.lock().unwrap();
        s.queue.push((body.to_vec(), None));
        Ok(s.queue.len() as i64 - 1)
    }

    fn pending(&self, max: usize) -> Result<Vec<(i64, Vec<u8>)>, Error> {
        let s = self.0.lock().unwrap();
        Ok(s.queue
            .iter()
            .enumerate()
            .filter(|(_, (_, st))| st.is_none())
            .take(max)
            .map(|(i, (b, _))| (i as i64, b.clone()))
            .collect())
    }

    fn commit(&self, b: &BatchCommit<'_>) -> Result<(), Error> {
        let mut s = self.0.lock().unwrap();
        let fenced = s.holder.as_deref() != Some(&b.lease.holder) || s.epoch != b.lease.epoch;
        if fenced || s.note.as_deref() != Some(b.old_note) {
            return Err(Error::LockConflict { log: "mem".into() });
        }
        s.note = Some(b.new_note.to_owned());
        s.staging = Some(b.staging.to_owned());
        for (k, id) in b.ids.iter().enumerate() {
            let e = &mut s.queue[usize::try_from(*id).unwrap()];
            assert!(e.1.is_none(), "entry {id} sequenced twice");
            e.1 = Some(Sequenced {
                index: b.first_index + k as u64,
                integrated_time: b.integrated_time,
                proof: b.proofs[k].clone(),
                note: b.new_note.to_owned(),
            });
        }
        Ok(())
    }

    fn status(&self, id: i64) -> Result<Option<Sequenced>, Error> {
        Ok(self.0.lock().unwrap().queue[usize::try_from(id).unwrap()]
            .1
            .clone())
    }

    fn latest(&self) -> Result<Option<String>, Error> {
        Ok(self.0.lock().unwrap().note.clone())
    }
}

/// A store whose tile writes fail while `broken` is set (a holder dying after its commit).
struct FlakyStore {
    inner: DirStore,
    broken: Mutex<bool>,
}

impl TileFetch for FlakyStore {
    fn fetch(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        self.inner.fetch(key)
    }
}

impl ObjectStore for FlakyStore {
    fn put_if_absent(&self, key: &str, data: &[u8]) -> Result<PutOutcome, Error> {
        self.inner.put_if_absent(key, data)
    }

    fn overwrite(&self, key: &str, data: &[u8]) -> Result<(), Error> {
        if *self.broken.lock().unwrap() && key.starts_with("tile/") {
            return Err(Error::Stopped(format!("injected failure writing {key}")));
        }
        self.inner.overwrite(key, data)
    }

    fn delete(&self, key: &str) -> Result<(), Error> {
        self.inner.delete(key)
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, Error> {
        self.inner.list(prefix)
    }
}

fn opts(holder: &str) -> SharedOptions {
    let mut o = SharedOptions::new(holder);
    o.lease_ttl = Duration::from_millis(400);
    o.append_timeout = Duration::from_secs(30);
    o
}

fn replica(
    key: &Arc<LogKey>,
    store: &Arc<dyn ObjectStore>,
    coord: &Arc<MemCoordinator>,
    holder: &str,
) -> SharedSequencer {
    SharedSequencer::open(
        cfg(),
        Arc::clone(key),
        Arc::clone(store),
        Arc::clone(coord) as Arc<dyn Coordinator>,
        opts(holder),
    )
    .unwrap()
}

/// Audits the log from its tiles once the holder published the checkpoint of `size` (it
/// does so just after the commit that acknowledged the last entry).
fn check_log(store: &Arc<dyn ObjectStore>, key: &LogKey, size: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let report = audit(
            Arc::clone(store) as Arc<dyn TileFetch>,
            key.verifier(),
            Some(&cfg().origin()),
            None,
        )
        .unwrap();
        if report.checkpoint.checkpoint.size == size {
            assert_eq!(report.entries_checked, size);
            return;
        }
        assert!(
            Instant::now() < deadline,
            "published size stays {}",
            report.checkpoint.checkpoint.size
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn three_replicas_sequence_every_entry_once() {
    let dir = tempfile::tempdir().unwrap();
    let key = Arc::new(LogKey::generate().unwrap());
    let store: Arc<dyn ObjectStore> = Arc::new(DirStore::open(dir.path()).unwrap());
    let coord = Arc::new(MemCoordinator::default());
    let replicas: Vec<_> = ["a", "b", "c"]
        .iter()
        .map(|h| replica(&key, &store, &coord, h))
        .collect();
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..12)
            .map(|t| {
                let r = &replicas[t % 3];
                s.spawn(move || {
                    (0..25)
                        .map(|i| {
                            let body = format!("entry {t}-{i}").into_bytes();
                            (r.append(&body).unwrap(), body)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let mut seen = HashSet::new();
    for (a, body) in &results {
        assert!(seen.insert(a.index), "index {} given twice", a.index);
        assert_eq!(a.leaf, leaf_hash(body));
        let cp = &a.checkpoint.checkpoint;
        verify_inclusion(&a.leaf, a.index, cp.size, &a.proof, &cp.root).unwrap();
    }
    assert_eq!(seen.len(), 300);
    assert_eq!(replicas.iter().filter(|r| r.is_sequencing()).count(), 1);
    check_log(&store, &key, 300);
}

#[test]
fn successor_writes_the_tiles_of_a_holder_that_died_after_its_commit() {
    let dir = tempfile::tempdir().unwrap();
    let key = Arc::new(LogKey::generate().unwrap());
    let flaky = Arc::new(FlakyStore {
        inner: DirStore::open(dir.path()).unwrap(),
        broken: Mutex::new(false),
    });
    let store: Arc<dyn ObjectStore> = Arc::new(DirStore::open(dir.path()).unwrap());
    let coord = Arc::new(MemCoordinator::default());
    let a = replica(
        &key,
        &(Arc::clone(&flaky) as Arc<dyn ObjectStore>),
        &coord,
        "a",
    );
    a.append(b"first").unwrap();
    // Acknowledged at commit; its tiles follow at once.
    check_log(&store, &key, 1);
    *flaky.broken.lock().unwrap() = true;
    let id = coord.enqueue(b"second").unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while coord.status(id).unwrap().is_none() {
        assert!(Instant::now() < deadline, "a never committed");
        std::thread::sleep(Duration::from_millis(5));
    }
    // Committed at size 2, but its tiles never reached their keys.
    assert!(store.fetch("tile/0/000.p/2").unwrap().is_none());
    drop(a);
    // And a batch some holder staged but never committed.
    store
        .overwrite("hallmark/staging/9-0011223344556677-1", b"")
        .unwrap();
    let b = replica(&key, &store, &coord, "b");
    let third = b.append(b"third").unwrap();
    assert_eq!(third.index, 2);
    check_log(&store, &key, 3);
    let staged = store.list("hallmark/staging/").unwrap();
    assert_eq!(staged.len(), 1, "orphaned staging objects left: {staged:?}");
}

#[test]
fn deposed_holder_cannot_commit_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let key = Arc::new(LogKey::generate().unwrap());
    let store: Arc<dyn ObjectStore> = Arc::new(DirStore::open(dir.path()).unwrap());
    let coord = Arc::new(MemCoordinator::default());
    let a = replica(&key, &store, &coord, "a");
    a.append(b"0").unwrap();
    assert_eq!(coord.holder().as_deref(), Some("a"));
    let b = replica(&key, &store, &coord, "b");
    // "a" stalls past its lease; "b" takes over and bumps the epoch: whatever "a" had
    // sequenced in memory cannot be committed any more.
    let mut indexes = HashSet::new();
    for round in 0..5 {
        coord.expire();
        std::thread::sleep(Duration::from_millis(150));
        let r = if round % 2 == 0 { &a } else { &b };
        for i in 0..10 {
            let x = r.append(format!("{round}-{i}").as_bytes()).unwrap();
            assert!(indexes.insert(x.index));
        }
    }
    assert_eq!(indexes.len(), 50);
    check_log(&store, &key, 51);
}

#[test]
fn clean_shutdown_hands_over_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let key = Arc::new(LogKey::generate().unwrap());
    let store: Arc<dyn ObjectStore> = Arc::new(DirStore::open(dir.path()).unwrap());
    let coord = Arc::new(MemCoordinator::default());
    let a = replica(&key, &store, &coord, "a");
    a.append(b"x").unwrap();
    let b = replica(&key, &store, &coord, "b");
    drop(a);
    let t = Instant::now();
    assert_eq!(b.append(b"y").unwrap().index, 1);
    assert!(b.is_sequencing());
    assert!(t.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_replica_with_another_log_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn ObjectStore> = Arc::new(DirStore::open(dir.path()).unwrap());
    let coord = Arc::new(MemCoordinator::default());
    let _a = replica(&Arc::new(LogKey::generate().unwrap()), &store, &coord, "a");
    let other = SharedSequencer::open(
        cfg(),
        Arc::new(LogKey::generate().unwrap()),
        Arc::clone(&store),
        Arc::clone(&coord) as Arc<dyn Coordinator>,
        opts("b"),
    );
    assert!(matches!(other, Err(Error::BadCheckpoint(_))), "{other:?}");
}

#[test]
fn a_busy_holder_keeps_its_lease() {
    let dir = tempfile::tempdir().unwrap();
    let key = Arc::new(LogKey::generate().unwrap());
    let store: Arc<dyn ObjectStore> = Arc::new(DirStore::open(dir.path()).unwrap());
    let coord = Arc::new(MemCoordinator::default());
    let a = replica(&key, &store, &coord, "a");
    a.append(b"first").unwrap();
    let b = replica(&key, &store, &coord, "b");
    // Commits every few milliseconds for five lease lifetimes: the holder must renew
    // between them, or "b" would take over (and bump the epoch) when the lease runs out.
    let end = Instant::now() + Duration::from_secs(2);
    std::thread::scope(|s| {
        for r in [&a, &b, &a] {
            s.spawn(move || {
                let mut i = 0;
                while Instant::now() < end {
                    r.append(format!("{i}").as_bytes()).unwrap();
                    i += 1;
                }
            });
        }
    });
    assert_eq!(coord.epoch(), 1, "the lease changed hands under load");
    assert!(a.is_sequencing() && !b.is_sequencing());
}
