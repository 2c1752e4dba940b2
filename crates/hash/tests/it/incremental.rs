//! Incremental hashing through a stat cache: unchanged files are reused, content
//! changes are caught even with the mtime restored, racy and corrupt caches re-hash.

use std::fs::{self, FileTimes};
use std::os::unix::fs::MetadataExt as _;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use hallmark_format::{HashAlgorithm, ResourceDigest, Resources, Serialization};
use hallmark_hash::{
    EngineOptions, RehashReason, StatCache, StatCacheError, WalkOptions, enumerate, hash_files,
};

const SHARDS: Serialization = Serialization::Shards { shard_size: 1000 };

fn ns(m: &fs::Metadata, ctime: bool) -> i128 {
    let (s, n) = if ctime {
        (m.ctime(), m.ctime_nsec())
    } else {
        (m.mtime(), m.mtime_nsec())
    };
    i128::from(s) * 1_000_000_000 + i128::from(n)
}

/// A run's stamp as the CLI takes it (the mtime of a file created now), taken only once
/// the filesystem clock has moved past every change made to the model so far, so the
/// entries of the run are not racily clean (bounded: the clock ticks every few ms).
fn stamp(dir: &Path, model: &Path) -> i128 {
    let newest = fs::read_dir(model)
        .unwrap()
        .map(|e| ns(&e.unwrap().metadata().unwrap(), true))
        .max()
        .unwrap_or(0);
    for _ in 0..400 {
        let p = dir.join("stamp");
        fs::write(&p, b"").unwrap();
        let t = ns(&fs::metadata(&p).unwrap(), false);
        fs::remove_file(&p).unwrap();
        if t > newest {
            return t;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("filesystem clock did not advance in 2 s");
}

struct Run {
    resources: Vec<ResourceDigest>,
    reused: usize,
    hashed: usize,
    why: Vec<(String, RehashReason)>,
    cache: Vec<u8>,
}

/// One incremental run: the previous cache bytes and manifest, the stamp given.
fn run(
    model: &Path,
    method: Serialization,
    stamp: i128,
    prev: Option<(&[u8], &[ResourceDigest])>,
) -> Run {
    let mut cache = StatCache::new(model, method, HashAlgorithm::Sha256, stamp);
    if let Some((bytes, resources)) = prev {
        cache.load(bytes).unwrap();
        let resources = Resources::try_from(resources.to_vec()).unwrap();
        cache.expect_resources(method, HashAlgorithm::Sha256, resources, false);
    }
    let cache = Arc::new(cache);
    let files = enumerate(model, &WalkOptions::default()).unwrap();
    let opts = EngineOptions {
        incremental: Some(Arc::clone(&cache)),
        ..EngineOptions::default()
    };
    let resources = hash_files(&files, method, HashAlgorithm::Sha256, &opts)
        .unwrap()
        .to_vec();
    Run {
        resources,
        reused: cache.reused_files(),
        hashed: cache.hashed_files(),
        why: cache.rehashed().names,
        cache: cache.serialize().unwrap(),
    }
}

fn full(model: &Path, method: Serialization) -> Vec<ResourceDigest> {
    let files = enumerate(model, &WalkOptions::default()).unwrap();
    hash_files(
        &files,
        method,
        HashAlgorithm::Sha256,
        &EngineOptions::default(),
    )
    .unwrap()
    .to_vec()
}

fn model() -> (tempfile::TempDir, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    for (name, len) in [
        ("a.bin", 2500),
        ("b.bin", 3000),
        ("README.md", 40),
        ("empty", 0),
    ] {
        crate::write(dir.path(), name, len);
    }
    (dir, tempfile::tempdir().unwrap())
}

#[test]
fn unchanged_files_are_reused_and_the_result_equals_a_full_hash() {
    for method in [Serialization::Files, SHARDS] {
        let (m, c) = model();
        let first = run(m.path(), method, stamp(c.path(), m.path()), None);
        assert_eq!((first.reused, first.hashed), (0, 4));
        assert!(first.why.iter().all(|(_, r)| *r == RehashReason::New));
        let second = run(
            m.path(),
            method,
            stamp(c.path(), m.path()),
            Some((&first.cache, &first.resources)),
        );
        assert_eq!((second.reused, second.hashed), (4, 0), "{method:?}");
        assert_eq!(second.resources, full(m.path(), method));
    }
}

#[test]
fn changed_bytes_with_the_mtime_restored_are_rehashed() {
    for method in [Serialization::Files, SHARDS] {
        let (m, c) = model();
        let first = run(m.path(), method, stamp(c.path(), m.path()), None);
        let path = m.path().join("b.bin");
        let old = fs::metadata(&path).unwrap();
        let mut bytes = fs::read(&path).unwrap();
        bytes[2999] ^= 1;
        fs::write(&path, &bytes).unwrap();
        // `touch -d`: the mtime is set back; the kernel moves the ctime regardless.
        let f = fs::File::options().write(true).open(&path).unwrap();
        f.set_times(FileTimes::new().set_modified(old.modified().unwrap()))
            .unwrap();
        drop(f);
        let now = fs::metadata(&path).unwrap();
        assert_eq!(
            (ns(&now, false), now.len(), now.ino()),
            (ns(&old, false), old.len(), old.ino())
        );
        let second = run(
            m.path(),
            method,
            stamp(c.path(), m.path()),
            Some((&first.cache, &first.resources)),
        );
        assert_eq!((second.reused, second.hashed), (3, 1), "{method:?}");
        assert_eq!(
            second.why,
            [("b.bin".to_owned(), RehashReason::StatChanged)]
        );
        assert_eq!(second.resources, full(m.path(), method));
        assert_ne!(second.resources, first.resources);
    }
}

#[test]
fn a_file_changed_after_the_run_started_is_racy_and_rehashed() {
    let (m, c) = model();
    let method = Serialization::Files;
    let first = run(m.path(), method, stamp(c.path(), m.path()), None);
    // The run stamps, then the file changes in the same tick or later, then it hashes:
    // its entry is racily clean, so the next run may not trust it.
    let s = stamp(c.path(), m.path());
    crate::write(m.path(), "README.md", 41);
    let second = run(m.path(), method, s, Some((&first.cache, &first.resources)));
    assert_eq!((second.reused, second.hashed), (3, 1));
    let third = run(
        m.path(),
        method,
        stamp(c.path(), m.path()),
        Some((&second.cache, &second.resources)),
    );
    assert_eq!(
        (third.reused, third.hashed),
        (3, 1),
        "racy README.md re-hashed"
    );
    assert_eq!(third.why, [("README.md".to_owned(), RehashReason::Racy)]);
    let fourth = run(
        m.path(),
        method,
        stamp(c.path(), m.path()),
        Some((&third.cache, &third.resources)),
    );
    assert_eq!((fourth.reused, fourth.hashed), (4, 0));
}

#[test]
fn a_corrupt_cache_is_refused_and_nothing_is_reused() {
    let (m, c) = model();
    let method = Serialization::Files;
    let first = run(m.path(), method, stamp(c.path(), m.path()), None);
    let mut cache = StatCache::new(m.path(), method, HashAlgorithm::Sha256, 0);
    let mut bytes = first.cache.clone();
    let n = bytes.len();
    bytes[n - 5] = b' ';
    assert!(matches!(
        cache.load(&bytes),
        Err(StatCacheError::Malformed { .. })
    ));
    // A cache for another model root describes none of this model's files.
    let mut other = StatCache::new(c.path(), method, HashAlgorithm::Sha256, 0);
    assert_eq!(
        other.load(&first.cache),
        Err(StatCacheError::Foreign { field: "root" })
    );
}
