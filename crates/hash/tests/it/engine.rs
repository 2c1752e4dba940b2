//! Engine properties: shards, empty files, thread independence, cancellation,
//! progress, files that change size.

use std::fs;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use hallmark_format::{HashAlgorithm, ResourceName, Serialization};
use hallmark_hash::{
    EngineOptions, FoundSize, HashError, MmapChoice, ModelFiles, Progress, WalkOptions, enumerate,
    hash_files, hash_files_with_buffer,
};

use crate::{sha256, write};

/// The read path to test: mapped when `on`.
#[allow(unsafe_code)]
fn mmap(on: bool) -> MmapChoice {
    if on {
        // SAFETY: the files are in this test's own temporary directory; nothing
        // truncates or writes them while the engine runs (the tests that change a
        // file do so before hashing starts).
        unsafe { MmapChoice::always() }
    } else {
        MmapChoice::never()
    }
}

fn tree() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "empty.bin", 0);
    write(d.path(), "w/big.bin", 100);
    write(d.path(), "w/exact.bin", 32);
    write(d.path(), "small", 5);
    d
}

#[test]
fn known_empty_digests() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "e", 0);
    let files = enumerate(d.path(), &WalkOptions::default()).unwrap();
    for (hash, hex_digest) in [
        (
            HashAlgorithm::Sha256,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
        (
            HashAlgorithm::Blake2b,
            "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce",
        ),
        (
            HashAlgorithm::Blake3,
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262",
        ),
    ] {
        let out = hash_files(
            &files,
            Serialization::Files,
            hash,
            &EngineOptions::default(),
        )
        .unwrap()
        .to_vec();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].name, ResourceName::File("e".into()));
        assert_eq!(out[0].algorithm, hash.name());
        assert_eq!(hex::encode(&out[0].digest), hex_digest);
    }
}

#[test]
fn shards_cover_ranges_in_numeric_order_and_skip_empty_files() {
    let d = tree();
    let files = enumerate(d.path(), &WalkOptions::default()).unwrap();
    let out = hash_files(
        &files,
        Serialization::Shards { shard_size: 8 },
        HashAlgorithm::Sha256,
        &EngineOptions::default(),
    )
    .unwrap()
    .to_vec();
    let names: Vec<String> = out.iter().map(|r| r.name.to_string()).collect();
    let mut want = vec!["small:0:5".to_owned()];
    want.extend((0..13).map(|k| format!("w/big.bin:{}:{}", k * 8, (k * 8 + 8).min(100))));
    want.extend((0..4).map(|k| format!("w/exact.bin:{}:{}", k * 8, k * 8 + 8)));
    assert_eq!(names, want);
    for r in &out {
        let ResourceName::Shard { path, start, end } = &r.name else {
            panic!("not a shard")
        };
        assert_eq!(r.algorithm, "sha256-sharded-8");
        let bytes = fs::read(d.path().join(path)).unwrap();
        assert_eq!(
            r.digest,
            sha256(&bytes[*start as usize..*end as usize]),
            "{}",
            r.name
        );
    }
}

#[test]
fn files_mode_includes_empty_files() {
    let d = tree();
    let files = enumerate(d.path(), &WalkOptions::default()).unwrap();
    let out = hash_files(
        &files,
        Serialization::Files,
        HashAlgorithm::Sha256,
        &EngineOptions::default(),
    )
    .unwrap()
    .to_vec();
    let names: Vec<String> = out.iter().map(|r| r.name.to_string()).collect();
    assert_eq!(names, ["empty.bin", "small", "w/big.bin", "w/exact.bin"]);
    assert_eq!(out[0].digest, sha256(b""));
    assert_eq!(
        out[2].digest,
        sha256(&fs::read(d.path().join("w/big.bin")).unwrap())
    );
}

#[test]
fn output_independent_of_threads_buffer_mmap_and_input_order() {
    let d = tempfile::tempdir().unwrap();
    for i in 0..60 {
        write(d.path(), &format!("d{}/f{i}", i % 7), i * 997 % 20_000);
    }
    let files = enumerate(d.path(), &WalkOptions::default()).unwrap();
    for method in [
        Serialization::Files,
        Serialization::Shards { shard_size: 4096 },
    ] {
        for hash in [
            HashAlgorithm::Sha256,
            HashAlgorithm::Blake2b,
            HashAlgorithm::Blake3,
        ] {
            let base = hash_files(
                &files,
                method,
                hash,
                &EngineOptions {
                    threads: 1,
                    ..Default::default()
                },
            )
            .unwrap();
            for (threads, mapped, buffer) in
                [(2, false, 4096), (7, false, 1 << 20), (3, true, 4096)]
            {
                let opts = EngineOptions {
                    threads,
                    mmap: mmap(mapped),
                    ..Default::default()
                };
                let got = hash_files_with_buffer(&files, method, hash, &opts, buffer).unwrap();
                assert_eq!(
                    got, base,
                    "{method:?} {hash} threads={threads} mmap={mapped}"
                );
            }
        }
    }
    let mut reversed = ModelFiles::new(d.path());
    for f in files.iter().collect::<Vec<_>>().into_iter().rev() {
        reversed.push(&f.name, f.size, f.stat).unwrap();
    }
    let a = hash_files(
        &reversed,
        Serialization::Files,
        HashAlgorithm::Sha256,
        &EngineOptions::default(),
    )
    .unwrap();
    let b = hash_files(
        &files,
        Serialization::Files,
        HashAlgorithm::Sha256,
        &EngineOptions::default(),
    )
    .unwrap();
    assert_eq!(a, b);
}

#[test]
fn single_file_model_shards_are_named_dot() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "m.bin", 10);
    let files = enumerate(&d.path().join("m.bin"), &WalkOptions::default()).unwrap();
    let out = hash_files(
        &files,
        Serialization::Shards { shard_size: 6 },
        HashAlgorithm::Sha256,
        &EngineOptions::default(),
    )
    .unwrap()
    .to_vec();
    let names: Vec<String> = out.iter().map(|r| r.name.to_string()).collect();
    assert_eq!(names, [".:0:6", ".:6:10"]);
}

#[test]
fn zero_shard_size_is_rejected() {
    let d = tree();
    let files = enumerate(d.path(), &WalkOptions::default()).unwrap();
    let err = hash_files(
        &files,
        Serialization::Shards { shard_size: 0 },
        HashAlgorithm::Sha256,
        &EngineOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, HashError::InvalidShardSize { .. }));
}

struct Count {
    total: AtomicU64,
    units: AtomicUsize,
    seen: AtomicU64,
}

impl Progress for Count {
    fn start(&self, total_bytes: u64, total_units: usize) {
        self.total.store(total_bytes, Ordering::SeqCst);
        self.units.store(total_units, Ordering::SeqCst);
    }
    fn advance(&self, bytes: u64) {
        self.seen.fetch_add(bytes, Ordering::SeqCst);
    }
}

#[test]
fn progress_adds_up() {
    let d = tempfile::tempdir().unwrap();
    for i in 0..10 {
        write(d.path(), &format!("f{i}"), 3 << 20);
    }
    let files = enumerate(d.path(), &WalkOptions::default()).unwrap();
    let p = Arc::new(Count {
        total: AtomicU64::new(0),
        units: AtomicUsize::new(0),
        seen: AtomicU64::new(0),
    });
    let opts = EngineOptions {
        threads: 2,
        progress: Some(p.clone()),
        ..Default::default()
    };
    hash_files(
        &files,
        Serialization::Shards {
            shard_size: 1 << 20,
        },
        HashAlgorithm::Sha256,
        &opts,
    )
    .unwrap();
    assert_eq!(p.total.load(Ordering::SeqCst), 30 << 20);
    assert_eq!(p.units.load(Ordering::SeqCst), 30);
    assert_eq!(p.seen.load(Ordering::SeqCst), 30 << 20);
}

/// Raises the cancel flag at the first progress report.
struct CancelOnProgress(Arc<AtomicBool>);

impl Progress for CancelOnProgress {
    fn start(&self, _: u64, _: usize) {}
    fn advance(&self, _: u64) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn cancel_flag_stops_with_cancelled() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "big", 64 << 20);
    let files = enumerate(d.path(), &WalkOptions::default()).unwrap();

    let already = Arc::new(AtomicBool::new(true));
    let opts = EngineOptions {
        cancel: Some(already),
        ..Default::default()
    };
    let err = hash_files(&files, Serialization::Files, HashAlgorithm::Sha256, &opts).unwrap_err();
    assert!(matches!(err, HashError::Cancelled), "{err}");

    // Raised mid-file: the engine stops at the next chunk.
    let flag = Arc::new(AtomicBool::new(false));
    for mapped in [false, true] {
        flag.store(false, Ordering::SeqCst);
        let opts = EngineOptions {
            threads: 1,
            mmap: mmap(mapped),
            cancel: Some(flag.clone()),
            progress: Some(Arc::new(CancelOnProgress(flag.clone()))),
            incremental: None,
        };
        let err =
            hash_files(&files, Serialization::Files, HashAlgorithm::Sha256, &opts).unwrap_err();
        assert!(matches!(err, HashError::Cancelled), "{err}");
    }
}

#[test]
fn file_that_changed_size_is_an_error_naming_it() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "shrinks", 1000);
    write(d.path(), "grows", 1000);
    let files = enumerate(d.path(), &WalkOptions::default()).unwrap();
    write(d.path(), "shrinks", 10);
    let mut shrunk = ModelFiles::new(d.path());
    for f in files.iter().filter(|f| f.name == "shrinks") {
        shrunk.push(&f.name, f.size, f.stat).unwrap();
    }
    for method in [
        Serialization::Files,
        Serialization::Shards { shard_size: 300 },
    ] {
        for mapped in [false, true] {
            let opts = EngineOptions {
                mmap: mmap(mapped),
                ..Default::default()
            };
            let err = hash_files(&shrunk, method, HashAlgorithm::Sha256, &opts).unwrap_err();
            assert!(
                matches!(&err, HashError::FileChanged { path, expected: 1000, found: FoundSize::Bytes(n) }
                    if path.ends_with("shrinks") && *n < 1000),
                "{err}"
            );
            assert!(err.to_string().contains("shrinks"), "{err}");
        }
    }
    write(d.path(), "grows", 2000);
    let mut grown = ModelFiles::new(d.path());
    for f in files.iter().filter(|f| f.name == "grows") {
        grown.push(&f.name, f.size, f.stat).unwrap();
    }
    let err = hash_files(
        &grown,
        Serialization::Files,
        HashAlgorithm::Sha256,
        &EngineOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, HashError::FileChanged { path, expected: 1000, found: FoundSize::MoreThan(1000) }
            if path.ends_with("grows")),
        "{err}"
    );
    assert!(err.to_string().contains("grows"), "{err}");
}

#[test]
fn unreadable_file_error_names_it() {
    let mut files = ModelFiles::new("/nonexistent/dir");
    files.push("gone", 3, None).unwrap();
    let err = hash_files(
        &files,
        Serialization::Files,
        HashAlgorithm::Sha256,
        &EngineOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, HashError::Io { path, .. } if path.as_os_str() == "/nonexistent/dir/gone"),
        "{err}"
    );
    assert!(err.to_string().contains("/nonexistent/dir/gone"), "{err}");
}

/// A lone large file on several cores is read on a helper thread while another hashes
/// (the pipelined path): the digest, and the shard digests, must be exactly those of the
/// bytes, whatever the thread count.
#[test]
fn pipelined_large_file_matches_the_plain_digest() {
    let d = tempfile::tempdir().unwrap();
    let len = (64 << 20) + 12_345;
    write(d.path(), "big.bin", len);
    let bytes = fs::read(d.path().join("big.bin")).unwrap();
    let files = enumerate(d.path(), &WalkOptions::default()).unwrap();
    for threads in [1, 2, 4] {
        let opts = EngineOptions {
            threads,
            ..EngineOptions::default()
        };
        let out = hash_files(&files, Serialization::Files, HashAlgorithm::Sha256, &opts)
            .unwrap()
            .to_vec();
        assert_eq!(out[0].digest, sha256(&bytes), "threads={threads}");
        let shard = 40 << 20;
        let out = hash_files(
            &files,
            Serialization::Shards { shard_size: shard },
            HashAlgorithm::Sha256,
            &opts,
        )
        .unwrap()
        .to_vec();
        assert_eq!(out.len(), 2);
        assert_eq!(
            out[0].digest,
            sha256(&bytes[..shard as usize]),
            "threads={threads}"
        );
        assert_eq!(
            out[1].digest,
            sha256(&bytes[shard as usize..]),
            "threads={threads}"
        );
    }
}

/// The pipelined path still notices a file that grew after it was enumerated.
#[test]
fn pipelined_path_notices_a_grown_file() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "big.bin", 64 << 20);
    let files = enumerate(d.path(), &WalkOptions::default()).unwrap();
    let mut f = fs::OpenOptions::new()
        .append(true)
        .open(d.path().join("big.bin"))
        .unwrap();
    std::io::Write::write_all(&mut f, b"more").unwrap();
    let opts = EngineOptions {
        threads: 2,
        ..EngineOptions::default()
    };
    let err = hash_files(&files, Serialization::Files, HashAlgorithm::Sha256, &opts).unwrap_err();
    assert!(matches!(err, HashError::FileChanged { .. }), "{err}");
}
