//! The directory walk behind [`crate::enumerate`], on one thread per core.
//!
//! Tens of thousands of small files make enumeration a real share of signing: one
//! `getdents` per few hundred entries and one `statx` per file. So directories are
//! listed by a small pool of workers sharing a stack of tasks, and each file is sized
//! with a `statx` relative to its directory's open descriptor
//! ([`std::fs::DirEntry::metadata`]), which resolves one name instead of the whole
//! path. A directory with many files hands its files out in chunks, so one flat
//! directory is sized in parallel too. Tasks are taken last-in first-out, so the
//! chunks of a listed directory are finished before the next directory is opened,
//! and at most a few directory descriptors are open at once.
//!
//! The result is unordered; [`crate::enumerate`] sorts it.

use std::fs::{self, DirEntry};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use crate::error::HashError;
use crate::model::{FileStat, ModelFiles, WalkOptions, follow};

/// Files sized per task: small enough to share a flat directory between workers,
/// large enough that the queue's lock is not contended.
const STAT_CHUNK: usize = 256;

enum Task {
    /// A directory to list, and its model-relative name with a trailing `/` (`""`
    /// for the model root).
    Dir(PathBuf, String),
    /// Regular files found by a listing, with their model-relative names, to size.
    Stat(Vec<(DirEntry, String)>),
}

#[derive(Default)]
struct State {
    tasks: Vec<Task>,
    /// Workers holding a task (they may still push more).
    busy: usize,
    /// The first error (or a worker's panic): everybody stops.
    failed: Option<HashError>,
    stop: bool,
}

#[derive(Default)]
struct Queue {
    state: Mutex<State>,
    changed: Condvar,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while the lock is held; a poisoned lock is still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next task, or `None` when all work is done or something failed. Marks
    /// the caller busy until the returned guard is dropped.
    fn next(&self) -> Option<(Task, Busy<'_>)> {
        let mut st = self.lock();
        loop {
            if st.stop {
                return None;
            }
            if let Some(t) = st.tasks.pop() {
                st.busy += 1;
                return Some((t, Busy(self)));
            }
            if st.busy == 0 {
                return None;
            }
            st = self
                .changed
                .wait(st)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn push(&self, tasks: impl IntoIterator<Item = Task>) {
        self.lock().tasks.extend(tasks);
        self.changed.notify_all();
    }

    fn fail(&self, e: HashError) {
        let mut st = self.lock();
        st.stop = true;
        st.failed.get_or_insert(e);
        drop(st);
        self.changed.notify_all();
    }
}

/// Held while a worker runs a task; dropping it (also while unwinding from a panic)
/// releases the task, so the other workers never wait for a task that cannot end.
struct Busy<'a>(&'a Queue);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        let mut st = self.0.lock();
        st.busy = st.busy.saturating_sub(1);
        if std::thread::panicking() {
            st.stop = true;
        }
        drop(st);
        self.0.changed.notify_all();
    }
}

/// Every file under the directory `root`, unordered.
pub(crate) fn walk(root: &Path, opts: &WalkOptions) -> Result<ModelFiles, HashError> {
    let queue = Queue::default();
    queue.push([Task::Dir(root.to_owned(), String::new())]);
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let all = Mutex::new(ModelFiles::new(root));
    std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..workers)
            .map(|_| scope.spawn(|| work(&queue, root, opts, &all)))
            .collect();
        work(&queue, root, opts, &all);
        for h in helpers {
            if let Err(panic) = h.join() {
                std::panic::resume_unwind(panic);
            }
        }
    });
    if let Some(e) = queue.lock().failed.take() {
        return Err(e);
    }
    let mut out = all.into_inner().unwrap_or_else(PoisonError::into_inner);
    out.shrink_to_fit();
    Ok(out)
}

/// Files a worker collects before adding them to the shared list: one list grows,
/// not one per worker merged at the end (which held the files twice).
const BATCH: usize = 4096;

fn work(queue: &Queue, root: &Path, opts: &WalkOptions, all: &Mutex<ModelFiles>) {
    let mut batch = ModelFiles::new(root);
    let flush = |batch: &mut ModelFiles| {
        let mut all = all.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(e) = all.append(batch) {
            queue.fail(e);
        }
        drop(all);
        *batch = ModelFiles::new(root);
    };
    while let Some((task, _busy)) = queue.next() {
        let result = match task {
            Task::Dir(dir, prefix) => list(queue, &dir, &prefix, opts, &mut batch),
            Task::Stat(files) => size(files, opts, &mut batch),
        };
        if let Err(e) = result {
            queue.fail(e);
        }
        if batch.len() >= BATCH {
            flush(&mut batch);
        }
    }
    flush(&mut batch);
}

/// Lists one directory: subdirectories and chunks of files go to the queue, links
/// are resolved here, and the first chunk of files is sized here.
fn list(
    queue: &Queue,
    dir: &Path,
    prefix: &str,
    opts: &WalkOptions,
    out: &mut ModelFiles,
) -> Result<(), HashError> {
    let mut tasks = Vec::new();
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| HashError::io(dir, e))? {
        let entry = entry.map_err(|e| HashError::io(dir, e))?;
        let file_name = entry.file_name();
        let Some(comp) = file_name.to_str() else {
            return Err(HashError::NonUtf8Name { path: entry.path() });
        };
        let mut name = String::with_capacity(prefix.len() + comp.len() + 1);
        name.push_str(prefix);
        name.push_str(comp);
        // Every directory above was checked before it was entered.
        if opts.ignore.contains(&name) {
            continue;
        }
        let ft = entry
            .file_type()
            .map_err(|e| HashError::io(entry.path(), e))?;
        if ft.is_dir() {
            name.push('/');
            tasks.push(Task::Dir(entry.path(), name));
        } else if ft.is_file() {
            files.push((entry, name));
        } else if ft.is_symlink() {
            let path = entry.path();
            if !opts.allow_symlinks {
                return Err(HashError::Symlink { path });
            }
            let target = follow(&path)?;
            if target.is_file() {
                let stat = opts.keep_stats.then(|| FileStat::of(&target));
                out.push(&name, target.len(), stat)?;
            } else if !target.is_dir() {
                return Err(HashError::NotRegular { path });
            }
            // A link to a directory: skipped, like the reference's glob.
        } else {
            return Err(HashError::NotRegular { path: entry.path() });
        }
    }
    while files.len() > STAT_CHUNK {
        let tail = files.split_off(files.len() - STAT_CHUNK);
        tasks.push(Task::Stat(tail));
    }
    if !tasks.is_empty() {
        queue.push(tasks);
    }
    size(files, opts, out)
}

/// Sizes regular files with one `statx` each, relative to their directory.
fn size(
    files: Vec<(DirEntry, String)>,
    opts: &WalkOptions,
    out: &mut ModelFiles,
) -> Result<(), HashError> {
    for (entry, name) in files {
        let meta = entry
            .metadata()
            .map_err(|e| HashError::io(entry.path(), e))?;
        if !meta.is_file() {
            // Replaced by something else since the directory was read.
            return Err(HashError::NotRegular { path: entry.path() });
        }
        out.push(
            &name,
            meta.len(),
            opts.keep_stats.then(|| FileStat::of(&meta)),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_and_deep_trees_are_listed_completely() {
        let d = tempfile::tempdir().unwrap();
        let flat = 3 * STAT_CHUNK + 7;
        for i in 0..flat {
            fs::write(d.path().join(format!("f{i}")), vec![1u8; i % 5]).unwrap();
        }
        let mut deep = d.path().to_owned();
        for level in 0..40 {
            deep.push(format!("l{level}"));
            fs::create_dir(&deep).unwrap();
            fs::write(deep.join("x"), b"xy").unwrap();
        }
        let files = walk(d.path(), &WalkOptions::default()).unwrap();
        assert_eq!(files.len(), flat + 40);
        let mut names: Vec<&str> = (0..files.len()).filter_map(|i| files.name(i)).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), flat + 40);
        for f in files.iter() {
            assert_eq!(f.size, fs::metadata(&f.path).unwrap().len(), "{}", f.name);
            assert!(
                f.path.ends_with(&f.name),
                "{} at {}",
                f.name,
                f.path.display()
            );
        }
    }

    #[test]
    fn an_error_in_one_chunk_stops_the_walk() {
        let d = tempfile::tempdir().unwrap();
        for i in 0..2 * STAT_CHUNK {
            fs::write(d.path().join(format!("f{i}")), b"").unwrap();
        }
        std::os::unix::fs::symlink("f0", d.path().join("zlink")).unwrap();
        let err = walk(d.path(), &WalkOptions::default()).unwrap_err();
        assert!(matches!(err, HashError::Symlink { .. }), "{err}");
    }
}
