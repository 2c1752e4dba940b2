//! Auditing from a directory and over HTTP; tampering, rollback and forks are caught.

use std::sync::Arc;

use hallmark_tlog::api::{ApiState, router};
use hallmark_tlog::tile::{TileKind, TilePath};
use hallmark_tlog::{
    DirFetch, Error, HttpFetch, LogKey, LogReader, Options, TileFetch, TileStorage, Upload, audit,
};

use crate::{cfg, dir_log, fill};

#[test]
fn audits_from_a_directory_incrementally() {
    let dir = tempfile::tempdir().unwrap();
    let key = Arc::new(LogKey::generate(hallmark_tlog::LogKeyType::EcdsaP256).unwrap());
    let (seq, _) = dir_log(dir.path(), &key, Options::default());
    let fetch = || -> Arc<dyn TileFetch> { Arc::new(DirFetch(dir.path().join("public"))) };
    let origin = cfg().origin();
    let r0 = audit(fetch(), key.verifier(), Some(&origin), None).unwrap();
    assert_eq!(r0.checkpoint.checkpoint.size, 0);
    fill(&seq, "a", 700);
    let r1 = audit(
        fetch(),
        key.verifier(),
        Some(&origin),
        Some(&r0.checkpoint.text),
    )
    .unwrap();
    assert_eq!(
        (r1.checkpoint.checkpoint.size, r1.entries_checked),
        (700, 700)
    );
    assert_eq!(r1.hashes_checked, 2);
    fill(&seq, "b", 70_000 - 700);
    let r2 = audit(fetch(), key.verifier(), None, Some(&r1.checkpoint.text)).unwrap();
    assert_eq!(r2.entries_checked, 70_000 - 700);
    assert_eq!(
        r2.hashes_checked,
        273 - 2 + 1,
        "level-1 hashes 2..273 and level-2 hash 0"
    );
    let full = audit(fetch(), key.verifier(), None, None).unwrap();
    assert_eq!(full.entries_checked, 70_000);
    // Same checkpoint again: nothing new to check, still consistent.
    let again = audit(fetch(), key.verifier(), None, Some(&r2.checkpoint.text)).unwrap();
    assert_eq!(again.entries_checked, 0);
    // Rollback: the monitor saw a larger tree before.
    let err = audit(
        fetch(),
        key.verifier(),
        None,
        Some(&r2.checkpoint.text)
            .map(|_| {
                let bigger = hallmark_tlog::Checkpoint {
                    size: 80_000,
                    ..r2.checkpoint.checkpoint.clone()
                };
                hallmark_tlog::note::sign_checkpoint(&bigger, &cfg().host, &key)
                    .unwrap()
                    .text
            })
            .as_deref(),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Rollback {
                old: 80_000,
                new: 70_000
            }
        ),
        "{err}"
    );
    // Wrong key or wrong origin.
    let other = LogKey::generate(hallmark_tlog::LogKeyType::EcdsaP256).unwrap();
    assert!(matches!(
        audit(fetch(), other.verifier(), None, None),
        Err(Error::BadCheckpoint(_))
    ));
    assert!(matches!(
        audit(fetch(), key.verifier(), Some("other - 1"), None),
        Err(Error::BadCheckpoint(_))
    ));
}

#[test]
fn tampered_bundles_and_tiles_and_forks_are_caught() {
    let dir = tempfile::tempdir().unwrap();
    let key = Arc::new(LogKey::generate(hallmark_tlog::LogKeyType::EcdsaP256).unwrap());
    let (seq, store) = dir_log(dir.path(), &key, Options::default());
    fill(&seq, "a", 300);
    let seen = seq.latest().text.clone();
    drop(seq);
    let fetch: Arc<dyn TileFetch> = Arc::new(DirFetch(dir.path().join("public")));
    // An entry rewritten in its bundle.
    let p = TilePath {
        kind: TileKind::Entries,
        index: 0,
        width: 256,
    };
    let good = store.fetch(&p.key()).unwrap().unwrap();
    let mut bad = good.clone();
    bad[3] ^= 1;
    store.upload(&p.key(), &bad, Upload::Replace).unwrap();
    let err = audit(Arc::clone(&fetch), key.verifier(), None, None).unwrap_err();
    assert!(matches!(err, Error::Corrupt(_)), "{err}");
    store.upload(&p.key(), &good, Upload::Replace).unwrap();
    // A level-1 hash that does not match its level-0 tile.
    let t1 = TilePath::hash(1, 0, 1).key();
    store.upload(&t1, &[0u8; 32], Upload::Replace).unwrap();
    let err = audit(Arc::clone(&fetch), key.verifier(), None, None).unwrap_err();
    assert!(matches!(err, Error::Corrupt(_)), "{err}");

    // A fork: the same key and origin sign a different history.
    let dir2 = tempfile::tempdir().unwrap();
    let (fork, _) = dir_log(dir2.path(), &key, Options::default());
    fill(&fork, "z", 400);
    let fetch2: Arc<dyn TileFetch> = Arc::new(DirFetch(dir2.path().join("public")));
    let err = audit(fetch2, key.verifier(), None, Some(&seen)).unwrap_err();
    assert!(matches!(err, Error::Fork(_)), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audits_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let key = Arc::new(LogKey::generate(hallmark_tlog::LogKeyType::EcdsaP256).unwrap());
    let (seq, store) = dir_log(dir.path(), &key, Options::default());
    let seq = tokio::task::spawn_blocking(move || {
        fill(&seq, "h", 600);
        seq
    })
    .await
    .unwrap();
    let fetch: Arc<dyn TileFetch> = store;
    let reader = LogReader::new(Arc::clone(&fetch), cfg(), key.verifier().clone());
    let app = router(Arc::new(ApiState {
        fetch,
        reader,
        key: None,
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let verifier = key.verifier().clone();
    let report = tokio::task::spawn_blocking(move || {
        audit(
            Arc::new(HttpFetch::new(&format!("http://{addr}/"))),
            &verifier,
            Some(&cfg().origin()),
            None,
        )
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(report.entries_checked, 600);
    server.abort();
    tokio::task::spawn_blocking(move || drop(seq))
        .await
        .unwrap();
}
