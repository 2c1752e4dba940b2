//! Storage: two narrow traits, sunlight style, and their local-directory implementation.
//!
//! * [`TileStorage`]: the log's objects (tiles, entry bundles, the public `checkpoint`
//!   copy, the shared sequencer's staging objects) with three operations: fetch (from
//!   [`TileFetch`]), [`TileStorage::upload`] and [`TileStorage::discard`], plus a listing
//!   of staging objects for the shared sequencer's clean-up. An upload's [`Upload`] mode
//!   says whether it may replace an object. **Contract:** every upload but
//!   [`Upload::Publish`] returns only when the object is durable; a reader sees the old
//!   object or the new one, never a torn one.
//! * [`CheckpointLock`]: the latest checkpoint of one log with compare-and-swap (fetch,
//!   create, replace). It is the single source of truth for the tree size: a checkpoint
//!   enters the lock only after all tiles it covers are durable, and the lock never moves
//!   backwards.
//!
//! Both are object-safe and synchronous. Implementations: [`DirStore`] and [`DirLock`]
//! here, an in-memory pair for tests in [`crate::mem`], and the database / object-store
//! backends in `hallmark-store`'s `log` module.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::Error;
use crate::tile::TileFetch;

/// How an [`TileStorage::upload`] treats an object already under the key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Upload {
    /// Write only if the key is free and report what was there (the one-node
    /// sequencer's tiles, which must never change once committed). Durable on return.
    IfAbsent,
    /// Atomically replace (or create) the object. Durable on return.
    Replace,
    /// Atomically replace without the durability promise: for the public copy of the
    /// checkpoint, which the sequencer republishes from the lock when it opens.
    Publish,
}

/// What an upload found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Uploaded {
    /// The object was written.
    Written,
    /// ([`Upload::IfAbsent`]) An identical object was already there.
    Identical,
    /// ([`Upload::IfAbsent`]) A different object is stored under the key; nothing was
    /// written.
    Differs,
}

/// The objects of one log: tiles, entry bundles, checkpoint copy, staging objects.
pub trait TileStorage: TileFetch {
    /// Writes `data` under `key` as `mode` says.
    ///
    /// # Errors
    /// An invalid key or backend failures.
    fn upload(&self, key: &str, data: &[u8], mode: Upload) -> Result<Uploaded, Error>;

    /// Deletes `key` (absent is fine): staging objects of the shared sequencer, and
    /// partial tiles, bundles and time sidecars superseded by a committed, published
    /// checkpoint (never a full tile or an object a committed checkpoint references).
    ///
    /// # Errors
    /// Backend failures.
    fn discard(&self, key: &str) -> Result<(), Error>;

    /// Keys under `prefix` (which ends with `/`): for finding staging objects left by a
    /// shared-log holder that died before its commit, and the partial objects of one tile
    /// (`tile/0/000.p/`) left beside the one in use.
    ///
    /// # Errors
    /// Backend failures.
    fn list(&self, prefix: &str) -> Result<Vec<String>, Error>;

    /// [`TileStorage::upload`] of several objects, in any order or concurrently; all
    /// durable on return (unless [`Upload::Publish`]). Outcomes in the order of `objects`.
    /// Defaults to one at a time; backends override it to batch syncs or requests.
    ///
    /// # Errors
    /// As [`TileStorage::upload`]; some objects may have been written.
    fn upload_all(
        &self,
        objects: &[(String, Vec<u8>)],
        mode: Upload,
    ) -> Result<Vec<Uploaded>, Error> {
        upload_each(self, objects, mode)
    }
}

/// [`TileStorage::upload`] of each object in turn (the default of
/// [`TileStorage::upload_all`], for overrides that batch only some modes).
///
/// # Errors
/// The first failed upload.
pub fn upload_each<S: TileStorage + ?Sized>(
    storage: &S,
    objects: &[(String, Vec<u8>)],
    mode: Upload,
) -> Result<Vec<Uploaded>, Error> {
    objects
        .iter()
        .map(|(k, d)| storage.upload(k, d, mode))
        .collect()
}

/// The latest checkpoint of one log, with compare-and-swap.
pub trait CheckpointLock: Send + Sync {
    /// The stored checkpoint note, if the log exists.
    ///
    /// # Errors
    /// Backend failures.
    fn fetch(&self) -> Result<Option<String>, Error>;

    /// Stores the first checkpoint; fails with [`Error::LockConflict`] if one exists.
    ///
    /// # Errors
    /// Conflict or backend failures.
    fn create(&self, note: &str) -> Result<(), Error>;

    /// Replaces `old` by `new` iff the stored note is exactly `old`
    /// ([`Error::LockConflict`] otherwise). Durable on return.
    ///
    /// # Errors
    /// Conflict or backend failures.
    fn replace(&self, old: &str, new: &str) -> Result<(), Error>;
}

/// The outcome of an [`Upload::IfAbsent`] that found `existing` under the key.
#[must_use]
pub fn compare_existing(existing: &[u8], data: &[u8]) -> Uploaded {
    if existing == data {
        Uploaded::Identical
    } else {
        Uploaded::Differs
    }
}

/// Most threads one batch uses to write and fsync objects in parallel.
const MAX_SYNC_THREADS: usize = 32;

fn fsync_dir(dir: &Path) -> Result<(), Error> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("fsync directory", dir, e))
}

/// Tiles and bundles as files under a directory, laid out exactly as the tlog-tiles URL
/// space (so the directory can be served statically). Writes go to `.tmp/`, are fsynced,
/// then hard-linked (put-if-absent) or renamed (overwrite) into place, and the parent
/// directory is fsynced.
#[derive(Debug)]
pub struct DirStore {
    root: PathBuf,
    tmp: PathBuf,
    counter: AtomicU64,
    durable_dirs: Mutex<HashSet<PathBuf>>,
}

impl DirStore {
    /// Opens (creating if needed) a store rooted at `root`.
    ///
    /// # Errors
    /// The directory cannot be created.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, Error> {
        let root = root.into();
        let tmp = root.join(".tmp");
        fs::create_dir_all(&tmp).map_err(|e| Error::io("create directory", &tmp, e))?;
        // Leftovers of a crash: never linked, safe to drop.
        if let Ok(rd) = fs::read_dir(&tmp) {
            for e in rd.flatten() {
                let _ = fs::remove_file(e.path());
            }
        }
        fsync_dir(&root)?;
        Ok(Self {
            root,
            tmp,
            counter: AtomicU64::new(0),
            durable_dirs: Mutex::new(HashSet::new()),
        })
    }

    /// The root directory.
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path_of(&self, key: &str) -> Result<PathBuf, Error> {
        let ok = !key.is_empty()
            && !key.starts_with('/')
            && key
                .split('/')
                .all(|c| !c.is_empty() && c != "." && c != ".." && !c.starts_with(".tmp"));
        if !ok {
            return Err(Error::InvalidEntry(format!("invalid object key {key:?}")));
        }
        Ok(self.root.join(key))
    }

    /// Creates the parent directories of `path` and makes their entries durable.
    fn ensure_parent(&self, path: &Path) -> Result<PathBuf, Error> {
        let parent = path.parent().unwrap_or(&self.root).to_path_buf();
        let known = self
            .durable_dirs
            .lock()
            .map(|s| s.contains(&parent))
            .unwrap_or(false);
        if !known {
            fs::create_dir_all(&parent).map_err(|e| Error::io("create directory", &parent, e))?;
            let mut d = parent.as_path();
            while let Some(up) = d.parent() {
                fsync_dir(up)?;
                if up == self.root {
                    break;
                }
                d = up;
            }
            if let Ok(mut s) = self.durable_dirs.lock() {
                s.insert(parent.clone());
            }
        }
        Ok(parent)
    }

    fn write_temp(&self, data: &[u8]) -> Result<PathBuf, Error> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let path = self.tmp.join(format!("{}-{n}", std::process::id()));
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| Error::io("create", &path, e))?;
        f.write_all(data)
            .map_err(|e| Error::io("write", &path, e))?;
        f.sync_data().map_err(|e| Error::io("fsync", &path, e))?;
        Ok(path)
    }

    /// Links a synced temp file into place; returns the outcome and the parent directory
    /// to fsync (for `Created`).
    fn link_in(
        &self,
        tmp: &Path,
        key: &str,
        data: &[u8],
    ) -> Result<(Uploaded, Option<PathBuf>), Error> {
        let path = self.path_of(key)?;
        let parent = self.ensure_parent(&path)?;
        let res = fs::hard_link(tmp, &path);
        let _ = fs::remove_file(tmp);
        match res {
            Ok(()) => Ok((Uploaded::Written, Some(parent))),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                let existing = fs::read(&path).map_err(|e| Error::io("read", &path, e))?;
                Ok((compare_existing(&existing, data), None))
            }
            Err(e) => Err(Error::io("link", &path, e)),
        }
    }
}

impl TileFetch for DirStore {
    fn fetch(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        let path = self.path_of(key)?;
        match fs::read(&path) {
            Ok(d) => Ok(Some(d)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io("read", &path, e)),
        }
    }
}

impl DirStore {
    fn put_if_absent(&self, key: &str, data: &[u8]) -> Result<Uploaded, Error> {
        let tmp = self.write_temp(data)?;
        let (outcome, dir) = self.link_in(&tmp, key, data)?;
        if let Some(d) = dir {
            fsync_dir(&d)?;
        }
        Ok(outcome)
    }

    fn replace(&self, key: &str, data: &[u8]) -> Result<(), Error> {
        let path = self.path_of(key)?;
        let parent = self.ensure_parent(&path)?;
        let tmp = self.write_temp(data)?;
        fs::rename(&tmp, &path).map_err(|e| Error::io("rename into", &path, e))?;
        fsync_dir(&parent)
    }

    fn publish(&self, key: &str, data: &[u8]) -> Result<(), Error> {
        let path = self.path_of(key)?;
        self.ensure_parent(&path)?;
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let tmp = self.tmp.join(format!("{}-{n}", std::process::id()));
        fs::write(&tmp, data).map_err(|e| Error::io("write", &tmp, e))?;
        fs::rename(&tmp, &path).map_err(|e| Error::io("rename into", &path, e))
    }

    /// Put-if-absent of a batch: writes and fsyncs all data in parallel (the file system
    /// can then fold the syncs into few journal commits), then links, then fsyncs each
    /// touched directory once.
    fn put_all_if_absent(&self, objects: &[(String, Vec<u8>)]) -> Result<Vec<Uploaded>, Error> {
        let temps: Vec<PathBuf> = if objects.len() <= 1 {
            objects
                .iter()
                .map(|(_, d)| self.write_temp(d))
                .collect::<Result<_, _>>()?
        } else {
            let threads = objects.len().min(MAX_SYNC_THREADS);
            let chunk = objects.len().div_ceil(threads);
            std::thread::scope(|s| {
                let handles: Vec<_> = objects
                    .chunks(chunk)
                    .map(|c| {
                        s.spawn(move || {
                            c.iter()
                                .map(|(_, d)| self.write_temp(d))
                                .collect::<Result<Vec<_>, _>>()
                        })
                    })
                    .collect();
                let mut all = Vec::with_capacity(objects.len());
                for h in handles {
                    all.extend(
                        h.join()
                            .map_err(|_| Error::Stopped("a writer thread panicked".into()))??,
                    );
                }
                Ok::<_, Error>(all)
            })?
        };
        let mut dirs: Vec<PathBuf> = Vec::new();
        let mut out = Vec::with_capacity(objects.len());
        for (tmp, (key, data)) in temps.iter().zip(objects) {
            let (o, dir) = self.link_in(tmp, key, data)?;
            if let Some(d) = dir
                && !dirs.contains(&d)
            {
                dirs.push(d);
            }
            out.push(o);
        }
        for d in &dirs {
            fsync_dir(d)?;
        }
        Ok(out)
    }
}

impl TileStorage for DirStore {
    fn upload(&self, key: &str, data: &[u8], mode: Upload) -> Result<Uploaded, Error> {
        match mode {
            Upload::IfAbsent => self.put_if_absent(key, data),
            Upload::Replace => self.replace(key, data).map(|()| Uploaded::Written),
            Upload::Publish => self.publish(key, data).map(|()| Uploaded::Written),
        }
    }

    fn discard(&self, key: &str) -> Result<(), Error> {
        let path = self.path_of(key)?;
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io("delete", &path, e)),
        }
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, Error> {
        let dir = self.path_of(prefix.trim_end_matches('/'))?;
        let rd = match fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("list", &dir, e)),
        };
        let mut out = Vec::new();
        for e in rd {
            let e = e.map_err(|e| Error::io("list", &dir, e))?;
            if let Some(name) = e.file_name().to_str()
                && e.file_type().is_ok_and(|t| t.is_file())
            {
                out.push(format!("{prefix}{name}"));
            }
        }
        Ok(out)
    }

    fn upload_all(
        &self,
        objects: &[(String, Vec<u8>)],
        mode: Upload,
    ) -> Result<Vec<Uploaded>, Error> {
        if mode == Upload::IfAbsent {
            return self.put_all_if_absent(objects);
        }
        upload_each(self, objects, mode)
    }
}

/// A [`CheckpointLock`] in a file, guarded by an exclusive `flock` held for the lifetime
/// of this value (so two processes cannot sequence the same directory).
#[derive(Debug)]
pub struct DirLock {
    dir: PathBuf,
    path: PathBuf,
    _guard: File,
    state: Mutex<()>,
}

impl DirLock {
    /// Opens the lock in `dir` (created if needed) and takes the process lock.
    ///
    /// # Errors
    /// I/O failures, or [`Error::LockConflict`] when another process holds it.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, Error> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(|e| Error::io("create directory", &dir, e))?;
        let guard_path = dir.join("LOCK");
        let guard = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&guard_path)
            .map_err(|e| Error::io("open", &guard_path, e))?;
        guard.try_lock().map_err(|_| Error::LockConflict {
            log: format!("{} is locked by another process", dir.display()),
        })?;
        Ok(Self {
            path: dir.join("checkpoint"),
            dir,
            _guard: guard,
            state: Mutex::new(()),
        })
    }

    fn write(&self, note: &str) -> Result<(), Error> {
        let tmp = self.dir.join("checkpoint.tmp");
        let mut f = File::create(&tmp).map_err(|e| Error::io("create", &tmp, e))?;
        f.write_all(note.as_bytes())
            .map_err(|e| Error::io("write", &tmp, e))?;
        f.sync_all().map_err(|e| Error::io("fsync", &tmp, e))?;
        fs::rename(&tmp, &self.path).map_err(|e| Error::io("rename into", &self.path, e))?;
        fsync_dir(&self.dir)
    }
}

impl CheckpointLock for DirLock {
    fn fetch(&self) -> Result<Option<String>, Error> {
        match fs::read_to_string(&self.path) {
            Ok(s) => Ok(Some(s)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io("read", &self.path, e)),
        }
    }

    fn create(&self, note: &str) -> Result<(), Error> {
        let _g = self
            .state
            .lock()
            .map_err(|_| Error::Stopped("lock poisoned".into()))?;
        if self.fetch()?.is_some() {
            return Err(Error::LockConflict {
                log: self.path.display().to_string(),
            });
        }
        self.write(note)
    }

    fn replace(&self, old: &str, new: &str) -> Result<(), Error> {
        let _g = self
            .state
            .lock()
            .map_err(|_| Error::Stopped("lock poisoned".into()))?;
        if self.fetch()?.as_deref() != Some(old) {
            return Err(Error::LockConflict {
                log: self.path.display().to_string(),
            });
        }
        self.write(new)
    }
}
