//! `policy check` verdicts as a user sees them: each check's pass and refusal paths
//! (signature, scan, provenance, BOM, scorecard) on a real model signed with a fresh key,
//! and policy files refused with the field named.

#![allow(clippy::unwrap_used, missing_docs)]

use std::path::{Path, PathBuf};

use hallmark_bom::BomError;
use hallmark_crypto::{Curve, SigningKey};
use hallmark_hash::EngineOptions;
use hallmark_policy::{Decision, Inputs, InvalidField, Outcome, Policy, PolicyError, check};
use hallmark_signing::{SignOptions, Signer, sign_model};
use tempfile::TempDir;

/// A model directory, a key allowed by the policy, and a signature by that key.
struct Fixture {
    dir: TempDir,
    model: PathBuf,
    signature: PathBuf,
}

fn fixture(files: &[(&str, &[u8])]) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    std::fs::create_dir(&model).unwrap();
    for (name, body) in files {
        std::fs::write(model.join(name), body).unwrap();
    }
    let signature = dir.path().join("model.sig");
    sign_with(&model, "signer", &signature);
    Fixture {
        dir,
        model,
        signature,
    }
}

/// Signs `model` with a fresh key whose public half is written to `<name>.pub` beside it.
fn sign_with(model: &Path, name: &str, signature: &Path) {
    let key = SigningKey::generate(Curve::P256).unwrap();
    let base = model.parent().unwrap();
    std::fs::write(base.join(format!("{name}.pub")), key.public_key().to_pem()).unwrap();
    let signed = sign_model(model, &Signer::Key(key), &SignOptions::default()).unwrap();
    std::fs::write(signature, signed.bundle_json).unwrap();
}

const SAFE: &[(&str, &[u8])] = &[
    ("model.safetensors", b"weights weights weights"),
    ("config.json", b"{\"model_type\":\"bert\"}"),
];

impl Fixture {
    fn policy(&self, toml: &str) -> Policy {
        Policy::parse(toml, "policy.toml", self.dir.path()).unwrap()
    }

    fn inputs(&self) -> Inputs {
        Inputs {
            model: self.model.clone(),
            signatures: vec![self.signature.clone()],
            ..Inputs::default()
        }
    }

    fn write(&self, name: &str, body: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, body).unwrap();
        p
    }

    fn check(&self, policy: &str, inputs: &Inputs) -> Decision {
        check(&self.policy(policy), inputs, &EngineOptions::default()).unwrap()
    }
}

/// Signature by `signer.pub` required, scan not required.
const KEY_ONLY: &str = "[signature]\npublic_keys = [\"signer.pub\"]\n[scan]\nrequired = false\n";

fn outcomes<'a>(d: &'a Decision, check: &str) -> Vec<&'a Outcome> {
    d.outcomes.iter().filter(|o| o.check == check).collect()
}

fn only<'a>(d: &'a Decision, check: &str) -> &'a Outcome {
    let found = outcomes(d, check);
    assert_eq!(found.len(), 1, "{:?}", d.outcomes);
    found[0]
}

fn score(d: &Decision, name: &str) -> u8 {
    d.scorecard
        .checks
        .iter()
        .find(|c| c.name == name)
        .unwrap()
        .score
}

#[test]
fn signature_by_an_allowed_key_passes() {
    let f = fixture(SAFE);
    let d = f.check(KEY_ONLY, &f.inputs());
    assert!(d.allowed, "{:?}", d.outcomes);
    let o = only(&d, "signature");
    assert!(o.passed);
    assert!(
        o.detail.contains("signed by public key sha256:")
            && o.detail.contains("signer.pub")
            && o.detail.contains("2 resources re-hashed and matched"),
        "{}",
        o.detail
    );
    assert!(d.model_digest.starts_with("sha256:") && d.model_digest.len() == 71);
    assert_eq!(score(&d, "Signed-Model"), 10);
    assert_eq!(d.refusals().count(), 0);
}

#[test]
fn signature_by_another_key_is_refused() {
    let f = fixture(SAFE);
    let other = f.dir.path().join("other.sig");
    sign_with(&f.model, "intruder", &other);
    let inputs = Inputs {
        signatures: vec![other.clone()],
        ..f.inputs()
    };
    let d = f.check(KEY_ONLY, &inputs);
    assert!(!d.allowed);
    let o = only(&d, "signature");
    assert!(!o.passed);
    assert!(
        o.detail.contains(&other.display().to_string())
            && o.detail.contains("which is not an allowed signer")
            && o.detail.contains("signer.pub"),
        "{}",
        o.detail
    );
    assert_eq!(score(&d, "Signed-Model"), 0);
    // both signatures given: each must verify, one refusal is enough to deny
    let both = Inputs {
        signatures: vec![f.signature.clone(), other],
        ..f.inputs()
    };
    let d = f.check(KEY_ONLY, &both);
    assert!(!d.allowed);
    let passed: Vec<bool> = outcomes(&d, "signature").iter().map(|o| o.passed).collect();
    assert_eq!(passed, [true, false]);
}

#[test]
fn a_file_changed_after_signing_is_refused_by_name() {
    let f = fixture(SAFE);
    std::fs::write(f.model.join("model.safetensors"), b"poisoned weights").unwrap();
    let d = f.check(KEY_ONLY, &f.inputs());
    assert!(!d.allowed);
    let o = only(&d, "signature");
    assert!(!o.passed);
    assert!(o.detail.contains("model.safetensors"), "{}", o.detail);
    assert!(!o.detail.contains("config.json"), "{}", o.detail);
}

#[test]
fn a_missing_signature_is_refused_only_when_required() {
    let f = fixture(SAFE);
    let unsigned = Inputs {
        signatures: Vec::new(),
        ..f.inputs()
    };
    let d = f.check(KEY_ONLY, &unsigned);
    assert!(!d.allowed);
    assert!(only(&d, "signature").detail.contains("no signature given"));
    let d = f.check(
        "[signature]\nrequired = false\n[scan]\nrequired = false\n",
        &unsigned,
    );
    assert!(d.allowed, "{:?}", d.outcomes);
    assert!(outcomes(&d, "signature").is_empty());
    assert_eq!(score(&d, "Signed-Model"), 0);
}

fn scan_policy(max: &str) -> String {
    format!("[signature]\npublic_keys = [\"signer.pub\"]\n[scan]\nmax_verdict = \"{max}\"\n")
}

/// One file of a scan report: path, format, verdict, and an optional (rule, message) finding.
type Scanned<'a> = (&'a str, &'a str, &'a str, Option<(&'a str, &'a str)>);

fn report(files: &[Scanned<'_>]) -> String {
    let files: Vec<serde_json::Value> = files
        .iter()
        .map(|(path, format, verdict, finding)| {
            let findings: Vec<serde_json::Value> = finding
                .iter()
                .map(|(rule, msg)| {
                    serde_json::json!({"rule": rule, "severity": verdict, "message": msg})
                })
                .collect();
            serde_json::json!({"path": path, "format": format, "verdict": verdict, "findings": findings})
        })
        .collect();
    serde_json::json!({"policy_version": "1", "files": files}).to_string()
}

fn with_scan(f: &Fixture, report: &str) -> Inputs {
    Inputs {
        scan_report: Some(f.write("scan.json", report)),
        ..f.inputs()
    }
}

#[test]
fn a_clean_scan_passes_and_scores() {
    let f = fixture(SAFE);
    let r = report(&[
        ("model/model.safetensors", "safetensors", "clean", None),
        ("model/config.json", "json", "clean", None),
    ]);
    let d = f.check(&scan_policy("clean"), &with_scan(&f, &r));
    assert!(d.allowed, "{:?}", d.outcomes);
    assert!(only(&d, "scan").detail.contains("2 files, verdict clean"));
    assert_eq!(score(&d, "Scan-Clean"), 10);
}

#[test]
fn scan_findings_above_the_ceiling_are_refused_by_file_rule_and_message() {
    let f = fixture(SAFE);
    let r = report(&[
        ("model/model.safetensors", "safetensors", "clean", None),
        (
            "model/extra.pkl",
            "pickle",
            "dangerous",
            Some(("HM-PKL-001", "imports os.system")),
        ),
    ]);
    let d = f.check(&scan_policy("clean"), &with_scan(&f, &r));
    assert!(!d.allowed);
    let o = only(&d, "scan");
    assert!(!o.passed);
    assert!(
        o.detail
            .contains("verdict dangerous, the policy accepts at most clean")
            && o.detail
                .contains("model/extra.pkl is dangerous (HM-PKL-001): imports os.system"),
        "{}",
        o.detail
    );
    assert!(!o.detail.contains("model.safetensors is"), "{}", o.detail);
    assert_eq!(score(&d, "Scan-Clean"), 0);
    // a pickle the scanner saw counts against safe serialization too
    let safe = d
        .scorecard
        .checks
        .iter()
        .find(|c| c.name == "Safe-Serialization")
        .unwrap();
    assert!(safe.detail.contains("model/extra.pkl"), "{}", safe.detail);
}

#[test]
fn the_ceiling_is_per_severity() {
    let f = fixture(SAFE);
    let unverified = report(&[
        ("model/model.safetensors", "safetensors", "clean", None),
        (
            "model/weights.bin",
            "unknown",
            "unverified",
            Some(("HM-GEN-001", "format not recognised")),
        ),
    ]);
    // unverified is above `clean` …
    let d = f.check(&scan_policy("clean"), &with_scan(&f, &unverified));
    assert!(!only(&d, "scan").passed);
    // … and within `unverified`, scoring half
    let d = f.check(&scan_policy("unverified"), &with_scan(&f, &unverified));
    assert!(only(&d, "scan").passed, "{:?}", d.outcomes);
    assert_eq!(score(&d, "Scan-Clean"), 5);
    // a suspicious file is above `unverified`; only the files above the ceiling are named
    let suspicious = report(&[
        (
            "model/weights.bin",
            "unknown",
            "unverified",
            Some(("HM-GEN-001", "format not recognised")),
        ),
        (
            "model/tokenizer.pkl",
            "pickle",
            "suspicious",
            Some(("HM-PKL-010", "unknown global")),
        ),
    ]);
    let d = f.check(&scan_policy("unverified"), &with_scan(&f, &suspicious));
    let o = only(&d, "scan");
    assert!(!o.passed);
    assert!(
        o.detail.contains("model/tokenizer.pkl is suspicious")
            && !o.detail.contains("weights.bin is"),
        "{}",
        o.detail
    );
}

#[test]
fn scan_reports_that_prove_nothing_are_refused() {
    let f = fixture(SAFE);
    let d = f.check(&scan_policy("clean"), &with_scan(&f, &report(&[])));
    assert!(only(&d, "scan").detail.contains("lists no files"));
    let d = f.check(&scan_policy("clean"), &f.inputs());
    assert!(!d.allowed);
    assert!(only(&d, "scan").detail.contains("no scan report given"));
    assert_eq!(score(&d, "Scan-Clean"), 0);
    let bad = r#"{"files":[{"path":"model/x","verdict":"fine"}]}"#;
    let e = check(
        &f.policy(&scan_policy("clean")),
        &with_scan(&f, bad),
        &EngineOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(&e, PolicyError::Model(b) if matches!(**b, BomError::ScanReport { .. })),
        "{e:?}"
    );
    assert!(e.to_string().contains("files[0].verdict"), "{e}");
}

#[test]
fn provenance_required_but_absent_is_refused() {
    let f = fixture(SAFE);
    let d = f.check(
        &format!("{KEY_ONLY}[provenance]\nrequired = true\n"),
        &f.inputs(),
    );
    assert!(!d.allowed);
    assert!(
        only(&d, "provenance")
            .detail
            .contains("no provenance given")
    );
    assert_eq!(score(&d, "Provenance"), 0);
    assert_eq!(score(&d, "Pinned-Lineage"), 0);
    // not required: no outcome, but the scorecard still says what is missing
    let d = f.check(KEY_ONLY, &f.inputs());
    assert!(outcomes(&d, "provenance").is_empty());
    assert_eq!(score(&d, "Provenance"), 0);
}

fn cyclonedx(sha256: Option<&str>, license: bool) -> String {
    let mut comp = serde_json::json!({"type": "machine-learning-model", "name": "model"});
    if let Some(h) = sha256 {
        comp["hashes"] = serde_json::json!([{"alg": "SHA-256", "content": h}]);
    }
    if license {
        comp["licenses"] = serde_json::json!([{"license": {"id": "Apache-2.0"}}]);
    }
    serde_json::json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "metadata": {"component": comp}
    })
    .to_string()
}

fn with_bom(f: &Fixture, bom: &str) -> Inputs {
    Inputs {
        bom: Some(f.write("bom.json", bom)),
        ..f.inputs()
    }
}

const BOM_REQUIRED: &str = "[signature]\npublic_keys = [\"signer.pub\"]\n[scan]\nrequired = false\n[bom]\nrequired = true\n";

#[test]
fn a_bom_for_this_model_passes_and_one_for_another_is_refused() {
    let f = fixture(SAFE);
    let digest = f.check(KEY_ONLY, &f.inputs()).model_digest;
    let hex = digest.strip_prefix("sha256:").unwrap();
    let d = f.check(BOM_REQUIRED, &with_bom(&f, &cyclonedx(Some(hex), true)));
    assert!(d.allowed, "{:?}", d.outcomes);
    let o = only(&d, "bom");
    assert!(
        o.detail.contains("(CycloneDX 1.6) describes this model"),
        "{}",
        o.detail
    );
    assert_eq!(score(&d, "License"), 10);
    // upper-case hex in the BOM is the same digest
    let d = f.check(
        BOM_REQUIRED,
        &with_bom(&f, &cyclonedx(Some(&hex.to_ascii_uppercase()), false)),
    );
    assert!(only(&d, "bom").passed, "{:?}", d.outcomes);
    assert_eq!(score(&d, "License"), 0);

    let other = "ab".repeat(32);
    let d = f.check(BOM_REQUIRED, &with_bom(&f, &cyclonedx(Some(&other), true)));
    assert!(!d.allowed);
    let o = only(&d, "bom");
    assert!(
        o.detail.contains(&format!(
            "describes sha256:{other}, but the model is {digest}"
        )),
        "{}",
        o.detail
    );
    assert_eq!(score(&d, "AI-BOM"), 0);
}

#[test]
fn boms_without_a_model_digest_are_refused() {
    let f = fixture(SAFE);
    let d = f.check(BOM_REQUIRED, &with_bom(&f, &cyclonedx(None, true)));
    assert!(only(&d, "bom").detail.contains("has no SHA-256"));
    let d = f.check(BOM_REQUIRED, &with_bom(&f, r#"{"hello":"world"}"#));
    assert!(
        only(&d, "bom")
            .detail
            .contains("neither CycloneDX nor SPDX 3 JSON")
    );
    let d = f.check(BOM_REQUIRED, &f.inputs());
    assert!(only(&d, "bom").detail.contains("no AI-BOM given"));
    let e = check(
        &f.policy(BOM_REQUIRED),
        &with_bom(&f, "<bom/>"),
        &EngineOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(&e, PolicyError::BomNotJson { .. }), "{e:?}");
    assert!(e.to_string().contains("not JSON"), "{e}");
}

#[test]
fn an_spdx_bom_is_read_too() {
    let f = fixture(SAFE);
    let digest = f.check(KEY_ONLY, &f.inputs()).model_digest;
    let hex = digest.strip_prefix("sha256:").unwrap();
    let bom = serde_json::json!({
        "@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld",
        "@graph": [
            {"type": "SpdxDocument", "spdxId": "urn:doc", "rootElement": ["urn:model"]},
            {"type": "ai_AIPackage", "spdxId": "urn:model", "name": "model",
             "verifiedUsing": [{"type": "Hash", "algorithm": "sha256", "hashValue": hex}]}
        ]
    })
    .to_string();
    let d = f.check(BOM_REQUIRED, &with_bom(&f, &bom));
    assert!(d.allowed, "{:?}", d.outcomes);
    assert!(only(&d, "bom").detail.contains("(SPDX 3.0.1)"));
}

#[test]
fn the_scorecard_minimum_is_enforced() {
    let f = fixture(SAFE);
    let d = f.check(
        &format!("{KEY_ONLY}[scorecard]\nmin_score = 9.5\n"),
        &f.inputs(),
    );
    assert!(!d.allowed);
    let o = only(&d, "scorecard");
    assert!(
        o.detail.contains(&format!(
            "score {:.1} is below the policy minimum 9.5",
            d.scorecard.score
        )),
        "{}",
        o.detail
    );
    let d = f.check(
        &format!("{KEY_ONLY}[scorecard]\nmin_score = 1.0\n"),
        &f.inputs(),
    );
    assert!(d.allowed, "{:?}", d.outcomes);
    assert!(only(&d, "scorecard").passed);
}

#[test]
fn the_scorecard_is_the_weighted_mean_and_names_what_to_fix() {
    let f = fixture(SAFE);
    let d = f.check(KEY_ONLY, &f.inputs());
    // signed (10×10), safe (10×8), no scan (0×10), no provenance (0×7, 0×5), no BOM
    // (0×5, 0×3), no remote code (10×5): 230 / 53
    let names: Vec<&str> = d.scorecard.checks.iter().map(|c| c.name).collect();
    assert_eq!(
        names,
        [
            "Signed-Model",
            "Safe-Serialization",
            "Scan-Clean",
            "Provenance",
            "Pinned-Lineage",
            "AI-BOM",
            "License",
            "Remote-Code"
        ]
    );
    assert!(
        (d.scorecard.score - 4.3).abs() < 1e-9,
        "{}",
        d.scorecard.score
    );
    for c in &d.scorecard.checks {
        assert_eq!(c.fix.is_empty(), c.score == 10, "{c:?}");
    }
}

#[test]
fn pickles_and_custom_code_lower_the_score() {
    let f = fixture(&[
        ("model.safetensors", b"weights"),
        ("optimizer.pt", b"pickle"),
        ("modeling_x.py", b"import os"),
        (
            "config.json",
            b"{\"auto_map\":{\"AutoModel\":\"modeling_x.X\"}}",
        ),
    ]);
    let d = f.check(KEY_ONLY, &f.inputs());
    let card = |n: &str| d.scorecard.checks.iter().find(|c| c.name == n).unwrap();
    // 3 of 4 files are not pickles
    assert_eq!(card("Safe-Serialization").score, 8);
    assert!(card("Safe-Serialization").detail.contains("optimizer.pt"));
    assert_eq!(card("Remote-Code").score, 0);
    let remote = &card("Remote-Code").detail;
    assert!(
        remote.contains("modeling_x.py") && remote.contains("config.json (auto_map)"),
        "{remote}"
    );
    // the model is still allowed: the scorecard only informs unless a minimum is set
    assert!(d.allowed);
}

fn parse_err(toml: &str) -> PolicyError {
    Policy::parse(toml, "policy.toml", Path::new("/etc/hm")).unwrap_err()
}

fn invalid_field(e: &PolicyError) -> (&str, &InvalidField) {
    match e {
        PolicyError::Invalid { field, reason } => (field, reason),
        other => panic!("not Invalid: {other:?}"),
    }
}

#[test]
fn policy_errors_name_the_field() {
    let keys = "[signature]\npublic_keys = [\"k.pub\"]\n";
    let e = parse_err(&format!("version = 2\n{keys}"));
    assert_eq!(
        invalid_field(&e),
        ("version", &InvalidField::UnsupportedVersion(2))
    );
    assert!(e.to_string().contains("2 is not supported"), "{e}");
    let e = parse_err(&format!("{keys}[scan]\nmax_verdict = \"safe\"\n"));
    assert_eq!(
        invalid_field(&e),
        (
            "scan.max_verdict",
            &InvalidField::UnknownVerdict("safe".into())
        )
    );
    assert!(e.to_string().contains("\"safe\""), "{e}");
    let e = parse_err(&format!("{keys}[scorecard]\nmin_score = 11.0\n"));
    assert_eq!(
        invalid_field(&e),
        ("scorecard.min_score", &InvalidField::ScoreOutOfRange(11.0))
    );
    assert!(e.to_string().contains("11 is outside 0..=10"), "{e}");
    let e = parse_err("[signature]\nrequired = true\n");
    assert_eq!(invalid_field(&e), ("signature", &InvalidField::NoSigner));
    assert!(e.to_string().contains("who may sign"), "{e}");
    // typos and wrong types are TOML errors naming the file and the key
    for (text, key) in [
        ("[signature]\npublic_key = []\n", "public_key"),
        ("[scan]\nrequired = \"yes\"\n", "required"),
        ("[provenence]\nrequired = true\n", "provenence"),
    ] {
        let e = parse_err(text);
        assert!(matches!(e, PolicyError::Parse { .. }), "{e:?}");
        let msg = e.to_string();
        assert!(msg.contains("policy.toml") && msg.contains(key), "{msg}");
    }
    // a required signature is satisfied by roots or identities as well as keys
    for who in [
        "certificate_roots = [\"ca.pem\"]",
        "identities = [\"release@acme.example\"]",
    ] {
        Policy::parse(&format!("[signature]\n{who}\n"), "p", Path::new("")).unwrap();
    }
}

#[test]
fn policy_files_that_cannot_be_read_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("absent.toml");
    let e = Policy::load(&missing).unwrap_err();
    assert!(
        matches!(e, PolicyError::Read { what: "policy", .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("absent.toml"), "{e}");
    let latin1 = dir.path().join("latin1.toml");
    std::fs::write(&latin1, b"# caf\xe9\n").unwrap();
    let e = Policy::load(&latin1).unwrap_err();
    assert!(matches!(e, PolicyError::NotUtf8 { .. }), "{e:?}");
    assert!(e.to_string().contains("not UTF-8"), "{e}");
    let huge = dir.path().join("huge.toml");
    std::fs::write(
        &huge,
        vec![b'#'; hallmark_policy::policy::MAX_POLICY_BYTES + 1],
    )
    .unwrap();
    let e = Policy::load(&huge).unwrap_err();
    assert!(matches!(e, PolicyError::TooLarge { .. }), "{e:?}");
    assert!(e.to_string().contains("larger than 1048576 bytes"), "{e}");
    // relative paths in a loaded policy are resolved against its directory
    let ok = dir.path().join("ok.toml");
    std::fs::write(&ok, "[signature]\npublic_keys = [\"keys/a.pub\"]\n").unwrap();
    let p = Policy::load(&ok).unwrap();
    assert_eq!(
        p.resolve(&p.signature.public_keys[0]),
        dir.path().join("keys/a.pub")
    );
}

#[test]
fn unusable_trust_material_stops_the_check() {
    let f = fixture(SAFE);
    let policy = f.policy("[signature]\npublic_keys = [\"nowhere.pub\"]\n");
    let e = check(&policy, &f.inputs(), &EngineOptions::default()).unwrap_err();
    assert!(
        matches!(
            &e,
            PolicyError::TrustFile {
                field: "signature.public_keys",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("nowhere.pub"), "{e}");
    f.write("garbage.pub", "not a key");
    let policy = f.policy("[signature]\npublic_keys = [\"garbage.pub\"]\n");
    let e = check(&policy, &f.inputs(), &EngineOptions::default()).unwrap_err();
    assert!(matches!(&e, PolicyError::Trust { .. }), "{e:?}");
    assert!(e.to_string().contains("garbage.pub"), "{e}");
}
