//! What a revision's attached claims say it was made from: datasets (with their role and
//! digest), the base model and the training code, read from the in-toto statements of
//! its `provenance` claims (SLSA v1 `resolvedDependencies`, as `hallmark attest train`
//! writes them) and `bom` claims (a CycloneDX or SPDX 3 document as the predicate, as
//! `hallmark bom` writes them). Claims whose status is `failed` are not read; each
//! source is named so the export says who asserted the lineage.

use hallmark_bom::{Component, Dataset, DatasetRole};
use hallmark_store::{ClaimKind, ClaimStatus};
use serde_json::Value;

use super::collect::ClaimEvidence;

/// Datasets, base model and facts gathered from a revision's claims.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lineage {
    /// Datasets by purl and role, with a digest when a claim names one.
    pub datasets: Vec<Dataset>,
    /// The model it was fine-tuned from.
    pub base_model: Option<Component>,
    /// `hallmark:*` facts: training code, which claims the lineage came from.
    pub facts: Vec<(String, String)>,
}

impl Lineage {
    fn add_dataset(&mut self, purl: &str, role: DatasetRole, sha256: Option<&str>) {
        let Ok(mut c) = Component::remote(purl) else {
            return;
        };
        let known = self
            .datasets
            .iter_mut()
            .find(|d| d.component.purl == purl && d.role == role);
        match known {
            Some(d) => {
                if d.component.sha256.is_none() {
                    d.component.sha256 = sha256.map(str::to_owned);
                }
            }
            None => {
                c.sha256 = sha256.map(str::to_owned);
                self.datasets.push(Dataset { component: c, role });
            }
        }
    }

    fn set_base(&mut self, purl: &str, sha256: Option<&str>) {
        if self.base_model.is_some() {
            return;
        }
        if let Ok(mut c) = Component::remote(purl) {
            c.sha256 = sha256.map(str::to_owned);
            self.base_model = Some(c);
        }
    }
}

fn role_of(s: &str) -> Option<DatasetRole> {
    match s {
        "trainedOn" | "training" | "dataset" => Some(DatasetRole::TrainedOn),
        "testedOn" | "test" | "evaluation" => Some(DatasetRole::TestedOn),
        _ => None,
    }
}

fn sha256_of(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|d| d.len() == 64 && d.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_ascii_lowercase)
}

/// SLSA v1 provenance: `buildDefinition.resolvedDependencies` with `annotations.role`.
fn from_provenance(l: &mut Lineage, predicate: &Value) {
    let deps = predicate
        .pointer("/buildDefinition/resolvedDependencies")
        .and_then(Value::as_array);
    for d in deps.into_iter().flatten() {
        let Some(uri) = d.get("uri").and_then(Value::as_str) else {
            continue;
        };
        let sha = sha256_of(d, "/digest/sha256");
        match d.pointer("/annotations/role").and_then(Value::as_str) {
            Some("baseModel") => l.set_base(uri, sha.as_deref()),
            Some("code") => l.facts.push(("hallmark:training-code".into(), uri.into())),
            Some(r) => {
                if let Some(role) = role_of(r) {
                    l.add_dataset(uri, role, sha.as_deref());
                }
            }
            None => {}
        }
    }
    if let Some(b) = predicate
        .pointer("/buildDefinition/externalParameters/baseModel")
        .and_then(Value::as_str)
    {
        l.set_base(b, None);
    }
    if let Some(id) = predicate
        .pointer("/runDetails/builder/id")
        .and_then(Value::as_str)
    {
        l.facts.push(("hallmark:builder".into(), id.into()));
    }
}

fn cdx_property<'a>(c: &'a Value, name: &str) -> Option<&'a str> {
    c.get("properties")?
        .as_array()?
        .iter()
        .find(|p| p.get("name").and_then(Value::as_str) == Some(name))?
        .get("value")?
        .as_str()
}

fn cdx_sha256(c: &Value) -> Option<String> {
    c.get("hashes")?
        .as_array()?
        .iter()
        .find(|h| h.get("alg").and_then(Value::as_str) == Some("SHA-256"))
        .and_then(|h| sha256_of(h, "/content"))
}

/// A CycloneDX BOM: `data` components are datasets (role from `hallmark:dataset:role`,
/// else trained on), a `machine-learning-model` component marked `hallmark:role =
/// base-model` is the base model.
fn from_cyclonedx(l: &mut Lineage, bom: &Value) {
    for c in bom
        .get("components")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(purl) = c.get("purl").and_then(Value::as_str) else {
            continue;
        };
        let sha = cdx_sha256(c);
        match c.get("type").and_then(Value::as_str) {
            Some("data") => {
                let role = cdx_property(c, "hallmark:dataset:role")
                    .and_then(role_of)
                    .unwrap_or(DatasetRole::TrainedOn);
                l.add_dataset(purl, role, sha.as_deref());
            }
            Some("machine-learning-model")
                if cdx_property(c, "hallmark:role") == Some("base-model") =>
            {
                l.set_base(purl, sha.as_deref());
            }
            _ => {}
        }
    }
}

/// An SPDX 3 document: `dataset_DatasetPackage`s with their `trainedOn` / `testedOn`
/// relationships, the target of `descendantOf` as the base model.
fn from_spdx(l: &mut Lineage, doc: &Value) {
    let graph = doc
        .get("@graph")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let by_id = |id: &str| {
        graph
            .iter()
            .find(|n| n.get("spdxId").and_then(Value::as_str) == Some(id))
    };
    for rel in graph.iter().filter(|n| n["type"] == "Relationship") {
        let ty = rel["relationshipType"].as_str().unwrap_or_default();
        for to in rel["to"].as_array().into_iter().flatten() {
            let Some(node) = to.as_str().and_then(by_id) else {
                continue;
            };
            let Some(purl) = node["software_packageUrl"].as_str() else {
                continue;
            };
            let sha = node["verifiedUsing"]
                .as_array()
                .and_then(|v| v.iter().find(|h| h["algorithm"] == "sha256"))
                .and_then(|h| sha256_of(h, "/hashValue"));
            match (ty, role_of(ty)) {
                ("descendantOf", _) => l.set_base(purl, sha.as_deref()),
                (_, Some(role)) if node["type"] == "dataset_DatasetPackage" => {
                    l.add_dataset(purl, role, sha.as_deref());
                }
                _ => {}
            }
        }
    }
}

/// Reads the lineage the `provenance` and `bom` claims assert.
#[must_use]
pub fn from_claims(claims: &[ClaimEvidence]) -> Lineage {
    let mut l = Lineage::default();
    for c in claims {
        let n = &c.claim.claim;
        if n.status == ClaimStatus::Failed {
            continue;
        }
        let Some(statement) = c
            .statement
            .as_deref()
            .and_then(|s| serde_json::from_slice::<Value>(s).ok())
        else {
            continue;
        };
        let predicate = &statement["predicate"];
        let pt = n.predicate_type.to_ascii_lowercase();
        let before = (l.datasets.len(), l.base_model.is_some());
        match n.kind {
            ClaimKind::Provenance => from_provenance(&mut l, predicate),
            ClaimKind::Bom if pt.starts_with("https://cyclonedx.org/bom") => {
                from_cyclonedx(&mut l, predicate);
            }
            ClaimKind::Bom if pt.starts_with("https://spdx.dev/document") => {
                from_spdx(&mut l, predicate);
            }
            _ => continue,
        }
        if before != (l.datasets.len(), l.base_model.is_some()) {
            l.facts.push((
                "hallmark:lineage:source".into(),
                format!(
                    "{} claim {} ({}) by {}",
                    n.kind, c.claim.id, n.status, n.signer
                ),
            ));
        }
    }
    l
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cyclonedx_and_spdx_predicates_name_datasets_and_the_base_model() {
        let mut l = Lineage::default();
        let d = "ab".repeat(32);
        from_cyclonedx(
            &mut l,
            &json!({"components": [
                {"type": "data", "purl": "pkg:huggingface/d/imdb@1",
                 "hashes": [{"alg": "SHA-256", "content": d}],
                 "properties": [{"name": "hallmark:dataset:role", "value": "testedOn"}]},
                {"type": "machine-learning-model", "purl": "pkg:huggingface/g/bert@2",
                 "properties": [{"name": "hallmark:role", "value": "base-model"}]},
                {"type": "library", "purl": "pkg:pypi/torch@2"}]}),
        );
        assert_eq!(l.datasets.len(), 1);
        assert_eq!(l.datasets[0].role, DatasetRole::TestedOn);
        assert_eq!(l.datasets[0].component.sha256.as_deref(), Some(d.as_str()));
        assert_eq!(
            l.base_model.as_ref().map(|b| b.purl.as_str()),
            Some("pkg:huggingface/g/bert@2")
        );
        let mut s = Lineage::default();
        from_spdx(
            &mut s,
            &json!({"@graph": [
                {"type": "dataset_DatasetPackage", "spdxId": "x#d", "software_packageUrl": "pkg:generic/wiki@3"},
                {"type": "ai_AIPackage", "spdxId": "x#b", "software_packageUrl": "pkg:generic/base@1"},
                {"type": "Relationship", "from": "x#m", "relationshipType": "trainedOn", "to": ["x#d"]},
                {"type": "Relationship", "from": "x#m", "relationshipType": "descendantOf", "to": ["x#b"]}]}),
        );
        assert_eq!(s.datasets[0].component.purl, "pkg:generic/wiki@3");
        assert_eq!(s.datasets[0].role, DatasetRole::TrainedOn);
        assert_eq!(s.base_model.unwrap().purl, "pkg:generic/base@1");
    }
}
