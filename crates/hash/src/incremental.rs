//! Incremental hashing: the engine's path when [`EngineOptions::incremental`] holds a
//! [`StatCache`]. Files the cache vouches for keep their recorded digests; the others
//! are hashed by the ordinary engine (passed in, so this module does not import it);
//! the result is what a full hash would return.
//!
//! The files (in reference order), the cache's entries and the previous manifest's
//! resources (both written in that order) are matched in one merged pass: no index is
//! built, no name is hashed, and a reused file's resource is moved from the previous
//! manifest into the result rather than rebuilt. Each file's `stat` is the one its
//! enumeration took ([`ModelFile::stat`]), so an unchanged file costs no system call
//! here; the next run's cache file is written in the same pass.

use std::cmp::Ordering;

use hallmark_format::resource::compare_paths;
use hallmark_format::{HashAlgorithm, Resource, Resources, Serialization, resource_algorithm};

use crate::error::HashError;
use crate::model::{FileStat, ModelFiles};
use crate::options::EngineOptions;
use crate::shared::{unit_count, unit_ranges};
use crate::statcache::{Inputs, RehashReason, Rehashed, StatCache};
use crate::statfile::Reader;

fn stat(files: &ModelFiles, i: usize) -> Option<FileStat> {
    std::fs::metadata(files.path(i)?)
        .ok()
        .map(|m| FileStat::of(&m))
}

/// Which files to hash: one bit a file.
struct Bits(Vec<u64>);

impl Bits {
    fn new(n: usize) -> Self {
        Self(vec![0; n.div_ceil(64)])
    }
    fn set(&mut self, i: usize) {
        if let Some(w) = self.0.get_mut(i / 64) {
            *w |= 1 << (i % 64);
        }
    }
    fn get(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }
}

/// The first pass's decisions: every unit's digest in order (zeros where the file is
/// to be hashed), which files are hashed (and how many), and why.
struct Plan {
    digests: Vec<u8>,
    hashed: Bits,
    count: usize,
    why: Rehashed,
}

/// The cache entry for `name`, moving `reader` past the entries before it (a cache
/// that fails to read is dropped: its remaining entries are absent).
fn entry_for<'r>(
    reader: &'r mut Option<Reader>,
    name: &str,
    started: &mut bool,
) -> Option<&'r Reader> {
    loop {
        let r = reader.as_mut()?;
        if r.done() {
            return None;
        }
        if *started && compare_paths(r.name(), name) != Ordering::Less {
            break;
        }
        *started = true;
        if r.advance().is_err() {
            *reader = None;
            return None;
        }
    }
    reader.as_ref().filter(|r| r.name() == name)
}

/// Decides file by file, in reference order, what can be reused.
fn plan(
    files: &ModelFiles,
    method: Serialization,
    hash: HashAlgorithm,
    inputs: &mut Inputs,
) -> Result<Plan, HashError> {
    let algorithm = resource_algorithm(method, hash);
    let dlen = hash.digest_len();
    let mut out = Plan {
        digests: Vec::with_capacity(files.len().saturating_mul(dlen)),
        hashed: Bits::new(files.len()),
        count: 0,
        why: Rehashed::default(),
    };
    let expected = &inputs.expected;
    let path_at = |i: usize| expected.get(i).map(|r| r.path);
    let (mut e, mut started) = (0, false);
    for i in 0..files.len() {
        let (Some(name), Some(size)) = (files.name(i), files.size(i)) else {
            continue;
        };
        let key = files
            .stat(i)
            .or_else(|| stat(files, i))
            .filter(|k| k.size() == size);
        let ranges = unit_ranges(size, method)?;
        let mut end = e;
        if inputs.bound.is_none() {
            while path_at(e).is_some_and(|r| compare_paths(r, name) == Ordering::Less) {
                e += 1;
            }
            end = e;
            while path_at(end).is_some_and(|r| r == name) {
                end += 1;
            }
        }
        let entry = entry_for(&mut inputs.reader, name, &mut started);
        let why = match (&key, entry) {
            (None, _) => Some(RehashReason::StatChanged),
            (_, None) => Some(RehashReason::New),
            (_, Some(x)) if x.racy() => Some(RehashReason::Racy),
            (Some(k), Some(x)) if x.key() != *k => Some(RehashReason::StatChanged),
            (Some(_), Some(x)) => {
                let (have, count) = x.digests();
                let agrees = count == ranges.len()
                    && have.len() == count * dlen
                    && (inputs.bound.is_some()
                        || (end - e == ranges.len()
                            && (e..end)
                                .zip(have.chunks_exact(dlen.max(1)))
                                .zip(&ranges)
                                .all(|((r, have), unit)| {
                                    expected.get(r).is_some_and(|r| {
                                        r.algorithm == algorithm
                                            && r.digest == have
                                            && names_unit(&r, method, *unit)
                                    })
                                })));
                (!agrees).then_some(RehashReason::SignatureDiffers)
            }
        };
        match (why, entry) {
            (None, Some(x)) => out.digests.extend_from_slice(x.digests().0),
            (why, _) => {
                out.why.add(name, why.unwrap_or(RehashReason::New));
                out.hashed.set(i);
                out.count += 1;
                out.digests
                    .resize(out.digests.len() + ranges.len() * dlen, 0);
            }
        }
        e = end;
    }
    if let Some(sum) = inputs.bound {
        // The entries trusted must be those the binding compared with the signature.
        let again = inputs.reader.as_mut().map(Reader::finish);
        if again != Some(Ok(sum)) {
            return everything(files, method, hash);
        }
    }
    Ok(out)
}

/// The plan that trusts nothing (the cache changed while this run read it).
fn everything(
    files: &ModelFiles,
    method: Serialization,
    hash: HashAlgorithm,
) -> Result<Plan, HashError> {
    let mut out = Plan {
        digests: Vec::new(),
        hashed: Bits::new(files.len()),
        count: files.len(),
        why: Rehashed::default(),
    };
    let mut n = 0;
    for i in 0..files.len() {
        out.hashed.set(i);
        out.why.add(
            files.name(i).unwrap_or_default(),
            RehashReason::CacheChanged,
        );
        n += unit_count(files.size(i).unwrap_or(0), method);
    }
    out.digests = vec![0; n * hash.digest_len()];
    Ok(out)
}

/// The engine's result for `files`, reusing what `cache` vouches for and handing the
/// rest to `full` (the ordinary engine, called with `incremental` cleared). A hashed
/// file is recorded for the next run only if its `stat` did not change while it was
/// hashed.
pub(crate) fn hash_reusing(
    files: &ModelFiles,
    method: Serialization,
    hash: HashAlgorithm,
    opts: &EngineOptions,
    cache: &StatCache,
    full: impl Fn(&ModelFiles, &EngineOptions) -> Result<Resources, HashError>,
) -> Result<Resources, HashError> {
    let inner = EngineOptions {
        incremental: None,
        ..opts.clone()
    };
    let inputs = cache.take_inputs();
    let Some(mut inputs) = inputs.filter(|_| method == cache.method()) else {
        return full(files, &inner);
    };
    let sorted;
    let files = if files.is_sorted() {
        files
    } else {
        let mut copy = files.clone();
        copy.sort()?;
        sorted = copy;
        &sorted
    };
    let Plan {
        mut digests,
        hashed,
        count,
        why,
    } = plan(files, method, hash, &mut inputs)?;
    drop(inputs);
    crate::timing::mark("hash: stat cache");

    // The files to hash, in reference order (so the engine returns their resources in
    // this order), with the `stat`s they were judged by: all of them (the first run)
    // without a copy.
    let some;
    let todo = if count == files.len() {
        files
    } else {
        let mut t = ModelFiles::new(files.root());
        for i in (0..files.len()).filter(|&i| hashed.get(i)) {
            if let (Some(name), Some(size)) = (files.name(i), files.size(i)) {
                t.push(name, size, files.stat(i))?;
            }
        }
        some = t;
        &some
    };
    let computed = full(todo, &inner)?;
    let mut computed = computed.iter();
    let dlen = hash.digest_len();
    let mut w = cache.writer();
    let (mut at, mut j) = (0, 0);
    for i in 0..files.len() {
        let (Some(name), Some(size)) = (files.name(i), files.size(i)) else {
            continue;
        };
        let n = unit_count(size, method);
        let span = at..at + n * dlen;
        at = span.end;
        let key = if hashed.get(i) {
            for k in 0..n {
                let (Some(r), Some(slot)) = (
                    computed.next(),
                    digests.get_mut(span.start + k * dlen..span.start + (k + 1) * dlen),
                ) else {
                    return Err(HashError::Cancelled);
                };
                if r.digest.len() != dlen {
                    return Err(HashError::Cancelled);
                }
                slot.copy_from_slice(r.digest);
            }
            j += 1;
            // Recorded only if the file did not change while it was read.
            todo.stat(j - 1)
                .filter(|k| k.size() == size && stat(files, i).as_ref() == Some(k))
        } else {
            files.stat(i)
        };
        if let (Some(k), Some(d)) = (key, digests.get(span)) {
            w.entry(name, &k, d, n);
        }
    }
    cache.finish(w);
    let reused = files.len() - j;
    cache.count(reused, why);
    let algorithm = resource_algorithm(method, hash);
    let out = match method {
        Serialization::Files => {
            Resources::of_files(files.names().clone(), &algorithm, dlen, digests)
                .ok_or(HashError::Cancelled)?
        }
        Serialization::Shards { .. } => {
            let mut out = Resources::new();
            let mut chunks = digests.chunks_exact(dlen.max(1));
            for i in 0..files.len() {
                let (Some(name), Some(size)) = (files.name(i), files.size(i)) else {
                    continue;
                };
                for range in unit_ranges(size, method)? {
                    let digest = chunks.next().unwrap_or_default();
                    out.push(Resource {
                        path: name,
                        range: Some(range),
                        algorithm: &algorithm,
                        digest,
                    })?;
                }
            }
            out
        }
    };
    crate::timing::mark("hash: merge, next cache");
    Ok(out)
}

/// Whether `r` is what the engine calls unit `range` of a file under `method`.
fn names_unit(r: &Resource<'_>, method: Serialization, range: (u64, u64)) -> bool {
    match (r.range, method) {
        (None, Serialization::Files) => true,
        (Some(have), Serialization::Shards { .. }) => have == range,
        _ => false,
    }
}
