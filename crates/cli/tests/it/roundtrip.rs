//! sign → verify through the CLI (key and certificate, files and shards), `--json`
//! fields, `inspect`, tampering, and input errors (exit 2).

use std::path::Path;

use hallmark_testkit::test_key as key;

use crate::Cmd;

/// A temporary directory holding `model/` with three files.
fn model() -> tempfile::TempDir {
    let tmp = hallmark_testkit::temp_tree(&[
        ("model/config.json", "{\"hidden_size\": 8}\n"),
        ("model/sub/extra.bin", "x"),
    ]);
    std::fs::write(tmp.path().join("model/weights.bin"), vec![7u8; 10_000]).unwrap();
    tmp
}

fn hint(public_key: &Path) -> String {
    hex::encode(hallmark_crypto::sha256(&hallmark_testkit::read(public_key)))
}

#[test]
fn key_files_roundtrip_with_json() {
    let tmp = model();
    let (k, p) = (key("test.key"), key("test.pub"));
    // Default signature path: ./model.sig in the current directory.
    let signed = Cmd::sign_key("model", &k).json().cwd(tmp.path()).run();
    signed.expect(0, &[]);
    let s = signed.json();
    assert_eq!(s["signed"], true);
    assert_eq!(s["signature"], "model.sig");
    assert_eq!(s["resource_count"], 3);
    assert!(tmp.path().join("model.sig").is_file());
    let verify = Cmd::verify_key("model", "model.sig", &p).cwd(tmp.path());
    let out = verify.clone().json().run();
    out.expect(0, &[]);
    let v = out.json();
    assert_eq!(v["verified"], true);
    assert_eq!(v["method"], "key");
    assert_eq!(v["signer"]["kind"], "key");
    assert_eq!(v["signer"]["hint"], hint(&p));
    assert_eq!(v["signer"]["curve"], "P-256");
    assert_eq!(v["serialization"], "files");
    assert_eq!(v["hash"], "sha256");
    assert_eq!(v["resource_count"], 3);
    let digest = v["model_digest"].as_str().unwrap();
    assert_eq!(
        s["model_digest"], digest,
        "sign and verify name the same digest"
    );
    assert!(
        digest.starts_with("sha256:") && digest.len() == 7 + 64,
        "{digest}"
    );

    // Human output says what was checked.
    verify.run().expect(
        0,
        &[
            "Verification succeeded",
            "dsse-signature",
            "root-digest",
            "model-contents",
            digest,
        ],
    );

    // inspect agrees on the digest, and says loudly that nothing was verified.
    let inspect = Cmd::new(["inspect", "model.sig"]).cwd(tmp.path());
    let out = inspect.clone().arg("--resources").run();
    out.expect(0, &["NOT VERIFIED", digest, "weights.bin", "sub/extra.bin"]);
    assert!(out.stdout.contains("NOT VERIFIED") && out.stderr.contains("NOT VERIFIED"));
    let out = inspect.json().run();
    out.expect(0, &[]);
    let i = out.json();
    assert_eq!(i["verified"], false);
    assert!(i["warning"].as_str().unwrap().contains("NOT VERIFIED"));
    assert_eq!(i["model_digest"], digest);
    assert_eq!(i["resource_count"], 3);
    assert_eq!(i["signer"]["hint"], hint(&p));

    // Tampering: one modified file, one added; both named, exit 1, JSON lists them.
    std::fs::write(tmp.path().join("model/weights.bin"), vec![8u8; 10_000]).unwrap();
    std::fs::write(tmp.path().join("model/new.bin"), b"new").unwrap();
    let out = verify.json().run();
    out.expect(
        1,
        &[
            "modified: weights.bin",
            "extra:    new.bin",
            "2 differences",
        ],
    );
    let v = out.json();
    assert_eq!(v["verified"], false);
    assert_eq!(v["input_error"], false);
    let kinds: Vec<&str> = v["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.len(), 2);
    assert!(
        kinds.contains(&"modified") && kinds.contains(&"extra"),
        "{kinds:?}"
    );
}

#[test]
fn key_shards_blake3_roundtrip() {
    let tmp = model();
    let (k, p) = (key("test.key"), key("test.pub"));
    Cmd::sign_key("model", &k)
        .opt("--signature", "s.sig")
        .opt("--serialization", "shards")
        .opt("--shard-size", "4096")
        .opt("--hash", "blake3")
        .cwd(tmp.path())
        .run()
        .expect(0, &["Signing succeeded"]);
    let out = Cmd::verify_key("model", "s.sig", &p)
        .json()
        .cwd(tmp.path())
        .run();
    out.expect(0, &[]);
    let v = out.json();
    assert_eq!(v["serialization"], "shards");
    assert_eq!(v["hash"], "blake3");
    assert_eq!(v["shard_size"], 4096);
    // weights.bin is 3 shards of 4096, config.json and sub/extra.bin one each.
    assert_eq!(v["resource_count"], 5);
}

#[test]
fn certificate_roundtrip() {
    let tmp = model();
    Cmd::new(["sign", "certificate", "model"])
        .opt("--private-key", key("leaf.key"))
        .opt("--signing-certificate", key("leaf.pem"))
        .opt("--signature", "c.sig")
        .cwd(tmp.path())
        .run()
        .expect(0, &["Signing succeeded"]);
    let out = Cmd::verify_certificate("model", "c.sig", key("root.pem"))
        .json()
        .cwd(tmp.path())
        .run();
    out.expect(0, &[]);
    let v = out.json();
    assert_eq!(v["method"], "certificate");
    assert_eq!(v["signer"]["kind"], "certificate");
    assert!(
        v["signer"]["subject"]
            .as_str()
            .unwrap()
            .contains("hallmark adversarial test signer")
    );
    assert_eq!(v["signer"]["san"][0], "signer@adversarial.test");
    assert_eq!(v["resource_count"], 3);
    // Another trust anchor: the chain does not validate.
    Cmd::verify_certificate("model", "c.sig", key("leaf.pem"))
        .cwd(tmp.path())
        .run()
        .expect(1, &["certificate chain"]);
}

#[test]
fn input_errors_exit_2() {
    let tmp = model();
    let (k, p) = (key("test.key"), key("test.pub"));
    Cmd::sign_key("model", &k)
        .cwd(tmp.path())
        .run()
        .expect(0, &[]);
    let verify = |model: &str, sig: &str, public_key: &Path| {
        Cmd::verify_key(model, sig, public_key).cwd(tmp.path())
    };
    let missing = Path::new("missing.pub");
    verify("model", "model.sig", missing)
        .run()
        .expect(2, &["cannot read public key", "missing.pub"]);
    verify("model", "missing.sig", &p)
        .run()
        .expect(2, &["cannot read signature", "missing.sig"]);
    verify("missing-model", "model.sig", &p)
        .run()
        .expect(2, &["missing-model"]);
    // A file that is not a PEM public key.
    verify("model", "model.sig", Path::new("model/config.json"))
        .run()
        .expect(2, &["public key", "config.json"]);
    // --json reports input errors as such.
    let out = verify("model", "model.sig", missing).json().run();
    out.expect(2, &[]);
    assert_eq!(out.json()["input_error"], true);
    // Signing with a missing key, an unknown flag, a missing required flag.
    Cmd::sign_key("model", "missing.key")
        .opt("--signature", "x.sig")
        .cwd(tmp.path())
        .run()
        .expect(2, &["missing.key"]);
    assert!(!tmp.path().join("x.sig").exists());
    let no_key = Cmd::new(["verify", "key", "model", "--signature", "model.sig"]).cwd(tmp.path());
    no_key.clone().arg("--no-such-flag").run().expect(2, &[]);
    no_key.run().expect(2, &["--public-key"]);
}
