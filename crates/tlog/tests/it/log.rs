//! Sequencer and storage behaviour: batching, restart, both backends, refusals.

use std::sync::Arc;

use hallmark_tlog::mem::{MemLock, MemTiles, check_lock_contract, check_storage_contract};
use hallmark_tlog::merkle::{leaf_hash, verify_inclusion};
use hallmark_tlog::tile::{TileKind, TilePath};
use hallmark_tlog::{
    CheckpointLock, DirLock, Error, LogKey, Options, Sequencer, TileFetch, TileStorage, Upload,
};

use crate::{cfg, dir_log, fill};

#[test]
fn concurrent_submitters_get_durable_verifiable_proofs() {
    let dir = tempfile::tempdir().unwrap();
    let key = Arc::new(LogKey::generate(hallmark_tlog::LogKeyType::EcdsaP256).unwrap());
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
    let key = Arc::new(LogKey::generate(hallmark_tlog::LogKeyType::EcdsaP256).unwrap());
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
fn storages_upload_if_absent_and_locks_compare_and_swap() {
    let dir = tempfile::tempdir().unwrap();
    let local = hallmark_tlog::DirStore::open(dir.path().join("d")).unwrap();
    let mem = MemTiles::new();
    for s in [&local as &dyn TileStorage, &mem] {
        check_storage_contract(s).unwrap();
    }
    assert!(local.upload("../escape", b"x", Upload::IfAbsent).is_err());
    let dl = DirLock::open(dir.path().join("lock")).unwrap();
    for l in [&dl as &dyn CheckpointLock, &MemLock::default()] {
        check_lock_contract(l).unwrap();
    }
    // A second holder of the directory lock is refused.
    assert!(matches!(
        DirLock::open(dir.path().join("lock")),
        Err(Error::LockConflict { .. })
    ));
}

#[test]
fn in_memory_backends_build_the_same_tree() {
    let dir = tempfile::tempdir().unwrap();
    let key = Arc::new(LogKey::generate(hallmark_tlog::LogKeyType::EcdsaP256).unwrap());
    let store = Arc::new(MemTiles::new());
    let lock = Arc::new(MemLock::default());
    let open = || {
        Sequencer::open(
            cfg(),
            Arc::clone(&key),
            Arc::clone(&store) as Arc<dyn TileStorage>,
            Arc::clone(&lock) as Arc<dyn CheckpointLock>,
            Options::default(),
        )
        .unwrap()
    };
    {
        let seq = open();
        fill(&seq, "x", 500);
    }
    let seq = open();
    fill(&seq, "y", 100);
    let (dseq, _) = dir_log(dir.path(), &key, Options::default());
    fill(&dseq, "x", 500);
    fill(&dseq, "y", 100);
    assert_eq!(seq.latest().checkpoint.root, dseq.latest().checkpoint.root);
    assert_eq!(seq.latest().checkpoint.size, 600);
}

#[test]
fn crash_leftovers_beyond_the_checkpoint_are_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let key = Arc::new(LogKey::generate(hallmark_tlog::LogKeyType::EcdsaP256).unwrap());
    {
        let (seq, store) = dir_log(dir.path(), &key, Options::default());
        fill(&seq, "a", 10);
        // What a crashed batch could leave: tiles and a bundle for sizes never committed.
        store
            .upload(
                &TilePath::hash(0, 0, 11).key(),
                &[9u8; 32 * 11],
                Upload::IfAbsent,
            )
            .unwrap();
        let p = TilePath {
            kind: TileKind::Entries,
            index: 0,
            width: 11,
        };
        store
            .upload(&p.key(), b"garbage", Upload::IfAbsent)
            .unwrap();
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
    let key = Arc::new(LogKey::generate(hallmark_tlog::LogKeyType::EcdsaP256).unwrap());
    {
        let (seq, store) = dir_log(dir.path(), &key, Options::default());
        fill(&seq, "a", 20);
        store
            .upload(
                &TilePath::hash(0, 0, 20).key(),
                &[1u8; 32 * 20],
                Upload::Replace,
            )
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
    let other = Arc::new(LogKey::generate(hallmark_tlog::LogKeyType::EcdsaP256).unwrap());
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
    let key = Arc::new(LogKey::generate(hallmark_tlog::LogKeyType::EcdsaP256).unwrap());
    let (seq, _) = dir_log(dir.path(), &key, Options::default());
    assert!(matches!(
        seq.append(vec![0; 70_000]),
        Err(Error::InvalidEntry(_))
    ));
    assert_eq!(seq.append(vec![0; 65_535]).unwrap().index, 0);
}
