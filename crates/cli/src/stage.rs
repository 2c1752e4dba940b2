//! A staging directory on the target's filesystem, so a finished download is moved into
//! place by renames and an unfinished one is resumed or deleted.
//!
//! [`Stage::beside`] opens the stage for a key (hub, repository and target): under the
//! user's cache directory (`$XDG_CACHE_HOME/hallmark/pull/{key}`, else
//! `~/.cache/hallmark/pull/{key}`) when that is on the target's filesystem, else beside the
//! target (`{parent}/.hallmark-pull-{key}`). It holds `files/` (the tree as it will appear
//! in the target) and `parts/` (downloads in flight). The next pull of the same
//! repository into the same target finds what an interrupted one left there and resumes
//! it; a lock file keeps two pulls from sharing one stage. Dropping the stage without
//! [`Stage::commit`] removes it, and removes the parent directories of the target it had
//! to create (those left empty), so a failed pull leaves nothing, unless [`Stage::keep`]
//! was called (an interrupted download: the bytes already here are kept for the next
//! run). A pull killed outright leaves its stage too, and the next run resumes it.

use std::collections::BTreeSet;
use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

/// A staging directory; removed on drop unless committed or kept.
pub(crate) struct Stage {
    dir: PathBuf,
    files: PathBuf,
    parts: PathBuf,
    /// Held (flock) while the stage is in use; released on drop.
    lock: Option<File>,
    /// Leave the stage on disk when dropped.
    keep: bool,
    /// Ancestors of the target this stage created, deepest first.
    created: Vec<PathBuf>,
}

impl Stage {
    /// Opens (or creates) the staging directory for `key` under `cache` (see
    /// [`cache_base`]) when that is on `target`'s filesystem, else in `target`'s parent
    /// directory (creating that, and remembering what it created). `key` must be a
    /// file-name-safe string identifying what is downloaded into `target`.
    pub(crate) fn beside(target: &Path, key: &str, cache: Option<PathBuf>) -> anyhow::Result<Self> {
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let created: Vec<PathBuf> = parent
            .ancestors()
            .filter(|p| !p.as_os_str().is_empty())
            .take_while(|p| !p.exists())
            .map(Path::to_path_buf)
            .collect();
        std::fs::create_dir_all(&parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
        let dir = match cache.filter(|c| same_filesystem(c, &parent)) {
            Some(cache) => {
                std::fs::create_dir_all(&cache)
                    .with_context(|| format!("cannot create {}", cache.display()))?;
                cache.join(key)
            }
            None => parent.join(format!(".hallmark-pull-{key}")),
        };
        let mut stage = Self {
            files: dir.join("files"),
            parts: dir.join("parts"),
            dir,
            lock: None,
            keep: true,
            created,
        };
        for d in [&stage.dir, &stage.files, &stage.parts] {
            private_dir(d)?;
        }
        let lock_path = stage.dir.join("lock");
        let lock = File::create(&lock_path)
            .with_context(|| format!("cannot create {}", lock_path.display()))?;
        match lock.try_lock() {
            Ok(()) => {}
            // someone else's stage: leave it alone (`keep` is still set)
            Err(std::fs::TryLockError::WouldBlock) => bail!(
                "another pull into {} is running (it holds {})",
                target.display(),
                lock_path.display()
            ),
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("cannot lock {}", lock_path.display()));
            }
        }
        stage.lock = Some(lock);
        stage.keep = false;
        Ok(stage)
    }

    /// The staging directory itself.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Keep the stage (and what was downloaded into it) when dropped, for the next run.
    pub(crate) fn keep(&mut self) {
        self.keep = true;
    }

    /// Where the files go, laid out as in the target.
    pub(crate) fn files(&self) -> &Path {
        &self.files
    }

    /// Where downloads in flight are written.
    pub(crate) fn parts(&self) -> &Path {
        &self.parts
    }

    /// Deletes what an earlier run left that this one does not want: files under `files/`
    /// whose model-relative path is not in `files`, parts not named in `parts`, and the
    /// directories that leaves empty.
    pub(crate) fn retain(
        &self,
        files: &BTreeSet<&str>,
        parts: &BTreeSet<String>,
    ) -> anyhow::Result<()> {
        prune(&self.files, "", files)
            .with_context(|| format!("cannot tidy {}", self.files.display()))?;
        for entry in std::fs::read_dir(&self.parts)
            .with_context(|| format!("cannot read {}", self.parts.display()))?
        {
            let entry = entry?;
            let keep = entry
                .file_name()
                .to_str()
                .is_some_and(|n| parts.contains(n));
            if !keep {
                remove(&entry.path())?;
            }
        }
        Ok(())
    }

    /// Moves the staged files into `target`: the whole tree by one rename when `target`
    /// is absent or empty, else file by file (`--force` into a non-empty directory).
    pub(crate) fn commit(mut self, target: &Path) -> anyhow::Result<()> {
        let into = || format!("cannot move the download into {}", target.display());
        if std::fs::rename(&self.files, target).is_err() {
            if std::fs::remove_dir(target).is_ok() {
                std::fs::rename(&self.files, target).with_context(into)?;
            } else {
                merge(&self.files, target).with_context(into)?;
            }
        }
        self.created.clear();
        self.keep = false;
        Ok(())
    }
}

/// `$XDG_CACHE_HOME/hallmark/pull`, else `$HOME/.cache/hallmark/pull` (absolute paths only).
pub(crate) fn cache_base() -> Option<PathBuf> {
    let abs = |k: &str| {
        std::env::var_os(k)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    let base = abs("XDG_CACHE_HOME").or_else(|| abs("HOME").map(|h| h.join(".cache")))?;
    Some(base.join("hallmark/pull"))
}

/// Whether `a` (or its nearest existing ancestor) is on the same filesystem as `b`.
fn same_filesystem(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    let dev = |p: &Path| {
        p.ancestors()
            .find_map(|q| std::fs::metadata(q).ok())
            .map(|m| m.dev())
    };
    matches!((dev(a), dev(b)), (Some(x), Some(y)) if x == y)
}

/// Creates `dir` (mode 0700) or checks that the existing one is a real directory only its
/// owner can write to: a stage left by an earlier run is trusted for nothing but bytes to
/// re-hash, yet it must not be a symlink or a directory another user can fill.
fn private_dir(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e).with_context(|| format!("cannot create {}", dir.display())),
    }
    let meta =
        std::fs::symlink_metadata(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    if !meta.is_dir() || meta.permissions().mode() & 0o022 != 0 {
        bail!(
            "{} exists but is not a private directory (a symlink, a file, or writable by \
             others): remove it and pull again",
            dir.display()
        );
    }
    Ok(())
}

/// Removes a file, or a directory with everything in it.
fn remove(path: &Path) -> anyhow::Result<()> {
    let res = match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
        _ => std::fs::remove_file(path),
    };
    res.with_context(|| format!("cannot remove {}", path.display()))
}

/// [`Stage::retain`] under `dir` (model-relative `prefix`); whether `dir` is left empty.
fn prune(dir: &Path, prefix: &str, keep: &BTreeSet<&str>) -> anyhow::Result<bool> {
    let mut empty = true;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let Some(name) = entry.file_name().to_str().map(|n| format!("{prefix}{n}")) else {
            remove(&path)?;
            continue;
        };
        let kind = entry.file_type()?;
        if kind.is_dir() && prune(&path, &format!("{name}/"), keep)? {
            std::fs::remove_dir(&path)?;
        } else if kind.is_dir() || (kind.is_file() && keep.contains(name.as_str())) {
            empty = false;
        } else {
            remove(&path)?;
        }
    }
    Ok(empty)
}

/// Moves every file under `from` to the same relative path under `to` (replacing files).
fn merge(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let dest = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            merge(&entry.path(), &dest)?;
        } else {
            std::fs::rename(entry.path(), &dest)?;
        }
    }
    Ok(())
}

impl Drop for Stage {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
        drop(self.lock.take());
        for dir in &self.created {
            // only empty directories go: anything else there is not ours
            let _ = std::fs::remove_dir(dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Stage;

    #[test]
    fn a_dropped_stage_leaves_nothing_not_even_the_parents_it_made() {
        let root = tempfile::tempdir().unwrap();
        let target = root.path().join("a/b/model");
        let stage = Stage::beside(&target, "k", None).unwrap();
        std::fs::write(stage.files().join("x.bin"), b"x").unwrap();
        drop(stage);
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 0);
    }

    #[test]
    fn commit_renames_into_an_absent_or_empty_target_and_merges_into_a_full_one() {
        let root = tempfile::tempdir().unwrap();
        for (name, before) in [
            ("absent", None),
            ("empty", Some(false)),
            ("full", Some(true)),
        ] {
            let target = root.path().join(name);
            if let Some(full) = before {
                std::fs::create_dir(&target).unwrap();
                if full {
                    std::fs::write(target.join("keep.txt"), b"k").unwrap();
                }
            }
            let stage = Stage::beside(&target, "k", None).unwrap();
            std::fs::create_dir(stage.files().join("sub")).unwrap();
            std::fs::write(stage.files().join("sub/w.bin"), b"w").unwrap();
            stage.commit(&target).unwrap();
            assert_eq!(std::fs::read(target.join("sub/w.bin")).unwrap(), b"w");
            assert_eq!(target.join("keep.txt").exists(), before == Some(true));
        }
        // no staging directory is left beside the targets
        let mut names: Vec<_> = std::fs::read_dir(root.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["absent", "empty", "full"]);
    }

    #[test]
    fn a_kept_stage_is_found_again_by_its_key_and_is_locked_while_in_use() {
        let root = tempfile::tempdir().unwrap();
        let cache = root.path().join("cache");
        let open = || Stage::beside(&root.path().join("out/model"), "k1", Some(cache.clone()));
        let mut stage = open().unwrap();
        assert!(stage.dir().starts_with(&cache), "{}", stage.dir().display());
        std::fs::write(stage.parts().join("x.part"), b"half").unwrap();
        let e = open().err().unwrap().to_string();
        assert!(e.contains("another pull") && e.contains("lock"), "{e}");
        stage.keep();
        drop(stage);
        let again = open().unwrap();
        assert_eq!(
            std::fs::read(again.parts().join("x.part")).unwrap(),
            b"half"
        );
        // a refused second opener does not delete the stage in use
        assert!(open().is_err());
        assert!(again.parts().join("x.part").exists());
        drop(again);
        assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 0);
        // out/, which the first stage created for the target, went with it
        assert!(!root.path().join("out").exists());
    }
}
