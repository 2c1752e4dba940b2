//! `sign pkcs11-key` / `sign pkcs11-certificate` against SoftHSM2: the signatures verify
//! as `key` / `certificate` signatures; a URI naming no key, a wrong PIN and a missing
//! module each end with one line naming what, exit 2 and no `model.sig`; the PIN never
//! appears in the output. Skipped (saying why) when SoftHSM2 is not installed, unless
//! `HALLMARK_REQUIRE_SOFTHSM=1` (tests/pkcs11/run.sh sets it in CI).

use std::path::{Path, PathBuf};
use std::process::Command;

use hallmark_testkit::test_key as key;

use crate::{Cmd, Out};

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const PIN: &str = "hm-pin-8642";

/// A SoftHSM2 token `hallmark` in `dir` holding the TEST-ONLY `test.key` (label `mykey`,
/// id 0a0b) and `leaf.key` (label `leaf`); `None` when SoftHSM2 is absent.
fn token(dir: &Path) -> Option<PathBuf> {
    let util = Command::new("softhsm2-util").arg("--version").output();
    if !Path::new(MODULE).is_file() || util.is_err() {
        assert!(
            std::env::var_os("HALLMARK_REQUIRE_SOFTHSM").is_none(),
            "HALLMARK_REQUIRE_SOFTHSM is set but SoftHSM2 ({MODULE}, softhsm2-util) is missing"
        );
        eprintln!(
            "skipped: SoftHSM2 is not installed ({MODULE} or softhsm2-util missing; apt-get install softhsm2)"
        );
        return None;
    }
    let conf = dir.join("softhsm2.conf");
    std::fs::create_dir_all(dir.join("tokens")).unwrap();
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            dir.join("tokens").display()
        ),
    )
    .unwrap();
    let util = |args: &[&str]| {
        let out = Command::new("softhsm2-util")
            .args(args)
            .env("SOFTHSM2_CONF", &conf)
            .output()
            .unwrap();
        assert!(out.status.success(), "softhsm2-util {args:?}: {out:?}");
    };
    util(&[
        "--init-token",
        "--free",
        "--label",
        "hallmark",
        "--pin",
        PIN,
        "--so-pin",
        PIN,
    ]);
    for (file, label, id) in [("test.key", "mykey", "0a0b"), ("leaf.key", "leaf", "0c")] {
        let k = key(file);
        util(&[
            "--import",
            k.to_str().unwrap(),
            "--token",
            "hallmark",
            "--label",
            label,
            "--id",
            id,
            "--pin",
            PIN,
        ]);
    }
    Some(conf)
}

fn uri(path: &str, query: &str) -> String {
    format!("pkcs11:token=hallmark;{path}?module-path={MODULE}{query}")
}

fn sign(dir: &Path, conf: &Path, method: &str, uri: &str, extra: &[&str]) -> Out {
    Cmd::new(["sign", method, "model", "-q"])
        .opt("--pkcs11_uri", uri)
        .args(extra)
        .env("SOFTHSM2_CONF", conf)
        .cwd(dir)
        .run()
}

#[test]
fn token_keys_sign_what_key_and_certificate_verification_accept() {
    let tmp = hallmark_testkit::temp_tree(&[("model/config.json", "{}\n"), ("model/w.bin", "w")]);
    let d = tmp.path();
    let Some(conf) = token(d) else { return };
    let pin = format!("&pin-value={PIN}");
    for path in ["object=mykey", "id=%0A%0B", "object=mykey;id=%0a%0b"] {
        let out = sign(d, &conf, "pkcs11-key", &uri(path, &pin), &[]);
        out.expect(0, &["Signing succeeded"]);
        assert!(!out.stdout.contains(PIN) && !out.stderr.contains(PIN));
        Cmd::verify_key("model", "model.sig", key("test.pub"))
            .cwd(d)
            .run()
            .expect(0, &["Verification succeeded"]);
    }
    // The PIN from a file (verbatim, no newline), and the certificate method.
    std::fs::write(d.join("pin"), PIN).unwrap();
    let from_file = format!("&pin-source=file:{}", d.join("pin").display());
    let cert = key("leaf.pem");
    sign(
        d,
        &conf,
        "pkcs11-certificate",
        &uri("object=leaf", &from_file),
        &["--signing_certificate", cert.to_str().unwrap()],
    )
    .expect(0, &["Signing succeeded"]);
    Cmd::verify_certificate("model", "model.sig", key("root.pem"))
        .cwd(d)
        .run()
        .expect(0, &["Verification succeeded"]);
    // A certificate of another key is refused before anything is written.
    std::fs::remove_file(d.join("model.sig")).unwrap();
    let root = key("root.pem");
    sign(
        d,
        &conf,
        "pkcs11-certificate",
        &uri("object=mykey", &from_file),
        &["--signing_certificate", root.to_str().unwrap()],
    )
    .expect(2, &["does not match the private key"]);
    assert!(!d.join("model.sig").exists());
}

#[test]
fn bad_uris_exit_2_naming_what_and_write_nothing() {
    let tmp = hallmark_testkit::temp_tree(&[("model/config.json", "{}\n")]);
    let d = tmp.path();
    let Some(conf) = token(d) else { return };
    let pin = format!("&pin-value={PIN}");
    let wrong = "&pin-value=hm-wrong-97531";
    let cases = [
        (
            uri("object=nokey", &pin),
            "has no private key with label 'nokey'",
        ),
        (uri("id=%FF", &pin), "has no private key with id ff"),
        (uri("object=mykey", wrong), "the PIN is incorrect"),
        (
            format!("pkcs11:token=nosuch;object=mykey?module-path={MODULE}{pin}"),
            "no token 'nosuch'",
        ),
        (
            format!("pkcs11:token=hallmark;object=mykey?module-path=/nonexistent/libp11.so{pin}"),
            "module-path /nonexistent/libp11.so does not exist",
        ),
        (
            format!("pkcs11:token=hallmark;object=mykey?module-name=no-such-module{pin}"),
            "no PKCS#11 module 'no-such-module'",
        ),
        (uri("object=mykey", ""), "the URI has no PIN"),
        (format!("pkcs11:token=hallmark{pin}"), "names no key"),
    ];
    for (u, words) in cases {
        let out = sign(d, &conf, "pkcs11-key", &u, &[]);
        out.expect(2, &[words]);
        assert_eq!(
            out.stderr.lines().count(),
            1,
            "one line for {u}: {}",
            out.stderr
        );
        for secret in [PIN, "hm-wrong-97531"] {
            assert!(
                !out.stderr.contains(secret) && !out.stdout.contains(secret),
                "{u}: {out:?}"
            );
        }
        assert!(!d.join("model.sig").exists(), "{u} left a model.sig");
    }
}
