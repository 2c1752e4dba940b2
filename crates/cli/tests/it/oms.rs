//! Every case 01–28 of `testdata/oms/INDEX.md` (the OMS fixture set's case list) gives its
//! listed outcome with `hallmark verify`. The cases are copied to `testdata/oms/` (see its
//! README.md); reference-made signatures, so these are the "theirs verify with ours" checks.

use std::path::PathBuf;

use crate::{Cmd, Out};

fn case(name: &str) -> PathBuf {
    hallmark_testkit::testdata("oms").join(name)
}

/// `verify key <case>/model --signature <case>/model.sig --public-key <case>/<public_key> EXTRA…`
fn verify_key(name: &str, public_key: &str, extra: &[&str]) -> Out {
    let d = case(name);
    Cmd::verify_key(d.join("model"), d.join("model.sig"), d.join(public_key))
        .args(extra)
        .run()
}

fn verify_cert(name: &str, roots: &str) -> Out {
    let d = case(name);
    Cmd::verify_certificate(d.join("model"), d.join("model.sig"), d.join(roots)).run()
}

#[test]
fn case01_key_p256() {
    verify_key("case01-key-p256", "p256.pub", &[]).expect(0, &["Verification succeeded", "P-256"]);
}

#[test]
fn case04_cert_chain_p256() {
    verify_cert("case04-cert-chain-p256", "root-ca.crt").expect(0, &["Verification succeeded"]);
    verify_cert("case04-cert-chain-p256", "ca-chain.pem").expect(0, &["Verification succeeded"]);
}

/// Valid; the reference CLI cannot verify it, hallmark reads the declared serialization.
#[test]
fn case06_shards_sha256() {
    verify_key("case06-shards-sha256", "p256.pub", &[]).expect(
        0,
        &["Verification succeeded", "shards/sha256, shard size 262144"],
    );
}

#[test]
fn case07_files_blake2() {
    verify_key("case07-files-blake2", "p256.pub", &[])
        .expect(0, &["Verification succeeded", "files/blake2b"]);
}

#[test]
fn case10_ignore_paths() {
    verify_key("case10-ignore-paths", "p256.pub", &[]).expect(0, &["Verification succeeded"]);
}

/// `.gitattributes` is signed. It is stored beside the model as `model.gitattributes`
/// (a `.gitattributes` inside this repository would be read by git) and put back into a
/// temporary copy of the model here.
#[test]
fn case11_no_ignore_git_paths() {
    let d = case("case11-no-ignore-git-paths");
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("model");
    hallmark_testkit::copy_dir(&d.join("model"), &model);
    std::fs::copy(d.join("model.gitattributes"), model.join(".gitattributes")).unwrap();
    let verify = |extra: &[&str]| {
        Cmd::verify_key(&model, d.join("model.sig"), d.join("p256.pub"))
            .args(extra)
            .cwd(tmp.path())
            .run()
    };
    verify(&["--no-ignore-git-paths"]).expect(0, &["Verification succeeded"]);
    verify(&[]).expect(1, &["missing:  .gitattributes", "--no-ignore-git-paths"]);
}

#[test]
fn case12_ignore_unsigned_files() {
    verify_key(
        "case12-ignore-unsigned-files",
        "p256.pub",
        &["--ignore-unsigned-files"],
    )
    .expect(0, &["Verification succeeded"]);
    // The reference's spelling is accepted too.
    verify_key(
        "case12-ignore-unsigned-files",
        "p256.pub",
        &["--ignore_unsigned_files"],
    )
    .expect(0, &["Verification succeeded"]);
    verify_key("case12-ignore-unsigned-files", "p256.pub", &[])
        .expect(1, &["extra:    extra/notes.txt"]);
}

#[test]
fn case13_single_file_model() {
    let d = case("case13-single-file-model");
    Cmd::verify_key(
        d.join("model/model.safetensors"),
        d.join("model.sig"),
        d.join("p256.pub"),
    )
    .run()
    .expect(0, &["Verification succeeded", "1 resources"]);
}

#[test]
fn case20_neg_byte_flipped() {
    verify_key("case20-neg-byte-flipped", "p256.pub", &[]).expect(
        1,
        &[
            "modified: weights/layer1.bin",
            "signed:  sha256:60d1769a19f7d35aa05f0359d18f1b442206894e3788bc89e6a8937632be8408",
            "on disk: sha256:",
        ],
    );
}

#[test]
fn case21_neg_file_added() {
    verify_key("case21-neg-file-added", "p256.pub", &[])
        .expect(1, &["extra:    weights/layer2.bin"]);
}

#[test]
fn case22_neg_file_removed() {
    verify_key("case22-neg-file-removed", "p256.pub", &[])
        .expect(1, &["missing:  weights/layer0.bin"]);
}

#[test]
fn case24_neg_payload_altered() {
    verify_key("case24-neg-payload-altered", "p256.pub", &[])
        .expect(1, &["signature does not verify"]);
}

#[test]
fn case26_neg_wrong_public_key() {
    verify_key("case26-neg-wrong-public-key", "other-p256.pub", &[]).expect(
        1,
        &[
            "key mismatch",
            "a0db88b9dd4d451d63b28d03167646ad314fa6560af9a9d6da95021695fa410e",
        ],
    );
    verify_key("case26-neg-wrong-public-key", "p256.pub", &[])
        .expect(0, &["Verification succeeded"]);
}

#[test]
fn case28_neg_cert_untrusted_root() {
    verify_cert("case28-neg-cert-untrusted-root", "other-root-ca.crt")
        .expect(1, &["certificate chain"]);
}

/// Every case of INDEX.md numbered below 30 (the key and certificate cases) has a copy and
/// a test here; the Sigstore cases (40, 41) are copied for `crates/sigstore`'s tests.
#[test]
fn every_index_case_is_covered() {
    let index = hallmark_testkit::read_to_string(case("INDEX.md"));
    let me = include_str!("oms.rs");
    let mut n = 0;
    for line in index.lines() {
        let Some(rest) = line.strip_prefix("| [case") else {
            continue;
        };
        let name = format!("case{}", rest.split(']').next().unwrap());
        let num: u32 = name[4..6].parse().unwrap();
        if num >= 30 {
            // Sigstore cases: crates/sigstore's tests read the bundle.
            assert!(case(&name).join("model.sig").is_file(), "{name} not copied");
            continue;
        }
        n += 1;
        assert!(case(&name).join("model.sig").is_file(), "{name} not copied");
        let test = format!("fn {}()", name.replace('-', "_"));
        assert!(me.contains(&test), "no test {test}");
    }
    assert_eq!(n, 14);
}
