//! The hashing engine: files or shards over a bounded pool of threads
//! (`docs/oms-spec.md` §2.5–§2.6, §5; issue 3).
//!
//! The files are cut into work units (whole files for `files`, `[k·N, (k+1)·N)`
//! byte ranges for `shards`; empty files give no shard). Units are handed out
//! largest first, so a giant file does not start last, to at most `threads`
//! scoped OS threads. Each thread owns one read buffer, reused for every unit,
//! and reads with `pread`; memory maps are used only when asked for
//! ([`EngineOptions::mmap`]). Digests are put back in reference order.
//!
//! A file whose size no longer matches the size seen at enumeration is an error
//! ([`HashError::FileChanged`]): the engine never hashes a different byte range
//! than the one it names. Files are opened with `O_NONBLOCK`, so a file swapped
//! for a FIFO after enumeration cannot hang the engine.

use std::io;
use std::os::unix::fs::FileExt as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize};

use hallmark_format::{HashAlgorithm, Resource, Resources, Serialization, resource_algorithm};

use crate::error::{FoundSize, HashError};
use crate::hasher::{Blake2b, Blake3, ContentHasher, Sha256};
use crate::model::{ModelFile, ModelFiles};
use crate::options::EngineOptions;
use crate::shared::{PROGRESS_STEP, Plan, SCHEDULED_MIN_BYTES, Shared, changed, open, report};

/// Size of each worker's read buffer unless overridden with [`hash_files_with_buffer`].
///
/// 1 MiB measured best on the development machine (Zen 3): the buffer stays in
/// L2, so the copy out of the page cache and the hash both hit cache; 4 and 8 MiB
/// were 4–7 % slower on one stream.
pub const DEFAULT_BUFFER_SIZE: usize = 1 << 20;

/// Hashes `files` as `files` or `shards` with `hash`.
///
/// Returns one resource per file (files) or per shard (shards), in the reference
/// order, each with the algorithm string the reference records
/// ([`hallmark_format::resource_algorithm`]). `files` need not be sorted; when they
/// are (as [`crate::enumerate`] returns them) and the method is `files`, the result
/// shares their names rather than copying them.
///
/// # Errors
/// I/O errors and [`HashError::FileChanged`] naming the file,
/// [`HashError::InvalidShardSize`] for a zero shard size, and
/// [`HashError::Cancelled`] when the cancel flag is raised.
pub fn hash_files(
    files: &ModelFiles,
    method: Serialization,
    hash: HashAlgorithm,
    opts: &EngineOptions,
) -> Result<Resources, HashError> {
    hash_files_with_buffer(files, method, hash, opts, DEFAULT_BUFFER_SIZE)
}

/// [`hash_files`] with an explicit per-worker read buffer size (for tuning and
/// benchmarks; the buffer size never changes a digest).
///
/// # Errors
/// As [`hash_files`].
pub fn hash_files_with_buffer(
    files: &ModelFiles,
    method: Serialization,
    hash: HashAlgorithm,
    opts: &EngineOptions,
    buffer_size: usize,
) -> Result<Resources, HashError> {
    if let Some(cache) = &opts.incremental {
        let full = |todo: &ModelFiles, inner: &EngineOptions| {
            hash_files_with_buffer(todo, method, hash, inner, buffer_size)
        };
        return crate::incremental::hash_reusing(files, method, hash, opts, cache, full);
    }
    if !matches!(
        hash,
        HashAlgorithm::Sha256 | HashAlgorithm::Blake2b | HashAlgorithm::Blake3
    ) {
        return Err(HashError::UnsupportedAlgorithm {
            algorithm: hash.name().to_owned(),
        });
    }
    let algorithm = resource_algorithm(method, hash);
    let plan = Plan::new(files, method)?;
    let count = plan.len(files.len());
    let total: u64 = (0..count)
        .filter_map(|k| plan.unit(files, k))
        .map(|u| u.len())
        .sum();
    if let Some(p) = &opts.progress {
        p.start(total, count);
    }
    crate::timing::mark("hash: plan");
    let digest_len = hash.digest_len();
    let digests = run(files, &plan, hash, opts, buffer_size.max(4096))?;
    crate::timing::mark("hash: read and hash");
    if method == Serialization::Files && plan.order.is_empty() {
        // `run` returned one digest per file: the lengths agree.
        let out = Resources::of_files(files.names().clone(), &algorithm, digest_len, digests)
            .ok_or(HashError::Cancelled)?;
        crate::timing::mark("hash: collect digests");
        return Ok(out);
    }
    let mut out = Resources::new();
    for k in 0..count {
        let (Some(u), Some(d)) = (
            plan.unit(files, k),
            digests.get(k * digest_len..(k + 1) * digest_len),
        ) else {
            continue;
        };
        out.push(Resource {
            path: files.name(u.file).unwrap_or_default(),
            range: match method {
                Serialization::Files => None,
                Serialization::Shards { .. } => Some((u.start, u.end)),
            },
            algorithm: &algorithm,
            digest: d,
        })?;
    }
    crate::timing::mark("hash: collect digests");
    Ok(out)
}

/// Hashes every unit of `plan`; their digests back to back, in unit order.
fn run(
    files: &ModelFiles,
    plan: &Plan,
    hash: HashAlgorithm,
    opts: &EngineOptions,
    buffer_size: usize,
) -> Result<Vec<u8>, HashError> {
    let count = plan.len(files.len());
    let unit_len = |k: u32| plan.unit(files, k as usize).map_or(0, |u| u.len());
    // Only units of at least SCHEDULED_MIN_BYTES are ordered (largest first); the
    // rest follow in unit order, so a million small files cost no schedule.
    let mut schedule: Vec<u32> = (0..u32::try_from(count).unwrap_or(u32::MAX))
        .filter(|&k| unit_len(k) >= SCHEDULED_MIN_BYTES)
        .collect();
    schedule.sort_by_key(|&k| std::cmp::Reverse(unit_len(k)));
    // No buffer larger than the biggest unit (+1 for the end-of-file probe).
    let largest = schedule.first().map_or_else(
        || {
            (0..count)
                .filter_map(|k| plan.unit(files, k))
                .map(|u| u.len())
                .max()
                .unwrap_or(0)
        },
        |&k| unit_len(k),
    );
    let buffer_size = usize::try_from(largest.saturating_add(1))
        .unwrap_or(usize::MAX)
        .clamp(4096, buffer_size);
    let digest_len = hash.digest_len();
    let shared = Shared {
        files,
        plan,
        schedule,
        next: AtomicUsize::new(0),
        next_small: AtomicUsize::new(0),
        units: count,
        digests: Mutex::new(vec![0; count * digest_len]),
        digest_len,
        done: AtomicUsize::new(0),
        abort: AtomicBool::new(false),
        error: Mutex::new(None),
        opts,
        buffer_size,
        cores: opts.effective_threads(),
    };
    let workers = shared.cores.clamp(1, count.max(1));
    let worker = |s: &Shared<'_>| match hash {
        HashAlgorithm::Sha256 => work::<Sha256>(s),
        HashAlgorithm::Blake2b => work::<Blake2b>(s),
        // `hash_files_with_buffer` rejected any other algorithm up front.
        _ => work::<Blake3>(s),
    };
    if workers == 1 {
        worker(&shared);
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|_| scope.spawn(|| worker(&shared)))
                .collect();
            for h in handles {
                h.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            }
        });
    }
    if let Some(e) = shared.error.into_inner().ok().flatten() {
        return Err(e);
    }
    if shared.done.into_inner() != count {
        // Only reachable if the flag was raised after the last unit was taken.
        return Err(HashError::Cancelled);
    }
    shared
        .digests
        .into_inner()
        .map_err(|_| HashError::Cancelled)
}

/// One worker: takes units until none are left or something fails.
fn work<H: ContentHasher>(s: &Shared<'_>) {
    let mut buf: Vec<u8> = Vec::new();
    let mut pending = 0u64;
    loop {
        if let Err(e) = s.should_stop() {
            s.fail(e);
            break;
        }
        let Some((k, ui, unit)) = s.take() else {
            break;
        };
        let Some(file) = &s.files.get(unit.file) else {
            break;
        };
        let result = if s.opts.mmap.is_enabled() {
            crate::mmap::hash_mapped::<H>(file, unit.start, unit.end, s, &mut pending)
        } else {
            let cores = s.cores;
            let units_left = s.units.saturating_sub(k);
            if cores > 1 && units_left < cores && unit.end - unit.start >= PIPELINE_MIN_BYTES {
                // A core would sit idle: let it do the reads (the copy out of the page
                // cache) while this thread only hashes.
                hash_pread_pipelined::<H>(file, unit.start, unit.end, s, &mut pending)
            } else {
                if buf.is_empty() {
                    buf = vec![0; s.buffer_size];
                }
                hash_pread::<H>(file, unit.start, unit.end, &mut buf, s, &mut pending)
            }
        };
        match result {
            Ok(d) => s.put(ui, &d),
            Err(e) => {
                s.fail(e);
                break;
            }
        }
    }
    if pending > 0 {
        report(s, &mut pending, 0, true);
    }
}

/// Units at least this large are read on a helper thread when a core would otherwise idle.
const PIPELINE_MIN_BYTES: u64 = 64 << 20;

/// Buffer size of the pipelined path: small enough to stay in the shared cache between
/// the reading and the hashing core.
const PIPELINE_BUFFER: usize = 256 << 10;

/// Like [`hash_pread`], but a reader thread `pread`s into a small ring of buffers while
/// this thread hashes, so one stream uses two cores: one copies, one hashes. Same
/// checks: a file shorter or longer than enumerated is an error naming it.
fn hash_pread_pipelined<H: ContentHasher>(
    file: &ModelFile,
    start: u64,
    end: u64,
    s: &Shared<'_>,
    pending: &mut u64,
) -> Result<Vec<u8>, HashError> {
    use std::sync::mpsc::sync_channel;
    const RING: usize = 3;
    let f = open(file)?;
    let probe_eof = end == file.size;
    let (full_tx, full_rx) = sync_channel::<(Vec<u8>, usize)>(RING);
    let (empty_tx, empty_rx) = sync_channel::<Vec<u8>>(RING);
    for _ in 0..RING {
        let _ = empty_tx.send(vec![0; PIPELINE_BUFFER]);
    }
    std::thread::scope(|scope| {
        let f = &f;
        let reader = scope.spawn(move || -> Result<(), HashError> {
            let mut off = start;
            while off < end {
                s.should_stop()?;
                // The hasher hung up (it failed or stopped): nothing more to do.
                let Ok(mut b) = empty_rx.recv() else {
                    return Ok(());
                };
                let want = usize::try_from(end - off)
                    .unwrap_or(usize::MAX)
                    .min(b.len());
                let n = loop {
                    match f.read_at(b.get_mut(..want).unwrap_or_default(), off) {
                        Ok(0) => {
                            return Err(changed(&file.path, file.size, FoundSize::Bytes(off)));
                        }
                        Ok(n) => break n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(HashError::io(&file.path, e)),
                    }
                };
                off += n as u64;
                if full_tx.send((b, n)).is_err() {
                    return Ok(());
                }
            }
            if probe_eof {
                let mut one = [0u8; 1];
                if matches!(f.read_at(&mut one, end), Ok(n) if n > 0) {
                    return Err(changed(
                        &file.path,
                        file.size,
                        FoundSize::MoreThan(file.size),
                    ));
                }
            }
            Ok(())
        });
        let mut h = H::start();
        let mut hashed = 0u64;
        let mut stopped = Ok(());
        while let Ok((b, n)) = full_rx.recv() {
            h.update(b.get(..n).unwrap_or_default());
            hashed += n as u64;
            report(s, pending, n as u64, false);
            if let Err(e) = s.should_stop() {
                stopped = Err(e);
                break;
            }
            // The reader may have finished and dropped its receiver.
            let _ = empty_tx.send(b);
        }
        drop(full_rx);
        drop(empty_tx);
        let read = reader.join().unwrap_or(Err(HashError::Cancelled));
        read?;
        stopped?;
        if hashed != end - start {
            return Err(changed(
                &file.path,
                file.size,
                FoundSize::Bytes(start + hashed),
            ));
        }
        report(s, pending, 0, true);
        Ok(h.finish())
    })
}

/// Hashes `[start, end)` of `file` with `pread` into `buf`. When `end` is the
/// enumerated size, one extra byte is requested to notice a file that grew.
fn hash_pread<H: ContentHasher>(
    file: &ModelFile,
    start: u64,
    end: u64,
    buf: &mut [u8],
    s: &Shared<'_>,
    pending: &mut u64,
) -> Result<Vec<u8>, HashError> {
    let f = open(file)?;
    let probe_eof = end == file.size;
    let mut h = H::start();
    let mut off = start;
    loop {
        let remaining = end - off;
        let want = if probe_eof {
            remaining.saturating_add(1)
        } else {
            remaining
        };
        let want = usize::try_from(want).unwrap_or(usize::MAX).min(buf.len());
        if want == 0 {
            break;
        }
        let chunk = buf.get_mut(..want).unwrap_or_default();
        let n = match f.read_at(chunk, off) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(HashError::io(&file.path, e)),
        };
        if off + n as u64 > end {
            return Err(changed(
                &file.path,
                file.size,
                FoundSize::MoreThan(file.size),
            ));
        }
        h.update(chunk.get(..n).unwrap_or_default());
        off += n as u64;
        report(s, pending, n as u64, false);
        s.should_stop()?;
        if probe_eof && off == end && n < want {
            // A short read of a regular file ends at end-of-file: the file is
            // exactly as long as enumerated, no need for one more read returning 0.
            break;
        }
    }
    if off != end {
        return Err(changed(&file.path, file.size, FoundSize::Bytes(off)));
    }
    report(s, pending, 0, end - start >= PROGRESS_STEP);
    Ok(h.finish())
}
