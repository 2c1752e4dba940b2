//! Log entries per second: the one-node log (DirStore + DirLock, fsync) against the shared
//! log (PostgreSQL coordinator + tiles in S3 or a local object_store directory) with 1 and
//! 3 replicas in this process, CLIENTS threads appending as fast as they can for SECS
//! seconds each. Run by `benches/shared-log.sh` (which starts PostgreSQL and Garage).
//!
//! usage: shared_log_bench PG_URL [S3_URL] [CLIENTS] [SECS]

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hallmark_store::log::{ObjectStoreTiles, PgCoordinator};
use hallmark_tlog::{
    Appended, DirLock, DirStore, LogConfig, LogKey, Options, Sequencer, SharedOptions,
    SharedSequencer, TileStorage,
};

fn cfg(tree_id: u64) -> LogConfig {
    LogConfig {
        host: "bench.hallmark".into(),
        tree_id,
    }
}

/// Runs `clients` threads calling `append` for `secs`; returns (entries/s, p50, p99 in ms).
fn drive(
    clients: usize,
    secs: u64,
    append: &(dyn Fn(usize, u64) -> Appended + Sync),
) -> (f64, f64, f64) {
    let end = Instant::now() + Duration::from_secs(secs);
    let count = AtomicU64::new(0);
    let start = Instant::now();
    let mut lat: Vec<f64> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..clients)
            .map(|c| {
                let count = &count;
                s.spawn(move || {
                    let mut l = Vec::new();
                    let mut i = 0u64;
                    while Instant::now() < end {
                        let t = Instant::now();
                        append(c, i);
                        l.push(t.elapsed().as_secs_f64() * 1e3);
                        count.fetch_add(1, Ordering::Relaxed);
                        i += 1;
                    }
                    l
                })
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let rate = count.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64();
    lat.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
    };
    (rate, pct(0.5), pct(0.99))
}

fn body(c: usize, i: u64) -> Vec<u8> {
    // About the size of a hub signing event's Rekor dsse body.
    let mut b = format!("{{\"client\":{c},\"i\":{i}}}").into_bytes();
    b.resize(2048, b'.');
    b
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let pg = args
        .get(1)
        .expect("usage: shared_log_bench PG_URL [S3_URL] [CLIENTS] [SECS]");
    let s3 = args.get(2).filter(|s| !s.is_empty() && *s != "-");
    let clients: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(16);
    let secs: u64 = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(10);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let key = Arc::new(LogKey::generate(hallmark_tlog::LogKeyType::EcdsaP256).unwrap());
    let tmp = tempfile::tempdir().unwrap();

    let local = {
        let store = Arc::new(DirStore::open(tmp.path().join("local/public")).unwrap());
        let lock = Arc::new(DirLock::open(tmp.path().join("local/lock")).unwrap());
        let seq =
            Sequencer::open(cfg(1), Arc::clone(&key), store, lock, Options::default()).unwrap();
        drive(clients, secs, &|c, i| seq.append(body(c, i)).unwrap())
    };
    println!(
        "one node (DirStore, fsync):   {:>8.0} entries/s  p50 {:>6.1} ms  p99 {:>6.1} ms  (baseline)",
        local.0, local.1, local.2
    );

    for (n, tree) in [(1usize, 2u64), (3, 3)] {
        let blobs: Arc<dyn object_store::ObjectStore> = match s3 {
            Some(u) => hallmark_store::s3_store(&format!(
                "{}/bench-{}-{tree}?{}",
                u.split('?').next().unwrap().trim_end_matches('/'),
                std::process::id(),
                u.split_once('?').map_or("", |x| x.1)
            ))
            .unwrap(),
            None => Arc::new(
                object_store::local::LocalFileSystem::new_with_prefix({
                    let d = tmp.path().join(format!("objects-{tree}"));
                    std::fs::create_dir_all(&d).unwrap();
                    d
                })
                .unwrap(),
            ),
        };
        let store: Arc<dyn TileStorage> =
            Arc::new(ObjectStoreTiles::new(blobs, tree, rt.handle().clone()));
        let replicas: Vec<SharedSequencer> = (0..n)
            .map(|r| {
                // As many connections as the hub gives its PgStore.
                let pool = rt
                    .block_on(
                        sqlx::postgres::PgPoolOptions::new()
                            .max_connections(16)
                            .connect(pg),
                    )
                    .unwrap();
                let coord = rt
                    .block_on(PgCoordinator::connect(
                        pool,
                        &cfg(tree).origin(),
                        rt.handle().clone(),
                    ))
                    .unwrap();
                SharedSequencer::open(
                    cfg(tree),
                    Arc::clone(&key),
                    Arc::clone(&store),
                    Arc::new(coord),
                    SharedOptions::new(format!("bench-{r}")),
                )
                .unwrap()
            })
            .collect();
        let (rate, p50, p99) = drive(clients, secs, &|c, i| {
            replicas[c % n].append(&body(c, i)).unwrap()
        });
        println!(
            "shared, {n} replica(s) ({}): {:>8.0} entries/s  p50 {:>6.1} ms  p99 {:>6.1} ms  ({:.2}x the one-node rate)",
            if s3.is_some() {
                "PG + S3"
            } else {
                "PG + local objects"
            },
            rate,
            p50,
            p99,
            rate / local.0
        );
    }
}
