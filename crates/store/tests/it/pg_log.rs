//! The shared transparency log on real servers: PostgreSQL (`HALLMARK_TEST_PG_URL`) for the
//! coordinator and, when `HALLMARK_TEST_S3` is set, S3 (Garage) for the tiles (else a local
//! directory through the same `object_store` code). Skipped, saying so, without PostgreSQL.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use hallmark_store::log::{ObjectStoreTiles, PgCoordinator};
use hallmark_store::s3_store;
use hallmark_tlog::merkle::{leaf_hash, verify_inclusion};
use hallmark_tlog::shared::BatchCommit;
use hallmark_tlog::{
    Coordinator, Error, LogConfig, LogKey, SharedOptions, SharedSequencer, TileFetch, TileStorage,
    audit,
};
use object_store::local::LocalFileSystem;

use crate::pg::fresh_pg_url;
use crate::s3::fresh_s3_url;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn cfg() -> LogConfig {
    LogConfig {
        host: "hub.test".into(),
        tree_id: 42,
    }
}

async fn coordinator(url: &str, rt: &tokio::runtime::Runtime) -> PgCoordinator {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    PgCoordinator::connect(pool, &cfg().origin(), rt.handle().clone())
        .await
        .unwrap()
}

#[test]
fn pg_log_coordinator_fences_a_deposed_holder() {
    let rt = rt();
    let Some(url) = rt.block_on(fresh_pg_url("pg_log_fence")) else {
        return;
    };
    let c = rt.block_on(coordinator(&url, &rt));
    let ttl = Duration::from_secs(30);
    c.init("note-0").unwrap();
    c.init("ignored").unwrap();
    assert_eq!(c.latest().unwrap().as_deref(), Some("note-0"));
    let (a, committed) = c.acquire("a", ttl).unwrap().unwrap();
    assert_eq!(committed.note, "note-0");
    assert!(
        c.acquire("b", ttl).unwrap().is_none(),
        "lease granted twice"
    );
    let ids: Vec<i64> = (0..3).map(|i| c.enqueue(&[i]).unwrap()).collect();
    assert_eq!(c.pending(10).unwrap().len(), 3);
    let proofs = [vec![[7u8; 32]], vec![[8u8; 32], [9u8; 32]]];
    let commit = |lease, old, new, ids: &[i64], first| {
        c.commit(&BatchCommit {
            proofs: &proofs[..ids.len().min(2)],
            lease,
            old_note: old,
            new_note: new,
            staging: "hallmark/staging/x",
            ids,
            first_index: first,
            integrated_time: 7,
        })
    };
    commit(&a, "note-0", "note-2", &ids[..2], 0).unwrap();
    let s1 = c.status(ids[1]).unwrap().unwrap();
    assert_eq!((s1.index, s1.integrated_time), (1, 7));
    assert_eq!(
        (s1.proof, s1.note.as_str()),
        (vec![[8u8; 32], [9u8; 32]], "note-2")
    );
    assert_eq!(c.status(ids[2]).unwrap(), None);
    // A stale "old" checkpoint is refused.
    assert!(matches!(
        commit(&a, "note-0", "note-x", &ids[2..], 2),
        Err(Error::LockConflict { .. })
    ));
    // "a" stalls past its lease; "b" takes over with a new epoch; "a" is fenced out.
    rt.block_on(async {
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        sqlx::query("UPDATE tlog_state SET lease_until = now() - interval '1 second'")
            .execute(&pool)
            .await
            .unwrap();
    });
    let (b, committed) = c.acquire("b", ttl).unwrap().unwrap();
    assert!(b.epoch > a.epoch);
    assert_eq!(committed.note, "note-2");
    assert_eq!(committed.staging.as_deref(), Some("hallmark/staging/x"));
    assert!(matches!(
        commit(&a, "note-2", "note-3", &ids[2..], 2),
        Err(Error::LockConflict { .. })
    ));
    assert!(!c.renew(&a, ttl).unwrap());
    assert_eq!(
        c.status(ids[2]).unwrap(),
        None,
        "a fenced commit assigned an index"
    );
    commit(&b, "note-2", "note-3", &ids[2..], 2).unwrap();
    assert_eq!(c.status(ids[2]).unwrap().unwrap().index, 2);
    assert!(c.pending(10).unwrap().is_empty());
    // A clean release hands the lease over at once.
    c.release(&b).unwrap();
    assert!(c.acquire("a", ttl).unwrap().is_some());
}

#[test]
fn pg_s3_log_three_replicas_one_history() {
    let rt = rt();
    let Some(url) = rt.block_on(fresh_pg_url("pg_log_replicas")) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let blobs = match fresh_s3_url("pg_log_replicas") {
        Some(s3) => s3_store(&s3).unwrap(),
        None => Arc::new(LocalFileSystem::new_with_prefix(dir.path()).unwrap()) as _,
    };
    let key = Arc::new(LogKey::generate(hallmark_tlog::LogKeyType::EcdsaP256).unwrap());
    let store: Arc<dyn TileStorage> = Arc::new(ObjectStoreTiles::new(
        blobs,
        cfg().tree_id,
        rt.handle().clone(),
    ));
    let replicas: Vec<SharedSequencer> = ["r1", "r2", "r3"]
        .iter()
        .map(|h| {
            let c = rt.block_on(coordinator(&url, &rt));
            let mut o = SharedOptions::new(*h);
            o.lease_ttl = Duration::from_secs(2);
            SharedSequencer::open(cfg(), Arc::clone(&key), Arc::clone(&store), Arc::new(c), o)
                .unwrap()
        })
        .collect();
    let appended: Vec<_> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..12)
            .map(|t| {
                let r = &replicas[t % 3];
                s.spawn(move || {
                    (0..20)
                        .map(|i| {
                            let body = format!("{t}/{i}").into_bytes();
                            (r.append(&body).unwrap(), body)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let mut seen = HashSet::new();
    for (a, body) in &appended {
        assert!(seen.insert(a.index), "index {} twice", a.index);
        assert_eq!(a.leaf, leaf_hash(body));
        let cp = &a.checkpoint.checkpoint;
        verify_inclusion(&a.leaf, a.index, cp.size, &a.proof, &cp.root).unwrap();
    }
    assert_eq!(seen.len(), 240);
    assert_eq!(replicas.iter().filter(|r| r.is_sequencing()).count(), 1);
    // The holder leaves; another replica takes over and the history continues.
    let mut replicas = replicas;
    let holder = replicas
        .iter()
        .position(SharedSequencer::is_sequencing)
        .unwrap();
    drop(replicas.remove(holder));
    let next = replicas[0].append(b"after the handover").unwrap();
    assert_eq!(next.index, 240);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let report = audit(
            Arc::clone(&store) as Arc<dyn TileFetch>,
            key.verifier(),
            Some(&cfg().origin()),
            None,
        )
        .unwrap();
        if report.checkpoint.checkpoint.size == 241 {
            assert_eq!(report.entries_checked, 241);
            break;
        }
        assert!(std::time::Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(20));
    }
}
