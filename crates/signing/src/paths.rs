//! Path handling shared by sign and verify: the model's name, and turning user paths
//! (ignore paths, the signature file) into model-relative POSIX paths.

use std::path::{Component, Path, PathBuf};

/// The informational model name the reference records in `subject[0].name`: the last
/// component of the model path, resolved first when the path is `.` or `..`.
#[must_use]
pub fn model_name(model: &Path) -> String {
    let resolved;
    let p = if model.file_name().is_none() {
        resolved = std::fs::canonicalize(model).unwrap_or_else(|_| model.to_path_buf());
        resolved.as_path()
    } else {
        model
    };
    p.file_name()
        .map_or_else(|| "model".to_owned(), |n| n.to_string_lossy().into_owned())
}

/// Lexically normalises a path (drops `.`, folds `..`) without touching the disk.
#[must_use]
pub fn normalize_lexically(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Makes `path` absolute against `cwd` and resolves symlinks where it exists (the
/// reference calls `Path.resolve()`); a path that does not exist is normalised
/// lexically, with its existing parent resolved.
#[must_use]
pub fn resolve(path: &Path, cwd: &Path) -> PathBuf {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.join(path)
    };
    let abs = normalize_lexically(&abs);
    if let Ok(c) = std::fs::canonicalize(&abs) {
        return c;
    }
    match (abs.parent(), abs.file_name()) {
        (Some(parent), Some(name)) => {
            std::fs::canonicalize(parent).map_or(abs.clone(), |p| p.join(name))
        }
        _ => abs,
    }
}

/// The model-relative POSIX path of `path` if it lies inside `model_root` (both
/// already resolved), or `None`. The root itself is not "inside".
#[must_use]
pub fn relative_inside(model_root: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(model_root).ok()?;
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.is_empty() {
        None
    } else {
        Some(parts.join("/"))
    }
}

/// Resolves user-supplied ignore paths the way the reference CLI does: each is taken
/// relative to the current directory (or absolute), resolved, then made relative to
/// the resolved model root. Paths outside the model are returned in the second list
/// so the caller can warn about them.
#[must_use]
pub fn resolve_ignore_paths(
    model: &Path,
    cwd: &Path,
    args: &[PathBuf],
) -> (Vec<String>, Vec<PathBuf>) {
    let root = resolve(model, cwd);
    let mut inside = Vec::new();
    let mut outside = Vec::new();
    for a in args {
        let r = resolve(a, cwd);
        match relative_inside(&root, &r) {
            Some(rel) => inside.push(rel),
            None => outside.push(a.clone()),
        }
    }
    (inside, outside)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignore_paths_resolve_against_the_working_directory() {
        let dir = tempfile::tempdir().unwrap();
        let model = dir.path().join("m");
        std::fs::create_dir_all(model.join("sub")).unwrap();
        std::fs::write(model.join("sub/x"), b"x").unwrap();
        let (inside, outside) = resolve_ignore_paths(
            Path::new("m"),
            dir.path(),
            &[
                PathBuf::from("m/sub/x"),
                PathBuf::from("m/not-yet"),
                PathBuf::from("elsewhere"),
                model.join("sub"),
            ],
        );
        assert_eq!(inside, ["sub/x", "not-yet", "sub"]);
        assert_eq!(outside, [PathBuf::from("elsewhere")]);
    }

    #[test]
    fn model_name_is_the_last_component() {
        assert_eq!(model_name(Path::new("/a/b/bert")), "bert");
        assert_eq!(model_name(Path::new("/a/b/model.bin")), "model.bin");
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("named");
        std::fs::create_dir(&sub).unwrap();
        assert_eq!(model_name(&sub.join("..").join("named").join(".")), "named");
    }
}
