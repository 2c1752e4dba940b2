//! What the workers of one engine call share: the work [`Unit`]s, the [`Shared`]
//! state (schedule, first error, cancellation) and the small steps every read path
//! takes (open, progress, size-change error). A leaf below `engine` and `mmap`.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use hallmark_format::Serialization;

use crate::error::{FoundSize, HashError};
use crate::model::ModelFile;
use crate::options::EngineOptions;

/// Progress is reported in steps of at least this many bytes (or at a unit's end).
pub(crate) const PROGRESS_STEP: u64 = 4 << 20;

/// One piece of work: bytes `[start, end)` of `files[file]`, landing at `out`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Unit {
    pub(crate) file: usize,
    pub(crate) start: u64,
    pub(crate) end: u64,
}

impl Unit {
    pub(crate) fn len(&self) -> u64 {
        self.end - self.start
    }
}

/// State shared by the workers of one call.
pub(crate) struct Shared<'a> {
    pub(crate) files: &'a [ModelFile],
    pub(crate) units: &'a [Unit],
    /// Unit indices, largest first.
    pub(crate) schedule: Vec<usize>,
    pub(crate) next: AtomicUsize,
    /// Raised on the first error so the other workers stop.
    pub(crate) abort: AtomicBool,
    pub(crate) error: Mutex<Option<HashError>>,
    pub(crate) opts: &'a EngineOptions,
    pub(crate) buffer_size: usize,
    /// `opts.effective_threads()`, resolved once: on Linux each resolution reads
    /// several cgroup files, which cost more than hashing a 16 KiB file.
    pub(crate) cores: usize,
}

impl Shared<'_> {
    pub(crate) fn should_stop(&self) -> Result<(), HashError> {
        if self
            .opts
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
        {
            return Err(HashError::Cancelled);
        }
        if self.abort.load(Ordering::Relaxed) {
            // Another worker failed; its error is reported, not this one.
            return Err(HashError::Cancelled);
        }
        Ok(())
    }

    pub(crate) fn fail(&self, e: HashError) {
        self.abort.store(true, Ordering::Relaxed);
        if let Ok(mut slot) = self.error.lock() {
            // Prefer a real error over a Cancelled raised by the abort itself.
            let replace = match slot.as_ref() {
                None => true,
                Some(HashError::Cancelled) => !matches!(e, HashError::Cancelled),
                Some(_) => false,
            };
            if replace {
                *slot = Some(e);
            }
        }
    }
}

/// Adds `n` bytes of progress, flushing to the sink in steps.
pub(crate) fn report(s: &Shared<'_>, pending: &mut u64, n: u64, flush: bool) {
    *pending += n;
    if let Some(p) = &s.opts.progress {
        if *pending >= PROGRESS_STEP || (flush && *pending > 0) {
            p.advance(*pending);
            *pending = 0;
        }
    } else {
        *pending = 0;
    }
}

/// Opens `file` for reading, non-blocking (a file swapped for a FIFO cannot hang).
pub(crate) fn open(file: &ModelFile) -> Result<File, HashError> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&file.path)
        .map_err(|e| HashError::io(&file.path, e))
}

/// [`HashError::FileChanged`] for `path`.
pub(crate) fn changed(path: &Path, expected: u64, found: FoundSize) -> HashError {
    HashError::FileChanged {
        path: path.to_owned(),
        expected,
        found,
    }
}

/// The byte ranges a file of `size` bytes is hashed in: the whole file for `files`
/// (even when empty), `[k·N, (k+1)·N)` for `shards` (none for an empty file).
pub(crate) fn unit_ranges(size: u64, method: Serialization) -> Result<Vec<(u64, u64)>, HashError> {
    match method {
        Serialization::Files => Ok(vec![(0, size)]),
        Serialization::Shards { shard_size: 0 } => {
            Err(HashError::InvalidShardSize { shard_size: 0 })
        }
        Serialization::Shards { shard_size } => {
            let mut out = Vec::new();
            let mut start = 0;
            while start < size {
                let end = start.saturating_add(shard_size).min(size);
                out.push((start, end));
                start = end;
            }
            Ok(out)
        }
    }
}
