//! attest → verify round trips and the refusals: tampered statement, wrong key,
//! modified model, unknown dataset.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use hallmark_bom::{Component, Dataset, DatasetRole, describe};
use hallmark_crypto::{PublicKey, SigningKey};
use hallmark_format::b64_encode;
use hallmark_hash::EngineOptions;
use hallmark_provenance::{
    LOCAL_BUILDER_ID, ProvenanceError, TrainingRun, build_statement, parse_code_ref,
    sign_statement, verify_attestation,
};
use hallmark_signing::Signer;
use hallmark_signing::verify::KeyVerifier;
use hallmark_testkit::test_key as key_path;

fn signer() -> Signer {
    Signer::Key(SigningKey::from_pem(&std::fs::read(key_path("test.key")).unwrap(), None).unwrap())
}

fn verifier(name: &str) -> KeyVerifier {
    KeyVerifier {
        key: PublicKey::from_pem(&std::fs::read(key_path(name)).unwrap()).unwrap(),
    }
}

struct Run {
    tmp: tempfile::TempDir,
    bundle: Vec<u8>,
}

fn attest() -> Run {
    let tmp = tempfile::tempdir().unwrap();
    for (dir, file, body) in [
        ("model", "model.safetensors", "w"),
        ("train", "a.csv", "x,1"),
        ("base", "b.safetensors", "b"),
    ] {
        std::fs::create_dir_all(tmp.path().join(dir)).unwrap();
        std::fs::write(tmp.path().join(dir).join(file), body).unwrap();
    }
    let e = EngineOptions::default();
    let local = |d: &str, what| {
        Component::local(describe(&tmp.path().join(d), what, &e).unwrap(), None, None).unwrap()
    };
    let run = TrainingRun {
        model: local("model", "model"),
        datasets: vec![Dataset {
            component: local("train", "dataset"),
            role: DatasetRole::TrainedOn,
        }],
        base_model: Some(local("base", "base model")),
        code: parse_code_ref(
            "https://git.example/acme/train@0123456789abcdef0123456789abcdef01234567",
        )
        .unwrap(),
        parameters: BTreeMap::from([("lr".to_owned(), "3e-5".to_owned())]),
        hardware: None,
        builder_id: LOCAL_BUILDER_ID.into(),
        invocation_id: Some("run-1".into()),
        started_on: Some(1_767_200_000),
        finished_on: 1_767_225_599,
    };
    let statement = build_statement(&run).unwrap();
    let bundle = sign_statement(&statement, &signer()).unwrap();
    Run { tmp, bundle }
}

fn artifact(r: &Run, d: &str) -> hallmark_bom::Artifact {
    describe(&r.tmp.path().join(d), "model", &EngineOptions::default()).unwrap()
}

#[test]
fn attest_then_verify() {
    let r = attest();
    let mut v = verify_attestation(&r.bundle, &verifier("test.pub")).unwrap();
    v.check_model(&artifact(&r, "model")).unwrap();
    v.check_dependency("dataset", &artifact(&r, "train"))
        .unwrap();
    v.check_dependency("base model", &artifact(&r, "base"))
        .unwrap();
    let s = &v.statement;
    assert_eq!(s.predicate_type, "https://slsa.dev/provenance/v1");
    assert_eq!(s.subject.len(), 2);
    let roles: Vec<_> = s
        .predicate
        .build_definition
        .resolved_dependencies
        .iter()
        .map(|d| d.role().unwrap())
        .collect();
    assert_eq!(roles, ["code", "baseModel", "trainedOn"]);
    assert_eq!(
        s.predicate
            .run_details
            .metadata
            .as_ref()
            .unwrap()
            .finished_on
            .as_deref(),
        Some("2025-12-31T23:59:59Z")
    );
}

#[test]
fn wrong_key_is_refused() {
    let r = attest();
    let e = verify_attestation(&r.bundle, &verifier("other.pub")).unwrap_err();
    assert!(matches!(e, ProvenanceError::Authenticate(_)), "{e}");
}

#[test]
fn tampered_statement_is_refused() {
    let r = attest();
    let mut b: serde_json::Value = serde_json::from_slice(&r.bundle).unwrap();
    let payload = String::from_utf8(
        hallmark_format::bundle::Bundle::parse(&r.bundle, &Default::default())
            .unwrap()
            .envelope
            .payload,
    )
    .unwrap();
    let forged = payload.replace("local-cli", "hosted-trainer");
    assert_ne!(forged, payload);
    b["dsseEnvelope"]["payload"] = b64_encode(forged.as_bytes()).into();
    let e =
        verify_attestation(&serde_json::to_vec(&b).unwrap(), &verifier("test.pub")).unwrap_err();
    assert!(matches!(e, ProvenanceError::Authenticate(_)), "{e}");
    assert!(e.to_string().contains("signature"), "{e}");
}

#[test]
fn modified_model_and_unknown_dataset_are_named() {
    let r = attest();
    std::fs::write(r.tmp.path().join("model/model.safetensors"), "poisoned").unwrap();
    let mut v = verify_attestation(&r.bundle, &verifier("test.pub")).unwrap();
    let e = v
        .check_model(&artifact(&r, "model"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("modified model.safetensors"), "{e}");
    std::fs::create_dir_all(r.tmp.path().join("other")).unwrap();
    std::fs::write(r.tmp.path().join("other/x.csv"), "y").unwrap();
    let e = v
        .check_dependency("dataset", &artifact(&r, "other"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("not among the statement's resolved dependencies"),
        "{e}"
    );
}
