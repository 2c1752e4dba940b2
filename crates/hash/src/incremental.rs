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
use std::ops::Range;

use hallmark_format::resource::compare_paths;
use hallmark_format::{HashAlgorithm, Resource, Resources, Serialization, resource_algorithm};

use crate::error::HashError;
use crate::model::{FileStat, ModelFiles};
use crate::options::EngineOptions;
use crate::shared::unit_ranges;
use crate::statcache::{RehashReason, Rehashed, StatCache};
use crate::statfile::Previous;

fn stat(files: &ModelFiles, i: usize) -> Option<FileStat> {
    std::fs::metadata(files.path(i)?)
        .ok()
        .map(|m| FileStat::of(&m))
}

/// Where a file's resources come from.
enum Slot {
    /// These resources of the previous manifest.
    Reused(Range<usize>),
    /// The next file of those handed to the engine.
    Hashed,
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
    if method != cache.method() {
        return full(files, &inner);
    }
    let (previous, expected) = cache.take_inputs();
    let algorithm = resource_algorithm(method, hash);
    let sorted;
    let files = if files.is_sorted() {
        files
    } else {
        let mut copy = files.clone();
        copy.sort()?;
        sorted = copy;
        &sorted
    };

    let mut slots = Vec::with_capacity(files.len());
    let mut todo = ModelFiles::new(files.root());
    let mut keys = Vec::with_capacity(files.len());
    let mut rehashed = Rehashed::default();
    let (mut p, mut e) = (0, 0);
    let path_at = |i: usize| expected.get(i).map(|r| r.path);
    for i in 0..files.len() {
        let (Some(name), Some(size)) = (files.name(i), files.size(i)) else {
            continue;
        };
        let key = files
            .stat(i)
            .or_else(|| stat(files, i))
            .filter(|k| k.size() == size);
        let units = unit_ranges(size, method)?;
        while previous
            .entries
            .get(p)
            .is_some_and(|x| compare_paths(previous.name(x), name) == Ordering::Less)
        {
            p += 1;
        }
        while path_at(e).is_some_and(|r| compare_paths(r, name) == Ordering::Less) {
            e += 1;
        }
        let mut end = e;
        while path_at(end).is_some_and(|r| r == name) {
            end += 1;
        }
        let entry = previous.entries.get(p).filter(|x| previous.name(x) == name);
        let why = match (&key, entry) {
            (None, _) => Some(RehashReason::StatChanged),
            (_, None) => Some(RehashReason::New),
            (_, Some(x)) if x.racy => Some(RehashReason::Racy),
            (Some(k), Some(x)) if x.key != *k => Some(RehashReason::StatChanged),
            (Some(_), Some(x)) => {
                let agrees = Previous::count(x) == units.len()
                    && end - e == units.len()
                    && (e..end)
                        .zip(previous.digests(x))
                        .zip(&units)
                        .all(|((r, have), unit)| {
                            expected.get(r).is_some_and(|r| {
                                r.algorithm == algorithm
                                    && r.digest == have
                                    && names_unit(&r, method, *unit)
                            })
                        });
                (!agrees).then_some(RehashReason::SignatureDiffers)
            }
        };
        if let Some(why) = why {
            rehashed.add(name, why);
            slots.push(Slot::Hashed);
            todo.push(name, size, key)?;
        } else {
            slots.push(Slot::Reused(e..end));
        }
        keys.push(key);
        e = end;
    }
    drop(previous);
    crate::timing::mark("hash: stat cache");

    // `todo` is in reference order, so the engine returns its resources in this order.
    let computed = full(&todo, &inner)?;
    let mut computed = computed.iter();
    let mut out = Resources::new();
    let mut w = cache.writer(files.len());
    let mut hashed = 0;
    for (i, (slot, key)) in slots.iter().zip(keys).enumerate() {
        let (Some(name), Some(size)) = (files.name(i), files.size(i)) else {
            continue;
        };
        let start = out.len();
        let key = match slot {
            Slot::Reused(range) => {
                for r in range.clone().filter_map(|r| expected.get(r)) {
                    out.push(r)?;
                }
                key
            }
            Slot::Hashed => {
                for _ in 0..unit_ranges(size, method)?.len() {
                    if let Some(r) = computed.next() {
                        out.push(r)?;
                    }
                }
                hashed += 1;
                // Recorded only if the file did not change while it was read.
                key.filter(|k| stat(files, i).as_ref() == Some(k))
            }
        };
        if let Some(k) = key {
            let digests = (start..out.len()).filter_map(|r| out.get(r).map(|r| r.digest));
            w.entry(name, &k, digests);
        }
    }
    cache.finish(w);
    cache.count(slots.len() - hashed, rehashed);
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
