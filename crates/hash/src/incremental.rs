//! Incremental hashing: the engine's path when [`EngineOptions::incremental`] holds a
//! [`StatCache`]. Files the cache vouches for keep their recorded digests; the others
//! are hashed by the ordinary engine (passed in, so this module does not import it);
//! the result is what a full hash would return.

use std::collections::HashMap;

use hallmark_format::resource::compare_paths;
use hallmark_format::{
    HashAlgorithm, ResourceDigest, ResourceName, Serialization, SerializationParams,
};

use crate::error::HashError;
use crate::model::ModelFile;
use crate::options::EngineOptions;
use crate::shared::unit_ranges;
use crate::statcache::{StatCache, StatKey};

fn stat(file: &ModelFile) -> Option<StatKey> {
    std::fs::metadata(&file.path).ok().map(|m| StatKey::of(&m))
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
    let mut reused: HashMap<&str, Vec<Vec<u8>>> = HashMap::new();
    let mut todo = Vec::new();
    let mut before = Vec::new();
    for f in files {
        let key = stat(f);
        let ranges = unit_ranges(f.size, method)?;
        let hit = key
            .as_ref()
            .filter(|k| k.size() == f.size)
            .and_then(|k| cache.lookup(&f.name, k, &ranges));
        match hit {
            Some(digests) => {
                cache.record(&f.name, key, &digests, true);
                reused.insert(&f.name, digests);
            }
            None => {
                todo.push(f.clone());
                before.push(key);
            }
        }
    }
    crate::timing::mark("hash: stat cache");
    let mut computed: HashMap<String, Vec<Vec<u8>>> = HashMap::new();
    for r in full(&todo, &inner)? {
        computed
            .entry(r.name.path().to_owned())
            .or_default()
            .push(r.digest);
    }
    for (f, key) in todo.iter().zip(before) {
        let digests = computed.get(&f.name).map(Vec::as_slice).unwrap_or_default();
        let unchanged = key.filter(|k| stat(f).as_ref() == Some(k));
        cache.record(&f.name, unchanged, digests, false);
    }
    let algorithm = SerializationParams {
        method,
        hash,
        allow_symlinks: false,
        ignore_paths: Vec::new(),
    }
    .resource_algorithm();
    let mut order: Vec<&ModelFile> = files.iter().collect();
    order.sort_by(|a, b| compare_paths(&a.name, &b.name));
    let mut out = Vec::with_capacity(files.len());
    for f in order {
        let digests = reused
            .remove(f.name.as_str())
            .or_else(|| computed.remove(&f.name))
            .unwrap_or_default();
        for ((start, end), digest) in unit_ranges(f.size, method)?.into_iter().zip(digests) {
            let name = match method {
                Serialization::Files => ResourceName::File(f.name.clone()),
                Serialization::Shards { .. } => ResourceName::Shard {
                    path: f.name.clone(),
                    start,
                    end,
                },
            };
            out.push(ResourceDigest {
                name,
                algorithm: algorithm.clone(),
                digest,
            });
        }
    }
    Ok(out)
}
