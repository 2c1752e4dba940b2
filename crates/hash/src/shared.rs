//! What the workers of one engine call share: the [`Plan`] of work [`Unit`]s, the
//! [`Shared`] state (schedule, digests, first error, cancellation) and the small steps
//! every read path takes (open, progress, size-change error). A leaf below `engine`
//! and `mmap`.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use hallmark_format::Serialization;

use crate::error::{FoundSize, HashError};
use crate::model::{ModelFile, ModelFiles};
use crate::options::EngineOptions;

/// Progress is reported in steps of at least this many bytes (or at a unit's end).
pub(crate) const PROGRESS_STEP: u64 = 4 << 20;

/// Units at least this large are scheduled largest first; smaller ones (each well
/// under a millisecond of hashing) are taken in unit order after them.
pub(crate) const SCHEDULED_MIN_BYTES: u64 = 1 << 20;

/// One piece of work: bytes `[start, end)` of file number `file`.
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

/// The work units of one call, in reference order, without a record per file: for
/// `files` unit `k` is the whole of the `k`-th file in reference order (`order`, or
/// the files' own order when they are sorted); for `shards` the units are listed.
pub(crate) struct Plan {
    /// File indices in reference order; empty when the files are in it already.
    pub(crate) order: Vec<u32>,
    /// The shards (`shards` only).
    pub(crate) shards: Vec<Unit>,
    pub(crate) method: Serialization,
}

impl Plan {
    pub(crate) fn new(files: &ModelFiles, method: Serialization) -> Result<Self, HashError> {
        let order = if files.is_sorted() {
            Vec::new()
        } else {
            files.reference_order()
        };
        let mut plan = Self {
            order,
            shards: Vec::new(),
            method,
        };
        if let Serialization::Shards { .. } = method {
            for k in 0..files.len() {
                let file = plan.file(k);
                for (start, end) in unit_ranges(files.size(file).unwrap_or(0), method)? {
                    plan.shards.push(Unit { file, start, end });
                }
            }
        }
        Ok(plan)
    }

    /// The index of the `k`-th file in reference order.
    pub(crate) fn file(&self, k: usize) -> usize {
        self.order.get(k).map_or(k, |&i| i as usize)
    }

    /// How many units, given `files` count.
    pub(crate) fn len(&self, files: usize) -> usize {
        match self.method {
            Serialization::Files => files,
            Serialization::Shards { .. } => self.shards.len(),
        }
    }

    /// Unit `k`.
    pub(crate) fn unit(&self, files: &ModelFiles, k: usize) -> Option<Unit> {
        match self.method {
            Serialization::Files => {
                let file = self.file(k);
                Some(Unit {
                    file,
                    start: 0,
                    end: files.size(file)?,
                })
            }
            Serialization::Shards { .. } => self.shards.get(k).copied(),
        }
    }
}

/// State shared by the workers of one call.
pub(crate) struct Shared<'a> {
    pub(crate) files: &'a ModelFiles,
    pub(crate) plan: &'a Plan,
    /// Indices of the units of at least [`SCHEDULED_MIN_BYTES`],
    /// largest first: taken before the others.
    pub(crate) schedule: Vec<u32>,
    /// How many of `schedule` were taken.
    pub(crate) next: AtomicUsize,
    /// The next unit index to consider after `schedule` (scheduled ones are skipped).
    pub(crate) next_small: AtomicUsize,
    /// How many units in all.
    pub(crate) units: usize,
    /// The digests, `digest_len` bytes a unit, in unit order.
    pub(crate) digests: Mutex<Vec<u8>>,
    pub(crate) digest_len: usize,
    /// Units whose digest is in `digests`.
    pub(crate) done: AtomicUsize,
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
    /// The next unit to hash: how many were taken before it, its index and range.
    pub(crate) fn take(&self) -> Option<(usize, usize, Unit)> {
        let k = self.next.fetch_add(1, Ordering::Relaxed);
        if let Some(&ui) = self.schedule.get(k) {
            return Some((k, ui as usize, self.plan.unit(self.files, ui as usize)?));
        }
        loop {
            let ui = self.next_small.fetch_add(1, Ordering::Relaxed);
            let unit = self.plan.unit(self.files, ui)?;
            if unit.len() < SCHEDULED_MIN_BYTES {
                return Some((k.min(self.units), ui, unit));
            }
        }
    }

    /// Stores unit `k`'s digest.
    pub(crate) fn put(&self, k: usize, digest: &[u8]) {
        let at = k * self.digest_len;
        let Ok(mut all) = self.digests.lock() else {
            return;
        };
        if let Some(slot) = all.get_mut(at..at + self.digest_len)
            && digest.len() == slot.len()
        {
            slot.copy_from_slice(digest);
            self.done.fetch_add(1, Ordering::Relaxed);
        }
    }

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

/// How many units (resources) [`unit_ranges`] makes of a file of `size` bytes, without
/// building them (a shard size of 0, which [`unit_ranges`] refuses, counts as 1).
pub(crate) fn unit_count(size: u64, method: Serialization) -> usize {
    match method {
        Serialization::Files => 1,
        Serialization::Shards { shard_size } => {
            usize::try_from(size.div_ceil(shard_size.max(1))).unwrap_or(usize::MAX)
        }
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
