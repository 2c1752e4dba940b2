//! CycloneDX 1.6 ML-BOM (ECMA-424 1st edition; the ML-BOM fields are those of 1.5).
//!
//! Shape: `metadata.component` is the model (`machine-learning-model`, purl, version =
//! OMS root digest unless given, nested `file` components with the SHA-256 of every
//! file, `modelCard` with the datasets by `ref`); top-level `components` are the
//! datasets (`data`, with a `componentData` entry of type `dataset`) and the base model;
//! `dependencies` form the plain graph model → datasets + base model, which is what GUAC
//! ingests today (it ignores `modelCard` and `data`). Signature, scan and provenance
//! are recorded as `hallmark:*` properties and `externalReferences` (further attestations
//! and facts given by the caller, e.g. the hub's export, too). Dataset roles
//! (`trainedOn` / `testedOn`), which CycloneDX has no field for, are properties too.

use serde_json::{Map, Value, json};

use crate::artifact::Artifact;
use crate::input::{BomInput, Component, DatasetRole};
use crate::time::rfc3339;

/// `specVersion` written.
pub const SPEC_VERSION: &str = "1.6";

fn prop(name: &str, value: impl Into<String>) -> Value {
    json!({ "name": name, "value": value.into() })
}

/// Percent-encodes what an `iri-reference` may not contain (spaces, controls, non-ASCII).
fn iri_ref(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_graphic()
            && !matches!(
                b,
                b'"' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}' | b'%'
            )
        {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn file_components(owner_ref: &str, a: &Artifact) -> Vec<Value> {
    a.files
        .iter()
        .map(|f| {
            json!({
                "type": "file",
                "bom-ref": format!("{owner_ref}#{}", f.path),
                "name": f.path,
                "hashes": [{ "alg": "SHA-256", "content": f.sha256 }],
                "properties": [prop("hallmark:file:size", f.size.to_string())],
            })
        })
        .collect()
}

fn base_component(c: &Component, ty: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("type".into(), json!(ty));
    m.insert("bom-ref".into(), json!(c.purl));
    m.insert("name".into(), json!(c.name));
    if !c.version.is_empty() {
        m.insert("version".into(), json!(c.version));
    }
    m.insert("purl".into(), json!(c.purl));
    if let Some(l) = &c.license {
        m.insert("licenses".into(), json!([{ "expression": l }]));
    }
    if let Some(d) = c.known_sha256() {
        // The component-level hash is the OMS root digest: SHA-256 over the per-file
        // digests (or, for a remote component, the digest an attestation names).
        m.insert("hashes".into(), json!([{ "alg": "SHA-256", "content": d }]));
    }
    if let Some(a) = &c.artifact {
        m.insert("components".into(), json!(file_components(&c.purl, a)));
    }
    m
}

/// Datasets merged by purl, each with every role it has.
fn datasets(input: &BomInput) -> Vec<(&Component, Vec<DatasetRole>)> {
    let mut out: Vec<(&Component, Vec<DatasetRole>)> = Vec::new();
    for d in &input.datasets {
        match out.iter_mut().find(|(c, _)| c.purl == d.component.purl) {
            Some((_, roles)) if !roles.contains(&d.role) => roles.push(d.role),
            Some(_) => {}
            None => out.push((&d.component, vec![d.role])),
        }
    }
    out
}

fn model_properties(input: &BomInput) -> Vec<Value> {
    let mut props = Vec::new();
    if let Some(a) = &input.model.artifact {
        props.push(prop("hallmark:model:files", a.files.len().to_string()));
        props.push(prop("hallmark:model:size", a.total_size().to_string()));
        props.push(prop(
            "hallmark:oms:root-digest",
            format!("sha256:{}", a.root_sha256),
        ));
    }
    for s in &input.signatures {
        props.push(prop("hallmark:signature:method", s.method));
        props.push(prop("hallmark:signature:signer", s.signer.clone()));
        for id in &s.identities {
            props.push(prop("hallmark:signature:identity", id.clone()));
        }
        if !s.issuer.is_empty() {
            props.push(prop("hallmark:signature:issuer", s.issuer.clone()));
        }
        let matches = match (&s.subject_sha256, input.model.root_sha256()) {
            (Some(signed), Some(ours)) => (signed == ours).to_string(),
            _ => "unknown".to_owned(),
        };
        props.push(prop("hallmark:signature:digest-matches", matches));
        props.push(prop("hallmark:signature:verified", "false"));
    }
    for (name, value) in &input.facts {
        props.push(prop(name, value.clone()));
    }
    if let Some(scan) = &input.scan {
        props.push(prop("hallmark:scan:verdict", scan.verdict.as_str()));
        props.push(prop("hallmark:scan:files", scan.files.len().to_string()));
        if let Some(v) = &scan.policy_version {
            props.push(prop("hallmark:scan:policy-version", v.clone()));
        }
        for f in scan.flagged() {
            props.push(prop(
                "hallmark:scan:flagged",
                format!("{} ({}: {})", f.path, f.verdict.as_str(), f.rules.join(",")),
            ));
        }
    }
    props
}

fn model_card(input: &BomInput, ds: &[(&Component, Vec<DatasetRole>)]) -> Value {
    let mut params = Map::new();
    if let Some(a) = &input.card.approach {
        params.insert("approach".into(), json!({ "type": a }));
    }
    if let Some(t) = &input.card.task {
        params.insert("task".into(), json!(t));
    }
    if let Some(f) = &input.card.architecture_family {
        params.insert("architectureFamily".into(), json!(f));
    }
    if !ds.is_empty() {
        let refs: Vec<Value> = ds.iter().map(|(c, _)| json!({ "ref": c.purl })).collect();
        params.insert("datasets".into(), Value::Array(refs));
    }
    let mut props = Vec::new();
    for (c, roles) in ds {
        for r in roles {
            props.push(prop(&format!("hallmark:{}", r.as_str()), c.purl.clone()));
        }
    }
    if let Some(b) = &input.base_model {
        props.push(prop("hallmark:baseModel", b.purl.clone()));
    }
    let mut card = Map::new();
    card.insert(
        "bom-ref".into(),
        json!(format!("{}#model-card", input.model.purl)),
    );
    card.insert("modelParameters".into(), Value::Object(params));
    if !props.is_empty() {
        card.insert("properties".into(), Value::Array(props));
    }
    Value::Object(card)
}

fn external_refs(input: &BomInput) -> Vec<Value> {
    let mut refs = Vec::new();
    for s in &input.signatures {
        refs.push(
            json!({ "type": "digital-signature", "url": iri_ref(&s.file),
            "comment": "OpenSSF Model Signing bundle (Sigstore bundle v0.3)" }),
        );
    }
    if let Some(scan) = &input.scan {
        refs.push(
            json!({ "type": "static-analysis-report", "url": iri_ref(&scan.file),
            "comment": "hallmark scan --json report" }),
        );
    }
    if let Some(p) = &input.provenance {
        refs.push(json!({ "type": "attestation", "url": iri_ref(p),
            "comment": "SLSA provenance v1 (in-toto statement in a DSSE bundle)" }));
    }
    for a in &input.attestations {
        refs.push(json!({ "type": "attestation", "url": iri_ref(&a.url), "comment": a.comment }));
    }
    refs
}

/// A deterministic `urn:uuid:` (version-5 layout) from the content it names.
fn serial_number(input: &BomInput) -> String {
    let mut seed = Vec::new();
    seed.extend_from_slice(input.model.purl.as_bytes());
    seed.extend_from_slice(&input.created.to_be_bytes());
    for d in &input.datasets {
        seed.extend_from_slice(d.component.purl.as_bytes());
    }
    let mut h = hallmark_crypto::sha256(&seed);
    h[6] = (h[6] & 0x0f) | 0x50;
    h[8] = (h[8] & 0x3f) | 0x80;
    let x = hex::encode(&h[..16]);
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &x[0..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
}

/// Builds the CycloneDX 1.6 JSON document.
#[must_use]
pub fn to_cyclonedx(input: &BomInput) -> Value {
    let ds = datasets(input);
    let mut model = base_component(&input.model, "machine-learning-model");
    if let Some(s) = &input.supplier {
        model.insert("supplier".into(), json!({ "name": s }));
    }
    model.insert("modelCard".into(), model_card(input, &ds));
    let refs = external_refs(input);
    if !refs.is_empty() {
        model.insert("externalReferences".into(), Value::Array(refs));
    }
    let props = model_properties(input);
    if !props.is_empty() {
        model.insert("properties".into(), Value::Array(props));
    }

    let mut components = Vec::new();
    let mut depends_on = Vec::new();
    for (c, roles) in &ds {
        let mut m = base_component(c, "data");
        m.insert(
            "data".into(),
            json!([{ "type": "dataset", "name": c.name }]),
        );
        let props: Vec<Value> = roles
            .iter()
            .map(|r| prop("hallmark:dataset:role", r.as_str()))
            .collect();
        m.insert("properties".into(), Value::Array(props));
        components.push(Value::Object(m));
        depends_on.push(c.purl.clone());
    }
    if let Some(b) = &input.base_model {
        let mut m = base_component(b, "machine-learning-model");
        m.insert(
            "properties".into(),
            json!([prop("hallmark:role", "base-model")]),
        );
        components.push(Value::Object(m));
        depends_on.push(b.purl.clone());
    }
    let mut dependencies = vec![json!({ "ref": input.model.purl, "dependsOn": depends_on })];
    for d in &depends_on {
        if *d != input.model.purl {
            dependencies.push(json!({ "ref": d, "dependsOn": [] }));
        }
    }
    let mut metadata = json!({
        "timestamp": rfc3339(input.created),
        "tools": { "components": [{
            "type": "application",
            "name": "hallmark",
            "version": env!("CARGO_PKG_VERSION"),
        }] },
        "component": Value::Object(model),
    });
    if let Some(s) = &input.supplier {
        metadata["supplier"] = json!({ "name": s });
    }
    json!({
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "serialNumber": serial_number(input),
        "version": 1,
        "metadata": metadata,
        "components": components,
        "dependencies": dependencies,
    })
}
