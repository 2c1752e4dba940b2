//! A staging directory beside a download's target, on the same filesystem, so a finished
//! download is moved into place by renames and an unfinished one is simply deleted.
//!
//! [`Stage::beside`] creates `{parent}/.hallmark-pull-XXXXXX/` with `files/` (the tree as it
//! will appear in the target) and `parts/` (downloads in flight). Dropping the stage
//! without [`Stage::commit`] removes it, and removes the parent directories it had to
//! create (those left empty), so a failed pull leaves nothing.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// A staging directory; removed on drop unless committed.
pub(crate) struct Stage {
    tmp: Option<tempfile::TempDir>,
    files: PathBuf,
    parts: PathBuf,
    /// Ancestors of the target this stage created, deepest first.
    created: Vec<PathBuf>,
}

impl Stage {
    /// Creates a staging directory in `target`'s parent directory (creating that, and
    /// remembering what it created).
    pub(crate) fn beside(target: &Path) -> anyhow::Result<Self> {
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
        let mut stage = Self {
            tmp: None,
            files: PathBuf::new(),
            parts: PathBuf::new(),
            created,
        };
        std::fs::create_dir_all(&parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
        let tmp = tempfile::Builder::new()
            .prefix(".hallmark-pull-")
            .tempdir_in(&parent)
            .with_context(|| {
                format!("cannot create a staging directory in {}", parent.display())
            })?;
        stage.files = tmp.path().join("files");
        stage.parts = tmp.path().join("parts");
        stage.tmp = Some(tmp);
        for d in [&stage.files, &stage.parts] {
            std::fs::create_dir(d).with_context(|| format!("cannot create {}", d.display()))?;
        }
        Ok(stage)
    }

    /// Where the files go, laid out as in the target.
    pub(crate) fn files(&self) -> &Path {
        &self.files
    }

    /// Where downloads in flight are written.
    pub(crate) fn parts(&self) -> &Path {
        &self.parts
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
        Ok(())
    }
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
        drop(self.tmp.take());
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
        let stage = Stage::beside(&target).unwrap();
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
            let stage = Stage::beside(&target).unwrap();
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
}
