//! What a `bom` or `provenance` claim names, read from its in-toto statement and
//! normalised for lookup ([`ClaimRef`]): datasets, the base model, the training code's
//! commit, the builder, and the revision itself (its root digest).
//!
//! | statement | datasets | base model | training commit | builder |
//! |---|---|---|---|---|
//! | SLSA provenance (`hallmark attest train`) | `resolvedDependencies` with another role, `externalParameters.datasets[].uri` | role `baseModel`, `externalParameters.baseModel` | role `code` `digest.gitCommit`, `externalParameters.code.commit` | `runDetails.builder.id` |
//! | CycloneDX ML-BOM | `components` of type `data` | `components` of type `machine-learning-model`, property `hallmark:baseModel` | – | – |
//! | SPDX 3 AI/Dataset | `dataset_DatasetPackage` elements | the target of a `descendantOf` relationship | – | – |
//!
//! Each dataset or model is recorded by every name it has: purl (without qualifiers,
//! with and without its version), name, and `sha256:<hex>` digest.

use std::collections::BTreeSet;

use hallmark_store::{ClaimRef, ClaimRefKind};
use serde_json::Value;

/// Most references kept per claim; longest value kept.
const MAX_REFS: usize = 512;
const MAX_VALUE: usize = 512;

/// A purl, name or digest as stored and looked up: lower-case, purls without
/// qualifiers or subpath, bare 64-hex digests as `sha256:<hex>`.
#[must_use]
pub fn normalise(v: &str) -> String {
    let v = v.trim().to_ascii_lowercase();
    if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) {
        return format!("sha256:{v}");
    }
    if v.starts_with("pkg:") {
        let end = v.find(['?', '#']).unwrap_or(v.len());
        return v[..end].to_owned();
    }
    v
}

/// The names a purl is found by: itself and, when versioned, without the version.
fn purl_names(purl: &str) -> Vec<String> {
    let p = normalise(purl);
    let mut out = vec![p.clone()];
    if let Some((base, _version)) = p.rsplit_once('@')
        && base.starts_with("pkg:")
    {
        out.push(base.to_owned());
    }
    out
}

#[derive(Default)]
struct Refs(BTreeSet<(ClaimRefKind, String)>);

impl Refs {
    fn add(&mut self, kind: ClaimRefKind, v: Option<&str>) {
        if let Some(v) = v
            .map(str::trim)
            .filter(|v| !v.is_empty() && v.len() <= MAX_VALUE)
            && self.0.len() < MAX_REFS
        {
            self.0.insert((kind, normalise(v)));
        }
    }
    fn purl(&mut self, kind: ClaimRefKind, v: Option<&str>) {
        for p in v.map(purl_names).unwrap_or_default() {
            self.add(kind, Some(&p));
        }
    }
    fn digest(&mut self, kind: ClaimRefKind, hex: Option<&str>) {
        if let Some(h) = hex.filter(|h| h.len() == 64) {
            self.add(kind, Some(h));
        }
    }
}

fn str_at<'a>(v: &'a Value, ptr: &str) -> Option<&'a str> {
    v.pointer(ptr).and_then(Value::as_str)
}

fn items<'a>(v: &'a Value, ptr: &str) -> impl Iterator<Item = &'a Value> {
    v.pointer(ptr)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

fn slsa(p: &Value, r: &mut Refs) {
    for d in items(p, "/buildDefinition/resolvedDependencies") {
        let role = str_at(d, "/annotations/role").unwrap_or("");
        let kind = match role {
            "code" => {
                r.add(ClaimRefKind::TrainingCommit, str_at(d, "/digest/gitCommit"));
                continue;
            }
            "baseModel" => ClaimRefKind::BaseModel,
            _ => ClaimRefKind::Dataset,
        };
        r.purl(kind, str_at(d, "/uri"));
        r.add(kind, str_at(d, "/name"));
        r.digest(kind, str_at(d, "/digest/sha256"));
    }
    let ext = "/buildDefinition/externalParameters";
    for d in items(p, &format!("{ext}/datasets")) {
        r.purl(ClaimRefKind::Dataset, str_at(d, "/uri"));
    }
    r.purl(
        ClaimRefKind::BaseModel,
        str_at(p, &format!("{ext}/baseModel")),
    );
    r.add(
        ClaimRefKind::TrainingCommit,
        str_at(p, &format!("{ext}/code/commit")),
    );
    r.add(ClaimRefKind::Builder, str_at(p, "/runDetails/builder/id"));
}

fn component(c: &Value, kind: ClaimRefKind, r: &mut Refs) {
    r.purl(kind, str_at(c, "/purl"));
    r.add(kind, str_at(c, "/name"));
    for h in items(c, "/hashes") {
        if str_at(h, "/alg").is_some_and(|a| a.eq_ignore_ascii_case("SHA-256")) {
            r.digest(kind, str_at(h, "/content"));
        }
    }
}

fn cyclonedx(p: &Value, r: &mut Refs) {
    for c in items(p, "/components") {
        match str_at(c, "/type") {
            Some("data") => component(c, ClaimRefKind::Dataset, r),
            Some("machine-learning-model") => component(c, ClaimRefKind::BaseModel, r),
            _ => {}
        }
    }
    for prop in items(p, "/metadata/component/modelCard/properties") {
        if str_at(prop, "/name") == Some("hallmark:baseModel") {
            r.purl(ClaimRefKind::BaseModel, str_at(prop, "/value"));
        }
    }
}

fn spdx_element(e: &Value, kind: ClaimRefKind, r: &mut Refs) {
    r.purl(kind, str_at(e, "/software_packageUrl"));
    r.add(kind, str_at(e, "/name"));
    for h in items(e, "/verifiedUsing") {
        if str_at(h, "/algorithm") == Some("sha256") {
            r.digest(kind, str_at(h, "/hashValue"));
        }
    }
}

fn spdx(p: &Value, r: &mut Refs) {
    let graph: Vec<&Value> = items(p, "/@graph").collect();
    let by_id = |id: &str| {
        graph
            .iter()
            .find(|e| str_at(e, "/spdxId") == Some(id))
            .copied()
    };
    for e in &graph {
        match str_at(e, "/type") {
            Some("dataset_DatasetPackage") => spdx_element(e, ClaimRefKind::Dataset, r),
            Some("Relationship") if str_at(e, "/relationshipType") == Some("descendantOf") => {
                for to in items(e, "/to").filter_map(Value::as_str).filter_map(by_id) {
                    spdx_element(to, ClaimRefKind::BaseModel, r);
                }
            }
            _ => {}
        }
    }
}

/// The references of an attached statement about the revision with OMS root digest
/// `root` (hex).
#[must_use]
pub fn claim_refs(statement: &Value, root: &str) -> Vec<ClaimRef> {
    let mut r = Refs::default();
    r.digest(ClaimRefKind::Model, Some(root));
    let p = statement.get("predicate").unwrap_or(&Value::Null);
    if p.get("buildDefinition").is_some() {
        slsa(p, &mut r);
    } else if p.get("bomFormat").is_some() || p.get("components").is_some() {
        cyclonedx(p, &mut r);
    } else if p.get("@graph").is_some() {
        spdx(p, &mut r);
    }
    r.0.into_iter()
        .map(|(kind, value)| ClaimRef { kind, value })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn values(refs: &[ClaimRef], kind: ClaimRefKind) -> Vec<&str> {
        refs.iter()
            .filter(|r| r.kind == kind)
            .map(|r| r.value.as_str())
            .collect()
    }

    #[test]
    fn provenance_names_datasets_base_model_code_and_builder() {
        let d = "a".repeat(64);
        let s = json!({"predicate": {
            "buildDefinition": {
                "externalParameters": {"code": {"commit": "ABC123"}, "baseModel": "pkg:huggingface/Acme/Base@1234",
                    "datasets": [{"uri": "pkg:generic/squad@2?checksum=x", "role": "trainedOn"}]},
                "resolvedDependencies": [
                    {"uri": "pkg:generic/squad@2", "name": "SQuAD", "digest": {"sha256": d}, "annotations": {"role": "trainedOn"}},
                    {"digest": {"gitCommit": "abc123"}, "annotations": {"role": "code"}}]},
            "runDetails": {"builder": {"id": "https://ci.example/runner"}}}});
        let r = claim_refs(&s, &"b".repeat(64));
        assert_eq!(
            values(&r, ClaimRefKind::Dataset),
            [
                "pkg:generic/squad",
                "pkg:generic/squad@2",
                &format!("sha256:{d}"),
                "squad"
            ]
        );
        assert_eq!(
            values(&r, ClaimRefKind::BaseModel),
            [
                "pkg:huggingface/acme/base",
                "pkg:huggingface/acme/base@1234"
            ]
        );
        assert_eq!(values(&r, ClaimRefKind::TrainingCommit), ["abc123"]);
        assert_eq!(
            values(&r, ClaimRefKind::Builder),
            ["https://ci.example/runner"]
        );
        assert_eq!(
            values(&r, ClaimRefKind::Model),
            [format!("sha256:{}", "b".repeat(64))]
        );
    }

    #[test]
    fn cyclonedx_and_spdx_datasets_and_base_models() {
        let c = json!({"predicate": {"bomFormat": "CycloneDX", "components": [
            {"type": "data", "name": "D1", "purl": "pkg:generic/d1@1"},
            {"type": "machine-learning-model", "name": "base", "purl": "pkg:huggingface/a/b@c"}]}});
        let r = claim_refs(&c, &"0".repeat(64));
        assert!(values(&r, ClaimRefKind::Dataset).contains(&"pkg:generic/d1"));
        assert!(values(&r, ClaimRefKind::BaseModel).contains(&"pkg:huggingface/a/b"));
        let s = json!({"predicate": {"@graph": [
            {"type": "dataset_DatasetPackage", "spdxId": "x#d", "name": "D2"},
            {"type": "ai_AIPackage", "spdxId": "x#b", "software_packageUrl": "pkg:huggingface/a/base"},
            {"type": "Relationship", "relationshipType": "descendantOf", "from": "x#m", "to": ["x#b"]}]}});
        let r = claim_refs(&s, &"0".repeat(64));
        assert_eq!(values(&r, ClaimRefKind::Dataset), ["d2"]);
        assert_eq!(
            values(&r, ClaimRefKind::BaseModel),
            ["pkg:huggingface/a/base"]
        );
    }
}
