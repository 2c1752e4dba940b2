//! Log bytes on disk (issue 15, finding 1) and a full disk (finding 6): superseded partial
//! tiles are deleted, readers of older checkpoints still find their data, leftovers are
//! swept, and a sequencer whose storage filled up recovers by itself.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use hallmark_tlog::api::{ApiState, router};
use hallmark_tlog::mem::{MemCoordinator, MemLock, MemTiles};
use hallmark_tlog::merkle::verify_inclusion;
use hallmark_tlog::tile::{TilePath, TileReader, encode_bundle};
use hallmark_tlog::{
    CheckpointLock, Error, Fault, Health, LogKey, LogReader, Options, Sequencer, SharedOptions,
    SharedSequencer, TileFetch, TileStorage, Upload,
};

use crate::api::get;
use crate::{cfg, dir_log, fill};

/// The attack's entry size (issue 15: 62 KB anonymous entries).
const ENTRY: usize = 62_000;

fn mem_log(store: &Arc<MemTiles>, lock: &Arc<MemLock>, key: &Arc<LogKey>) -> Sequencer {
    Sequencer::open(
        cfg(),
        Arc::clone(key),
        Arc::clone(store) as Arc<dyn TileStorage>,
        Arc::clone(lock) as Arc<dyn CheckpointLock>,
        Options::default(),
    )
    .unwrap()
}

fn entry(i: usize) -> Vec<u8> {
    let mut b = format!("entry {i} ").into_bytes();
    b.resize(ENTRY, b'x');
    b
}

fn partial_keys(store: &MemTiles) -> Vec<String> {
    store
        .keys()
        .into_iter()
        .filter(|k| k.contains(".p/"))
        .collect()
}

fn dir_bytes(p: &std::path::Path) -> u64 {
    std::fs::read_dir(p).map_or(0, |rd| {
        rd.flatten()
            .map(|e| match e.metadata() {
                Ok(m) if m.is_dir() => dir_bytes(&e.path()),
                Ok(m) => m.len(),
                Err(_) => 0,
            })
            .sum()
    })
}

/// The attack: N anonymous entries of 62 KB, one batch each (the worst case: every
/// append rewrites the partial bundle). Bytes stored must stay within
/// 1.01 × N × size + 64 KiB; without deletion they were Σ k·size (quadratic).
#[test]
fn log_bytes_grow_linearly_with_entries() {
    for n in [100usize, 256, 300] {
        let key = Arc::new(LogKey::generate(hallmark_tlog::LogKeyType::EcdsaP256).unwrap());
        let (store, lock) = (Arc::new(MemTiles::new()), Arc::new(MemLock::default()));
        let seq = mem_log(&store, &lock, &key);
        let before = store.bytes();
        for i in 0..n {
            seq.append(entry(i)).unwrap();
        }
        // Superseded partials go right after the submitters are answered: let the
        // sequencer finish (dropping it joins its thread).
        drop(seq);
        let stored = store.bytes() - before;
        let bound = (n * ENTRY) as u64 * 101 / 100 + 64 * 1024;
        eprintln!(
            "{n} entries of {ENTRY} B: {stored} B stored ({:.0} B/entry), {} B written in all (kept before the fix)",
            stored as f64 / n as f64,
            store.bytes_written()
        );
        assert!(
            stored <= bound,
            "{n} entries: {stored} B stored > bound {bound}"
        );
        // One partial object per series at most: hash tiles of levels 0 and 1, the
        // bundle and the time sidecar.
        assert!(
            partial_keys(&store).len() <= 4,
            "{:?}",
            partial_keys(&store)
        );
    }
}

/// The same on the directory store, the one-node default (bytes of the files).
#[test]
fn directory_log_bytes_grow_linearly() {
    let dir = tempfile::tempdir().unwrap();
    let key = Arc::new(LogKey::generate(hallmark_tlog::LogKeyType::EcdsaP256).unwrap());
    let (seq, _store) = dir_log(dir.path(), &key, Options::default());
    let before = dir_bytes(dir.path());
    let n = 100;
    for i in 0..n {
        seq.append(entry(i)).unwrap();
    }
    drop(seq);
    let stored = dir_bytes(dir.path()) - before;
    eprintln!(
        "directory log, {n} entries of {ENTRY} B: {stored} B ({:.0} B/entry)",
        stored as f64 / n as f64
    );
    assert!(
        stored <= (n * ENTRY) as u64 * 101 / 100 + 64 * 1024,
        "{stored}"
    );
}

/// Deleting a superseded partial must not strand a reader that verified the checkpoint
/// naming it: the read API serves it cut from the wider object, readers decode it.
#[test]
fn readers_of_older_checkpoints_still_get_their_partials() {
    let key = Arc::new(LogKey::generate(hallmark_tlog::LogKeyType::EcdsaP256).unwrap());
    let (store, lock) = (Arc::new(MemTiles::new()), Arc::new(MemLock::default()));
    let seq = mem_log(&store, &lock, &key);
    let bodies: Vec<Vec<u8>> = (0..7).map(|i| format!("e{i}").into_bytes()).collect();
    let mut old_tile = Vec::new();
    for (i, b) in bodies.iter().enumerate() {
        seq.append(b.clone()).unwrap();
        if i == 4 {
            old_tile = store
                .fetch(&TilePath::hash(0, 0, 5).key())
                .unwrap()
                .unwrap();
        }
    }
    assert_eq!(store.fetch("tile/0/000.p/5").unwrap(), None, "superseded");
    assert_eq!(store.fetch("tile/entries/000.p/5").unwrap(), None);
    let fetch: Arc<dyn TileFetch> = Arc::clone(&store) as Arc<dyn TileFetch>;
    let app = router(Arc::new(ApiState {
        fetch: Arc::clone(&fetch),
        reader: LogReader::new(Arc::clone(&fetch), cfg(), key.verifier().clone()),
        key: None,
    }));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (s, tile) = rt.block_on(get(&app, "/tile/0/000.p/5"));
    assert_eq!((s, &tile), (StatusCode::OK, &old_tile));
    let (s, bundle) = rt.block_on(get(&app, "/tile/entries/000.p/5"));
    assert_eq!((s, bundle), (StatusCode::OK, encode_bundle(&bodies[..5])));
    // Wider than anything committed: a clear miss.
    let (s, _) = rt.block_on(get(&app, "/tile/0/000.p/9"));
    assert_eq!(s, StatusCode::NOT_FOUND);
    // A tile reader at the old size decodes its 5 hashes from the wider tile.
    let mut r = TileReader::new(fetch, 5);
    assert_eq!(r.tile(0, 0).unwrap().hashes().len(), 5);
    drop(seq);
}

/// A crash between publishing a checkpoint and deleting what it superseded leaves
/// garbage; the next start sweeps it and keeps what the checkpoint references.
#[test]
fn leftover_partials_are_swept_at_start() {
    let key = Arc::new(LogKey::generate(hallmark_tlog::LogKeyType::EcdsaP256).unwrap());
    let (store, lock) = (Arc::new(MemTiles::new()), Arc::new(MemLock::default()));
    {
        let seq = mem_log(&store, &lock, &key);
        fill(&seq, "a", 300);
    }
    // What a crash could leave: superseded partials of earlier checkpoints, a partial
    // beside a full tile, widths of a batch that never committed.
    for k in [
        "tile/0/000.p/17",
        "tile/entries/000.p/17",
        "hallmark/time/000.p/17",
        "tile/0/001.p/3",
        "tile/0/001.p/90",
        "tile/entries/001.p/90",
    ] {
        store.upload(k, b"junk", Upload::Replace).unwrap();
    }
    let seq = mem_log(&store, &lock, &key);
    let mut left = partial_keys(&store);
    left.sort();
    assert_eq!(
        left,
        [
            "hallmark/time/001.p/44",
            "tile/0/001.p/44",
            "tile/1/000.p/1",
            "tile/entries/001.p/44"
        ]
    );
    fill(&seq, "b", 10);
    assert!(seq.health().is_ready());
}

/// The replicated sequencer deletes superseded partials too.
#[test]
fn shared_log_keeps_one_partial_per_series() {
    let key = Arc::new(LogKey::generate(hallmark_tlog::LogKeyType::EcdsaP256).unwrap());
    let store = Arc::new(MemTiles::new());
    let coord = Arc::new(MemCoordinator::default());
    let seq = SharedSequencer::open(
        cfg(),
        Arc::clone(&key),
        Arc::clone(&store) as Arc<dyn TileStorage>,
        coord,
        SharedOptions::new("r1"),
    )
    .unwrap();
    let n = 40;
    for i in 0..n {
        seq.append(&entry(i)).unwrap();
    }
    seq.stop();
    let stored: u64 = store
        .keys()
        .iter()
        .filter(|k| !k.starts_with("hallmark/staging/"))
        .map(|k| store.fetch(k).unwrap().map_or(0, |d| d.len() as u64))
        .sum();
    assert!(
        partial_keys(&store).len() <= 3,
        "{:?}",
        partial_keys(&store)
    );
    assert!(
        stored <= (n * ENTRY) as u64 * 101 / 100 + 64 * 1024,
        "{stored} B for {n} entries"
    );
}

fn wait_until_ready(seq: &Sequencer) {
    // Backoff tops out at 2 s: 60 s is 30× headroom on a loaded machine.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !seq.health().is_ready() {
        assert!(Instant::now() < deadline, "still {:?}", seq.health());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Finding 6: the disk fills up. The append fails with the typed error (507 upstream),
/// health says why, appends fail fast meanwhile; once space returns the sequencer
/// reopens the log by itself and the next append succeeds, no restart.
#[test]
fn a_full_disk_fails_appends_then_the_sequencer_recovers_by_itself() {
    let key = Arc::new(LogKey::generate(hallmark_tlog::LogKeyType::EcdsaP256).unwrap());
    let (store, lock) = (Arc::new(MemTiles::new()), Arc::new(MemLock::default()));
    let seq = mem_log(&store, &lock, &key);
    fill(&seq, "a", 10);
    assert_eq!(seq.health(), Health::Ready);
    store.set_capacity(Some(store.bytes() + 1000));
    let e = seq.append(entry(10)).unwrap_err();
    assert!(matches!(e, Error::StorageFull { .. }), "{e:?}");
    assert!(!e.to_string().contains("tile/"), "no object key: {e}");
    assert_eq!(seq.health(), Health::Recovering(Fault::StorageFull));
    assert_eq!(seq.health().reason(), Some("log storage full"));
    // Still full: every append fails with the same typed error, none is lost or doubled.
    for i in 0..3 {
        let e = seq.append(entry(100 + i)).unwrap_err();
        assert!(e.is_storage_full(), "{e:?}");
    }
    assert!(!seq.health().is_ready());
    assert_eq!(seq.latest().checkpoint.size, 10);
    store.set_capacity(None);
    wait_until_ready(&seq);
    let a = seq.append(entry(11)).unwrap();
    assert_eq!(a.index, 10, "the failed entries were not logged");
    let cp = &a.checkpoint.checkpoint;
    verify_inclusion(&a.leaf, a.index, cp.size, &a.proof, &cp.root).unwrap();
    let reader = LogReader::new(
        Arc::clone(&store) as Arc<dyn TileFetch>,
        cfg(),
        key.verifier().clone(),
    );
    assert_eq!(reader.entry(9).unwrap().0, b"a-9");
    assert_eq!(reader.entry(10).unwrap().0, entry(11));
}

/// Out-of-space I/O errors become the typed error, without the path in the message.
#[test]
fn enospc_is_storage_full_and_names_no_path() {
    use std::io::{Error as IoError, ErrorKind};
    let wrapped = IoError::other(IoError::from(ErrorKind::StorageFull));
    assert!(hallmark_tlog::is_out_of_space(&wrapped));
    assert!(!hallmark_tlog::is_out_of_space(&IoError::from(
        ErrorKind::NotFound
    )));
}
