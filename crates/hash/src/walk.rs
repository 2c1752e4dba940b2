//! Model enumeration (`docs/oms-spec.md` §2.1–§2.4), matching `model_signing` 1.1.1.
//!
//! * Regular files at any depth are listed, hidden ones included; directories
//!   produce nothing; empty files are listed.
//! * Names are model-relative POSIX paths; a model that is itself a file yields
//!   one entry named `"."`.
//! * The ignore check runs **before** the symlink check, as on the reference's
//!   `main` branch (PR #550): a symlink inside an ignored directory such as `.git/`
//!   does not abort. (1.1.1 checks symlinks first.) Ignored directories are not
//!   descended into at all.
//! * Symlinks are refused unless allowed. When allowed, a link to a file is listed
//!   under the link's name with the target's size (and later content); a link to a
//!   directory is skipped, exactly like the reference's `glob("**/*")`, so no
//!   cycle can arise. Deviation: a dangling link or a loop of links is an error
//!   (the OMS conformance suite expects signing to fail), where 1.1.1 also errors.
//! * FIFOs, sockets, devices, unreadable directories and names that are not valid
//!   UTF-8 are errors naming the path.
//! * The result is sorted in the reference order (component-wise, see
//!   [`hallmark_format::resource::compare_paths`]), whatever the directory order.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::Path;

use hallmark_format::resource::{SINGLE_FILE_NAME, compare_paths, normalize_path};

use crate::error::HashError;
use crate::model::{FileStat, ModelFiles, WalkOptions, follow};

/// Enumerates a model (a directory or a single file), sorted in reference order.
///
/// # Errors
/// See the module documentation: refused symlinks, broken links, special files,
/// non-UTF-8 names and I/O errors, each naming the path.
pub fn enumerate(model: &Path, opts: &WalkOptions) -> Result<ModelFiles, HashError> {
    let lmeta = fs::symlink_metadata(model).map_err(|e| HashError::io(model, e))?;
    let meta = if lmeta.file_type().is_symlink() {
        if !opts.allow_symlinks {
            return Err(HashError::Symlink {
                path: model.to_owned(),
            });
        }
        follow(model)?
    } else {
        lmeta
    };
    if meta.is_file() {
        let mut one = ModelFiles::new(model);
        one.push(SINGLE_FILE_NAME, meta.len(), Some(FileStat::of(&meta)))?;
        return Ok(one);
    }
    if !meta.is_dir() {
        return Err(HashError::NotRegular {
            path: model.to_owned(),
        });
    }

    let mut out = crate::parwalk::walk(model, opts)?;
    crate::timing::mark("enumerate: list and stat");
    out.sort()?;
    crate::timing::mark("enumerate: sort");
    Ok(out)
}

/// Stats exactly these model-relative files, for verification with
/// `--ignore-unsigned-files`.
///
/// Returns the files found (in reference order) and, separately, the names that
/// have no regular file behind them (absent, a directory, or below a directory
/// symlink that enumeration would not enter), so the caller can report
/// "missing: X" as a verification failure rather than an I/O error. For a model
/// that is a single file, the name `"."` denotes it.
///
/// # Errors
/// Unsafe names, refused symlinks, broken links, special files and I/O errors
/// other than "not found".
pub fn stat_files(
    model: &Path,
    names: &[String],
    allow_symlinks: bool,
) -> Result<(ModelFiles, Vec<String>), HashError> {
    let mut found = ModelFiles::new(model);
    let mut missing = Vec::new();
    let root_meta = fs::symlink_metadata(model).map_err(|e| HashError::io(model, e))?;
    if root_meta.file_type().is_symlink() && !allow_symlinks {
        return Err(HashError::Symlink {
            path: model.to_owned(),
        });
    }
    let root_is_dir = if root_meta.file_type().is_symlink() {
        follow(model)?.is_dir()
    } else {
        root_meta.is_dir()
    };
    // Cache of intermediate directories: Some(true) = a real directory.
    let mut dirs: HashMap<String, bool> = HashMap::new();
    for raw in names {
        if raw == SINGLE_FILE_NAME {
            if root_is_dir {
                missing.push(raw.clone());
            } else {
                match classify(model, allow_symlinks)? {
                    Some(meta) => found.push(raw, meta.len(), Some(FileStat::of(&meta)))?,
                    None => missing.push(raw.clone()),
                }
            }
            continue;
        }
        let name = normalize_path(raw).map_err(|source| HashError::BadName {
            name: raw.clone(),
            source: Box::new(source),
        })?;
        if !root_is_dir || !parents_are_dirs(model, &name, allow_symlinks, &mut dirs)? {
            missing.push(name);
            continue;
        }
        let path = model.join(&name);
        match classify(&path, allow_symlinks)? {
            Some(meta) => found.push(&name, meta.len(), Some(FileStat::of(&meta)))?,
            None => missing.push(name),
        }
    }
    found.sort()?;
    missing.sort_unstable_by(|a, b| compare_paths(a, b));
    Ok((found, missing))
}

/// Whether every directory above `name` is a real directory (not a link).
fn parents_are_dirs(
    model: &Path,
    name: &str,
    allow_symlinks: bool,
    cache: &mut HashMap<String, bool>,
) -> Result<bool, HashError> {
    for (i, _) in name.match_indices('/') {
        let Some(dir) = name.get(..i) else { continue };
        let ok = if let Some(ok) = cache.get(dir) {
            *ok
        } else {
            let path = model.join(dir);
            let ok = match fs::symlink_metadata(&path) {
                Ok(m) if m.file_type().is_symlink() => {
                    if !allow_symlinks {
                        return Err(HashError::Symlink { path });
                    }
                    false
                }
                Ok(m) => m.is_dir(),
                Err(e) if is_absent(&e) => false,
                Err(e) => return Err(HashError::io(path, e)),
            };
            cache.insert(dir.to_owned(), ok);
            ok
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `Some(metadata)` for a regular file (or allowed link to one, its target's), `None` when absent
/// or a directory.
fn classify(path: &Path, allow_symlinks: bool) -> Result<Option<fs::Metadata>, HashError> {
    let lmeta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if is_absent(&e) => return Ok(None),
        Err(e) => return Err(HashError::io(path, e)),
    };
    let meta = if lmeta.file_type().is_symlink() {
        if !allow_symlinks {
            return Err(HashError::Symlink {
                path: path.to_owned(),
            });
        }
        follow(path)?
    } else {
        lmeta
    };
    if meta.is_file() {
        Ok(Some(meta))
    } else if meta.is_dir() {
        Ok(None)
    } else {
        Err(HashError::NotRegular {
            path: path.to_owned(),
        })
    }
}

fn is_absent(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::NotFound || e.raw_os_error() == Some(libc::ENOTDIR)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, len: usize) {
        let p = root.join(rel);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(p, vec![7u8; len]).unwrap();
    }

    fn names(files: &ModelFiles) -> Vec<&str> {
        (0..files.len()).filter_map(|i| files.name(i)).collect()
    }

    #[test]
    fn reference_order_and_hidden_files() {
        let d = tempfile::tempdir().unwrap();
        for rel in [
            "layers.bin",
            "layers-extra/b.bin",
            "layers/a.bin",
            ".hidden",
            ".cache/x",
            "empty",
        ] {
            write(d.path(), rel, if rel == "empty" { 0 } else { 3 });
        }
        fs::create_dir_all(d.path().join("emptydir/deeper")).unwrap();
        let files = enumerate(d.path(), &WalkOptions::default()).unwrap();
        assert_eq!(
            names(&files),
            [
                ".cache/x",
                ".hidden",
                "empty",
                "layers/a.bin",
                "layers-extra/b.bin",
                "layers.bin"
            ]
        );
        let empty = files.iter().find(|f| f.name == "empty").unwrap();
        assert_eq!(empty.size, 0);
    }

    #[test]
    fn single_file_model_is_dot() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "m.bin", 5);
        let files = enumerate(&d.path().join("m.bin"), &WalkOptions::default()).unwrap();
        assert_eq!(names(&files), ["."]);
        assert_eq!(files.size(0), Some(5));
    }

    #[test]
    fn ignored_dirs_are_not_entered() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), ".git/config", 1);
        write(d.path(), ".github2", 1);
        write(d.path(), "sub/.git/config", 1);
        std::os::unix::fs::symlink("/nonexistent", d.path().join(".git/link")).unwrap();
        let opts = WalkOptions {
            allow_symlinks: false,
            ignore: [".git"].into_iter().collect(),
            keep_stats: false,
        };
        let files = enumerate(d.path(), &opts).unwrap();
        assert_eq!(names(&files), [".github2", "sub/.git/config"]);
    }

    #[test]
    fn stat_files_reports_missing_separately() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "a/b.bin", 4);
        write(d.path(), "c", 1);
        fs::create_dir(d.path().join("dir")).unwrap();
        let want: Vec<String> = ["c", "a/b.bin", "nope", "a/nope", "c/under-file", "dir"]
            .map(String::from)
            .to_vec();
        let (found, missing) = stat_files(d.path(), &want, false).unwrap();
        assert_eq!(names(&found), ["a/b.bin", "c"]);
        assert_eq!(found.size(0), Some(4));
        assert_eq!(missing, ["a/nope", "c/under-file", "dir", "nope"]);
        assert!(matches!(
            stat_files(d.path(), &["../x".to_owned()], false),
            Err(HashError::BadName { .. })
        ));
    }
}
