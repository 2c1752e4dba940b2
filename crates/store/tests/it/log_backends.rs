//! The log backends that need no server: SQLite (objects and checkpoint lock in one file)
//! and `object_store` on a local directory keep the contracts of `hallmark-tlog`'s
//! directory backend, and a sequencer on SQLite builds the same tree.

use std::sync::Arc;

use hallmark_store::log::{ObjectStoreTiles, SqliteLock, SqliteTiles};
use hallmark_tlog::mem::{check_lock_contract, check_storage_contract};
use hallmark_tlog::{
    Appended, DirLock, DirStore, LogConfig, LogKey, Options, Sequencer, TileStorage,
};
use object_store::local::LocalFileSystem;

fn cfg() -> LogConfig {
    LogConfig {
        host: "log.hallmark.test".into(),
        tree_id: 7_001,
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

fn fill(seq: &Sequencer, prefix: &str, n: usize) -> Vec<Appended> {
    let pending: Vec<_> = (0..n)
        .map(|i| seq.submit(format!("{prefix}-{i}").into_bytes()))
        .collect();
    pending.into_iter().map(|p| p.wait().unwrap()).collect()
}

#[test]
fn sqlite_and_object_store_backends_keep_the_contracts() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let rt = rt();
    let h = || rt.handle().clone();
    check_storage_contract(&SqliteTiles::open(&db, h()).unwrap()).unwrap();
    check_lock_contract(&SqliteLock::open(&db, "o - 1", h()).unwrap()).unwrap();
    // Another log's lock in the same database is its own row.
    check_lock_contract(&SqliteLock::open(&db, "o - 2", h()).unwrap()).unwrap();
    let fs = Arc::new(LocalFileSystem::new_with_prefix(dir.path()).unwrap());
    let tiles = ObjectStoreTiles::new(fs, 9, rt.handle().clone());
    check_storage_contract(&tiles).unwrap();
}

#[test]
fn sqlite_backend_builds_the_same_tree() {
    let dir = tempfile::tempdir().unwrap();
    let key = Arc::new(LogKey::generate(hallmark_tlog::LogKeyType::EcdsaP256).unwrap());
    let db = dir.path().join("log.db");
    let rt = rt();
    let open = || {
        let store = Arc::new(SqliteTiles::open(&db, rt.handle().clone()).unwrap());
        let lock = Arc::new(SqliteLock::open(&db, &cfg().origin(), rt.handle().clone()).unwrap());
        Sequencer::open(cfg(), Arc::clone(&key), store, lock, Options::default()).unwrap()
    };
    {
        let seq = open();
        fill(&seq, "x", 500);
    }
    let seq = open();
    fill(&seq, "y", 100);
    let d = dir.path().join("d");
    let dseq = Sequencer::open(
        cfg(),
        Arc::clone(&key),
        Arc::new(DirStore::open(d.join("public")).unwrap()) as Arc<dyn TileStorage>,
        Arc::new(DirLock::open(d.join("lock")).unwrap()),
        Options::default(),
    )
    .unwrap();
    fill(&dseq, "x", 500);
    fill(&dseq, "y", 100);
    assert_eq!(seq.latest().checkpoint.root, dseq.latest().checkpoint.root);
    assert_eq!(seq.latest().checkpoint.size, 600);
}
