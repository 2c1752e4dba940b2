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
use hallmark_format::{
    HashAlgorithm, ResourceDigest, ResourceName, Serialization, SerializationParams,
};

use crate::error::HashError;
use crate::model::{FileStat, ModelFile};
use crate::options::EngineOptions;
use crate::shared::unit_ranges;
use crate::statcache::{RehashReason, Rehashed, StatCache};
use crate::statfile::Previous;

fn stat(file: &ModelFile) -> Option<FileStat> {
    std::fs::metadata(&file.path).ok().map(|m| FileStat::of(&m))
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
    files: &[ModelFile],
    method: Serialization,
    hash: HashAlgorithm,
    opts: &EngineOptions,
    cache: &StatCache,
    full: impl Fn(&[ModelFile], &EngineOptions) -> Result<Vec<ResourceDigest>, HashError>,
) -> Result<Vec<ResourceDigest>, HashError> {
    let inner = EngineOptions {
        incremental: None,
        ..opts.clone()
    };
    if method != cache.method() {
        return full(files, &inner);
    }
    let (previous, mut expected) = cache.take_inputs();
    let algorithm = SerializationParams {
        method,
        hash,
        allow_symlinks: false,
        ignore_paths: Vec::new(),
    }
    .resource_algorithm();
    let mut order: Vec<&ModelFile> = files.iter().collect();
    if !order.is_sorted_by(|a, b| compare_paths(&a.name, &b.name).is_le()) {
        order.sort_by(|a, b| compare_paths(&a.name, &b.name));
    }

    let mut slots = Vec::with_capacity(order.len());
    let mut todo = Vec::new();
    let mut keys = Vec::with_capacity(order.len());
    let mut rehashed = Rehashed::default();
    let (mut p, mut e) = (0, 0);
    for f in &order {
        let key = f.stat.or_else(|| stat(f)).filter(|k| k.size() == f.size);
        let units = unit_ranges(f.size, method)?;
        while previous
            .entries
            .get(p)
            .is_some_and(|x| compare_paths(previous.name(x), &f.name) == Ordering::Less)
        {
            p += 1;
        }
        while expected
            .get(e)
            .is_some_and(|r| compare_paths(r.name.path(), &f.name) == Ordering::Less)
        {
            e += 1;
        }
        let mut end = e;
        while expected.get(end).is_some_and(|r| r.name.path() == f.name) {
            end += 1;
        }
        let mine = expected.get(e..end).unwrap_or_default();
        let entry = previous
            .entries
            .get(p)
            .filter(|x| previous.name(x) == f.name);
        let why = match (&key, entry) {
            (None, _) => Some(RehashReason::StatChanged),
            (_, None) => Some(RehashReason::New),
            (_, Some(x)) if x.racy => Some(RehashReason::Racy),
            (Some(k), Some(x)) if x.key != *k => Some(RehashReason::StatChanged),
            (Some(_), Some(x)) => {
                let agrees =
                    Previous::count(x) == units.len()
                        && mine.len() == units.len()
                        && mine.iter().zip(previous.digests(x)).zip(&units).all(
                            |((r, have), unit)| {
                                r.algorithm == algorithm
                                    && r.digest == have
                                    && names_unit(&r.name, method, *unit)
                            },
                        );
                (!agrees).then_some(RehashReason::SignatureDiffers)
            }
        };
        if let Some(why) = why {
            rehashed.add(&f.name, why);
            slots.push(Slot::Hashed);
            todo.push((*f).clone());
        } else {
            slots.push(Slot::Reused(e..end));
        }
        keys.push(key);
        e = end;
    }
    drop(previous);
    crate::timing::mark("hash: stat cache");

    // `todo` is in reference order, so the engine returns its resources in this order.
    let mut computed = full(&todo, &inner)?.into_iter();
    let mut out = Vec::with_capacity(files.len());
    let mut w = cache.writer(files.len());
    for ((f, slot), key) in order.iter().zip(&slots).zip(keys) {
        let start = out.len();
        let key = match slot {
            Slot::Reused(range) => {
                for r in expected.get_mut(range.clone()).unwrap_or_default() {
                    out.push(std::mem::replace(r, placeholder()));
                }
                key
            }
            Slot::Hashed => {
                for _ in 0..unit_ranges(f.size, method)?.len() {
                    out.extend(computed.next());
                }
                // Recorded only if the file did not change while it was read.
                key.filter(|k| stat(f).as_ref() == Some(k))
            }
        };
        if let Some(k) = key {
            let digests = out.get(start..).unwrap_or_default();
            w.entry(&f.name, &k, digests.iter().map(|r| r.digest.as_slice()));
        }
    }
    cache.finish(w);
    cache.count(slots.len() - todo.len(), rehashed);
    crate::timing::mark("hash: merge, next cache");
    Ok(out)
}

/// Whether `name` is what the engine calls unit `range` of a file under `method`.
fn names_unit(name: &ResourceName, method: Serialization, range: (u64, u64)) -> bool {
    match (name, method) {
        (ResourceName::File(_), Serialization::Files) => true,
        (ResourceName::Shard { start, end, .. }, Serialization::Shards { .. }) => {
            (*start, *end) == range
        }
        _ => false,
    }
}

fn placeholder() -> ResourceDigest {
    ResourceDigest {
        name: ResourceName::File(String::new()),
        algorithm: String::new(),
        digest: Vec::new(),
    }
}
