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
//! The cache file is a bounded line format ([`MAX_CACHE_BYTES`], [`crate::MAX_LINE_BYTES`]),
//! one line per file in the manifest's (reference) order, so that a run matches the
//! files, the cache and the manifest in one merged pass with no index. It is read into
//! two buffers (names, digests) and one fixed-size record per file. Anything
//! malformed, out of order, or written for another model root or other parameters is a
//! [`StatCacheError`] and the caller ignores the whole file.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use hallmark_format::resource::SINGLE_FILE_NAME;
use hallmark_format::{HashAlgorithm, Resource, Resources, Serialization};

use crate::statfile::{MAGIC, MAX_CACHE_BYTES, Previous, StatCacheError, Writer, parse};

/// Why a file was hashed rather than taken from the cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RehashReason {
    /// The cache has no entry for it (a new file, or the first run).
    New,
    /// Its device, inode, size, mtime or ctime differ from the cache's entry.
    StatChanged,
    /// Its entry is racily clean: changed in the tick the previous run started, or later.
    Racy,
    /// The signature at hand records other digests for it than the cache (or none).
    SignatureDiffers,
}

impl RehashReason {
    /// A few words for messages.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Self::New => "not in the cache",
            Self::StatChanged => "stat changed",
            Self::Racy => "changed while the last run hashed it",
            Self::SignatureDiffers => "signature records another digest",
        }
    }
}

/// Which files a run hashed, and why: the count per reason and the first few names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rehashed {
    /// `(reason, files)`, in the order of [`RehashReason`], only reasons that occurred.
    pub counts: Vec<(RehashReason, usize)>,
    /// The first [`Rehashed::NAMES`] files hashed, in reference order, with the reason.
    pub names: Vec<(String, RehashReason)>,
}

impl Rehashed {
    /// How many names are kept.
    pub const NAMES: usize = 5;

    pub(crate) fn add(&mut self, name: &str, reason: RehashReason) {
        match self.counts.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, n)) => *n += 1,
            None => self.counts.push((reason, 1)),
        }
        if self.names.len() < Self::NAMES {
            self.names.push((name.to_owned(), reason));
        }
    }
}

/// One model's stat cache: the entries read from the previous run and the manifest
/// they must agree with (both handed to one hashing run), and the cache file that run
/// produced (what [`StatCache::serialize`] returns).
#[derive(Debug)]
pub struct StatCache {
    params: String,
    root: String,
    stamp: i128,
    method: Serialization,
    hash: HashAlgorithm,
    inputs: Mutex<Option<(Previous, Resources)>>,
    next: Mutex<Option<Vec<u8>>>,
    rehashed: Mutex<Rehashed>,
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
            inputs: Mutex::new(Some((Previous::default(), Resources::new()))),
            next: Mutex::new(None),
            rehashed: Mutex::new(Rehashed::default()),
            reused: AtomicUsize::new(0),
            hashed: AtomicUsize::new(0),
        }
    }

    /// The cache file's identity: one name per model root and parameters.
    #[must_use]
    pub fn identity(&self) -> String {
        format!("{MAGIC}\n{}\n{}\n", self.params, self.root)
    }

    /// Reads a cache file written by an earlier run (racily clean entries are kept only
    /// to say why their files are hashed). Returns how many entries may be reused.
    ///
    /// # Errors
    /// Too large, malformed, out of order, or written for another root or parameters;
    /// nothing is kept.
    pub fn load(&mut self, bytes: &[u8]) -> Result<usize, StatCacheError> {
        let previous = parse(bytes, &self.params, &self.root)?;
        let n = previous.entries.iter().filter(|e| !e.racy).count();
        self.inputs_mut().0 = previous;
        Ok(n)
    }

    /// Registers the previous signature's resources: only digests equal to these are
    /// reused (the resources themselves are moved into the result). Resources of
    /// another serialization or hash register nothing (returns false). `single_file`
    /// maps a one-file manifest's name to `"."` (a model that is a file is enumerated
    /// under that name).
    pub fn expect_resources(
        &mut self,
        method: Serialization,
        hash: HashAlgorithm,
        mut resources: Resources,
        single_file: bool,
    ) -> bool {
        if method != self.method || hash != self.hash {
            return false;
        }
        let one_path = resources.get(0).map(|r| r.path);
        if single_file && one_path.is_some_and(|p| resources.iter().all(|r| r.path == p)) {
            let mut renamed = Resources::new();
            for r in &resources {
                if renamed
                    .push(Resource {
                        path: SINGLE_FILE_NAME,
                        ..r
                    })
                    .is_err()
                {
                    return false;
                }
            }
            resources = renamed;
        }
        if !resources
            .iter()
            .is_sorted_by(|a, b| a.reference_cmp(b).is_le())
        {
            let Ok(sorted) = resources.sorted_by(|a, b| a.reference_cmp(b)) else {
                return false;
            };
            resources = sorted;
        }
        self.inputs_mut().1 = resources;
        true
    }

    fn inputs_mut(&mut self) -> &mut (Previous, Resources) {
        let inputs = self
            .inputs
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        inputs.get_or_insert_with(|| (Previous::default(), Resources::new()))
    }

    /// Hands the previous entries and the manifest to the one hashing run that uses
    /// them (a second run finds none and hashes everything).
    pub(crate) fn take_inputs(&self) -> (Previous, Resources) {
        self.inputs
            .lock()
            .ok()
            .and_then(|mut g| g.take())
            .unwrap_or_default()
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

    /// Which files this run hashed, and why.
    #[must_use]
    pub fn rehashed(&self) -> Rehashed {
        self.rehashed.lock().map(|g| g.clone()).unwrap_or_default()
    }

    pub(crate) fn count(&self, reused: usize, hashed: Rehashed) {
        let n = hashed.counts.iter().map(|(_, n)| n).sum();
        self.reused.fetch_add(reused, Ordering::Relaxed);
        self.hashed.fetch_add(n, Ordering::Relaxed);
        if let Ok(mut g) = self.rehashed.lock() {
            *g = hashed;
        }
    }

    /// A writer for this run's cache file, headed by the identity and the stamp.
    pub(crate) fn writer(&self, files: usize) -> Writer {
        Writer::new(&format!("{}stamp {}\n", self.identity(), self.stamp), files)
    }

    pub(crate) fn finish(&self, w: Writer) {
        if let Ok(mut next) = self.next.lock() {
            *next = Some(w.into_bytes());
        }
    }

    /// The cache file for the next run: the entries of the hashing run, stamped with
    /// its start (taken: a second call returns an empty cache).
    ///
    /// # Errors
    /// [`StatCacheError::TooLarge`] when it would exceed [`MAX_CACHE_BYTES`].
    pub fn serialize(&self) -> Result<Vec<u8>, StatCacheError> {
        let out = self
            .next
            .lock()
            .ok()
            .and_then(|mut g| g.take())
            .unwrap_or_else(|| self.writer(0).into_bytes());
        let size = out.len() as u64;
        if size > MAX_CACHE_BYTES {
            return Err(StatCacheError::TooLarge {
                size,
                limit: MAX_CACHE_BYTES,
            });
        }
        Ok(out)
    }

    pub(crate) fn method(&self) -> Serialization {
        self.method
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FileStat;

    fn cache(stamp: i128) -> StatCache {
        StatCache::new(
            Path::new("/m"),
            Serialization::Files,
            HashAlgorithm::Sha256,
            stamp,
        )
    }

    fn key(mtime: i128, ctime: i128) -> FileStat {
        FileStat {
            dev: 1,
            ino: 2,
            size: 3,
            mtime,
            ctime,
        }
    }

    fn written(c: &StatCache, entries: &[(&str, FileStat, &[&[u8]])]) -> Vec<u8> {
        let mut w = c.writer(entries.len());
        for (name, k, d) in entries {
            w.entry(name, k, d.iter().copied());
        }
        c.finish(w);
        c.serialize().unwrap()
    }

    #[test]
    fn round_trip_keeps_clean_entries_and_drops_racy_ones() {
        let c = cache(100);
        let bytes = written(
            &c,
            &[
                ("a", key(50, 60), &[&[1, 2]]),
                ("empty", key(1, 1), &[]),
                ("racy", key(50, 100), &[&[3]]),
                ("shards", key(1, 2), &[&[4, 5], &[6, 7]]),
            ],
        );
        let d = parse(&bytes, &c.params, &c.root).unwrap();
        let names: Vec<(&str, bool)> = d.entries.iter().map(|e| (d.name(e), e.racy)).collect();
        assert_eq!(
            names,
            [
                ("a", false),
                ("empty", false),
                ("racy", true),
                ("shards", false)
            ]
        );
        let digests = |i: usize| d.digests(&d.entries[i]).collect::<Vec<_>>();
        assert_eq!(digests(0), [&[1u8, 2][..]]);
        assert_eq!(Previous::count(&d.entries[1]), 0);
        assert_eq!(digests(3), [&[4u8, 5][..], &[6, 7]]);
        assert_eq!(d.entries[3].key, key(1, 2));
        let mut e = cache(200);
        assert_eq!(e.load(&bytes), Ok(3));
    }

    #[test]
    fn corrupt_unordered_and_foreign_caches_are_refused() {
        let c = cache(100);
        let bytes = written(&c, &[("a", key(50, 60), &[&[1, 2]])]);
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
        let c = cache(100);
        let unordered = written(&c, &[("b", key(1, 1), &[&[1]]), ("a", key(1, 1), &[&[1]])]);
        assert_eq!(
            d.load(&unordered),
            Err(StatCacheError::Malformed {
                line: 6,
                reason: "names out of order or repeated"
            })
        );
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
        assert!(d.take_inputs().0.entries.is_empty());
    }
}
