//! Several replicas, one log: the shared sequencer's protocol against an in-memory
//! coordinator with the same semantics as the PostgreSQL one (fenced commit, expiring
//! lease, queue). Scenario names say what a replica does wrong.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hallmark_tlog::layout::LeaseClock;
use hallmark_tlog::mem::{MemCoordinator, MemTiles};
use hallmark_tlog::merkle::{leaf_hash, verify_inclusion};
use hallmark_tlog::{
    Coordinator, DirStore, Error, LogKey, SharedOptions, SharedSequencer, TileFetch, TileStorage,
    Upload, audit,
};

use crate::cfg;

/// Lease time that stands still: a lease here ends only when a test ends it
/// (`MemCoordinator::expire`, dropping the holder), never because a loaded machine stalled
/// a holder past its TTL. `a_busy_holder_keeps_its_lease` drives time by hand instead.
fn frozen_lease_clock() -> LeaseClock {
    Arc::new(|| Duration::ZERO)
}

/// A coordinator on the frozen lease clock.
fn coordinator() -> Arc<MemCoordinator> {
    Arc::new(MemCoordinator::with_lease_clock(frozen_lease_clock()))
}

fn opts(holder: &str) -> SharedOptions {
    let mut o = SharedOptions::new(holder);
    o.lease_ttl = Duration::from_millis(400);
    o.append_timeout = Duration::from_secs(30);
    o.lease_clock = frozen_lease_clock();
    o
}

fn replica(
    key: &Arc<LogKey>,
    store: &Arc<dyn TileStorage>,
    coord: &Arc<MemCoordinator>,
    holder: &str,
) -> SharedSequencer {
    replica_with(key, store, coord, opts(holder))
}

fn replica_with(
    key: &Arc<LogKey>,
    store: &Arc<dyn TileStorage>,
    coord: &Arc<MemCoordinator>,
    opts: SharedOptions,
) -> SharedSequencer {
    SharedSequencer::open(
        cfg(),
        Arc::clone(key),
        Arc::clone(store),
        Arc::clone(coord) as Arc<dyn Coordinator>,
        opts,
    )
    .unwrap()
}

/// Audits the log from its tiles once the holder published the checkpoint of `size` (it
/// does so just after the commit that acknowledged the last entry).
fn check_log(store: &Arc<dyn TileStorage>, key: &LogKey, size: u64) {
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
    let key = Arc::new(LogKey::generate(hallmark_tlog::LogKeyType::EcdsaP256).unwrap());
    let store: Arc<dyn TileStorage> = Arc::new(DirStore::open(dir.path()).unwrap());
    let coord = coordinator();
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
    let key = Arc::new(LogKey::generate(hallmark_tlog::LogKeyType::EcdsaP256).unwrap());
    let tiles = Arc::new(MemTiles::new());
    let store: Arc<dyn TileStorage> = Arc::clone(&tiles) as Arc<dyn TileStorage>;
    let coord = coordinator();
    let a = replica(&key, &store, &coord, "a");
    a.append(b"first").unwrap();
    // Acknowledged at commit; its tiles follow at once.
    check_log(&store, &key, 1);
    tiles.fail_uploads_under(Some("tile/"));
    let id = coord.enqueue(b"second").unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while coord.status(id).unwrap().is_none() {
        assert!(Instant::now() < deadline, "a never committed");
        std::thread::sleep(Duration::from_millis(5));
    }
    // Committed at size 2, but its tiles never reached their keys.
    assert!(store.fetch("tile/0/000.p/2").unwrap().is_none());
    drop(a);
    // It died holding the lease (its last turns failed): the lease runs out.
    coord.expire();
    tiles.fail_uploads_under(None);
    // And a batch some holder staged but never committed.
    store
        .upload(
            "hallmark/staging/9-0011223344556677-1",
            b"",
            Upload::Replace,
        )
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
    let key = Arc::new(LogKey::generate(hallmark_tlog::LogKeyType::EcdsaP256).unwrap());
    let store: Arc<dyn TileStorage> = Arc::new(DirStore::open(dir.path()).unwrap());
    let coord = coordinator();
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
    let key = Arc::new(LogKey::generate(hallmark_tlog::LogKeyType::EcdsaP256).unwrap());
    let store: Arc<dyn TileStorage> = Arc::new(DirStore::open(dir.path()).unwrap());
    let coord = coordinator();
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
    let store: Arc<dyn TileStorage> = Arc::new(DirStore::open(dir.path()).unwrap());
    let coord = coordinator();
    let _a = replica(
        &Arc::new(LogKey::generate(hallmark_tlog::LogKeyType::EcdsaP256).unwrap()),
        &store,
        &coord,
        "a",
    );
    let other = SharedSequencer::open(
        cfg(),
        Arc::new(LogKey::generate(hallmark_tlog::LogKeyType::EcdsaP256).unwrap()),
        Arc::clone(&store),
        Arc::clone(&coord) as Arc<dyn Coordinator>,
        opts("b"),
    );
    assert!(matches!(other, Err(Error::BadCheckpoint(_))), "{other:?}");
}

#[test]
fn a_busy_holder_keeps_its_lease() {
    // Lease time is a hand-driven clock shared by the coordinator and both replicas: the
    // lease runs out by commits, not by how fast (or loaded) the machine is.
    let millis = Arc::new(AtomicU64::new(0));
    let clock: LeaseClock = {
        let millis = Arc::clone(&millis);
        Arc::new(move || Duration::from_millis(millis.load(Ordering::SeqCst)))
    };
    let dir = tempfile::tempdir().unwrap();
    let key = Arc::new(LogKey::generate(hallmark_tlog::LogKeyType::EcdsaP256).unwrap());
    let store: Arc<dyn TileStorage> = Arc::new(DirStore::open(dir.path()).unwrap());
    let coord = Arc::new(MemCoordinator::with_lease_clock(Arc::clone(&clock)));
    let busy = |holder| {
        let mut o = opts(holder);
        o.lease_ttl = Duration::from_secs(1);
        o.lease_clock = Arc::clone(&clock);
        replica_with(&key, &store, &coord, o)
    };
    let a = busy("a");
    a.append(b"first").unwrap();
    let b = busy("b");
    // Five lease lifetimes pass, a quarter of one after each commit: unless the holder
    // renews between commits, the lease runs out and "b" takes it (bumping the epoch).
    for i in 0..20 {
        let r = if i % 2 == 0 { &a } else { &b };
        assert_eq!(r.append(format!("{i}").as_bytes()).unwrap().index, i + 1);
        millis.fetch_add(250, Ordering::SeqCst);
    }
    // "b" polls for a lapsed lease every fifth of the TTL in real time: give it two turns.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(coord.epoch(), 1, "the lease changed hands under load");
    assert!(a.is_sequencing() && !b.is_sequencing());
    check_log(&store, &key, 21);
}
