//! Helpers shared by Hallmark's tests (a dev-dependency only; never published).
//!
//! Everything a test reads lives in the repository's `testdata/` (see the README in each
//! folder there), so a fresh clone tests on its own. Every helper panics with the path it
//! could not use: missing test data is a failure, never a skipped check.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::{Path, PathBuf};

/// The repository root (the workspace this crate is a member of).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `testdata/<rel>` in the repository; panics when it does not exist.
#[track_caller]
pub fn testdata(rel: impl AsRef<Path>) -> PathBuf {
    let path = repo().join("testdata").join(rel);
    assert!(
        path.exists(),
        "missing test data {}: it is part of the repository (see testdata/*/README.md)",
        path.display()
    );
    path
}

/// A TEST-ONLY key of `testdata/adversarial/keys` (`test.key`, `test.pub`, `other.key`, …).
#[track_caller]
pub fn test_key(name: &str) -> PathBuf {
    testdata("adversarial/keys").join(name)
}

/// The bytes of `path`; panics naming the file.
#[track_caller]
pub fn read(path: impl AsRef<Path>) -> Vec<u8> {
    let path = path.as_ref();
    fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The UTF-8 text of `path`; panics naming the file.
#[track_caller]
pub fn read_to_string(path: impl AsRef<Path>) -> String {
    let path = path.as_ref();
    fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Writes `contents` to `root/rel`, creating the parent directories.
#[track_caller]
pub fn write_file(root: &Path, rel: &str, contents: impl AsRef<[u8]>) {
    let path = root.join(rel);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap_or_else(|e| panic!("creating {}: {e}", parent.display()));
    }
    fs::write(&path, contents).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

/// Writes each `(relative path, text)` under `root`.
#[track_caller]
pub fn write_files(root: &Path, files: &[(&str, &str)]) {
    for (rel, text) in files {
        write_file(root, rel, text);
    }
}

/// A temporary directory holding `files` (`(relative path, text)`).
#[track_caller]
pub fn temp_tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("temporary directory");
    write_files(tmp.path(), files);
    tmp
}

/// Copies the tree at `from` to `to` (directories and regular files).
#[track_caller]
pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap_or_else(|e| panic!("creating {}: {e}", to.display()));
    let entries = fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
    for e in entries {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            fs::copy(e.path(), &dest)
                .unwrap_or_else(|err| panic!("copying {}: {err}", e.path().display()));
        }
    }
}

/// `testdata/<rel>` copied into a fresh temporary directory (for tests that modify a model).
#[track_caller]
pub fn temp_copy(rel: impl AsRef<Path>) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("temporary directory");
    copy_dir(&testdata(rel), tmp.path());
    tmp
}

/// The files named `names` anywhere below `dir`, sorted; panics when `dir` cannot be read.
#[track_caller]
pub fn find_files(dir: &Path, names: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for e in entries {
        let path = e.unwrap().path();
        if path.is_dir() {
            out.extend(find_files(&path, names));
        } else if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| names.contains(&n))
        {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The peak resident set size of this process so far, in bytes (`VmHWM` of
/// `/proc/self/status`): what a memory-exhaustion attack test bounds.
#[must_use]
pub fn peak_rss() -> u64 {
    let status = read_to_string("/proc/self/status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .expect("VmHWM in /proc/self/status")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .expect("VmHWM in kB");
    kb * 1024
}

/// Resets the peak resident set size to the current one (`/proc/self/clear_refs` 5), so
/// transient peaks of building a test's input are not counted.
pub fn reset_peak_rss() {
    std::fs::write("/proc/self/clear_refs", "5").expect("write /proc/self/clear_refs");
}
