//! What enumeration produces and consumes: [`ModelFile`], [`WalkOptions`], and
//! the symlink-following step shared by the sequential checks ([`crate::stat_files`])
//! and the parallel walk. A leaf: `walk` and `parwalk` both build on it.

use std::fs::{self, Metadata};
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

use crate::error::HashError;
use crate::ignore::IgnoreSet;

/// How to enumerate a model.
#[derive(Clone, Debug, Default)]
pub struct WalkOptions {
    /// Follow symbolic links to files (links to directories are always skipped).
    pub allow_symlinks: bool,
    /// Model-relative paths to leave out.
    pub ignore: IgnoreSet,
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
    pub(crate) mtime: i128,
    pub(crate) ctime: i128,
}

impl FileStat {
    /// The stamps of `m`.
    #[must_use]
    pub fn of(m: &Metadata) -> Self {
        let ns = |s: i64, n: i64| i128::from(s) * 1_000_000_000 + i128::from(n);
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
