//! Validation against the official JSON schemas (offline; see testdata/bom/schemas/README.md).

use jsonschema::{Registry, Validator};
use serde_json::Value;

use crate::Fixture;

fn load(name: &str) -> Value {
    let p = hallmark_testkit::testdata("bom/schemas").join(name);
    serde_json::from_slice(&hallmark_testkit::read(&p)).unwrap()
}

fn cyclonedx_validator() -> Validator {
    let registry = Registry::new()
        .add(
            "http://cyclonedx.org/schema/spdx.schema.json",
            load("spdx.schema.json"),
        )
        .unwrap()
        .add(
            "http://cyclonedx.org/schema/jsf-0.82.schema.json",
            load("jsf-0.82.schema.json"),
        )
        .unwrap()
        .prepare()
        .unwrap();
    jsonschema::options()
        .with_registry(&registry)
        .should_validate_formats(true)
        .build(&load("bom-1.6.schema.json"))
        .unwrap()
}

fn spdx_validator() -> Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(&load("spdx-json-schema.json"))
        .unwrap()
}

#[track_caller]
fn assert_valid(v: &Validator, doc: &Value) {
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .take(10)
        .collect();
    assert!(errors.is_empty(), "schema errors: {errors:#?}\n{doc:#}");
}

#[test]
fn cyclonedx_ml_bom_validates_against_bom_1_6_schema() {
    let f = Fixture::new();
    let doc = hallmark_bom::to_cyclonedx(&f.input());
    assert_valid(&cyclonedx_validator(), &doc);
    assert_eq!(doc["specVersion"], "1.6");
    assert_eq!(
        doc["metadata"]["component"]["type"],
        "machine-learning-model"
    );
}

#[test]
fn minimal_cyclonedx_bom_validates_too() {
    let f = Fixture::new();
    let mut input = f.input();
    input.datasets.clear();
    input.base_model = None;
    input.signatures.clear();
    input.scan = None;
    input.provenance = None;
    input.supplier = None;
    input.card = hallmark_bom::ModelCard::default();
    assert_valid(&cyclonedx_validator(), &hallmark_bom::to_cyclonedx(&input));
    assert_valid(&spdx_validator(), &hallmark_bom::to_spdx(&input));
}

#[test]
fn spdx_ai_dataset_document_validates_against_spdx_3_0_1_schema() {
    let f = Fixture::new();
    let doc = hallmark_bom::to_spdx(&f.input());
    assert_valid(&spdx_validator(), &doc);
    let types: Vec<&str> = doc["@graph"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["type"].as_str())
        .collect();
    assert!(types.contains(&"ai_AIPackage") && types.contains(&"dataset_DatasetPackage"));
}

#[test]
fn the_validators_do_reject_broken_documents() {
    let f = Fixture::new();
    let mut cdx = hallmark_bom::to_cyclonedx(&f.input());
    cdx["metadata"]["component"]["type"] = "model".into();
    assert!(!cyclonedx_validator().is_valid(&cdx));
    let mut spdx = hallmark_bom::to_spdx(&f.input());
    let graph = spdx["@graph"].as_array_mut().unwrap();
    let ds = graph
        .iter_mut()
        .find(|n| n["type"] == "dataset_DatasetPackage")
        .unwrap();
    ds["dataset_datasetType"] = serde_json::json!(["tabular"]);
    assert!(!spdx_validator().is_valid(&spdx));
}

#[test]
fn hub_exports_with_attestations_facts_and_remote_digests_validate() {
    let f = Fixture::new();
    let mut input = f.input();
    let purl = hallmark_bom::purl::huggingface_at("acme/m", "0a1b", "https://hub.example").unwrap();
    input.model.purl = purl.clone();
    input.attestations = vec![hallmark_bom::AttestationRef {
        url: "claims/3-provenance.sigstore.json".into(),
        comment: "provenance (https://slsa.dev/provenance/v1) signed by ci".into(),
    }];
    input.facts = vec![("hallmark:hub:status".into(), "verified".into())];
    let mut remote = hallmark_bom::Component::remote("pkg:huggingface/d/imdb@1").unwrap();
    remote.sha256 = Some("ab".repeat(32));
    input.datasets[0].component = remote;
    let cdx = hallmark_bom::to_cyclonedx(&input);
    assert_valid(&cyclonedx_validator(), &cdx);
    let model = &cdx["metadata"]["component"];
    let refs = model["externalReferences"].as_array().unwrap();
    assert!(
        refs.iter()
            .any(|r| r["type"] == "attestation" && r["url"] == "claims/3-provenance.sigstore.json")
    );
    let props = model["properties"].as_array().unwrap();
    assert!(props.iter().any(|p| p["name"] == "hallmark:hub:status"));
    assert_eq!(
        cdx["components"][0]["hashes"][0]["content"],
        "ab".repeat(32)
    );
    let spdx = hallmark_bom::to_spdx(&input);
    assert_valid(&spdx_validator(), &spdx);
    let graph = spdx["@graph"].as_array().unwrap();
    let m = graph
        .iter()
        .find(|n| n["software_packageUrl"] == purl.as_str())
        .unwrap();
    assert_eq!(m["software_downloadLocation"], "https://hub.example/acme/m");
    let d = graph
        .iter()
        .find(|n| n["type"] == "dataset_DatasetPackage")
        .unwrap();
    assert_eq!(d["verifiedUsing"][0]["hashValue"], "ab".repeat(32));
    assert!(graph.iter().any(|n| {
        n["type"] == "Annotation"
            && n["statement"]
                .as_str()
                .unwrap()
                .contains("hallmark:hub:status: verified")
    }));
}
