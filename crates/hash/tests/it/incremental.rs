//! Incremental hashing through a stat cache: unchanged files are reused, content
//! changes are caught even with the mtime restored, racy and corrupt caches re-hash.

use std::fs::{self, FileTimes};
use std::os::unix::fs::MetadataExt as _;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use hallmark_format::statement::build_statement;
use hallmark_format::{
    HashAlgorithm, Manifest, ResourceDigest, Resources, Serialization, SerializationParams,
    b64_encode,
};
use hallmark_hash::{
    EngineOptions, Frame, RehashReason, StatCache, StatCacheError, WalkOptions, enumerate,
    hash_files,
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
    /// Whether the cache was bound to the signature (see [`run_signed`]).
    bound: bool,
}

/// Where the tests keep the cache file of `c`.
fn cache_file(c: &Path) -> std::path::PathBuf {
    c.join("model.cache")
}

/// One incremental run: the cache in `c` (if a previous run left one) and the
/// previous manifest, the stamp given; the cache is saved for the next run.
fn run(
    model: &Path,
    c: &Path,
    method: Serialization,
    stamp: i128,
    prev: Option<&[ResourceDigest]>,
) -> Run {
    let mut cache = StatCache::new(model, method, HashAlgorithm::Sha256, stamp, &cache_file(c));
    if let Some(resources) = prev {
        cache.open().unwrap();
        let resources = Resources::try_from(resources.to_vec()).unwrap();
        cache.expect_resources(method, HashAlgorithm::Sha256, resources, false);
    }
    finish(model, cache, method, false, None)
}

/// A run that signs: with `bind`, the cache is first bound to the signature there (else
/// nothing is trusted); the result's statement is written into a signature at `sign`
/// (as hallmark writes one; only the payload matters) and the cache saved with its frame.
fn run_signed(
    model: &Path,
    c: &Path,
    method: Serialization,
    bind: Option<&Path>,
    sign: &Path,
) -> Run {
    let stamp = stamp(c, model);
    let mut cache = StatCache::new(model, method, HashAlgorithm::Sha256, stamp, &cache_file(c));
    let mut bound = false;
    if let Some(sig) = bind {
        assert!(cache.open().unwrap());
        bound = cache.bind(sig);
    }
    finish(model, cache, method, bound, Some(sign))
}

/// Writes a signature file around the statement of `resources`; the frame a cache
/// records for it.
fn signature(path: &Path, method: Serialization, resources: &[ResourceDigest]) -> Frame {
    let resources = Resources::try_from(resources.to_vec()).unwrap();
    let root: [u8; 32] = crate::sha256(resources.digest_bytes()).try_into().unwrap();
    let frame = Frame {
        root_digest: root,
        model_name: "m".into(),
        allow_symlinks: false,
        ignore_paths: vec!["model.sig".into()],
    };
    let manifest = Manifest {
        model_name: frame.model_name.clone(),
        params: SerializationParams {
            method,
            hash: HashAlgorithm::Sha256,
            allow_symlinks: false,
            ignore_paths: frame.ignore_paths.clone(),
        },
        resources,
    };
    let payload = b64_encode(&build_statement(&manifest, &root));
    let json = format!(
        "{{\n  \"mediaType\": \"x\",\n  \"dsseEnvelope\": {{\n    \"payload\": \"{payload}\",\n    \"payloadType\": \"application/vnd.in-toto+json\"\n  }}\n}}"
    );
    fs::write(path, json).unwrap();
    frame
}

fn finish(
    model: &Path,
    cache: StatCache,
    method: Serialization,
    bound: bool,
    sign: Option<&Path>,
) -> Run {
    let cache = Arc::new(cache);
    let files = enumerate(
        model,
        &WalkOptions {
            keep_stats: true,
            ..WalkOptions::default()
        },
    )
    .unwrap();
    let opts = EngineOptions {
        incremental: Some(Arc::clone(&cache)),
        ..EngineOptions::default()
    };
    let resources = hash_files(&files, method, HashAlgorithm::Sha256, &opts)
        .unwrap()
        .to_vec();
    let frame = sign.map(|sig| signature(sig, method, &resources));
    cache.save(frame.as_ref()).unwrap();
    Run {
        resources,
        reused: cache.reused_files(),
        hashed: cache.hashed_files(),
        why: cache.rehashed().names,
        bound,
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
        let first = run(m.path(), c.path(), method, stamp(c.path(), m.path()), None);
        assert_eq!((first.reused, first.hashed), (0, 4));
        assert!(first.why.iter().all(|(_, r)| *r == RehashReason::New));
        let second = run(
            m.path(),
            c.path(),
            method,
            stamp(c.path(), m.path()),
            Some(&first.resources),
        );
        assert_eq!((second.reused, second.hashed), (4, 0), "{method:?}");
        assert_eq!(second.resources, full(m.path(), method));
    }
}

#[test]
fn changed_bytes_with_the_mtime_restored_are_rehashed() {
    for method in [Serialization::Files, SHARDS] {
        let (m, c) = model();
        let first = run(m.path(), c.path(), method, stamp(c.path(), m.path()), None);
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
            c.path(),
            method,
            stamp(c.path(), m.path()),
            Some(&first.resources),
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
    let first = run(m.path(), c.path(), method, stamp(c.path(), m.path()), None);
    // The run stamps, then the file changes in the same tick or later, then it hashes:
    // its entry is racily clean, so the next run may not trust it.
    let s = stamp(c.path(), m.path());
    crate::write(m.path(), "README.md", 41);
    let second = run(m.path(), c.path(), method, s, Some(&first.resources));
    assert_eq!((second.reused, second.hashed), (3, 1));
    let third = run(
        m.path(),
        c.path(),
        method,
        stamp(c.path(), m.path()),
        Some(&second.resources),
    );
    assert_eq!(
        (third.reused, third.hashed),
        (3, 1),
        "racy README.md re-hashed"
    );
    assert_eq!(third.why, [("README.md".to_owned(), RehashReason::Racy)]);
    let fourth = run(
        m.path(),
        c.path(),
        method,
        stamp(c.path(), m.path()),
        Some(&third.resources),
    );
    assert_eq!((fourth.reused, fourth.hashed), (4, 0));
}

#[test]
fn a_corrupt_cache_is_refused_and_nothing_is_reused() {
    let (m, c) = model();
    let method = Serialization::Files;
    let file = cache_file(c.path());
    run(m.path(), c.path(), method, stamp(c.path(), m.path()), None);
    let good = fs::read(&file).unwrap();
    let mut cache = StatCache::new(m.path(), method, HashAlgorithm::Sha256, 0, &file);
    // Cut inside the header: refused when opened.
    fs::write(&file, &good[..30]).unwrap();
    assert!(matches!(
        cache.open(),
        Err(StatCacheError::Malformed { .. })
    ));
    // Cut inside the entries: the header opens, the entries after the cut are absent.
    fs::write(&file, &good[..good.len() - 120]).unwrap();
    let mut cache = StatCache::new(m.path(), method, HashAlgorithm::Sha256, 1, &file);
    assert_eq!(cache.open(), Ok(true));
    assert!(!cache.bind(&c.path().join("none.sig")));
    // A cache for another model root describes none of this model's files.
    fs::write(&file, &good).unwrap();
    let mut other = StatCache::new(c.path(), method, HashAlgorithm::Sha256, 0, &file);
    assert_eq!(other.open(), Err(StatCacheError::Foreign { field: "root" }));
    let mut sharded = StatCache::new(m.path(), SHARDS, HashAlgorithm::Sha256, 0, &file);
    assert_eq!(
        sharded.open(),
        Err(StatCacheError::Foreign { field: "params" })
    );
}

/// The cache a previous run left in `c`, opened for a run starting now.
fn opened(m: &Path, c: &Path, method: Serialization) -> StatCache {
    let stamp = stamp(c, m);
    let mut cache = StatCache::new(m, method, HashAlgorithm::Sha256, stamp, &cache_file(c));
    assert!(cache.open().unwrap());
    cache
}

/// Flips the first byte of `digest` where it occurs in the cache file, in place (the
/// same inode, as an attacker with write access to the cache directory could).
fn edit_cache(c: &Path, digest: &[u8]) {
    use std::os::unix::fs::FileExt as _;
    let file = cache_file(c);
    let bytes = fs::read(&file).unwrap();
    let at = bytes
        .windows(digest.len())
        .position(|w| w == digest)
        .expect("digest in the cache");
    let f = fs::File::options().write(true).open(&file).unwrap();
    f.write_all_at(&[bytes[at] ^ 1], at as u64).unwrap();
}

fn digest_of<'a>(resources: &'a [ResourceDigest], name: &str) -> &'a [u8] {
    &resources
        .iter()
        .find(|r| r.name.path() == name)
        .unwrap()
        .digest
}

#[test]
fn a_cache_bound_to_its_signature_is_trusted_without_the_manifest() {
    for method in [Serialization::Files, SHARDS] {
        let (m, c) = model();
        let sig = c.path().join("model.sig");
        let first = run_signed(m.path(), c.path(), method, None, &sig);
        assert_eq!((first.reused, first.hashed, first.bound), (0, 4, false));
        let second = run_signed(m.path(), c.path(), method, Some(&sig), &sig);
        assert_eq!(
            (second.reused, second.hashed, second.bound),
            (4, 0, true),
            "{method:?}"
        );
        assert_eq!(second.resources, full(m.path(), method));
        // An edited file under a bound cache is hashed as ever.
        crate::write(m.path(), "a.bin", 2501);
        let third = run_signed(m.path(), c.path(), method, Some(&sig), &sig);
        assert_eq!((third.reused, third.hashed, third.bound), (3, 1, true));
        assert_eq!(third.resources, full(m.path(), method));
    }
}

#[test]
fn an_edited_cache_or_a_swapped_signature_is_not_bound_and_the_manifest_decides() {
    let method = Serialization::Files;
    let (m, c) = model();
    let sig = c.path().join("model.sig");
    let first = run_signed(m.path(), c.path(), method, None, &sig);
    run_signed(m.path(), c.path(), method, Some(&sig), &sig);
    // The attack: a cache whose digest for b.bin was edited (its stat still matches).
    edit_cache(c.path(), digest_of(&first.resources, "b.bin"));
    let mut cache = opened(m.path(), c.path(), method);
    assert!(
        !cache.bind(&sig),
        "an edited cache no longer writes the signed statement"
    );
    let signed = Resources::try_from(first.resources.clone()).unwrap();
    cache.expect_resources(method, HashAlgorithm::Sha256, signed, false);
    let edited = finish(m.path(), cache, method, false, Some(&sig));
    assert_eq!((edited.reused, edited.hashed), (3, 1));
    assert_eq!(
        edited.why,
        [("b.bin".to_owned(), RehashReason::SignatureDiffers)]
    );
    assert_eq!(edited.resources, full(m.path(), method));

    // A signature swapped for one of other digests (the cache is honest): not bound,
    // and the file whose digest it records otherwise is hashed.
    let mut other = first.resources.clone();
    let a = other.iter_mut().find(|r| r.name.path() == "a.bin").unwrap();
    a.digest[0] ^= 1;
    let swapped = c.path().join("swapped.sig");
    signature(&swapped, method, &other);
    let mut cache = opened(m.path(), c.path(), method);
    assert!(!cache.bind(&swapped));
    let other = Resources::try_from(other).unwrap();
    cache.expect_resources(method, HashAlgorithm::Sha256, other, false);
    let run = finish(m.path(), cache, method, false, None);
    assert_eq!(
        run.why,
        [("a.bin".to_owned(), RehashReason::SignatureDiffers)]
    );
    assert_eq!(run.resources, full(m.path(), method));
}

#[test]
fn a_cache_rewritten_after_it_was_bound_trusts_nothing() {
    let method = Serialization::Files;
    let (m, c) = model();
    let sig = c.path().join("model.sig");
    let first = run_signed(m.path(), c.path(), method, None, &sig);
    let mut cache = opened(m.path(), c.path(), method);
    assert!(cache.bind(&sig));
    // Between the binding and the hashing run, b.bin's digest is edited in place.
    edit_cache(c.path(), digest_of(&first.resources, "b.bin"));
    let run = finish(m.path(), cache, method, true, None);
    assert_eq!((run.reused, run.hashed), (0, 4));
    assert!(
        run.why
            .iter()
            .all(|(_, r)| *r == RehashReason::CacheChanged)
    );
    assert_eq!(run.resources, full(m.path(), method));
}
