//! Compact resource lists (issue 21: flat memory at a million files).
//!
//! A manifest of a million files held as [`ResourceDigest`]s costs ~200 bytes a
//! resource: a `String` per name, a `String` per algorithm and a boxed digest. Here
//! the same list is
//!
//! * [`Names`]: every name in one string, with a `u32` end offset each (the paths of
//!   files and of their shards alike), shared (`Arc`) between a model's file list
//!   and the manifest hashed from it, so a name is stored once;
//! * the digests in one byte vector, the algorithm string and the digest length
//!   stored once per run of resources that share them (one run in any manifest
//!   this crate writes);
//! * shard ranges only when a resource is a shard.
//!
//! About 4 + (name length) + (digest length) bytes a file: ~53 for a `files`/SHA-256
//! manifest of names like `d0123/f012345.bin`. Order is the insertion order.

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

pub use crate::error::NamesFull;
use crate::resource::{ResourceName, compare_paths};

/// One manifest entry: a resource and its digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceDigest {
    /// Which file or shard.
    pub name: ResourceName,
    /// The recorded algorithm string (e.g. `sha256`, `sha256-sharded-1000000000`).
    pub algorithm: String,
    /// Raw digest bytes.
    pub digest: Vec<u8>,
}

/// Strings stored back to back, each found by its end offset.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Names {
    bytes: String,
    ends: Vec<u32>,
}

impl Names {
    /// An empty list.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// How many names.
    #[must_use]
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Appends `name`.
    ///
    /// # Errors
    /// [`NamesFull`] when the names would pass 4 GiB in total.
    pub fn push(&mut self, name: &str) -> Result<(), NamesFull> {
        let end = u32::try_from(self.bytes.len() + name.len()).map_err(|_| NamesFull {
            count: self.ends.len(),
        })?;
        self.bytes.push_str(name);
        self.ends.push(end);
        Ok(())
    }

    /// Name number `i`.
    #[must_use]
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)? as usize;
        let start = match i.checked_sub(1) {
            Some(p) => *self.ends.get(p)? as usize,
            None => 0,
        };
        self.bytes.get(start..end)
    }

    /// The names in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        let mut start = 0usize;
        self.ends.iter().map(move |&end| {
            let s = self.bytes.get(start..end as usize).unwrap_or_default();
            start = end as usize;
            s
        })
    }

    /// The same names in the order of `order` (indices into this list).
    ///
    /// # Errors
    /// Never in practice: the same bytes fit again.
    pub fn permuted(&self, order: &[u32]) -> Result<Self, NamesFull> {
        let mut out = Self {
            bytes: String::with_capacity(self.bytes.len()),
            ends: Vec::with_capacity(order.len()),
        };
        for &i in order {
            out.push(self.get(i as usize).unwrap_or_default())?;
        }
        Ok(out)
    }

    /// Whether the names are in the reference order (component-wise).
    #[must_use]
    pub fn is_reference_sorted(&self) -> bool {
        let mut it = self.iter();
        let Some(mut prev) = it.next() else {
            return true;
        };
        for n in it {
            if compare_paths(prev, n) == Ordering::Greater {
                return false;
            }
            prev = n;
        }
        true
    }

    /// Releases spare capacity.
    pub fn shrink_to_fit(&mut self) {
        self.bytes.shrink_to_fit();
        self.ends.shrink_to_fit();
    }

    /// Bytes held (names and offsets), for memory accounting.
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        self.bytes.capacity() + self.ends.capacity() * size_of::<u32>()
    }
}

impl fmt::Debug for Names {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// One resource of a [`Resources`] list, borrowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resource<'a> {
    /// Model-relative POSIX path of the file.
    pub path: &'a str,
    /// `[start, end)` for a shard; `None` for a whole file.
    pub range: Option<(u64, u64)>,
    /// The recorded algorithm string (e.g. `sha256`, `sha256-sharded-1000000000`).
    pub algorithm: &'a str,
    /// Raw digest bytes.
    pub digest: &'a [u8],
}

impl Resource<'_> {
    /// The resource's name (allocates).
    #[must_use]
    pub fn name(&self) -> ResourceName {
        match self.range {
            None => ResourceName::File(self.path.to_owned()),
            Some((start, end)) => ResourceName::Shard {
                path: self.path.to_owned(),
                start,
                end,
            },
        }
    }

    /// The owned entry.
    #[must_use]
    pub fn to_digest(&self) -> ResourceDigest {
        ResourceDigest {
            name: self.name(),
            algorithm: self.algorithm.to_owned(),
            digest: self.digest.to_vec(),
        }
    }

    /// The reference order of two resources: by path component-wise, whole files
    /// before shards, shards by offsets.
    #[must_use]
    pub fn reference_cmp(&self, other: &Resource<'_>) -> Ordering {
        compare_paths(self.path, other.path).then_with(|| self.range.cmp(&other.range))
    }
}

impl fmt::Display for Resource<'_> {
    /// The name as the statement writes it: `path`, or `path:start:end`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.range {
            None => f.write_str(self.path),
            Some((start, end)) => write!(f, "{}:{start}:{end}", self.path),
        }
    }
}

impl ResourceDigest {
    /// This entry, borrowed.
    #[must_use]
    pub fn as_resource(&self) -> Resource<'_> {
        Resource {
            path: self.name.path(),
            range: match &self.name {
                ResourceName::File(_) => None,
                ResourceName::Shard { start, end, .. } => Some((*start, *end)),
            },
            algorithm: &self.algorithm,
            digest: &self.digest,
        }
    }
}

/// Resources from `first` on share this algorithm string and digest length.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Run {
    first: usize,
    /// Where the run's digests start in `digests`.
    offset: usize,
    digest_len: usize,
    algorithm: Box<str>,
}

/// A manifest's resources, compactly (see the module notes), in insertion order.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Resources {
    names: Arc<Names>,
    /// Empty while every resource is a whole file; else one entry per resource.
    ranges: Vec<Option<(u64, u64)>>,
    digests: Vec<u8>,
    runs: Vec<Run>,
}

impl Resources {
    /// An empty list.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// One whole-file resource per name, the digests of `digest_len` bytes each back
    /// to back in `digests`, all under `algorithm`: the names are shared, not copied.
    /// `None` when `digests` does not hold one digest per name.
    #[must_use]
    pub fn of_files(
        names: Arc<Names>,
        algorithm: &str,
        digest_len: usize,
        digests: Vec<u8>,
    ) -> Option<Self> {
        if digests.len() != names.len().checked_mul(digest_len)? {
            return None;
        }
        let runs = if names.is_empty() {
            Vec::new()
        } else {
            vec![Run {
                first: 0,
                offset: 0,
                digest_len,
                algorithm: algorithm.into(),
            }]
        };
        Some(Self {
            names,
            ranges: Vec::new(),
            digests,
            runs,
        })
    }

    /// How many resources.
    #[must_use]
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Appends `r`.
    ///
    /// # Errors
    /// [`NamesFull`] when the names would pass 4 GiB in total.
    pub fn push(&mut self, r: Resource<'_>) -> Result<(), NamesFull> {
        let i = self.len();
        Arc::make_mut(&mut self.names).push(r.path)?;
        if r.range.is_some() || !self.ranges.is_empty() {
            // The first shard: the whole files before it get their `None`.
            self.ranges.resize(i, None);
            self.ranges.push(r.range);
        }
        let same = self
            .runs
            .last()
            .is_some_and(|run| run.digest_len == r.digest.len() && *run.algorithm == *r.algorithm);
        if !same {
            self.runs.push(Run {
                first: i,
                offset: self.digests.len(),
                digest_len: r.digest.len(),
                algorithm: r.algorithm.into(),
            });
        }
        self.digests.extend_from_slice(r.digest);
        Ok(())
    }

    /// Resource number `i`.
    #[must_use]
    pub fn get(&self, i: usize) -> Option<Resource<'_>> {
        let run = self.runs.partition_point(|r| r.first <= i).checked_sub(1)?;
        self.at(i, self.runs.get(run)?)
    }

    fn at<'a>(&'a self, i: usize, run: &'a Run) -> Option<Resource<'a>> {
        let start = run.offset + (i - run.first) * run.digest_len;
        Some(Resource {
            path: self.names.get(i)?,
            range: self.ranges.get(i).copied().flatten(),
            algorithm: &run.algorithm,
            digest: self.digests.get(start..start + run.digest_len)?,
        })
    }

    /// The resources in order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            list: self,
            i: 0,
            start: 0,
            run: 0,
        }
    }

    /// The digests back to back, in order (the root digest's input).
    #[must_use]
    pub fn digest_bytes(&self) -> &[u8] {
        &self.digests
    }

    /// The owned entries (allocates per resource: for small lists and tests).
    #[must_use]
    pub fn to_vec(&self) -> Vec<ResourceDigest> {
        self.iter().map(|r| r.to_digest()).collect()
    }

    /// The same resources sorted by `cmp`.
    ///
    /// # Errors
    /// Never in practice: the same names fit again.
    pub fn sorted_by(
        &self,
        mut cmp: impl FnMut(&Resource<'_>, &Resource<'_>) -> Ordering,
    ) -> Result<Self, NamesFull> {
        let all: Vec<Resource<'_>> = self.iter().collect();
        let mut order: Vec<usize> = (0..all.len()).collect();
        order.sort_by(|&a, &b| match (all.get(a), all.get(b)) {
            (Some(x), Some(y)) => cmp(x, y),
            _ => Ordering::Equal,
        });
        let mut out = Self::new();
        for i in order {
            if let Some(r) = all.get(i) {
                out.push(*r)?;
            }
        }
        Ok(out)
    }

    /// Releases spare capacity.
    pub fn shrink_to_fit(&mut self) {
        if let Some(n) = Arc::get_mut(&mut self.names) {
            n.shrink_to_fit();
        }
        self.ranges.shrink_to_fit();
        self.digests.shrink_to_fit();
    }
}

impl fmt::Debug for Resources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl TryFrom<Vec<ResourceDigest>> for Resources {
    type Error = NamesFull;

    fn try_from(v: Vec<ResourceDigest>) -> Result<Self, NamesFull> {
        let mut out = Self::new();
        for r in &v {
            out.push(r.as_resource())?;
        }
        Ok(out)
    }
}

impl<'a> IntoIterator for &'a Resources {
    type Item = Resource<'a>;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// The resources of a [`Resources`] in order.
pub struct Iter<'a> {
    list: &'a Resources,
    i: usize,
    /// Where name `i` starts.
    start: usize,
    run: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = Resource<'a>;

    fn next(&mut self) -> Option<Resource<'a>> {
        let names: &'a Names = &self.list.names;
        let end = *names.ends.get(self.i)? as usize;
        let path = names.bytes.get(self.start..end)?;
        let i = self.i;
        self.i += 1;
        self.start = end;
        while self
            .list
            .runs
            .get(self.run + 1)
            .is_some_and(|r| r.first <= i)
        {
            self.run += 1;
        }
        let run = self.list.runs.get(self.run)?;
        let start = run.offset + (i - run.first) * run.digest_len;
        Some(Resource {
            path,
            range: self.list.ranges.get(i).copied().flatten(),
            algorithm: &run.algorithm,
            digest: self.list.digests.get(start..start + run.digest_len)?,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.list.len() - self.i;
        (n, Some(n))
    }
}

impl ExactSizeIterator for Iter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn r<'a>(path: &'a str, range: Option<(u64, u64)>, alg: &'a str, d: &'a [u8]) -> Resource<'a> {
        Resource {
            path,
            range,
            algorithm: alg,
            digest: d,
        }
    }

    #[test]
    fn mixed_lists_round_trip_through_the_owned_form() {
        let first_shard = r("s", Some((0, 1)), "sha256-sharded-1", &[9; 32]).to_digest();
        let one = Resources::try_from(vec![first_shard.clone()]).unwrap();
        assert_eq!(one.to_vec(), [first_shard]);
        let want = vec![
            r("a", None, "sha256", &[1; 32]).to_digest(),
            r("b/c", Some((0, 8)), "sha256-sharded-8", &[2; 32]).to_digest(),
            r("b/c", Some((8, 9)), "sha256-sharded-8", &[3; 32]).to_digest(),
            r("", None, "blake2b", &[4; 64]).to_digest(),
            r("é", None, "sha256", &[5; 3]).to_digest(),
        ];
        let list = Resources::try_from(want.clone()).unwrap();
        assert_eq!(list.len(), 5);
        assert_eq!(list.to_vec(), want);
        for (i, w) in want.iter().enumerate() {
            assert_eq!(list.get(i).unwrap().to_digest(), *w);
        }
        assert!(list.get(5).is_none());
        assert_eq!(list.get(2).unwrap().to_string(), "b/c:8:9");
        assert_eq!(list.digest_bytes().len(), 32 * 3 + 64 + 3);
    }

    #[test]
    fn a_files_manifest_costs_its_names_digests_and_four_bytes_a_resource() {
        // The per-file memory bound of issue 21, independent of machine speed: the
        // names and digests themselves, one u32 offset each, nothing per resource else.
        let mut names = Names::new();
        for i in 0..10_000 {
            names.push(&format!("d{:04}/f{i:06}.bin", i / 100)).unwrap();
        }
        names.shrink_to_fit();
        let name_bytes: usize = names.iter().map(str::len).sum();
        let list =
            Resources::of_files(Arc::new(names), "sha256", 32, vec![7; 32 * 10_000]).unwrap();
        let held = list.names.heap_bytes()
            + list.digests.capacity()
            + list.ranges.capacity() * size_of::<Option<(u64, u64)>>()
            + list.runs.capacity() * size_of::<Run>();
        assert_eq!(held, name_bytes + 10_000 * (4 + 32) + size_of::<Run>());
        assert!(held / 10_000 <= 4 + 17 + 32 + 1, "{held}");
        assert_eq!(list.get(9_999).unwrap().path, "d0099/f009999.bin");
        assert_eq!(list.iter().count(), 10_000);
        assert!(Resources::of_files(list.names.clone(), "sha256", 32, vec![0; 31]).is_none());
    }

    #[test]
    fn sorting_and_order_checks_use_the_reference_order() {
        let mut list = Resources::new();
        for p in ["b.bin", "a/z", "a.b", "a"] {
            list.push(r(p, None, "sha256", &[0; 32])).unwrap();
        }
        let sorted = list.sorted_by(|a, b| a.reference_cmp(b)).unwrap();
        let names: Vec<&str> = sorted.iter().map(|r| r.path).collect();
        assert_eq!(names, ["a", "a/z", "a.b", "b.bin"]);
        assert!(sorted.names.is_reference_sorted());
        assert!(!list.names.is_reference_sorted());
    }
}
