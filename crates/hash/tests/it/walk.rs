//! Enumeration edge cases: ignore rules, symlinks, special files, names.

use std::fs;
use std::os::unix::fs::symlink;

use hallmark_hash::{HashError, IgnoreSet, WalkOptions, enumerate, stat_files};

use crate::write;

fn names(model: &std::path::Path, opts: &WalkOptions) -> Vec<String> {
    enumerate(model, opts)
        .unwrap()
        .iter()
        .map(|f| f.name)
        .collect()
}

#[test]
fn reference_order() {
    let d = tempfile::tempdir().unwrap();
    for rel in [
        "layers.bin",
        "layers-extra/b.bin",
        "layers/a.bin",
        "a0",
        "a.b",
        "a-b",
        "a/b",
        "B",
        "é",
    ] {
        write(d.path(), rel, 1);
    }
    assert_eq!(
        names(d.path(), &WalkOptions::default()),
        [
            "B",
            "a/b",
            "a-b",
            "a.b",
            "a0",
            "layers/a.bin",
            "layers-extra/b.bin",
            "layers.bin",
            "é"
        ]
    );
}

#[test]
fn git_ignore_is_top_level_component_prefix() {
    let d = tempfile::tempdir().unwrap();
    for rel in [
        ".git/config",
        ".git/objects/x",
        ".github2",
        "sub/.git/config",
        ".gitignore",
        "keep",
    ] {
        write(d.path(), rel, 1);
    }
    let opts = WalkOptions {
        allow_symlinks: false,
        ignore: [".git", ".gitignore"].into_iter().collect::<IgnoreSet>(),
        keep_stats: false,
    };
    assert_eq!(
        names(d.path(), &opts),
        [".github2", "keep", "sub/.git/config"]
    );
}

#[test]
fn symlink_refused_by_default_and_followed_when_allowed() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "real.bin", 10);
    fs::create_dir(d.path().join("dir")).unwrap();
    write(d.path(), "dir/inner", 3);
    symlink("real.bin", d.path().join("link.bin")).unwrap();
    symlink("dir", d.path().join("dirlink")).unwrap();

    let err = enumerate(d.path(), &WalkOptions::default()).unwrap_err();
    assert!(matches!(err, HashError::Symlink { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("symlinks are refused unless --allow-symlinks"),
        "{err}"
    );
    assert!(err.to_string().contains("link"), "{err}");

    let opts = WalkOptions {
        allow_symlinks: true,
        ignore: IgnoreSet::new(),
        keep_stats: false,
    };
    let files = enumerate(d.path(), &opts).unwrap();
    let got: Vec<(String, u64)> = files.iter().map(|f| (f.name, f.size)).collect();
    let got: Vec<(&str, u64)> = got.iter().map(|(n, s)| (n.as_str(), *s)).collect();
    // The directory link is skipped, as in the reference.
    assert_eq!(got, [("dir/inner", 3), ("link.bin", 10), ("real.bin", 10)]);
}

#[test]
fn model_path_symlink_refused() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "m/a", 1);
    symlink("m", d.path().join("mlink")).unwrap();
    assert!(matches!(
        enumerate(&d.path().join("mlink"), &WalkOptions::default()),
        Err(HashError::Symlink { .. })
    ));
}

#[test]
fn dangling_and_looping_symlinks_error() {
    for (target, name) in [("nowhere", "dangling"), ("loop", "loop")] {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "a", 1);
        symlink(target, d.path().join(name)).unwrap();
        let opts = WalkOptions {
            allow_symlinks: true,
            ignore: IgnoreSet::new(),
            keep_stats: false,
        };
        let err = enumerate(d.path(), &opts).unwrap_err();
        assert!(
            matches!(&err, HashError::BrokenSymlink { path, .. } if path.ends_with(name)),
            "{err}"
        );
        assert!(err.to_string().contains(name), "{err}");
    }
}

#[test]
fn symlink_under_ignored_dir_is_fine() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "a", 1);
    fs::create_dir(d.path().join(".git")).unwrap();
    symlink("nowhere", d.path().join(".git/HEAD-link")).unwrap();
    let opts = WalkOptions {
        allow_symlinks: false,
        ignore: [".git"].into_iter().collect::<IgnoreSet>(),
        keep_stats: false,
    };
    assert_eq!(names(d.path(), &opts), ["a"]);
}

#[test]
fn fifo_errors_with_its_path() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "a", 1);
    let fifo = d.path().join("pipe");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    let err = enumerate(d.path(), &WalkOptions::default()).unwrap_err();
    assert!(matches!(err, HashError::NotRegular { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("pipe: not a regular file or directory"),
        "{err}"
    );
}

#[test]
fn non_utf8_name_errors() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join(OsStr::from_bytes(b"bad\xffname"));
    if fs::write(&p, b"x").is_err() {
        return; // file system refuses such names: nothing to test
    }
    let err = enumerate(d.path(), &WalkOptions::default()).unwrap_err();
    assert!(matches!(err, HashError::NonUtf8Name { .. }), "{err}");
}

#[test]
fn missing_model_names_path() {
    let err = enumerate(
        std::path::Path::new("/nonexistent/model-x"),
        &WalkOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, HashError::Io { path, .. } if path.as_os_str() == "/nonexistent/model-x"),
        "{err}"
    );
    assert!(err.to_string().contains("/nonexistent/model-x"), "{err}");
}

#[test]
fn stat_files_single_file_and_symlinks() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "m.bin", 6);
    let (found, missing) = stat_files(&d.path().join("m.bin"), &[".".to_owned()], false).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found.size(0), Some(6));
    assert!(missing.is_empty());

    symlink("m.bin", d.path().join("l.bin")).unwrap();
    let want = vec!["l.bin".to_owned()];
    assert!(matches!(
        stat_files(d.path(), &want, false),
        Err(HashError::Symlink { .. })
    ));
    let (found, _) = stat_files(d.path(), &want, true).unwrap();
    assert_eq!(found.size(0), Some(6));
}
