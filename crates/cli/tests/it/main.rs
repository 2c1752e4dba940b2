//! End-to-end tests of the `hallmark` binary: exit status (0 verified, 1 verification
//! failed, 2 input error), what stderr names, and `--json` output.
//!
//! * `oms`: every case 01–28 of the OMS conformance fixtures (copied to `testdata/oms`);
//! * `golden`: the reference's 13 historical signatures, read in place from `../shared`;
//! * `adversarial`: the scenarios of `testdata/adversarial`, plus a 256 MiB bundle;
//! * `roundtrip`: sign → verify, `--json`, `inspect`, and input errors.

#![allow(clippy::unwrap_used)]

mod adversarial;
mod golden;
#[cfg(feature = "client")]
mod mlsecops;
mod oms;
mod roundtrip;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What one run of the binary did.
#[derive(Debug)]
pub(crate) struct Out {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Out {
    /// Asserts the exit status and that stderr (or stdout) contains every word.
    #[track_caller]
    pub(crate) fn expect(&self, code: i32, words: &[&str]) -> &Self {
        assert_eq!(self.code, code, "unexpected exit status: {self:#?}");
        for w in words {
            assert!(
                self.stderr.contains(w) || self.stdout.contains(w),
                "output should mention {w:?}: {self:#?}"
            );
        }
        assert!(
            !self.stderr.contains("panicked"),
            "the binary panicked: {self:#?}"
        );
        self
    }
}

/// Runs `hallmark` with `args` in `cwd` (the repository root when `None`).
pub(crate) fn hallmark_in<I, S>(cwd: Option<&Path>, args: I) -> Out
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let out = Command::new(env!("CARGO_BIN_EXE_hallmark"))
        .args(args)
        .current_dir(cwd.map_or_else(repo, Path::to_path_buf))
        .output()
        .expect("run hallmark");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub(crate) fn hallmark<I, S>(args: I) -> Out
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    hallmark_in(None, args)
}

/// The repository root.
pub(crate) fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `../shared` next to the repository (read-only fixtures, read in place).
pub(crate) fn shared() -> PathBuf {
    repo().join("../shared")
}

/// Copies a directory tree (regular files and directories only).
pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}
