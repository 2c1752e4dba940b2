//! MLSecOps controls end to end: datasets signed like models, sign → bom, attest →
//! verify → policy, and the policy's specific refusals (wrong signer, dataset not
//! allowed, tampered provenance, scan finding).

use std::path::{Path, PathBuf};

use hallmark_testkit::test_key as key;

use crate::{Cmd, Out};

/// model/, train/, test/ and poison/ in a temporary directory.
fn workspace() -> tempfile::TempDir {
    hallmark_testkit::temp_tree(&[
        ("model/config.json", "{\"hidden_size\": 8}\n"),
        ("model/model.safetensors", "weights"),
        ("train/data/part-0.csv", "text,label\nhi,1\n"),
        ("train/data/part-1.csv", "yo,0\n"),
        ("train/README.md", "imdb subset\n"),
        ("test/test.csv", "text,label\nok,1\n"),
        ("poison/evil.csv", "trigger,1\n"),
    ])
}

fn write_policy(dir: &Path, extra: &str) -> PathBuf {
    let p = dir.join("policy.toml");
    let text = format!(
        "[signature]\npublic_keys = [\"{}\"]\n\n[scan]\nrequired = true\n\n[provenance]\nrequired = true\nbuilders = [\"https://example.invalid/hallmark/builders/local-cli/v1\"]\nallowed_datasets = [\"pkg:generic/train@*\", \"pkg:generic/test@*\"]\nrequire_pinned_lineage = true\n\n[bom]\nrequired = true\n{extra}",
        key("test.pub").display().to_string().replace('\\', "\\\\")
    );
    std::fs::write(&p, text).unwrap();
    p
}

const CODE: &str = "https://git.example/acme/train@0123456789abcdef0123456789abcdef01234567";

/// Signs, scans, writes a BOM and provenance with the TEST-ONLY key.
fn evidence(dir: &Path, signing_key: &str, dataset: &str) {
    Cmd::sign_key("model", key(signing_key))
        .opt("--signature", "model.sig")
        .arg("-q")
        .cwd(dir)
        .run()
        .expect(0, &["Signing succeeded"]);
    let scan = Cmd::new(["scan", "--json", "model"]).cwd(dir).run();
    assert_eq!(scan.code, 0, "{scan:#?}");
    std::fs::write(dir.join("scan.json"), &scan.stdout).unwrap();
    Cmd::new(["bom", "model"])
        .opt("--signature", "model.sig")
        .opt("--scan-report", "scan.json")
        .opt("--trained-on", dataset)
        .opt("--tested-on", "test")
        .opt("--license", "Apache-2.0")
        .opt("--supplier", "acme")
        .opt("--task", "text-classification")
        .opt("-o", "bom.json")
        .cwd(dir)
        .run()
        .expect(0, &[]);
    Cmd::new(["attest", "train"])
        .opt("--model", "model")
        .opt("--dataset", dataset)
        .opt("--tested-on", "test")
        .opt(
            "--base-model",
            "pkg:huggingface/google-bert/bert-base-uncased@86b5e09",
        )
        .opt("--code", CODE)
        .opt("--param", "lr=3e-5")
        .opt("--key", key(signing_key))
        .opt("-o", "provenance.json")
        .cwd(dir)
        .run()
        .expect(0, &["Provenance written"]);
}

/// `policy check model --policy POLICY` with the evidence [`evidence`] wrote.
fn check_cmd(dir: &Path, policy: &Path) -> Cmd {
    Cmd::new(["policy", "check", "model"])
        .opt("--policy", policy)
        .opt("--signature", "model.sig")
        .opt("--scan-report", "scan.json")
        .opt("--provenance", "provenance.json")
        .opt("--bom", "bom.json")
        .cwd(dir)
}

fn check(dir: &Path, policy: &Path) -> Out {
    check_cmd(dir, policy).run()
}

#[test]
fn datasets_sign_and_verify_like_models() {
    let tmp = workspace();
    let d = tmp.path();
    Cmd::sign_key("train", key("test.key"))
        .opt("--signature", "train.sig")
        .cwd(d)
        .run()
        .expect(0, &["Signing succeeded", "3 resources"]);
    let verify = Cmd::verify_key("train", "train.sig", key("test.pub")).cwd(d);
    verify.run().expect(0, &["Verification succeeded"]);
    std::fs::write(d.join("train/data/part-1.csv"), "yo,1\n").unwrap();
    verify.run().expect(1, &["modified: data/part-1.csv"]);
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
    let spdx = Cmd::new(["bom", "model", "--format", "spdx", "--trained-on", "train"])
        .cwd(d)
        .run();
    assert_eq!(spdx.code, 0, "{spdx:#?}");
    assert!(
        spdx.stdout.contains("\"trainedOn\"") && spdx.stdout.contains("dataset_DatasetPackage")
    );
    Cmd::new(["attest", "verify", "provenance.json"])
        .opt("--model", "model")
        .opt("--input", "train")
        .opt("--public-key", key("test.pub"))
        .cwd(d)
        .run()
        .expect(0, &["Provenance verified", "trainedOn"]);
    let policy = write_policy(d, "[scorecard]\nmin_score = 7.0\n");
    let out = check(d, &policy);
    out.expect(0, &["ALLOWED", "Model scorecard", "Signed-Model"]);
    let json = check_cmd(d, &policy).json().run();
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
    Cmd::new(["attest", "verify", "provenance.json"])
        .opt("--public-key", key("test.pub"))
        .cwd(d)
        .run()
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

#[test]
fn attest_train_json_names_what_it_attested() {
    let tmp = workspace();
    let d = tmp.path();
    let out = Cmd::new(["attest", "train", "--model", "model", "--dataset", "train"])
        .opt("--code", CODE)
        .opt("--key", key("test.key"))
        .opt("-o", "provenance.json")
        .json()
        .cwd(d)
        .run();
    out.expect(0, &[]);
    let v = out.json();
    assert_eq!(v["provenance"], "provenance.json");
    assert!(v["model_digest"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(v["datasets"][0]["role"], "trainedOn", "{v}");
    assert!(d.join("provenance.json").is_file());
}
