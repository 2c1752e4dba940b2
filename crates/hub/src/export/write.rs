//! Writing an export atomically: everything goes into a temporary directory beside the
//! target, which is renamed onto it at the end. A failure (or a dropped [`Staging`])
//! removes the temporary directory, so the target is either absent/unchanged or complete.
//! An existing target that is not empty is refused unless `force`; with `force` the old
//! one is moved aside, the new one renamed in, and the old one deleted.

use std::path::{Component, Path, PathBuf};

use super::error::ExportError;

/// A directory being written.
#[derive(Debug)]
pub struct Staging {
    target: PathBuf,
    tmp: Option<PathBuf>,
    files: usize,
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ExportError {
    let path = path.display().to_string();
    move |source| ExportError::Io { what, path, source }
}

/// Whether `dir` exists with something in it.
fn non_empty(dir: &Path) -> Result<bool, ExportError> {
    match std::fs::read_dir(dir) {
        Ok(mut it) => Ok(it.next().is_some()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io("cannot read the export directory", dir)(e)),
    }
}

impl Staging {
    /// Starts writing `target`.
    ///
    /// # Errors
    /// [`ExportError::NotEmpty`] (without `force`), [`ExportError::NotADirectory`], or the
    /// temporary directory cannot be made next to it.
    pub fn begin(target: &Path, force: bool) -> Result<Self, ExportError> {
        if target.exists() && !target.is_dir() {
            return Err(ExportError::NotADirectory(target.display().to_string()));
        }
        if !force && non_empty(target)? {
            return Err(ExportError::NotEmpty(target.display().to_string()));
        }
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(io("cannot create", &parent))?;
        let name = target
            .file_name()
            .map_or_else(|| "export".into(), |n| n.to_string_lossy().into_owned());
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}.partial-"))
            .tempdir_in(&parent)
            .map_err(io("cannot create a temporary directory in", &parent))?
            .keep();
        Ok(Self {
            target: target.to_path_buf(),
            tmp: Some(tmp),
            files: 0,
        })
    }

    /// The temporary directory (for tests).
    #[must_use]
    pub fn temp_dir(&self) -> Option<&Path> {
        self.tmp.as_deref()
    }

    /// Files written so far.
    #[must_use]
    pub fn files(&self) -> usize {
        self.files
    }

    /// Writes `bytes` at `rel` (a relative path of normal components only).
    ///
    /// # Errors
    /// [`ExportError::BadPath`] for any other path; I/O failures.
    pub fn write(&mut self, rel: &str, bytes: &[u8]) -> Result<(), ExportError> {
        let Some(tmp) = &self.tmp else {
            return Err(ExportError::BadPath(rel.to_owned()));
        };
        let p = Path::new(rel);
        if rel.is_empty()
            || rel.contains('\\')
            || !p.components().all(|c| matches!(c, Component::Normal(_)))
        {
            return Err(ExportError::BadPath(rel.to_owned()));
        }
        let path = tmp.join(p);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io("cannot create", dir))?;
        }
        std::fs::write(&path, bytes).map_err(io("cannot write", &path))?;
        self.files += 1;
        Ok(())
    }

    /// Renames the temporary directory onto the target.
    ///
    /// # Errors
    /// The rename failed (the temporary directory is removed, the target left as it was).
    pub fn commit(mut self) -> Result<PathBuf, ExportError> {
        let Some(tmp) = self.tmp.take() else {
            return Err(ExportError::BadPath(self.target.display().to_string()));
        };
        let restore = |e: ExportError| {
            let _ = std::fs::remove_dir_all(&tmp);
            e
        };
        let mut old = None;
        if self.target.exists() {
            let aside = tmp.with_extension("old");
            std::fs::rename(&self.target, &aside)
                .map_err(io("cannot move the old export aside", &self.target))
                .map_err(restore)?;
            old = Some(aside);
        }
        if let Err(e) = std::fs::rename(&tmp, &self.target) {
            if let Some(aside) = &old {
                let _ = std::fs::rename(aside, &self.target);
            }
            return Err(restore(io("cannot rename the export onto", &self.target)(
                e,
            )));
        }
        if let Some(aside) = old {
            let _ = std::fs::remove_dir_all(aside);
        }
        Ok(self.target.clone())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if let Some(tmp) = self.tmp.take() {
            let _ = std::fs::remove_dir_all(tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_escaping_the_export_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let mut s = Staging::begin(&d.path().join("out"), false).unwrap();
        for bad in ["", "../x", "/etc/x", "a/../../x", "a\\b", "./a"] {
            assert!(
                matches!(s.write(bad, b"x"), Err(ExportError::BadPath(_))),
                "{bad}"
            );
        }
        s.write("a/b.json", b"{}").unwrap();
        let tmp = s.temp_dir().unwrap().to_path_buf();
        drop(s);
        assert!(!tmp.exists(), "a dropped export leaves nothing");
        assert!(!d.path().join("out").exists());
    }

    #[test]
    fn non_empty_targets_need_force_and_are_replaced_whole() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("out");
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join("old.txt"), b"old").unwrap();
        assert!(matches!(
            Staging::begin(&out, false),
            Err(ExportError::NotEmpty(_))
        ));
        let mut s = Staging::begin(&out, true).unwrap();
        s.write("new.txt", b"new").unwrap();
        s.commit().unwrap();
        assert!(!out.join("old.txt").exists());
        assert_eq!(std::fs::read(out.join("new.txt")).unwrap(), b"new");
        let left: Vec<_> = std::fs::read_dir(d.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "only the export is left: {left:?}");
    }
}
