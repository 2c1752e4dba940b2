//! What enumeration produces and consumes: [`ModelFiles`] (and one of them, a
//! [`ModelFile`]), [`WalkOptions`], and the symlink-following step shared by the
//! sequential checks ([`crate::stat_files`]) and the parallel walk. A leaf: `walk` and
//! `parwalk` both build on it.

use std::fs::{self, Metadata};
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hallmark_format::Names;
use hallmark_format::resource::{SINGLE_FILE_NAME, compare_paths};

use crate::error::HashError;
use crate::ignore::IgnoreSet;

/// How to enumerate a model.
#[derive(Clone, Debug, Default)]
pub struct WalkOptions {
    /// Follow symbolic links to files (links to directories are always skipped).
    pub allow_symlinks: bool,
    /// Model-relative paths to leave out.
    pub ignore: IgnoreSet,
    /// Keep each file's `stat` ([`ModelFiles::stat`]: 80 bytes a file), for incremental
    /// hashing, which then needs no second `stat` of an unchanged file.
    pub keep_stats: bool,
}

/// The files of a model, as enumerated, stored compactly (issue 21): the names in one
/// shared [`Names`] (which the manifest hashed from them reuses), the sizes in one
/// vector only as wide as the largest needs ([`Sizes`]) and, only when asked for, the
/// `stat`s. About 6 bytes a file beyond its name for files under 64 KiB, where a
/// `Vec<ModelFile>` costs ~230. Paths are the model path joined with the name, made
/// when a file is opened.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModelFiles {
    /// The model: a directory, or the file itself (then its one file is named `"."`).
    root: PathBuf,
    names: Arc<Names>,
    sizes: Sizes,
    /// Empty, or one entry a file (once any file has a `stat`).
    stats: Vec<Option<FileStat>>,
}

impl ModelFiles {
    /// No files yet, of the model at `root` (a directory, or a file named `"."`).
    #[must_use]
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            ..Self::default()
        }
    }

    /// The model path.
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// How many files.
    #[must_use]
    pub fn len(&self) -> usize {
        self.sizes.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.sizes.len() == 0
    }

    /// Appends the file `name` (model-relative) of `size` bytes.
    ///
    /// # Errors
    /// [`HashError::NamesFull`] past 4 GiB of names.
    pub fn push(&mut self, name: &str, size: u64, stat: Option<FileStat>) -> Result<(), HashError> {
        let i = self.sizes.len();
        Arc::make_mut(&mut self.names).push(name)?;
        self.sizes.push(size);
        if stat.is_some() || !self.stats.is_empty() {
            // The first `stat`: the files before it get their `None`.
            self.stats.resize(i, None);
            self.stats.push(stat);
        }
        Ok(())
    }

    /// Appends every file of `other` (of the same model).
    ///
    /// # Errors
    /// As [`Self::push`].
    pub fn append(&mut self, other: &Self) -> Result<(), HashError> {
        for i in 0..other.len() {
            let name = other.names.get(i).unwrap_or_default();
            self.push(name, other.size(i).unwrap_or(0), other.stat(i))?;
        }
        Ok(())
    }

    /// File number `i`'s model-relative name.
    #[must_use]
    pub fn name(&self, i: usize) -> Option<&str> {
        self.names.get(i)
    }

    /// File number `i`'s size at enumeration.
    #[must_use]
    pub fn size(&self, i: usize) -> Option<u64> {
        self.sizes.get(i)
    }

    /// File number `i`'s `stat` at enumeration, if kept.
    #[must_use]
    pub fn stat(&self, i: usize) -> Option<FileStat> {
        self.stats.get(i).copied().flatten()
    }

    /// Where to read file number `i` (the link's path for an allowed symlink).
    #[must_use]
    pub fn path(&self, i: usize) -> Option<PathBuf> {
        let name = self.names.get(i)?;
        Some(if name == SINGLE_FILE_NAME {
            self.root.clone()
        } else {
            self.root.join(name)
        })
    }

    /// File number `i`, as an owned record.
    #[must_use]
    pub fn get(&self, i: usize) -> Option<ModelFile> {
        Some(ModelFile {
            name: self.names.get(i)?.to_owned(),
            path: self.path(i)?,
            size: self.size(i)?,
            stat: self.stat(i),
        })
    }

    /// The files in order, as owned records (allocates for each).
    pub fn iter(&self) -> impl Iterator<Item = ModelFile> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    /// The names, shared.
    #[must_use]
    pub fn names(&self) -> &Arc<Names> {
        &self.names
    }

    /// Whether the files are in the reference order.
    #[must_use]
    pub fn is_sorted(&self) -> bool {
        self.names.is_reference_sorted()
    }

    /// The indices of the files in the reference order.
    #[must_use]
    pub fn reference_order(&self) -> Vec<u32> {
        self.names.order_by(compare_paths)
    }

    /// Sorts the files into the reference order.
    ///
    /// # Errors
    /// Never in practice (the same names fit again): [`HashError::NamesFull`].
    pub fn sort(&mut self) -> Result<(), HashError> {
        if self.is_sorted() {
            return Ok(());
        }
        let mut order = self.reference_order();
        // One permuted copy of the names at a time: the old ones are freed before the
        // order is spent permuting the rest in place.
        let names = self.names.permuted(&order)?;
        self.names = Arc::new(names);
        permute_in_place(&mut order, |a, b| {
            self.sizes.swap(a, b);
            if !self.stats.is_empty() {
                self.stats.swap(a, b);
            }
        });
        Ok(())
    }

    /// Releases spare capacity.
    pub fn shrink_to_fit(&mut self) {
        if let Some(n) = Arc::get_mut(&mut self.names) {
            n.shrink_to_fit();
        }
        self.sizes.shrink_to_fit();
        self.stats.shrink_to_fit();
    }
}

/// Applies `order` (position `k` takes the element at `order[k]`) by cycles, through
/// `swap`, without a second copy of what is permuted; `order` is spent (left as the
/// identity).
fn permute_in_place(order: &mut [u32], mut swap: impl FnMut(usize, usize)) {
    for start in 0..order.len() {
        let mut k = start;
        while let Some(&from) = order.get(k) {
            let from = from as usize;
            if let Some(slot) = order.get_mut(k) {
                *slot = u32::try_from(k).unwrap_or(u32::MAX);
            }
            if from == start {
                break;
            }
            swap(k, from);
            k = from;
        }
    }
}

/// File sizes, each vector only as wide as the largest size so far needs: two bytes a
/// file for a model of small files, eight once one file passes 4 GiB.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Sizes {
    U16(Vec<u16>),
    U32(Vec<u32>),
    U64(Vec<u64>),
}

impl Default for Sizes {
    fn default() -> Self {
        Self::U16(Vec::new())
    }
}

impl Sizes {
    fn len(&self) -> usize {
        match self {
            Self::U16(v) => v.len(),
            Self::U32(v) => v.len(),
            Self::U64(v) => v.len(),
        }
    }

    fn get(&self, i: usize) -> Option<u64> {
        match self {
            Self::U16(v) => v.get(i).map(|&s| u64::from(s)),
            Self::U32(v) => v.get(i).map(|&s| u64::from(s)),
            Self::U64(v) => v.get(i).copied(),
        }
    }

    fn push(&mut self, size: u64) {
        loop {
            match self {
                Self::U16(v) => match u16::try_from(size) {
                    Ok(s) => return v.push(s),
                    Err(_) => *self = Self::U32(v.iter().map(|&s| u32::from(s)).collect()),
                },
                Self::U32(v) => match u32::try_from(size) {
                    Ok(s) => return v.push(s),
                    Err(_) => *self = Self::U64(v.iter().map(|&s| u64::from(s)).collect()),
                },
                Self::U64(v) => return v.push(size),
            }
        }
    }

    fn swap(&mut self, a: usize, b: usize) {
        match self {
            Self::U16(v) => v.swap(a, b),
            Self::U32(v) => v.swap(a, b),
            Self::U64(v) => v.swap(a, b),
        }
    }

    fn shrink_to_fit(&mut self) {
        match self {
            Self::U16(v) => v.shrink_to_fit(),
            Self::U32(v) => v.shrink_to_fit(),
            Self::U64(v) => v.shrink_to_fit(),
        }
    }

    /// Bytes held, for memory accounting.
    #[cfg(test)]
    fn heap_bytes(&self) -> usize {
        match self {
            Self::U16(v) => v.capacity() * 2,
            Self::U32(v) => v.capacity() * 4,
            Self::U64(v) => v.capacity() * 8,
        }
    }
}

/// One file of a model, as enumerated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelFile {
    /// Model-relative POSIX path, or `"."` when the model path is itself a file.
    pub name: String,
    /// Where to read it (the link's path for an allowed symlink).
    pub path: PathBuf,
    /// Size in bytes at enumeration time (of the target, for a symlink).
    pub size: u64,
    /// The `stat` enumeration took of it (of the target, for a symlink): what
    /// incremental hashing compares with its cache, so that it needs no second `stat`
    /// of an unchanged file. `None` for a file described by hand (then it is stat'ed).
    pub stat: Option<FileStat>,
}

/// A file's identity and change stamps as `stat` reported them: device, inode, size,
/// mtime and ctime in nanoseconds (what git's index compares).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileStat {
    pub(crate) dev: u64,
    pub(crate) ino: u64,
    pub(crate) size: u64,
    /// Nanoseconds since the epoch (saturating: 64 bits last until 2262).
    pub(crate) mtime: i64,
    /// As `mtime`.
    pub(crate) ctime: i64,
}

impl FileStat {
    /// The stamps of `m`.
    #[must_use]
    pub fn of(m: &Metadata) -> Self {
        let ns = |s: i64, n: i64| s.saturating_mul(1_000_000_000).saturating_add(n);
        Self {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime: ns(m.mtime(), m.mtime_nsec()),
            ctime: ns(m.ctime(), m.ctime_nsec()),
        }
    }

    /// Size in bytes.
    #[must_use]
    pub fn size(&self) -> u64 {
        self.size
    }
}

/// Metadata of a symlink's final target; a dangling link or a loop is an error.
pub(crate) fn follow(link: &Path) -> Result<Metadata, HashError> {
    fs::metadata(link).map_err(|source| HashError::BrokenSymlink {
        path: link.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The per-file memory bound of issue 21, independent of machine speed: a file
    /// enumerated for a full sign costs its name, a byte and a quarter to find it and
    /// its size in two bytes while every file is under 64 KiB.
    #[test]
    fn a_file_costs_its_name_and_under_four_bytes_unless_stats_are_kept() {
        let mut files = ModelFiles::new("/m");
        for i in 0..10_000 {
            let name = format!("d{:04}/f{i:06}.bin", i / 100);
            files.push(&name, 1024, None).unwrap();
        }
        files.shrink_to_fit();
        let held = files.names.heap_bytes()
            + files.sizes.heap_bytes()
            + files.stats.capacity() * size_of::<Option<FileStat>>();
        assert_eq!(held, 10_000 * (17 + 1 + 2) + 10_000 / 16 * 4);
        assert_eq!(files.path(42).unwrap(), Path::new("/m/d0000/f000042.bin"));
        let stat = FileStat {
            dev: 1,
            ino: 2,
            size: 1024,
            mtime: 3,
            ctime: 4,
        };
        files.push("z", 1024, Some(stat)).unwrap();
        assert_eq!((files.stat(0), files.stat(10_000)), (None, Some(stat)));
    }

    #[test]
    fn sizes_widen_as_needed_and_sorting_keeps_each_with_its_file() {
        let mut files = ModelFiles::new("/m");
        let sizes = [5u64, 70_000, 3, 5 << 32, u64::MAX, 0];
        let stat = |size| FileStat {
            dev: 1,
            ino: size,
            size,
            mtime: 0,
            ctime: 0,
        };
        for (i, &size) in sizes.iter().enumerate() {
            let keep = (i % 2 == 1).then(|| stat(size));
            files.push(&format!("f{}", 9 - i), size, keep).unwrap();
            assert!(matches!(
                (i, &files.sizes),
                (0, Sizes::U16(_)) | (1 | 2, Sizes::U32(_)) | (3.., Sizes::U64(_))
            ));
        }
        files.sort().unwrap();
        for k in 0..sizes.len() {
            let name = files.name(k).unwrap();
            let i = 9 - name[1..].parse::<usize>().unwrap();
            assert_eq!(files.size(k), Some(sizes[i]), "{name}");
            assert_eq!(
                files.stat(k),
                (i % 2 == 1).then(|| stat(sizes[i])),
                "{name}"
            );
        }
        assert!(files.is_sorted());
    }

    #[test]
    fn permuting_in_place_follows_every_cycle() {
        let order: Vec<u32> = vec![3, 0, 4, 1, 2, 5, 7, 6];
        let mut v: Vec<u32> = (10..18).collect();
        let want: Vec<u32> = order.iter().map(|&i| v[i as usize]).collect();
        let mut spent = order.clone();
        permute_in_place(&mut spent, |a, b| v.swap(a, b));
        assert_eq!(v, want);
    }

    #[test]
    fn sorting_permutes_sizes_and_stats_in_place() {
        let mut files = ModelFiles::new("/m");
        let names = ["d/b", "a", "d/a", "c", "b", "d-x", "d/c/z"];
        for (i, name) in names.iter().enumerate() {
            let stat = FileStat {
                dev: 1,
                ino: i as u64,
                size: i as u64,
                mtime: 0,
                ctime: 0,
            };
            files.push(name, i as u64, Some(stat)).unwrap();
        }
        files.sort().unwrap();
        for i in 0..files.len() {
            let want = names
                .iter()
                .position(|n| Some(*n) == files.name(i))
                .unwrap() as u64;
            assert_eq!(files.size(i), Some(want));
            assert_eq!(files.stat(i).map(|s| s.ino), Some(want));
        }
        assert!(files.is_sorted());
    }
}
