//! Integration tests of `hallmark-bom`: generated CycloneDX 1.6 and SPDX 3.0.1 documents
//! validate against the official schemas in `testdata/bom/schemas`, link the model to
//! its datasets and base model, and bind to the OMS signature digest.

#![allow(clippy::unwrap_used)]

mod schemas;

use std::path::PathBuf;

use hallmark_bom::{
    BomInput, Component, Dataset, DatasetRole, ModelCard, describe, parse_scan_report,
    summarize_signature,
};
use hallmark_hash::EngineOptions;

/// A model, a training set, a test set and a base model in a temporary directory.
pub(crate) struct Fixture {
    pub(crate) tmp: tempfile::TempDir,
}

impl Fixture {
    pub(crate) fn new() -> Self {
        let tmp = hallmark_testkit::temp_tree(&[
            ("model/config.json", "{\"hidden_size\": 8}"),
            ("model/model.safetensors", "weights"),
            ("train/part-0.csv", "text,label\nhi,1\n"),
            ("train/part-1.csv", "a,0\n"),
            ("test/test.csv", "text,label\nyo,0\n"),
            ("base/model.safetensors", "base weights"),
        ]);
        Self { tmp }
    }

    pub(crate) fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    /// Signs the model with the TEST-ONLY key and returns the bundle bytes.
    pub(crate) fn sign(&self) -> Vec<u8> {
        let pem = hallmark_testkit::read(hallmark_testkit::test_key("test.key"));
        let key = hallmark_crypto::SigningKey::from_pem(&pem, None).unwrap();
        let signed = hallmark_signing::sign_model(
            &self.path("model"),
            &hallmark_signing::Signer::Key(key),
            &hallmark_signing::SignOptions::default(),
        )
        .unwrap();
        signed.bundle_json
    }

    pub(crate) fn input(&self) -> BomInput {
        let e = EngineOptions::default();
        let local = |rel: &str, what| {
            Component::local(describe(&self.path(rel), what, &e).unwrap(), None, None).unwrap()
        };
        let mut model = local("model", "model");
        model.license = Some("Apache-2.0".into());
        let sig = summarize_signature("model.sig", &self.sign()).unwrap();
        let scan = parse_scan_report(
            "scan.json",
            br#"{"policy_version":"2026.1","files":[{"path":"model/model.safetensors","format":"safetensors","verdict":"clean","findings":[]}]}"#,
        )
        .unwrap();
        BomInput {
            model,
            card: ModelCard {
                task: Some("text-classification".into()),
                architecture_family: Some("bert".into()),
                approach: Some("supervised".into()),
            },
            supplier: Some("acme".into()),
            datasets: vec![
                Dataset {
                    component: local("train", "dataset"),
                    role: DatasetRole::TrainedOn,
                },
                Dataset {
                    component: local("test", "dataset"),
                    role: DatasetRole::TestedOn,
                },
            ],
            base_model: Some(
                Component::remote("pkg:huggingface/google-bert/bert-base-uncased@86b5e09").unwrap(),
            ),
            signatures: vec![sig],
            scan: Some(scan),
            provenance: Some("model.provenance.json".into()),
            attestations: Vec::new(),
            facts: Vec::new(),
            created: 1_767_225_599,
        }
    }
}

#[test]
fn signature_digest_binds_to_the_model() {
    let f = Fixture::new();
    let input = f.input();
    let sig = &input.signatures[0];
    assert_eq!(sig.method, "key");
    assert_eq!(sig.subject_sha256.as_deref(), input.model.root_sha256());
    let bom = hallmark_bom::to_cyclonedx(&input);
    let props = bom["metadata"]["component"]["properties"]
        .as_array()
        .unwrap();
    assert!(
        props
            .iter()
            .any(|p| p["name"] == "hallmark:signature:digest-matches" && p["value"] == "true")
    );
}

#[test]
fn datasets_and_base_model_form_a_plain_dependency_graph() {
    let f = Fixture::new();
    let input = f.input();
    let bom = hallmark_bom::to_cyclonedx(&input);
    let model_purl = input.model.purl.as_str();
    let deps = bom["dependencies"].as_array().unwrap();
    let top = deps.iter().find(|d| d["ref"] == model_purl).unwrap();
    let on: Vec<&str> = top["dependsOn"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(on.len(), 3, "{on:?}");
    assert!(on.contains(&"pkg:huggingface/google-bert/bert-base-uncased@86b5e09"));
    for c in bom["components"].as_array().unwrap() {
        assert!(c["purl"].as_str().unwrap().starts_with("pkg:"), "{c}");
        assert!(on.contains(&c["bom-ref"].as_str().unwrap()));
    }
    // Every file of every local artifact carries its SHA-256.
    let data = &bom["components"][0];
    assert_eq!(data["type"], "data");
    assert_eq!(data["components"].as_array().unwrap().len(), 2);
    assert_eq!(data["components"][0]["hashes"][0]["alg"], "SHA-256");
    // Roles survive in the model card.
    let card_props = bom["metadata"]["component"]["modelCard"]["properties"].to_string();
    assert!(card_props.contains("hallmark:trainedOn") && card_props.contains("hallmark:testedOn"));
    // SPDX: trainedOn / testedOn / descendantOf relationships.
    let spdx = hallmark_bom::to_spdx(&input);
    let rels: Vec<&str> = spdx["@graph"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["type"] == "Relationship")
        .map(|n| n["relationshipType"].as_str().unwrap())
        .collect();
    for r in [
        "trainedOn",
        "testedOn",
        "descendantOf",
        "dependsOn",
        "contains",
        "hasDeclaredLicense",
    ] {
        assert!(rels.contains(&r), "{r} missing from {rels:?}");
    }
}

#[test]
fn output_is_deterministic_for_a_fixed_time() {
    let f = Fixture::new();
    let a = hallmark_bom::to_cyclonedx(&f.input());
    let b = hallmark_bom::to_cyclonedx(&f.input());
    assert_eq!(a, b);
    assert_eq!(a["metadata"]["timestamp"], "2025-12-31T23:59:59Z");
}
