//! Benchmark harness for the hashing engine (used by `benches/hash.sh`).
//!
//! ```text
//! hash_bench gen-file PATH BYTES            # pseudo-random file
//! hash_bench gen-many DIR COUNT BYTES       # COUNT files of BYTES in DIR (100 per subdirectory)
//! hash_bench sha-limit MIB THREADS REPS     # in-memory SHA-256 limit, GB/s (best and median)
//! hash_bench engine DIR METHOD THREADS REPS [BUFFER_BYTES] [mmap] [HASH]
//!                                           # METHOD: files | shards:N; prints GB/s and files/s
//! ```
//! Output lines are `key=value` pairs so the shell script can parse them.
#![allow(missing_docs)]

use std::error::Error;
use std::fs;
use std::io::Write as _;
use std::path::Path;
use std::time::Instant;

use hallmark_format::{HashAlgorithm, Serialization};
use hallmark_hash::{EngineOptions, MmapChoice, WalkOptions, enumerate, hash_files_with_buffer};

type Res<T> = Result<T, Box<dyn Error>>;

fn fill(buf: &mut [u8], seed: u64) {
    let mut x = seed | 1;
    for chunk in buf.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let b = x.to_le_bytes();
        let n = chunk.len();
        chunk.copy_from_slice(b.get(..n).unwrap_or_default());
    }
}

fn arg(args: &[String], i: usize) -> Res<&str> {
    args.get(i)
        .map(String::as_str)
        .ok_or_else(|| format!("missing argument {i}").into())
}

fn num(args: &[String], i: usize) -> Res<u64> {
    Ok(arg(args, i)?.parse()?)
}

fn gen_file(path: &Path, bytes: u64, seed: u64) -> Res<()> {
    let mut f = std::io::BufWriter::with_capacity(1 << 20, fs::File::create(path)?);
    let mut buf = vec![0u8; 8 << 20];
    let mut left = bytes;
    let mut seed = seed;
    while left > 0 {
        let n = usize::try_from(left.min(buf.len() as u64))?;
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let chunk = buf.get_mut(..n).ok_or("buffer")?;
        fill(chunk, seed);
        f.write_all(chunk)?;
        left -= n as u64;
    }
    f.flush()?;
    Ok(())
}

fn stats(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    let best = v.last().copied().unwrap_or(0.0);
    let median = v.get(v.len() / 2).copied().unwrap_or(0.0);
    (best, median)
}

/// The SHA-256 compute ceiling: each thread streams `mib` MiB through one
/// cache-resident 1 MiB buffer (so memory is not the bottleneck), and, for
/// comparison, one-shot over a large buffer of `mib / threads` MiB.
fn sha_limit(mib: u64, threads: usize, reps: u64) -> Res<()> {
    use aws_lc_rs::digest::{Context, SHA256, digest};
    let threads = threads.max(1);
    let small: Vec<Vec<u8>> = (0..threads)
        .map(|t| {
            let mut b = vec![0u8; 1 << 20];
            fill(&mut b, 0x9E37_79B9 + t as u64);
            b
        })
        .collect();
    let per = usize::try_from(mib << 20)? / threads;
    let large: Vec<Vec<u8>> = (0..threads)
        .map(|t| {
            let mut b = vec![0u8; per];
            fill(&mut b, 0x7F4A_7C15 + t as u64);
            b
        })
        .collect();
    let mut rates = Vec::new();
    let mut large_rates = Vec::new();
    for _ in 0..reps {
        let t0 = Instant::now();
        std::thread::scope(|s| {
            for b in &small {
                s.spawn(move || {
                    let mut ctx = Context::new(&SHA256);
                    for _ in 0..mib {
                        ctx.update(b);
                    }
                    std::hint::black_box(ctx.finish());
                });
            }
        });
        rates.push((mib << 20) as f64 * threads as f64 / t0.elapsed().as_secs_f64() / 1e9);
        let t0 = Instant::now();
        std::thread::scope(|s| {
            for b in &large {
                s.spawn(move || std::hint::black_box(digest(&SHA256, b)));
            }
        });
        large_rates.push((per * threads) as f64 / t0.elapsed().as_secs_f64() / 1e9);
    }
    let (best, median) = stats(rates);
    let (lbest, lmedian) = stats(large_rates);
    println!(
        "threads={threads} best_gbps={best:.3} median_gbps={median:.3} large_buffer_best_gbps={lbest:.3} large_buffer_median_gbps={lmedian:.3}"
    );
    Ok(())
}

fn engine(args: &[String]) -> Res<()> {
    let dir = Path::new(arg(args, 2)?);
    let method = match arg(args, 3)? {
        "files" => Serialization::Files,
        m => Serialization::Shards {
            shard_size: m
                .strip_prefix("shards:")
                .ok_or("METHOD is files or shards:N")?
                .parse()?,
        },
    };
    let threads = usize::try_from(num(args, 4)?)?;
    let reps = num(args, 5)?;
    let buffer = match args.get(6) {
        Some(b) => usize::try_from(b.parse::<u64>()?)?,
        None => hallmark_hash::DEFAULT_BUFFER_SIZE,
    };
    #[allow(unsafe_code)]
    let mmap = if args.get(7).is_some_and(|m| m == "mmap") {
        // SAFETY: benchmark trees are generated for the run and nothing writes to
        // them while it hashes (benches/hash.sh); asking for `mmap` says so.
        unsafe { MmapChoice::always() }
    } else {
        MmapChoice::never()
    };
    let hash = match args.get(8) {
        Some(h) => HashAlgorithm::from_name(h).ok_or("unknown hash")?,
        None => HashAlgorithm::Sha256,
    };
    let opts = EngineOptions {
        threads,
        mmap,
        ..EngineOptions::default()
    };
    let mut rates = Vec::new();
    let mut fps = Vec::new();
    let mut first = None;
    let mut enum_secs = Vec::new();
    for _ in 0..reps {
        let t0 = Instant::now();
        let files = enumerate(dir, &WalkOptions::default())?;
        let t_enum = t0.elapsed().as_secs_f64();
        let out = hash_files_with_buffer(&files, method, hash, &opts, buffer)?;
        let secs = t0.elapsed().as_secs_f64();
        enum_secs.push(t_enum);
        let bytes: u64 = (0..files.len()).filter_map(|i| files.size(i)).sum();
        rates.push(bytes as f64 / secs / 1e9);
        fps.push(files.len() as f64 / secs);
        let digests = out.digest_bytes().to_vec();
        match &first {
            None => first = Some(digests),
            Some(d) if *d != digests => return Err("digests differ between runs".into()),
            Some(_) => {}
        }
    }
    let (best, median) = stats(rates);
    let (fbest, fmedian) = stats(fps);
    let (_, enum_median) = stats(enum_secs);
    println!(
        "best_gbps={best:.3} median_gbps={median:.3} best_files_per_s={fbest:.0} median_files_per_s={fmedian:.0} enumerate_s={enum_median:.3}"
    );
    Ok(())
}

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    match arg(&args, 1)? {
        "gen-file" => gen_file(Path::new(arg(&args, 2)?), num(&args, 3)?, 42),
        "gen-many" => {
            let dir = Path::new(arg(&args, 2)?);
            let count = num(&args, 3)?;
            let bytes = num(&args, 4)?;
            for i in 0..count {
                let sub = dir.join(format!("d{:04}", i / 100));
                fs::create_dir_all(&sub)?;
                gen_file(&sub.join(format!("f{i:06}.bin")), bytes, i)?;
            }
            Ok(())
        }
        "sha-limit" => sha_limit(
            num(&args, 2)?,
            usize::try_from(num(&args, 3)?)?,
            num(&args, 4)?,
        ),
        "engine" => engine(&args),
        other => Err(format!("unknown command {other}").into()),
    }
}
