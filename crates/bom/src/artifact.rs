//! Describing an artifact on disk (a model or a dataset, directory or single file):
//! per-file SHA-256 digests and the OMS root digest.
//!
//! The root digest is computed exactly as an OMS signature's subject digest with the
//! `files` serialization and SHA-256 (`docs/oms-spec.md` §6.5.1: SHA-256 over the
//! concatenated per-file digests in the reference order, default git paths excluded),
//! so a BOM, a provenance statement and a signature made with `hallmark sign` name the
//! artifact by the same digest.

use std::path::{Path, PathBuf};

use hallmark_crypto::sha256;
use hallmark_format::manifest::DEFAULT_GIT_IGNORES;
use hallmark_format::resource::SINGLE_FILE_NAME;
use hallmark_format::{HashAlgorithm, Serialization};
use hallmark_hash::{EngineOptions, IgnoreSet, WalkOptions, enumerate, hash_files};

use crate::error::BomError;

/// One file of an artifact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileDigest {
    /// Artifact-relative POSIX path (the base name for a single-file artifact).
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Lower-case hex SHA-256.
    pub sha256: String,
}

/// An artifact as found on disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Artifact {
    /// Informational name (the directory or file base name).
    pub name: String,
    /// Where it was read.
    pub path: PathBuf,
    /// Files in the reference order.
    pub files: Vec<FileDigest>,
    /// Lower-case hex OMS root digest (`files` + SHA-256).
    pub root_sha256: String,
}

impl Artifact {
    /// Total size in bytes.
    #[must_use]
    pub fn total_size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

/// The base name of `path` (`model` for `/x/model/`), or `artifact` when it has none.
#[must_use]
pub fn base_name(path: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    let abs = if path.is_absolute() {
        path.to_owned()
    } else {
        cwd.join(path)
    };
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out.file_name().map_or_else(
        || "artifact".to_owned(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Enumerates and hashes `path`; `what` (`model`, `dataset`, `base model`) names it in
/// errors. Symlinks are refused and the top-level git paths excluded, as `hallmark sign`
/// does by default.
///
/// # Errors
/// [`BomError::Hash`] for unreadable paths, refused links and I/O errors;
/// [`BomError::Empty`] when nothing is left to describe.
pub fn describe(
    path: &Path,
    what: &'static str,
    engine: &EngineOptions,
) -> Result<Artifact, BomError> {
    let hash_err = |source| BomError::Hash {
        what,
        path: path.display().to_string(),
        source,
    };
    let mut ignore = IgnoreSet::new();
    if path.is_dir() {
        for p in DEFAULT_GIT_IGNORES {
            ignore.insert(p);
        }
    }
    let walk = WalkOptions {
        allow_symlinks: false,
        ignore,
        keep_stats: false,
    };
    let files = enumerate(path, &walk).map_err(hash_err)?;
    if files.is_empty() {
        return Err(BomError::Empty {
            what,
            path: path.display().to_string(),
        });
    }
    let digests = hash_files(&files, Serialization::Files, HashAlgorithm::Sha256, engine)
        .map_err(hash_err)?;
    let name = base_name(path);
    let mut concat = Vec::with_capacity(digests.len() * 32);
    let mut out = Vec::with_capacity(digests.len());
    for (i, d) in digests.iter().enumerate() {
        concat.extend_from_slice(d.digest);
        let rel = d.path;
        // Files are hashed in their (sorted) order: resource `i` is file `i`.
        let at = if files.name(i) == Some(rel) {
            Some(i)
        } else {
            (0..files.len()).find(|&j| files.name(j) == Some(rel))
        };
        let size = at.and_then(|j| files.size(j)).unwrap_or(0);
        out.push(FileDigest {
            path: if rel == SINGLE_FILE_NAME {
                name.clone()
            } else {
                rel.to_owned()
            },
            size,
            sha256: hex::encode(d.digest),
        });
    }
    Ok(Artifact {
        name,
        path: path.to_owned(),
        files: out,
        root_sha256: hex::encode(sha256(&concat)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_digest_is_sha256_over_file_digests() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.bin"), b"bb").unwrap();
        std::fs::write(dir.path().join("a.txt"), b"a").unwrap();
        std::fs::create_dir(dir.path().join(".git")).unwrap();
        std::fs::write(dir.path().join(".git/HEAD"), b"ref").unwrap();
        let a = describe(dir.path(), "model", &EngineOptions::default()).unwrap();
        let names: Vec<_> = a.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(names, ["a.txt", "b.bin"]);
        let mut concat = sha256(b"a").to_vec();
        concat.extend_from_slice(&sha256(b"bb"));
        assert_eq!(a.root_sha256, hex::encode(sha256(&concat)));
        assert_eq!(a.total_size(), 3);
    }

    #[test]
    fn empty_directory_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let e = describe(dir.path(), "dataset", &EngineOptions::default()).unwrap_err();
        assert!(e.to_string().starts_with("dataset "), "{e}");
    }
}
