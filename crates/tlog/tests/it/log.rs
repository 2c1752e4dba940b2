//! Sequencer and storage behaviour: batching, restart, both backends, refusals.

use std::sync::Arc;

use hallmark_tlog::merkle::{leaf_hash, verify_inclusion};
use hallmark_tlog::tile::{TileKind, TilePath};
use hallmark_tlog::{
    CheckpointLock, DirLock, Error, LogKey, ObjectStore, Options, PutOutcome, Sequencer,
    SqliteLock, SqliteStore, TileFetch,
};

use crate::{cfg, dir_log, fill};

#[test]
fn concurrent_submitters_get_durable_verifiable_proofs() {
    let dir = tempfile::tempdir().unwrap();
    let key = Arc::new(LogKey::generate().unwrap());
    let (seq, _store) = dir_log(dir.path(), &key, Options::default());
    let seq = Arc::new(seq);
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let seq = Arc::clone(&seq);
            std::thread::spawn(move || {
                (0..60)
                    .map(|i| {
                        let body = format!("t{t}-{i}").into_bytes();
                        (seq.append(body.clone()).unwrap(), body)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut indexes = Vec::new();
    for h in handles {
        for (a, body) in h.join().unwrap() {
            assert_eq!(a.leaf, leaf_hash(&body));
            let cp = &a.checkpoint.checkpoint;
            verify_inclusion(&a.leaf, a.index, cp.size, &a.proof, &cp.root).unwrap();
            indexes.push(a.index);
        }
    }
    indexes.sort_unstable();
    assert_eq!(
        indexes,
        (0..480).collect::<Vec<_>>(),
        "every index assigned once"
    );
    assert_eq!(seq.latest().checkpoint.size, 480);
}

#[test]
fn restart_resumes_and_keeps_history() {
    let dir = tempfile::tempdir().unwrap();
    let key = Arc::new(LogKey::generate().unwrap());
    let first = {
        let (seq, _) = dir_log(dir.path(), &key, Options::default());
        fill(&seq, "a", 300);
        seq.latest()
    };
    let (seq, store) = dir_log(dir.path(), &key, Options::default());
    assert_eq!(*seq.latest(), *first);
    let more = fill(&seq, "b", 300);
    assert_eq!(more[0].index, 300);
    let fetch: Arc<dyn TileFetch> = store;
    let reader = hallmark_tlog::LogReader::new(fetch, cfg(), key.verifier().clone());
    let p = reader.consistency_proof(300, 600).unwrap();
    hallmark_tlog::merkle::verify_consistency(
        300,
        600,
        &p,
        &first.checkpoint.root,
        &seq.latest().checkpoint.root,
    )
    .unwrap();
    assert_eq!(reader.entry(299).unwrap().0, b"a-299");
    assert_eq!(reader.entry(300).unwrap().0, b"b-0");
}

#[test]
fn sqlite_backend_builds_the_same_tree() {
    let dir = tempfile::tempdir().unwrap();
    let key = Arc::new(LogKey::generate().unwrap());
    let db = dir.path().join("log.db");
    let open = || {
        let store = Arc::new(SqliteStore::open(&db).unwrap());
        let lock = Arc::new(SqliteLock::open(&db, &cfg().origin()).unwrap());
        Sequencer::open(cfg(), Arc::clone(&key), store, lock, Options::default()).unwrap()
    };
    {
        let seq = open();
        fill(&seq, "x", 500);
    }
    let seq = open();
    fill(&seq, "y", 100);
    let (dseq, _) = dir_log(&dir.path().join("d"), &key, Options::default());
    fill(&dseq, "x", 500);
    fill(&dseq, "y", 100);
    assert_eq!(seq.latest().checkpoint.root, dseq.latest().checkpoint.root);
    assert_eq!(seq.latest().checkpoint.size, 600);
}

#[test]
fn stores_put_if_absent_and_locks_compare_and_swap() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(&dir.path().join("s.db")).unwrap();
    let local = hallmark_tlog::DirStore::open(dir.path().join("d")).unwrap();
    for s in [&sqlite as &dyn ObjectStore, &local] {
        assert_eq!(
            s.put_if_absent("tile/0/000", b"one").unwrap(),
            PutOutcome::Created
        );
        assert_eq!(
            s.put_if_absent("tile/0/000", b"one").unwrap(),
            PutOutcome::Identical
        );
        assert_eq!(
            s.put_if_absent("tile/0/000", b"two").unwrap(),
            PutOutcome::Differs
        );
        assert_eq!(s.fetch("tile/0/000").unwrap().unwrap(), b"one");
        s.overwrite("tile/0/000", b"two").unwrap();
        assert_eq!(s.fetch("tile/0/000").unwrap().unwrap(), b"two");
        assert_eq!(s.fetch("tile/0/001").unwrap(), None);
    }
    assert!(local.put_if_absent("../escape", b"x").is_err());
    let sl = SqliteLock::open(&dir.path().join("s.db"), "o - 1").unwrap();
    let dl = DirLock::open(dir.path().join("lock")).unwrap();
    for l in [&sl as &dyn CheckpointLock, &dl] {
        assert_eq!(l.load().unwrap(), None);
        l.create("a").unwrap();
        assert!(matches!(l.create("b"), Err(Error::LockConflict { .. })));
        assert!(matches!(
            l.replace("x", "b"),
            Err(Error::LockConflict { .. })
        ));
        l.replace("a", "b").unwrap();
        assert_eq!(l.load().unwrap().as_deref(), Some("b"));
    }
    // A second holder of the directory lock is refused.
    assert!(matches!(
        DirLock::open(dir.path().join("lock")),
        Err(Error::LockConflict { .. })
    ));
}

#[test]
fn crash_leftovers_beyond_the_checkpoint_are_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let key = Arc::new(LogKey::generate().unwrap());
    {
        let (seq, store) = dir_log(dir.path(), &key, Options::default());
        fill(&seq, "a", 10);
        // What a crashed batch could leave: tiles and a bundle for sizes never committed.
        store
            .put_if_absent(&TilePath::hash(0, 0, 11).key(), &[9u8; 32 * 11])
            .unwrap();
        let p = TilePath {
            kind: TileKind::Entries,
            index: 0,
            width: 11,
        };
        store.put_if_absent(&p.key(), b"garbage").unwrap();
    }
    let (seq, _) = dir_log(dir.path(), &key, Options::default());
    let a = seq.append(b"b".to_vec()).unwrap();
    assert_eq!(a.index, 10);
    let cp = &a.checkpoint.checkpoint;
    verify_inclusion(&a.leaf, 10, cp.size, &a.proof, &cp.root).unwrap();
}

#[test]
fn refuses_tampered_tiles_wrong_key_and_other_origin() {
    let dir = tempfile::tempdir().unwrap();
    let key = Arc::new(LogKey::generate().unwrap());
    {
        let (seq, store) = dir_log(dir.path(), &key, Options::default());
        fill(&seq, "a", 20);
        store
            .overwrite(&TilePath::hash(0, 0, 20).key(), &[1u8; 32 * 20])
            .unwrap();
    }
    let store = Arc::new(hallmark_tlog::DirStore::open(dir.path().join("public")).unwrap());
    let lock = || Arc::new(DirLock::open(dir.path().join("lock")).unwrap());
    let err = Sequencer::open(
        cfg(),
        Arc::clone(&key),
        store.clone(),
        lock(),
        Options::default(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Corrupt(_)), "{err}");
    let other = Arc::new(LogKey::generate().unwrap());
    let err = Sequencer::open(cfg(), other, store.clone(), lock(), Options::default()).unwrap_err();
    assert!(matches!(err, Error::BadCheckpoint(_)), "{err}");
    let mut c = cfg();
    c.tree_id += 1;
    let err = Sequencer::open(c, key, store, lock(), Options::default()).unwrap_err();
    assert!(matches!(err, Error::BadCheckpoint(_)), "{err}");
}

#[test]
fn oversized_entries_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let key = Arc::new(LogKey::generate().unwrap());
    let (seq, _) = dir_log(dir.path(), &key, Options::default());
    assert!(matches!(
        seq.append(vec![0; 70_000]),
        Err(Error::InvalidEntry(_))
    ));
    assert_eq!(seq.append(vec![0; 65_535]).unwrap().index, 0);
}
