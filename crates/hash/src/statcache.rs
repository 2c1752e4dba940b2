//! The stat cache behind incremental signing and verification (issue 21): which
//! digests of a model's files may be reused without reading the files again.
//!
//! A file's digests are reused only when **all** of these hold, as in git's index:
//!
//! * the cache (written by an earlier run for the same model root, serialization and
//!   hash) has an entry for the file's model-relative name whose device, inode, size,
//!   mtime and ctime (nanoseconds) equal the file's `stat` now;
//! * that entry is not *racily clean*: its mtime and ctime are strictly older than the
//!   cache's stamp, the filesystem time at which the run that wrote it started (a file
//!   changed in the same timestamp tick as it was hashed could keep its stat);
//! * the digests the entry records (every shard of the file, for `shards`) equal the
//!   digests the previous signature's manifest records for that file
//!   ([`StatCache::expect_resources`]); a file the manifest does not name is hashed.
//!
//! Everything else is hashed. A user can set a file's mtime back (`touch -d`) but not
//! its ctime, which the kernel sets to the current time on every write, truncate,
//! rename or `utimensat`; only root (clock changes, raw block-device edits) can change
//! bytes without moving ctime.
//!
//! The cache file is a bounded line format ([`MAX_CACHE_BYTES`], [`MAX_LINE_BYTES`]):
//! anything malformed, or written for another model root or other parameters, is a
//! [`StatCacheError`] and the caller ignores the whole file.

use std::collections::HashMap;
use std::fs::Metadata;
use std::os::unix::fs::MetadataExt as _;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use hallmark_format::{HashAlgorithm, ResourceDigest, ResourceName, Serialization};

/// Largest cache file read or written (about a million files of typical names).
pub const MAX_CACHE_BYTES: u64 = 256 << 20;

/// Largest line of a cache file (one file's name and all its shard digests).
pub const MAX_LINE_BYTES: usize = 1 << 20;

const MAGIC: &str = "hallmark-statcache 1";

/// Why a cache file was not used (the caller warns and hashes everything).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StatCacheError {
    /// The file is larger than [`MAX_CACHE_BYTES`] (or would be, when writing).
    #[error("stat cache is {size} bytes, over the {limit}-byte limit")]
    TooLarge {
        /// Its size in bytes.
        size: u64,
        /// [`MAX_CACHE_BYTES`].
        limit: u64,
    },
    /// A line is not what the format allows.
    #[error("stat cache line {line}: {reason}")]
    Malformed {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The header names another model root, serialization or hash.
    #[error("stat cache was written for another {field}")]
    Foreign {
        /// `root`, `params` or `format`.
        field: &'static str,
    },
}

/// A file's identity and change stamps, as `stat` reports them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StatKey {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: i128,
    ctime: i128,
}

impl StatKey {
    pub(crate) fn of(m: &Metadata) -> Self {
        let ns = |s: i64, n: i64| i128::from(s) * 1_000_000_000 + i128::from(n);
        Self {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime: ns(m.mtime(), m.mtime_nsec()),
            ctime: ns(m.ctime(), m.ctime_nsec()),
        }
    }

    pub(crate) fn size(&self) -> u64 {
        self.size
    }
}

#[derive(Clone, Debug)]
struct Entry {
    key: StatKey,
    digests: Vec<Vec<u8>>,
}

/// The digests the previous manifest records for one file: `None` ranges for `files`.
type Expected = Vec<(Option<(u64, u64)>, Vec<u8>)>;

/// One model's stat cache: the entries read from the previous run, the manifest they
/// must agree with, and the entries of this run (what [`StatCache::serialize`] writes).
#[derive(Debug)]
pub struct StatCache {
    params: String,
    root: String,
    stamp: i128,
    method: Serialization,
    hash: HashAlgorithm,
    previous: HashMap<String, Entry>,
    expected: HashMap<String, Expected>,
    next: Mutex<Vec<(String, Entry)>>,
    reused: AtomicUsize,
    hashed: AtomicUsize,
}

impl StatCache {
    /// An empty cache for the model at `root` (its canonical path) hashed with `method`
    /// and `hash`; `stamp_ns` is the filesystem time at which this run started (the
    /// mtime of a file created then), in nanoseconds since the epoch.
    #[must_use]
    pub fn new(root: &Path, method: Serialization, hash: HashAlgorithm, stamp_ns: i128) -> Self {
        let shard = match method {
            Serialization::Files => 0,
            Serialization::Shards { shard_size } => shard_size,
        };
        Self {
            params: format!("params {} {shard} {}", method.method(), hash.name()),
            root: format!("root {}", hex::encode(root.as_os_str().as_encoded_bytes())),
            stamp: stamp_ns,
            method,
            hash,
            previous: HashMap::new(),
            expected: HashMap::new(),
            next: Mutex::new(Vec::new()),
            reused: AtomicUsize::new(0),
            hashed: AtomicUsize::new(0),
        }
    }

    /// The cache file's identity: one name per model root and parameters.
    #[must_use]
    pub fn identity(&self) -> String {
        format!("{MAGIC}\n{}\n{}\n", self.params, self.root)
    }

    /// Reads a cache file written by an earlier run, keeping only entries that are not
    /// racily clean. Returns how many entries were kept.
    ///
    /// # Errors
    /// Too large, malformed, or written for another root or parameters; nothing is kept.
    pub fn load(&mut self, bytes: &[u8]) -> Result<usize, StatCacheError> {
        self.previous = parse(bytes, &self.params, &self.root)?;
        Ok(self.previous.len())
    }

    /// Registers the previous signature's resources: only digests equal to these are
    /// reused. Resources of another serialization or hash register nothing (returns
    /// false). `single_file` maps a one-file manifest's name to `"."` (a model that is
    /// a file is enumerated under that name).
    pub fn expect_resources(
        &mut self,
        method: Serialization,
        hash: HashAlgorithm,
        resources: &[ResourceDigest],
        single_file: bool,
    ) -> bool {
        if method != self.method || hash != self.hash {
            return false;
        }
        let mut map: HashMap<String, Expected> = HashMap::new();
        for r in resources {
            let (path, range) = match &r.name {
                ResourceName::File(p) => (p.clone(), None),
                ResourceName::Shard { path, start, end } => (path.clone(), Some((*start, *end))),
            };
            map.entry(path).or_default().push((range, r.digest.clone()));
        }
        for v in map.values_mut() {
            v.sort_by_key(|(r, _)| *r);
        }
        if single_file && map.len() == 1 {
            map = map
                .into_values()
                .map(|v| (hallmark_format::resource::SINGLE_FILE_NAME.to_owned(), v))
                .collect();
        }
        self.expected = map;
        true
    }

    /// Files whose digests this run reused.
    #[must_use]
    pub fn reused_files(&self) -> usize {
        self.reused.load(Ordering::Relaxed)
    }

    /// Files this run read and hashed.
    #[must_use]
    pub fn hashed_files(&self) -> usize {
        self.hashed.load(Ordering::Relaxed)
    }

    /// The cache file for the next run: this run's entries, stamped with its start.
    ///
    /// # Errors
    /// [`StatCacheError::TooLarge`] when it would exceed [`MAX_CACHE_BYTES`].
    pub fn serialize(&self) -> Result<Vec<u8>, StatCacheError> {
        let mut entries = self.next.lock().map(|g| g.clone()).unwrap_or_default();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out = self.identity();
        out.push_str(&format!("stamp {}\n", self.stamp));
        for (name, e) in entries {
            let k = &e.key;
            let digests = if e.digests.is_empty() {
                "-".to_owned()
            } else {
                e.digests
                    .iter()
                    .map(hex::encode)
                    .collect::<Vec<_>>()
                    .join(",")
            };
            let line = format!(
                "{} {} {} {} {} {} {digests}\n",
                k.dev,
                k.ino,
                k.size,
                k.mtime,
                k.ctime,
                hex::encode(name.as_bytes())
            );
            if line.len() <= MAX_LINE_BYTES {
                out.push_str(&line);
            }
        }
        let size = out.len() as u64;
        if size > MAX_CACHE_BYTES {
            return Err(StatCacheError::TooLarge {
                size,
                limit: MAX_CACHE_BYTES,
            });
        }
        Ok(out.into_bytes())
    }

    /// The digests of `name` if its stat is `key` and both the cache and the previous
    /// manifest record the same digests for exactly these unit `ranges`.
    pub(crate) fn lookup(
        &self,
        name: &str,
        key: &StatKey,
        ranges: &[(u64, u64)],
    ) -> Option<Vec<Vec<u8>>> {
        let entry = self.previous.get(name)?;
        // A manifest names no shard of an empty file: nothing to agree on.
        let expected = self.expected.get(name).map_or(&[][..], Vec::as_slice);
        if entry.key != *key
            || entry.digests.len() != ranges.len()
            || expected.len() != ranges.len()
        {
            return None;
        }
        let files = self.method == Serialization::Files;
        for ((range, want), (have, unit)) in expected.iter().zip(entry.digests.iter().zip(ranges)) {
            let range_ok = if files {
                range.is_none()
            } else {
                *range == Some(*unit)
            };
            if !range_ok || want != have {
                return None;
            }
        }
        Some(entry.digests.clone())
    }

    /// Records `name`'s digests for the next run; `reused` says whether they were
    /// taken from the cache or hashed now.
    pub(crate) fn record(
        &self,
        name: &str,
        key: Option<StatKey>,
        digests: &[Vec<u8>],
        reused: bool,
    ) {
        let counter = if reused { &self.reused } else { &self.hashed };
        counter.fetch_add(1, Ordering::Relaxed);
        if let (Some(key), Ok(mut next)) = (key, self.next.lock()) {
            next.push((
                name.to_owned(),
                Entry {
                    key,
                    digests: digests.to_vec(),
                },
            ));
        }
    }

    pub(crate) fn method(&self) -> Serialization {
        self.method
    }
}

fn parse(bytes: &[u8], params: &str, root: &str) -> Result<HashMap<String, Entry>, StatCacheError> {
    let size = bytes.len() as u64;
    if size > MAX_CACHE_BYTES {
        return Err(StatCacheError::TooLarge {
            size,
            limit: MAX_CACHE_BYTES,
        });
    }
    let bad = |line: usize, reason| StatCacheError::Malformed { line, reason };
    let text = std::str::from_utf8(bytes).map_err(|_| bad(0, "not UTF-8"))?;
    if !text.ends_with('\n') {
        return Err(bad(0, "truncated (no final newline)"));
    }
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    let mut header = |want: &str, field| match lines.next() {
        Some((_, l)) if l == want => Ok(()),
        Some((_, l)) if l.split(' ').next() == want.split(' ').next() => {
            Err(StatCacheError::Foreign { field })
        }
        Some((n, _)) => Err(bad(n, "unexpected header line")),
        None => Err(bad(0, "empty")),
    };
    header(MAGIC, "format")?;
    header(params, "params")?;
    header(root, "root")?;
    let stamp: i128 = match lines.next() {
        Some((n, l)) => l
            .strip_prefix("stamp ")
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad(n, "bad stamp"))?,
        None => return Err(bad(0, "no stamp")),
    };
    let mut out = HashMap::new();
    for (n, l) in lines {
        if l.len() > MAX_LINE_BYTES {
            return Err(bad(n, "line too long"));
        }
        let f: Vec<&str> = l.split(' ').collect();
        let [dev, ino, size, mtime, ctime, name, digests] = f.as_slice() else {
            return Err(bad(n, "not 7 fields"));
        };
        let num = |s: &str| s.parse::<u64>().map_err(|_| bad(n, "bad number"));
        let time = |s: &str| s.parse::<i128>().map_err(|_| bad(n, "bad time"));
        let key = StatKey {
            dev: num(dev)?,
            ino: num(ino)?,
            size: num(size)?,
            mtime: time(mtime)?,
            ctime: time(ctime)?,
        };
        let name = hex::decode(name)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| bad(n, "bad name"))?;
        let digests = if *digests == "-" {
            Vec::new()
        } else {
            digests
                .split(',')
                .map(hex::decode)
                .collect::<Result<Vec<_>, _>>()
                .ok()
                .ok_or_else(|| bad(n, "bad digest"))?
        };
        // Racily clean: changed in the tick the run that wrote it started, or later.
        if key.mtime >= stamp || key.ctime >= stamp {
            continue;
        }
        if out.insert(name, Entry { key, digests }).is_some() {
            return Err(bad(n, "duplicate name"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(stamp: i128) -> StatCache {
        StatCache::new(
            Path::new("/m"),
            Serialization::Files,
            HashAlgorithm::Sha256,
            stamp,
        )
    }

    fn key(mtime: i128, ctime: i128) -> StatKey {
        StatKey {
            dev: 1,
            ino: 2,
            size: 3,
            mtime,
            ctime,
        }
    }

    #[test]
    fn round_trip_keeps_clean_entries_and_drops_racy_ones() {
        let c = cache(100);
        c.record("a", Some(key(50, 60)), &[vec![1, 2]], false);
        c.record("racy", Some(key(50, 100)), &[vec![3]], false);
        c.record("empty", Some(key(1, 1)), &[], true);
        let bytes = c.serialize().unwrap();
        let mut d = cache(200);
        assert_eq!(d.load(&bytes), Ok(2));
        assert!(d.previous.contains_key("a") && d.previous.contains_key("empty"));
    }

    #[test]
    fn reuse_needs_the_manifest_to_agree() {
        let c = cache(100);
        c.record("a", Some(key(50, 60)), &[vec![1, 2]], false);
        let bytes = c.serialize().unwrap();
        let mut d = cache(200);
        d.load(&bytes).unwrap();
        assert_eq!(d.lookup("a", &key(50, 60), &[(0, 3)]), None, "no manifest");
        let r = |digest: Vec<u8>| ResourceDigest {
            name: ResourceName::File("a".into()),
            algorithm: "sha256".into(),
            digest,
        };
        d.expect_resources(
            Serialization::Files,
            HashAlgorithm::Sha256,
            &[r(vec![9])],
            false,
        );
        assert_eq!(
            d.lookup("a", &key(50, 60), &[(0, 3)]),
            None,
            "manifest differs"
        );
        d.expect_resources(
            Serialization::Files,
            HashAlgorithm::Sha256,
            &[r(vec![1, 2])],
            false,
        );
        assert_eq!(d.lookup("a", &key(50, 61), &[(0, 3)]), None, "ctime moved");
        assert_eq!(
            d.lookup("a", &key(50, 60), &[(0, 3)]),
            Some(vec![vec![1, 2]])
        );
    }

    #[test]
    fn corrupt_and_foreign_caches_are_refused() {
        let c = cache(100);
        c.record("a", Some(key(50, 60)), &[vec![1, 2]], false);
        let bytes = c.serialize().unwrap();
        let mut d = cache(200);
        let truncated = bytes.get(..bytes.len() - 3).unwrap();
        assert!(matches!(
            d.load(truncated),
            Err(StatCacheError::Malformed { .. })
        ));
        let garbled = String::from_utf8(bytes.clone())
            .unwrap()
            .replace("stamp", "stomp");
        assert!(matches!(
            d.load(garbled.as_bytes()),
            Err(StatCacheError::Malformed { .. })
        ));
        let mut other = StatCache::new(
            Path::new("/other"),
            Serialization::Files,
            HashAlgorithm::Sha256,
            1,
        );
        assert_eq!(
            other.load(&bytes),
            Err(StatCacheError::Foreign { field: "root" })
        );
        assert!(d.previous.is_empty());
    }
}
