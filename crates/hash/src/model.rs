//! What enumeration produces and consumes: [`ModelFile`], [`WalkOptions`], and
//! the symlink-following step shared by the sequential checks ([`crate::stat_files`])
//! and the parallel walk. A leaf: `walk` and `parwalk` both build on it.

use std::fs::{self, Metadata};
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
}

/// Metadata of a symlink's final target; a dangling link or a loop is an error.
pub(crate) fn follow(link: &Path) -> Result<Metadata, HashError> {
    fs::metadata(link).map_err(|source| HashError::BrokenSymlink {
        path: link.to_owned(),
        source,
    })
}
