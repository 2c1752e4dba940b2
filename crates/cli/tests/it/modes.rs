//! Outputs honour the umask like any file a user creates (the reference writes 0644 under
//! umask 022): `model.sig`, and with the `client` feature `bom.json` and `provenance.json`.
//! They are still written atomically: no temporary file is left next to them.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use hallmark_testkit::test_key as key;

use crate::Cmd;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn no_temporaries(dir: &Path) {
    let left: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".hallmark-"))
        .collect();
    assert!(left.is_empty(), "temporary files left behind: {left:?}");
}

/// Every output the binary writes, made under `umask`; returns their paths.
fn outputs(dir: &Path, umask: u32) -> Vec<std::path::PathBuf> {
    Cmd::sign_key("model", key("test.key"))
        .arg("-q")
        .umask(umask)
        .cwd(dir)
        .run()
        .expect(0, &["Signing succeeded"]);
    #[allow(unused_mut)]
    let mut written = vec![dir.join("model.sig")];
    #[cfg(feature = "client")]
    {
        Cmd::new(["bom", "model", "--signature", "model.sig", "-o", "bom.json"])
            .umask(umask)
            .cwd(dir)
            .run()
            .expect(0, &[]);
        Cmd::new(["attest", "train", "--model", "model", "--dataset", "model"])
            .opt(
                "--code",
                "https://git.example/acme/train@0123456789abcdef0123456789abcdef01234567",
            )
            .opt("--key", key("test.key"))
            .opt("-o", "provenance.json")
            .umask(umask)
            .cwd(dir)
            .run()
            .expect(0, &["Provenance written"]);
        written.push(dir.join("bom.json"));
        written.push(dir.join("provenance.json"));
    }
    written
}

#[test]
fn outputs_are_0644_under_umask_022_and_0600_under_077() {
    for (umask, want) in [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)] {
        let tmp = hallmark_testkit::temp_tree(&[("model/config.json", "{}\n")]);
        for path in outputs(tmp.path(), umask) {
            assert_eq!(
                mode(&path),
                want,
                "{} under umask {umask:03o}",
                path.display()
            );
        }
        no_temporaries(tmp.path());
    }
}

#[test]
fn overwriting_takes_the_new_mode() {
    // A signature left 0600 by an older hallmark becomes 0644 when signed again.
    let tmp = hallmark_testkit::temp_tree(&[("model/config.json", "{}\n")]);
    let sig = tmp.path().join("model.sig");
    std::fs::write(&sig, "old").unwrap();
    std::fs::set_permissions(&sig, std::fs::Permissions::from_mode(0o600)).unwrap();
    outputs(tmp.path(), 0o022);
    assert_eq!(mode(&sig), 0o644);
}
