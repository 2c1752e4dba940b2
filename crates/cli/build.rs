//! Names the commit in `hallmark --version`: `HALLMARK_GIT_COMMIT` if set (release
//! builds from a `git archive` export set it), else `git rev-parse HEAD` when this
//! crate is inside its own git checkout, else "unknown commit" (a source tarball).

// Cargo reads its instructions from stdout: std's `println!` is the interface here.
#![allow(clippy::disallowed_macros)]
use std::path::{Path, PathBuf};
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
}

fn main() {
    println!("cargo:rerun-if-env-changed=HALLMARK_GIT_COMMIT");
    println!("cargo:rerun-if-changed=build.rs");
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    // crates/cli -> the workspace root; a checkout of some other project above an
    // unpacked tarball must not lend its commit.
    let root = manifest
        .parent()
        .and_then(Path::parent)
        .unwrap_or(&manifest);
    let commit = std::env::var("HALLMARK_GIT_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(|| {
            let top = git(root, &["rev-parse", "--show-toplevel"])?;
            if Path::new(&top).canonicalize().ok()? != root.canonicalize().ok()? {
                return None;
            }
            for (flag, file) in [("--git-dir", "HEAD"), ("--git-common-dir", "packed-refs")] {
                if let Some(dir) = git(root, &["rev-parse", flag]) {
                    println!(
                        "cargo:rerun-if-changed={}",
                        root.join(dir).join(file).display()
                    );
                }
            }
            if let (Some(common), Some(head_ref)) = (
                git(root, &["rev-parse", "--git-common-dir"]),
                git(root, &["symbolic-ref", "-q", "HEAD"]),
            ) {
                println!(
                    "cargo:rerun-if-changed={}",
                    root.join(common).join(head_ref).display()
                );
            }
            git(root, &["rev-parse", "HEAD"])
        });
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let long = match commit {
        Some(c) => format!("{version} (commit {})", &c[..c.len().min(12)]),
        None => format!("{version} (unknown commit: not built from a git checkout)"),
    };
    println!("cargo:rustc-env=HALLMARK_VERSION={long}");
}
