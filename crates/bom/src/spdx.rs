//! SPDX 3.0.1 JSON-LD with the AI and Dataset profiles.
//!
//! The model is an `ai_AIPackage` (primary purpose `model`), each dataset a
//! `dataset_DatasetPackage` (primary purpose `data`, `datasetType` `noAssertion` unless
//! known), every file a `software_File` with its SHA-256, and the base model an
//! `ai_AIPackage`. Relationships: model `trainedOn` / `testedOn` datasets,
//! `descendantOf` the base model, `contains` its files, and plain `dependsOn` edges to
//! all of them (mirroring the CycloneDX dependency graph). Signature and scan facts are
//! `Annotation`s on the model. Properties the SPDX 3 SHACL shapes require through
//! inheritance (`releaseTime`, `builtTime`, `suppliedBy`, `originatedBy`) are written
//! when known; the JSON schema does not require them.

use serde_json::{Value, json};

use crate::artifact::Artifact;
use crate::input::{BomInput, Component, DatasetRole};
use crate::time::rfc3339;

/// `specVersion` written.
pub const SPEC_VERSION: &str = "3.0.1";
/// The JSON-LD context of SPDX 3.0.1.
pub const CONTEXT: &str = "https://spdx.org/rdf/3.0.1/spdx-context.jsonld";

const CI: &str = "_:creationinfo";

struct Graph {
    base: String,
    nodes: Vec<Value>,
    ids: Vec<String>,
    next_rel: usize,
}

impl Graph {
    fn id(&self, local: &str) -> String {
        format!("{}#{local}", self.base)
    }

    fn push(&mut self, mut node: Value) -> String {
        node["creationInfo"] = json!(CI);
        let id = node["spdxId"].as_str().unwrap_or_default().to_owned();
        self.ids.push(id.clone());
        self.nodes.push(node);
        id
    }

    fn relate(&mut self, from: &str, ty: &str, to: Vec<String>) {
        if to.is_empty() {
            return;
        }
        self.next_rel += 1;
        let id = self.id(&format!("relationship-{}", self.next_rel));
        self.push(json!({
            "type": "Relationship",
            "spdxId": id,
            "from": from,
            "relationshipType": ty,
            "to": to,
        }));
    }

    fn files(&mut self, owner: &str, a: &Artifact) -> Vec<String> {
        let mut out = Vec::with_capacity(a.files.len());
        for (i, f) in a.files.iter().enumerate() {
            let id = self.id(&format!("{owner}-file-{i}"));
            self.push(json!({
                "type": "software_File",
                "spdxId": id,
                "name": f.path,
                "software_primaryPurpose": "file",
                "verifiedUsing": [{ "type": "Hash", "algorithm": "sha256", "hashValue": f.sha256 }],
            }));
            out.push(id);
        }
        out
    }

    fn package(&self, local: &str, ty: &str, c: &Component, purpose: &str) -> Value {
        let mut p = json!({
            "type": ty,
            "spdxId": self.id(local),
            "name": c.name,
            "software_packageUrl": c.purl,
            "software_primaryPurpose": purpose,
        });
        if !c.version.is_empty() {
            p["software_packageVersion"] = json!(c.version);
        }
        if let Some(url) = hub_url(&c.purl) {
            p["software_downloadLocation"] = json!(url);
        }
        if let Some(a) = &c.artifact {
            p["verifiedUsing"] = json!([{
                "type": "Hash",
                "algorithm": "sha256",
                "hashValue": a.root_sha256,
                "comment": "OMS root digest: SHA-256 over the per-file SHA-256 digests in manifest order",
            }]);
        } else if let Some(d) = &c.sha256 {
            p["verifiedUsing"] = json!([{
                "type": "Hash",
                "algorithm": "sha256",
                "hashValue": d,
                "comment": "digest named by an attestation about the model",
            }]);
        }
        p
    }
}

/// `<hub>/<org>/<name>` for a `pkg:huggingface` purl: the hub is the purl's
/// `repository_url` qualifier (purl-spec), `https://huggingface.co` without one.
fn hub_url(purl: &str) -> Option<String> {
    let rest = crate::purl::without_qualifiers(purl).strip_prefix("pkg:huggingface/")?;
    let repo = rest.split('@').next()?;
    let hub = crate::purl::qualifier(purl, "repository_url")
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
        .unwrap_or_else(|| "https://huggingface.co".to_owned());
    Some(format!("{}/{repo}", hub.trim_end_matches('/')))
}

/// Builds the SPDX 3.0.1 JSON-LD document.
#[must_use]
pub fn to_spdx(input: &BomInput) -> Value {
    let digest = input.model.root_sha256().unwrap_or("unknown");
    let mut g = Graph {
        base: format!("urn:hallmark:spdx:{digest}:{}", input.created),
        nodes: Vec::new(),
        ids: Vec::new(),
        next_rel: 0,
    };
    let created = rfc3339(input.created);
    let tool = g.id("hallmark");
    let creation_info = json!({
        "type": "CreationInfo",
        "@id": CI,
        "specVersion": SPEC_VERSION,
        "created": created,
        "createdBy": [tool.clone()],
    });
    g.push(json!({ "type": "SoftwareAgent", "spdxId": tool, "name": format!("hallmark {}", env!("CARGO_PKG_VERSION")) }));
    let supplier = input.supplier.as_ref().map(|s| {
        let id = g.id("supplier");
        g.push(json!({ "type": "Organization", "spdxId": id, "name": s }))
    });

    let mut model = g.package("model", "ai_AIPackage", &input.model, "model");
    model["releaseTime"] = json!(created);
    if let Some(s) = &supplier {
        model["suppliedBy"] = json!(s);
        model["originatedBy"] = json!([s]);
    }
    if let Some(t) = &input.card.task {
        model["ai_domain"] = json!([t]);
    }
    if let Some(f) = &input.card.architecture_family {
        model["ai_typeOfModel"] = json!([f]);
    }
    if let Some(a) = &input.card.approach {
        model["ai_informationAboutTraining"] = json!(format!("approach: {a}"));
    }
    let model_id = g.push(model);

    let mut deps = Vec::new();
    let mut trained = Vec::new();
    let mut tested = Vec::new();
    for (i, d) in input.datasets.iter().enumerate() {
        let mut p = g.package(
            &format!("dataset-{i}"),
            "dataset_DatasetPackage",
            &d.component,
            "data",
        );
        p["dataset_datasetType"] = json!(["noAssertion"]);
        p["builtTime"] = json!(created);
        p["releaseTime"] = json!(created);
        if let Some(a) = &d.component.artifact {
            p["dataset_datasetSize"] = json!(a.total_size());
        }
        if let Some(s) = &supplier {
            p["originatedBy"] = json!([s]);
        }
        let id = g.push(p);
        if let Some(a) = &d.component.artifact {
            let files = g.files(&format!("dataset-{i}"), a);
            g.relate(&id, "contains", files);
        }
        match d.role {
            DatasetRole::TrainedOn => trained.push(id.clone()),
            DatasetRole::TestedOn => tested.push(id.clone()),
        }
        deps.push(id);
    }
    let mut base = None;
    if let Some(b) = &input.base_model {
        let id = g.push(g.package("base-model", "ai_AIPackage", b, "model"));
        deps.push(id.clone());
        base = Some(id);
    }
    if let Some(a) = &input.model.artifact {
        let files = g.files("model", a);
        g.relate(&model_id, "contains", files);
    }
    g.relate(&model_id, "trainedOn", trained);
    g.relate(&model_id, "testedOn", tested);
    if let Some(b) = base {
        g.relate(&model_id, "descendantOf", vec![b]);
    }
    g.relate(&model_id, "dependsOn", deps);
    if let Some(l) = &input.model.license {
        let id = g.id("license");
        g.push(
            json!({ "type": "simplelicensing_LicenseExpression", "spdxId": id,
            "simplelicensing_licenseExpression": l }),
        );
        g.relate(&model_id, "hasDeclaredLicense", vec![id]);
    }
    let mut notes = Vec::new();
    for s in &input.signatures {
        let ids = if s.identities.is_empty() {
            String::new()
        } else {
            format!(", identities {}", s.identities.join(", "))
        };
        notes.push(format!(
            "signature {} ({} method, NOT verified by the BOM generator): signer {}{ids}; signed digest sha256:{}",
            s.file,
            s.method,
            s.signer,
            s.subject_sha256.as_deref().unwrap_or("unknown"),
        ));
    }
    for a in &input.attestations {
        notes.push(format!("attestation {}: {}", a.url, a.comment));
    }
    for (name, value) in &input.facts {
        notes.push(format!("{name}: {value}"));
    }
    if let Some(scan) = &input.scan {
        notes.push(format!(
            "hallmark scan ({}): verdict {} over {} files",
            scan.file,
            scan.verdict.as_str(),
            scan.files.len()
        ));
    }
    for (i, n) in notes.into_iter().enumerate() {
        let id = g.id(&format!("annotation-{i}"));
        g.push(
            json!({ "type": "Annotation", "spdxId": id, "annotationType": "other",
            "subject": model_id, "statement": n }),
        );
    }
    let doc_id = g.id("document");
    let elements = g.ids.clone();
    let mut graph = vec![creation_info];
    graph.push(json!({
        "type": "SpdxDocument",
        "spdxId": doc_id,
        "creationInfo": CI,
        "profileConformance": ["core", "software", "ai", "dataset", "simpleLicensing"],
        "rootElement": [model_id],
        "element": elements,
    }));
    graph.extend(g.nodes);
    json!({ "@context": CONTEXT, "@graph": graph })
}
