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

/// Names one after another in `Names::marks`: a name's start is found from the mark
/// before it and the lengths between.
const MARK: usize = 16;

/// The length stored for a name of this many bytes or more (then kept in `long`).
const LONG: u8 = u8::MAX;

/// Strings stored back to back: one byte of length each (names of 255 bytes or more
/// also in a side list) and the start of every 16th, so a name costs its bytes and
/// 1.25 bytes more (issue 21).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Names {
    bytes: String,
    /// Each name's length, or [`LONG`].
    lens: Vec<u8>,
    /// `(index, length)` of every name of [`LONG`] bytes or more, by index.
    long: Vec<(u32, u32)>,
    /// Where name number `k * MARK` starts in `bytes`.
    marks: Vec<u32>,
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
        self.lens.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.lens.is_empty()
    }

    /// Appends `name`.
    ///
    /// # Errors
    /// [`NamesFull`] when the names would pass 4 GiB in total.
    pub fn push(&mut self, name: &str) -> Result<(), NamesFull> {
        let full = || NamesFull {
            count: self.lens.len(),
        };
        let start = u32::try_from(self.bytes.len()).map_err(|_| full())?;
        u32::try_from(self.bytes.len() + name.len()).map_err(|_| full())?;
        let i = self.lens.len();
        if i.is_multiple_of(MARK) {
            self.marks.push(start);
        }
        match u8::try_from(name.len()) {
            Ok(n) if n < LONG => self.lens.push(n),
            _ => {
                let at = u32::try_from(i).map_err(|_| full())?;
                // Below 4 GiB in all, so the length fits.
                self.long
                    .push((at, u32::try_from(name.len()).unwrap_or(u32::MAX)));
                self.lens.push(LONG);
            }
        }
        self.bytes.push_str(name);
        Ok(())
    }

    /// The length of name number `i`.
    fn len_of(&self, i: usize) -> Option<usize> {
        match *self.lens.get(i)? {
            LONG => {
                let k = self
                    .long
                    .binary_search_by_key(&i, |&(at, _)| at as usize)
                    .ok()?;
                self.long.get(k).map(|&(_, n)| n as usize)
            }
            n => Some(usize::from(n)),
        }
    }

    /// Where name number `i` starts in `bytes`.
    fn start_of(&self, i: usize) -> Option<usize> {
        let mut start = *self.marks.get(i / MARK)? as usize;
        for j in (i - i % MARK)..i {
            start += self.len_of(j)?;
        }
        Some(start)
    }

    /// Name number `i`.
    #[must_use]
    pub fn get(&self, i: usize) -> Option<&str> {
        let start = self.start_of(i)?;
        self.bytes.get(start..start + self.len_of(i)?)
    }

    /// The names in order.
    #[must_use]
    pub fn iter(&self) -> NameIter<'_> {
        NameIter {
            names: self,
            i: 0,
            start: 0,
        }
    }

    /// The indices of the names sorted by `cmp` (not stable: equal names may come in
    /// any order).
    #[must_use]
    pub fn order_by(&self, mut cmp: impl FnMut(&str, &str) -> Ordering) -> Vec<u32> {
        // Each name's start, for the comparisons, only while sorting.
        let mut starts = Vec::with_capacity(self.len() + 1);
        starts.extend(self.iter().scan(0usize, |at, n| {
            let s = *at;
            *at += n.len();
            Some(s)
        }));
        starts.push(self.bytes.len());
        let name = |i: u32| {
            let i = i as usize;
            match (starts.get(i), starts.get(i + 1)) {
                (Some(&a), Some(&b)) => self.bytes.get(a..b).unwrap_or_default(),
                _ => "",
            }
        };
        let mut order: Vec<u32> = (0..u32::try_from(self.len()).unwrap_or(u32::MAX)).collect();
        order.sort_unstable_by(|&a, &b| cmp(name(a), name(b)));
        order
    }

    /// The same names in the order of `order` (indices into this list).
    ///
    /// # Errors
    /// Never in practice: the same bytes fit again.
    pub fn permuted(&self, order: &[u32]) -> Result<Self, NamesFull> {
        let mut out = Self {
            bytes: String::with_capacity(self.bytes.len()),
            lens: Vec::with_capacity(order.len()),
            long: Vec::with_capacity(self.long.len()),
            marks: Vec::with_capacity(self.marks.len()),
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
        self.lens.shrink_to_fit();
        self.long.shrink_to_fit();
        self.marks.shrink_to_fit();
    }

    /// Bytes held (names, lengths and marks), for memory accounting.
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        self.bytes.capacity()
            + self.lens.capacity()
            + self.long.capacity() * size_of::<(u32, u32)>()
            + self.marks.capacity() * size_of::<u32>()
    }
}

/// The names of a [`Names`] in order.
#[derive(Clone)]
pub struct NameIter<'a> {
    names: &'a Names,
    i: usize,
    /// Where name `i` starts.
    start: usize,
}

impl<'a> Iterator for NameIter<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let n = self.names.len_of(self.i)?;
        let s = self.names.bytes.get(self.start..self.start + n)?;
        self.i += 1;
        self.start += n;
        Some(s)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.names.len() - self.i;
        (n, Some(n))
    }
}

impl ExactSizeIterator for NameIter<'_> {}

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
            names: self.names.iter(),
            i: 0,
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
    names: NameIter<'a>,
    i: usize,
    run: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = Resource<'a>;

    fn next(&mut self) -> Option<Resource<'a>> {
        let path = self.names.next()?;
        let i = self.i;
        self.i += 1;
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
mod tests;
