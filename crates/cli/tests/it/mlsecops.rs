//! MLSecOps controls end to end: datasets signed like models, sign → bom, attest →
//! verify → policy, and the policy's specific refusals (wrong signer, dataset not
//! allowed, tampered provenance, scan finding).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::{Out, hallmark_in};

fn key(name: &str) -> String {
    crate::repo()
        .join("testdata/adversarial/keys")
        .join(name)
        .display()
        .to_string()
}

fn run(cwd: &Path, args: &[&str]) -> Out {
    hallmark_in(Some(cwd), args.iter().map(OsString::from))
}

/// model/, train/, test/ and poison/ in a temporary directory.
fn workspace() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    for (dir, files) in [
        (
            "model",
            &[
                ("config.json", "{\"hidden_size\": 8}\n"),
                ("model.safetensors", "weights"),
            ][..],
        ),
        (
            "train",
            &[
                ("data/part-0.csv", "text,label\nhi,1\n"),
                ("data/part-1.csv", "yo,0\n"),
                ("README.md", "imdb subset\n"),
            ][..],
        ),
        ("test", &[("test.csv", "text,label\nok,1\n")][..]),
        ("poison", &[("evil.csv", "trigger,1\n")][..]),
    ] {
        for (name, body) in files {
            let f = p.join(dir).join(name);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(f, body).unwrap();
        }
    }
    tmp
}

fn write_policy(dir: &Path, extra: &str) -> PathBuf {
    let p = dir.join("policy.toml");
    let text = format!(
        "[signature]\npublic_keys = [\"{}\"]\n\n[scan]\nrequired = true\n\n[provenance]\nrequired = true\nbuilders = [\"https://example.invalid/hallmark/builders/local-cli/v1\"]\nallowed_datasets = [\"pkg:generic/train@*\", \"pkg:generic/test@*\"]\nrequire_pinned_lineage = true\n\n[bom]\nrequired = true\n{extra}",
        key("test.pub").replace('\\', "\\\\")
    );
    std::fs::write(&p, text).unwrap();
    p
}

const CODE: &str = "https://git.example/acme/train@0123456789abcdef0123456789abcdef01234567";

/// Signs, scans, writes a BOM and provenance with the TEST-ONLY key.
fn evidence(dir: &Path, signing_key: &str, dataset: &str) {
    run(
        dir,
        &[
            "sign",
            "key",
            "model",
            "--private-key",
            &key(signing_key),
            "--signature",
            "model.sig",
            "-q",
        ],
    )
    .expect(0, &["Signing succeeded"]);
    let scan = run(dir, &["scan", "--json", "model"]);
    assert_eq!(scan.code, 0, "{scan:#?}");
    std::fs::write(dir.join("scan.json"), &scan.stdout).unwrap();
    run(
        dir,
        &[
            "bom",
            "model",
            "--signature",
            "model.sig",
            "--scan-report",
            "scan.json",
            "--trained-on",
            dataset,
            "--tested-on",
            "test",
            "--license",
            "Apache-2.0",
            "--supplier",
            "acme",
            "--task",
            "text-classification",
            "-o",
            "bom.json",
        ],
    )
    .expect(0, &[]);
    run(
        dir,
        &[
            "attest",
            "train",
            "--model",
            "model",
            "--dataset",
            dataset,
            "--tested-on",
            "test",
            "--base-model",
            "pkg:huggingface/google-bert/bert-base-uncased@86b5e09",
            "--code",
            CODE,
            "--param",
            "lr=3e-5",
            "--key",
            &key(signing_key),
            "-o",
            "provenance.json",
        ],
    )
    .expect(0, &["Provenance written"]);
}

fn check(dir: &Path, policy: &Path) -> Out {
    run(
        dir,
        &[
            "policy",
            "check",
            "model",
            "--policy",
            policy.to_str().unwrap(),
            "--signature",
            "model.sig",
            "--scan-report",
            "scan.json",
            "--provenance",
            "provenance.json",
            "--bom",
            "bom.json",
        ],
    )
}

#[test]
fn datasets_sign_and_verify_like_models() {
    let tmp = workspace();
    let d = tmp.path();
    run(
        d,
        &[
            "sign",
            "key",
            "train",
            "--private-key",
            &key("test.key"),
            "--signature",
            "train.sig",
        ],
    )
    .expect(0, &["Signing succeeded", "3 resources"]);
    run(
        d,
        &[
            "verify",
            "key",
            "train",
            "--signature",
            "train.sig",
            "--public-key",
            &key("test.pub"),
        ],
    )
    .expect(0, &["Verification succeeded"]);
    std::fs::write(d.join("train/data/part-1.csv"), "yo,1\n").unwrap();
    run(
        d,
        &[
            "verify",
            "key",
            "train",
            "--signature",
            "train.sig",
            "--public-key",
            &key("test.pub"),
        ],
    )
    .expect(1, &["modified: data/part-1.csv"]);
}

#[test]
fn sign_bom_attest_verify_policy_roundtrip() {
    let tmp = workspace();
    let d = tmp.path();
    evidence(d, "test.key", "train");
    let bom: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("bom.json")).unwrap()).unwrap();
    assert_eq!(bom["bomFormat"], "CycloneDX");
    assert_eq!(
        bom["metadata"]["component"]["type"],
        "machine-learning-model"
    );
    assert_eq!(bom["components"].as_array().unwrap().len(), 2);
    let spdx = run(
        d,
        &["bom", "model", "--format", "spdx", "--trained-on", "train"],
    );
    assert_eq!(spdx.code, 0, "{spdx:#?}");
    assert!(
        spdx.stdout.contains("\"trainedOn\"") && spdx.stdout.contains("dataset_DatasetPackage")
    );
    run(
        d,
        &[
            "attest",
            "verify",
            "provenance.json",
            "--model",
            "model",
            "--input",
            "train",
            "--public-key",
            &key("test.pub"),
        ],
    )
    .expect(0, &["Provenance verified", "trainedOn"]);
    let policy = write_policy(d, "[scorecard]\nmin_score = 7.0\n");
    let out = check(d, &policy);
    out.expect(0, &["ALLOWED", "Model scorecard", "Signed-Model"]);
    let json = run(
        d,
        &[
            "policy",
            "check",
            "model",
            "--policy",
            policy.to_str().unwrap(),
            "--signature",
            "model.sig",
            "--scan-report",
            "scan.json",
            "--provenance",
            "provenance.json",
            "--bom",
            "bom.json",
            "--json",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["allowed"], true);
    assert!(v["scorecard"]["score"].as_f64().unwrap() >= 7.0);
}

#[test]
fn wrong_signer_is_refused() {
    let tmp = workspace();
    let d = tmp.path();
    evidence(d, "other.key", "train");
    let policy = write_policy(d, "");
    check(d, &policy).expect(
        1,
        &[
            "DENIED",
            "REFUSED",
            "signature model.sig is signed by public key",
            "not an allowed signer",
        ],
    );
}

#[test]
fn dataset_not_allowed_is_refused() {
    let tmp = workspace();
    let d = tmp.path();
    evidence(d, "test.key", "poison");
    let policy = write_policy(d, "");
    check(d, &policy).expect(
        1,
        &[
            "DENIED",
            "dataset pkg:generic/poison@",
            "(trainedOn) is not allowed by the policy",
        ],
    );
}

#[test]
fn tampered_provenance_is_refused() {
    let tmp = workspace();
    let d = tmp.path();
    evidence(d, "test.key", "train");
    let mut b: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("provenance.json")).unwrap()).unwrap();
    let payload = b["dsseEnvelope"]["payload"].as_str().unwrap().to_owned();
    let decoded = base64_decode(&payload);
    let forged = String::from_utf8(decoded)
        .unwrap()
        .replace("pkg:generic/train", "pkg:generic/trainX");
    b["dsseEnvelope"]["payload"] = hallmark_format::b64_encode(forged.as_bytes()).into();
    std::fs::write(d.join("provenance.json"), serde_json::to_vec(&b).unwrap()).unwrap();
    let policy = write_policy(d, "");
    check(d, &policy).expect(1, &["DENIED", "provenance provenance.json", "signature"]);
    run(
        d,
        &[
            "attest",
            "verify",
            "provenance.json",
            "--public-key",
            &key("test.pub"),
        ],
    )
    .expect(1, &["Provenance verification failed"]);
}

#[test]
fn scan_finding_is_refused() {
    let tmp = workspace();
    let d = tmp.path();
    evidence(d, "test.key", "train");
    std::fs::write(
        d.join("scan.json"),
        r#"{"policy_version":"1","files":[{"path":"model/model.safetensors","format":"safetensors","verdict":"clean","findings":[]},{"path":"model/extra.pkl","format":"pickle","verdict":"dangerous","findings":[{"rule":"HM-PKL-001","severity":"dangerous","message":"imports os.system"}]}]}"#,
    )
    .unwrap();
    let policy = write_policy(d, "");
    check(d, &policy).expect(
        1,
        &[
            "DENIED",
            "verdict dangerous",
            "model/extra.pkl is dangerous (HM-PKL-001): imports os.system",
        ],
    );
}

#[test]
fn modified_model_and_bad_policy() {
    let tmp = workspace();
    let d = tmp.path();
    evidence(d, "test.key", "train");
    std::fs::write(d.join("model/model.safetensors"), "poisoned").unwrap();
    let policy = write_policy(d, "");
    check(d, &policy).expect(
        1,
        &[
            "DENIED",
            "modified: model.safetensors",
            "provenance subject does not match",
            "describes sha256:",
        ],
    );
    std::fs::write(d.join("bad.toml"), "[signature]\npublic_key = []\n").unwrap();
    check(d, &d.join("bad.toml")).expect(2, &["bad.toml", "public_key"]);
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}
