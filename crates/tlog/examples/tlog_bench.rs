//! Transparency-log benchmark (issue 5): appends N entries from many concurrent submitters
//! to a log on the local disk (`DirStore` + `DirLock`, fsync on every batch) and prints
//! entries/s, the latency from submission to a durable inclusion proof (p50/p99/max), the
//! number of batches, and the bytes on disk. Every proof and SET is produced as in
//! production: the sequencer computes the proof, the submitter signs its SET.
//!
//! Environment: `TLOG_BENCH_N` (default 1,000,000), `TLOG_BENCH_SUBMITTERS` (concurrent
//! submitters, default 5,000; by Little's law 20,000 entries/s at ~250 ms per durable batch needs ~5,000 in flight), `TLOG_BENCH_ENTRY_BYTES` (default 1,836, the size of a real
//! `dsse` body with a Fulcio certificate), `TLOG_BENCH_DIR` (parent directory; default the
//! system temp dir), `TLOG_BENCH_KEEP=1` to keep the log, `TLOG_BENCH_VERIFY=1` to audit it
//! afterwards.
//!
//! Run: `cargo run --release -p hallmark-tlog --example tlog_bench` (or `benches/tlog.sh`).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use hallmark_tlog::{
    DirFetch, DirLock, DirStore, LogConfig, LogKey, Options, Sequencer, TileStorage,
};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn dir_size(p: &std::path::Path) -> (u64, u64) {
    let mut bytes = 0;
    let mut files = 0;
    if let Ok(rd) = std::fs::read_dir(p) {
        for e in rd.flatten() {
            let Ok(m) = e.metadata() else { continue };
            if m.is_dir() {
                let (b, f) = dir_size(&e.path());
                bytes += b;
                files += f;
            } else {
                bytes += m.len();
                files += 1;
            }
        }
    }
    (bytes, files)
}

fn main() {
    let n = env_u64("TLOG_BENCH_N", 1_000_000);
    let submitters = env_u64("TLOG_BENCH_SUBMITTERS", 5_000).max(1);
    let entry_bytes = env_u64("TLOG_BENCH_ENTRY_BYTES", 1_836) as usize;
    let with_set = std::env::var("TLOG_BENCH_SET").map_or(true, |v| v != "0");
    let parent = std::env::var_os("TLOG_BENCH_DIR").map_or_else(std::env::temp_dir, Into::into);
    let dir = tempfile::Builder::new()
        .prefix("tlog-bench-")
        .tempdir_in(parent)
        .unwrap();
    println!(
        "tlog bench: {n} entries of {entry_bytes} B, {submitters} concurrent submitters, log in {}",
        dir.path().display()
    );

    let key = Arc::new(LogKey::generate(hallmark_tlog::LogKeyType::EcdsaP256).unwrap());
    let cfg = LogConfig {
        host: "log.hallmark.test".into(),
        tree_id: 1,
    };
    let store = Arc::new(DirStore::open(dir.path().join("public")).unwrap());
    let lock = Arc::new(DirLock::open(dir.path().join("lock")).unwrap());
    let seq = Arc::new(
        Sequencer::open(
            cfg.clone(),
            Arc::clone(&key),
            Arc::clone(&store) as Arc<dyn TileStorage>,
            lock,
            Options::default(),
        )
        .unwrap(),
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let start = Instant::now();
    let latencies: Vec<Duration> = rt.block_on(async {
        let tasks: Vec<_> = (0..submitters)
            .map(|_| {
                let (seq, key, next) = (Arc::clone(&seq), Arc::clone(&key), Arc::clone(&next));
                let cfg = cfg.clone();
                tokio::spawn(async move {
                    let mut lat = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if i >= n {
                            break;
                        }
                        let mut body = format!("{{\"entry\":{i},\"pad\":\"").into_bytes();
                        body.resize(entry_bytes.saturating_sub(2).max(body.len()), b'x');
                        body.extend_from_slice(b"\"}");
                        let t0 = Instant::now();
                        let a = seq.submit(body.clone()).wait_async().await.unwrap();
                        // The submitter signs its own SET (as the hub will).
                        if with_set {
                            let _set = a.sign_set(&key, &cfg, &body).unwrap();
                        }
                        lat.push(t0.elapsed());
                    }
                    lat
                })
            })
            .collect();
        let mut all = Vec::with_capacity(n as usize);
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        all
    });
    let elapsed = start.elapsed();
    let mut lat = latencies;
    lat.sort_unstable();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    let size = seq.latest().checkpoint.size;
    drop(seq);
    let (bytes, files) = dir_size(dir.path());
    let rate = n as f64 / elapsed.as_secs_f64();
    println!(
        "appended:        {size} entries in {:.2} s",
        elapsed.as_secs_f64()
    );
    println!(
        "throughput:      {rate:.0} entries/s   (bar 20,000: {:.2}x)",
        rate / 20_000.0
    );
    println!(
        "latency to durable inclusion proof: p50 {:.1} ms, p99 {:.1} ms (bar 500 ms: {:.2}x headroom), max {:.1} ms",
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        0.5 / pct(0.99).as_secs_f64().max(1e-9),
        lat.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
    println!(
        "on disk:         {:.1} MB in {files} files ({:.0} B/entry; entry data {:.1} MB)",
        bytes as f64 / 1e6,
        bytes as f64 / n.max(1) as f64,
        (n as f64 * entry_bytes as f64) / 1e6
    );
    if std::env::var("TLOG_BENCH_VERIFY").is_ok_and(|v| v == "1") {
        let t = Instant::now();
        let r = hallmark_tlog::audit(
            Arc::new(DirFetch(dir.path().join("public"))),
            key.verifier(),
            Some(&cfg.origin()),
            None,
        )
        .unwrap();
        println!(
            "audit:           {} entries verified in {:.2} s",
            r.entries_checked,
            t.elapsed().as_secs_f64()
        );
    }
    if std::env::var("TLOG_BENCH_KEEP").is_ok_and(|v| v == "1") {
        println!("kept {}", dir.keep().display());
    }
}
