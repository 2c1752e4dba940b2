//! sign → verify through the CLI (key and certificate, files and shards), `--json`
//! fields, `inspect`, tampering, and input errors (exit 2).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::{Out, hallmark_in};

/// The TEST-ONLY keys of `testdata/adversarial/keys` (made with openssl by its gen.py).
fn key(name: &str) -> PathBuf {
    crate::repo().join("testdata/adversarial/keys").join(name)
}

/// A temporary directory holding `model/` with three files.
fn model() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let m = tmp.path().join("model");
    std::fs::create_dir_all(m.join("sub")).unwrap();
    std::fs::write(m.join("config.json"), b"{\"hidden_size\": 8}\n").unwrap();
    std::fs::write(m.join("weights.bin"), vec![7u8; 10_000]).unwrap();
    std::fs::write(m.join("sub/extra.bin"), b"x").unwrap();
    tmp
}

fn run(cwd: &Path, args: &[&str]) -> Out {
    hallmark_in(Some(cwd), args.iter().map(OsString::from))
}

fn json(out: &Out) -> serde_json::Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:#?}"))
}

fn hint(public_key: &Path) -> String {
    hex::encode(hallmark_crypto::sha256(&std::fs::read(public_key).unwrap()))
}

#[test]
fn key_files_roundtrip_with_json() {
    let tmp = model();
    let (k, p) = (key("test.key"), key("test.pub"));
    // Default signature path: ./model.sig in the current directory.
    run(
        tmp.path(),
        &["sign", "key", "model", "--private-key", k.to_str().unwrap()],
    )
    .expect(0, &["Signing succeeded"]);
    assert!(tmp.path().join("model.sig").is_file());
    let out = run(
        tmp.path(),
        &[
            "verify",
            "key",
            "model",
            "--signature",
            "model.sig",
            "--public-key",
            p.to_str().unwrap(),
            "--json",
        ],
    );
    out.expect(0, &[]);
    let v = json(&out);
    assert_eq!(v["verified"], true);
    assert_eq!(v["method"], "key");
    assert_eq!(v["signer"]["kind"], "key");
    assert_eq!(v["signer"]["hint"], hint(&p));
    assert_eq!(v["signer"]["curve"], "P-256");
    assert_eq!(v["serialization"], "files");
    assert_eq!(v["hash"], "sha256");
    assert_eq!(v["resources"], 3);
    let digest = v["model_digest"].as_str().unwrap();
    assert!(
        digest.starts_with("sha256:") && digest.len() == 7 + 64,
        "{digest}"
    );

    // Human output says what was checked.
    run(
        tmp.path(),
        &[
            "verify",
            "key",
            "model",
            "--signature",
            "model.sig",
            "--public-key",
            p.to_str().unwrap(),
        ],
    )
    .expect(
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
    let out = run(tmp.path(), &["inspect", "model.sig", "--resources"]);
    out.expect(0, &["NOT VERIFIED", digest, "weights.bin", "sub/extra.bin"]);
    assert!(out.stdout.contains("NOT VERIFIED") && out.stderr.contains("NOT VERIFIED"));
    let out = run(tmp.path(), &["inspect", "model.sig", "--json"]);
    out.expect(0, &[]);
    let i = json(&out);
    assert_eq!(i["verified"], false);
    assert!(i["warning"].as_str().unwrap().contains("NOT VERIFIED"));
    assert_eq!(i["model_digest"], digest);
    assert_eq!(i["resource_count"], 3);
    assert_eq!(i["signer"]["hint"], hint(&p));

    // Tampering: one modified file, one added; both named, exit 1, JSON lists them.
    std::fs::write(tmp.path().join("model/weights.bin"), vec![8u8; 10_000]).unwrap();
    std::fs::write(tmp.path().join("model/new.bin"), b"new").unwrap();
    let out = run(
        tmp.path(),
        &[
            "verify",
            "key",
            "model",
            "--signature",
            "model.sig",
            "--public-key",
            p.to_str().unwrap(),
            "--json",
        ],
    );
    out.expect(
        1,
        &[
            "modified: weights.bin",
            "extra:    new.bin",
            "2 differences",
        ],
    );
    let v = json(&out);
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
    run(
        tmp.path(),
        &[
            "sign",
            "key",
            "model",
            "--private-key",
            k.to_str().unwrap(),
            "--signature",
            "s.sig",
            "--serialization",
            "shards",
            "--shard-size",
            "4096",
            "--hash",
            "blake3",
        ],
    )
    .expect(0, &["Signing succeeded"]);
    let out = run(
        tmp.path(),
        &[
            "verify",
            "key",
            "model",
            "--signature",
            "s.sig",
            "--public-key",
            p.to_str().unwrap(),
            "--json",
        ],
    );
    out.expect(0, &[]);
    let v = json(&out);
    assert_eq!(v["serialization"], "shards");
    assert_eq!(v["hash"], "blake3");
    assert_eq!(v["shard_size"], 4096);
    // weights.bin is 3 shards of 4096, config.json and sub/extra.bin one each.
    assert_eq!(v["resources"], 5);
}

#[test]
fn certificate_roundtrip() {
    let tmp = model();
    run(
        tmp.path(),
        &[
            "sign",
            "certificate",
            "model",
            "--private-key",
            key("leaf.key").to_str().unwrap(),
            "--signing-certificate",
            key("leaf.pem").to_str().unwrap(),
            "--signature",
            "c.sig",
        ],
    )
    .expect(0, &["Signing succeeded"]);
    let out = run(
        tmp.path(),
        &[
            "verify",
            "certificate",
            "model",
            "--signature",
            "c.sig",
            "--certificate-chain",
            key("root.pem").to_str().unwrap(),
            "--json",
        ],
    );
    out.expect(0, &[]);
    let v = json(&out);
    assert_eq!(v["method"], "certificate");
    assert_eq!(v["signer"]["kind"], "certificate");
    assert!(
        v["signer"]["subject"]
            .as_str()
            .unwrap()
            .contains("hallmark adversarial test signer")
    );
    assert_eq!(v["signer"]["san"][0], "signer@adversarial.test");
    assert_eq!(v["resources"], 3);
    // Another trust anchor: the chain does not validate.
    run(
        tmp.path(),
        &[
            "verify",
            "certificate",
            "model",
            "--signature",
            "c.sig",
            "--certificate-chain",
            key("leaf.pem").to_str().unwrap(),
        ],
    )
    .expect(1, &["certificate chain"]);
}

#[test]
fn input_errors_exit_2() {
    let tmp = model();
    let (k, p) = (key("test.key"), key("test.pub"));
    run(
        tmp.path(),
        &["sign", "key", "model", "--private-key", k.to_str().unwrap()],
    )
    .expect(0, &[]);
    let verify = |model: &str, sig: &str, public_key: &str| {
        run(
            tmp.path(),
            &[
                "verify",
                "key",
                model,
                "--signature",
                sig,
                "--public-key",
                public_key,
            ],
        )
    };
    verify("model", "model.sig", "missing.pub")
        .expect(2, &["cannot read public key", "missing.pub"]);
    verify("model", "missing.sig", p.to_str().unwrap())
        .expect(2, &["cannot read signature", "missing.sig"]);
    verify("missing-model", "model.sig", p.to_str().unwrap()).expect(2, &["missing-model"]);
    // A file that is not a PEM public key.
    verify("model", "model.sig", "model/config.json").expect(2, &["public key", "config.json"]);
    // --json reports input errors as such.
    let out = run(
        tmp.path(),
        &[
            "verify",
            "key",
            "model",
            "--signature",
            "model.sig",
            "--public-key",
            "missing.pub",
            "--json",
        ],
    );
    out.expect(2, &[]);
    assert_eq!(json(&out)["input_error"], true);
    // Signing with a missing key, an unknown flag, a missing required flag.
    run(
        tmp.path(),
        &[
            "sign",
            "key",
            "model",
            "--private-key",
            "missing.key",
            "--signature",
            "x.sig",
        ],
    )
    .expect(2, &["missing.key"]);
    assert!(!tmp.path().join("x.sig").exists());
    run(
        tmp.path(),
        &[
            "verify",
            "key",
            "model",
            "--signature",
            "model.sig",
            "--no-such-flag",
        ],
    )
    .expect(2, &[]);
    run(
        tmp.path(),
        &["verify", "key", "model", "--signature", "model.sig"],
    )
    .expect(2, &["--public-key"]);
}
