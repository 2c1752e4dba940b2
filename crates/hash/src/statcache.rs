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
//! The cache file ([`crate::statfile`]) is binary, one entry per file in the reference
//! order, read and written as a stream: a run matches the files, the cache and the
//! manifest in one merged pass with no index, holding one entry at a time.
//!
//! The manifest a digest must agree with is found in one of two ways. When signing, the
//! cache of a run that signed records the statement's frame (subject name and digest,
//! serialization flags); [`StatCache::bind`] writes that statement again from the cache
//! and compares it with the payload of the signature now at the output path
//! ([`crate::statbind`]): equal bytes mean the signature records exactly the cache's
//! digests, and the signature need not be parsed. Otherwise (verification, a cache
//! written by `verify`, a signature that is not the one signed with the cache) the
//! caller parses the signature's manifest and hands it to
//! [`StatCache::expect_resources`], and each digest is compared with it. The entries the
//! merge reads are hashed and must be those the binding read (a cache file rewritten in
//! between makes the run hash everything).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use hallmark_format::resource::SINGLE_FILE_NAME;
use hallmark_format::{HashAlgorithm, Resource, Resources, Serialization};

use crate::statfile::{Frame, MAGIC, Reader, StatCacheError, Writer};

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
    /// The cache file changed while this run read it: nothing was trusted.
    CacheChanged,
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
            Self::CacheChanged => "stat cache changed during the run",
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

/// The previous run's entries, as read, and what they must agree with.
pub(crate) struct Inputs {
    /// The cache file, at its first entry (`None`: no usable cache).
    pub(crate) reader: Option<Reader>,
    /// The SHA-256 of the entries, when [`StatCache::bind`] found the signature's
    /// statement to be the cache's: its digests need no other check.
    pub(crate) bound: Option<[u8; 32]>,
    /// Otherwise, the manifest each reused digest must equal.
    pub(crate) expected: Resources,
}

/// One model's stat cache: the previous run's file (read as a stream by the one
/// hashing run that uses it), the manifest its digests must agree with, and the file
/// that run writes for the next one ([`StatCache::save`] puts it in place).
pub struct StatCache {
    params: String,
    root: String,
    stamp: i128,
    method: Serialization,
    hash: HashAlgorithm,
    file: PathBuf,
    inputs: Mutex<Option<Inputs>>,
    next: Mutex<Option<Writer>>,
    rehashed: Mutex<Rehashed>,
    reused: AtomicUsize,
    hashed: AtomicUsize,
}

impl std::fmt::Debug for StatCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatCache")
            .field("params", &self.params)
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

impl StatCache {
    /// A cache for the model at `root` (its canonical path) hashed with `method` and
    /// `hash`, kept in `file` (read by [`Self::open`], replaced by [`Self::save`]);
    /// `stamp_ns` is the filesystem time at which this run started (the mtime of a
    /// file created then), in nanoseconds since the epoch.
    #[must_use]
    pub fn new(
        root: &Path,
        method: Serialization,
        hash: HashAlgorithm,
        stamp_ns: i128,
        file: &Path,
    ) -> Self {
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
            file: file.to_owned(),
            inputs: Mutex::new(Some(Inputs {
                reader: None,
                bound: None,
                expected: Resources::new(),
            })),
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

    /// Opens the cache file an earlier run wrote (its header only: the entries are read
    /// by the hashing run). Returns whether there is one.
    ///
    /// # Errors
    /// Unreadable, malformed, or written for another root or parameters; nothing is
    /// kept.
    pub fn open(&mut self) -> Result<bool, StatCacheError> {
        let reader = Reader::open(&self.file, &self.params, &self.root, self.hash.digest_len())?;
        let found = reader.is_some();
        self.inputs_mut().reader = reader;
        Ok(found)
    }

    /// Registers the previous signature's resources: only digests equal to these are
    /// reused. Resources of another serialization or hash register nothing (returns
    /// false). `single_file` maps a one-file manifest's name to `"."` (a model that is
    /// a file is enumerated under that name).
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
        self.inputs_mut().expected = resources;
        true
    }

    pub(crate) fn inputs_mut(&mut self) -> &mut Inputs {
        let inputs = self
            .inputs
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        inputs.get_or_insert_with(|| Inputs {
            reader: None,
            bound: None,
            expected: Resources::new(),
        })
    }

    /// Hands the previous entries and what they must agree with to the one hashing run
    /// that uses them (a second run finds none and hashes everything).
    pub(crate) fn take_inputs(&self) -> Option<Inputs> {
        self.inputs.lock().ok().and_then(|mut g| g.take())
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
    pub(crate) fn writer(&self) -> Writer {
        Writer::create(
            &self.file,
            &self.params,
            &self.root,
            self.stamp,
            self.hash.digest_len(),
        )
    }

    pub(crate) fn finish(&self, w: Writer) {
        if let Ok(mut next) = self.next.lock() {
            *next = Some(w);
        }
    }

    /// Puts the cache file of this run's hashing in place for the next run, with the
    /// frame of the statement signed from it (`None` when nothing was signed). A run
    /// that hashed nothing writes a cache with no entries.
    ///
    /// # Errors
    /// The file could not be written or renamed.
    pub fn save(&self, frame: Option<&Frame>) -> Result<(), StatCacheError> {
        let w = self
            .next
            .lock()
            .ok()
            .and_then(|mut g| g.take())
            .unwrap_or_else(|| self.writer());
        w.finish(frame)
    }

    pub(crate) fn method(&self) -> Serialization {
        self.method
    }

    pub(crate) fn hash(&self) -> HashAlgorithm {
        self.hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FileStat;

    fn key(mtime: i64, ctime: i64) -> FileStat {
        FileStat {
            dev: 1,
            ino: 2,
            size: 3,
            mtime,
            ctime,
        }
    }

    #[test]
    fn round_trip_reads_entries_in_order_and_marks_racy_ones() {
        let d = tempfile::tempdir().unwrap();
        let file = d.path().join("c");
        let sha = HashAlgorithm::Sha256;
        let c = StatCache::new(Path::new("/m"), Serialization::Files, sha, 100, &file);
        let mut w = c.writer();
        w.entry("a", &key(50, 60), &[1; 32], 1);
        w.entry("empty", &key(1, 1), &[], 0);
        w.entry("racy", &key(50, 100), &[3; 32], 1);
        w.entry("shards", &key(1, 2), &[4; 64], 2);
        w.entry("wrong-length", &key(1, 2), &[4; 5], 1);
        c.finish(w);
        let frame = Frame {
            root_digest: [9; 32],
            model_name: "m".into(),
            allow_symlinks: true,
            ignore_paths: vec!["x".into(), "y/z".into()],
        };
        c.save(Some(&frame)).unwrap();
        let mut r = Reader::open(&file, &c.params, &c.root, 32)
            .unwrap()
            .unwrap();
        let mut seen = Vec::new();
        while r.advance().unwrap() {
            seen.push((r.name().to_owned(), r.racy(), r.digests().1));
        }
        let want = [
            ("a", false, 1),
            ("empty", false, 0),
            ("racy", true, 1),
            ("shards", false, 2),
        ];
        let want: Vec<_> = want
            .iter()
            .map(|(n, r, c)| ((*n).to_owned(), *r, *c))
            .collect();
        assert_eq!(seen, want);
        let sum = r.finish().unwrap();
        assert_eq!(r.frame().unwrap(), Some(frame));
        r.rewind().unwrap();
        assert!(r.advance().unwrap());
        assert_eq!((r.name(), r.key()), ("a", key(50, 60)));
        assert_eq!(r.finish().unwrap(), sum);
    }

    #[test]
    fn unordered_and_foreign_caches_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let file = d.path().join("c");
        let sha = HashAlgorithm::Sha256;
        let c = StatCache::new(Path::new("/m"), Serialization::Files, sha, 100, &file);
        let mut w = c.writer();
        w.entry("b", &key(1, 1), &[1; 32], 1);
        w.entry("a", &key(1, 1), &[1; 32], 1);
        c.finish(w);
        c.save(None).unwrap();
        let mut r = Reader::open(&file, &c.params, &c.root, 32)
            .unwrap()
            .unwrap();
        assert!(r.advance().unwrap());
        assert_eq!(
            r.advance(),
            Err(StatCacheError::Malformed {
                entry: 2,
                reason: "names out of order or repeated"
            })
        );
        assert_eq!(r.frame().unwrap(), None);
        let mut other = StatCache::new(Path::new("/other"), Serialization::Files, sha, 1, &file);
        assert_eq!(other.open(), Err(StatCacheError::Foreign { field: "root" }));
        let mut none = StatCache::new(
            Path::new("/m"),
            Serialization::Files,
            sha,
            1,
            &d.path().join("no"),
        );
        assert_eq!(none.open(), Ok(false));
        assert!(!none.bind(&file));
    }
}
