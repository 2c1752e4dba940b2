//! Reading a BOM back (CycloneDX or SPDX 3 JSON) for the policy: which model digest it
//! describes and how complete it is.

use serde::Serialize;
use serde_json::Value;

/// What a BOM says about the model.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BomFacts {
    /// `CycloneDX 1.6`, `SPDX 3.0.1`, …; `None` when neither.
    pub kind: Option<String>,
    /// SHA-256 of the model component (the OMS root digest for hallmark BOMs).
    pub model_sha256: Option<String>,
    /// A model card / AI package facts are present.
    pub has_model_card: bool,
    /// Datasets are linked.
    pub has_datasets: bool,
    /// A license is declared for the model.
    pub has_license: bool,
    /// A supplier is declared.
    pub has_supplier: bool,
    /// Files are listed with hashes.
    pub has_file_hashes: bool,
}

impl BomFacts {
    /// 0–10: the share of the five facts present.
    #[must_use]
    pub fn completeness(&self) -> u8 {
        let n = [
            self.has_model_card,
            self.has_datasets,
            self.has_license,
            self.has_supplier,
            self.has_file_hashes,
        ]
        .iter()
        .filter(|b| **b)
        .count();
        crate::scorecard::ratio(n, 5)
    }
}

fn sha256_of_hashes(hashes: Option<&Value>) -> Option<String> {
    hashes?
        .as_array()?
        .iter()
        .find(|h| h.get("alg").and_then(Value::as_str) == Some("SHA-256"))
        .and_then(|h| h.get("content"))
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
}

/// Extracts [`BomFacts`] from a parsed BOM (never fails: unknown shapes give `kind: None`).
#[must_use]
pub fn read_bom(doc: &Value) -> BomFacts {
    if doc.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
        let spec = doc
            .get("specVersion")
            .and_then(Value::as_str)
            .unwrap_or("?");
        let mut f = BomFacts {
            kind: Some(format!("CycloneDX {spec}")),
            ..BomFacts::default()
        };
        let comp = doc.pointer("/metadata/component");
        let is_model = comp.and_then(|c| c.get("type")).and_then(Value::as_str)
            == Some("machine-learning-model");
        if let Some(c) = comp.filter(|_| is_model) {
            f.model_sha256 = sha256_of_hashes(c.get("hashes"));
            f.has_model_card = c.get("modelCard").is_some();
            f.has_datasets = c
                .pointer("/modelCard/modelParameters/datasets")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty());
            f.has_license = c
                .get("licenses")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty());
            f.has_supplier =
                c.get("supplier").is_some() || doc.pointer("/metadata/supplier").is_some();
            f.has_file_hashes = c
                .get("components")
                .and_then(Value::as_array)
                .is_some_and(|a| {
                    !a.is_empty()
                        && a.iter()
                            .all(|x| sha256_of_hashes(x.get("hashes")).is_some())
                });
        }
        return f;
    }
    let Some(graph) = doc.get("@graph").and_then(Value::as_array) else {
        return BomFacts::default();
    };
    let version = doc
        .get("@context")
        .and_then(Value::as_str)
        .and_then(|c| c.strip_prefix("https://spdx.org/rdf/"))
        .and_then(|c| c.split('/').next())
        .unwrap_or("3");
    let mut f = BomFacts {
        kind: Some(format!("SPDX {version}")),
        ..BomFacts::default()
    };
    let ty = |n: &Value| {
        n.get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let roots: Vec<&str> = graph
        .iter()
        .filter(|n| ty(n) == "SpdxDocument")
        .filter_map(|n| n.get("rootElement").and_then(Value::as_array))
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let model = graph.iter().find(|n| {
        ty(n) == "ai_AIPackage"
            && n.get("spdxId")
                .and_then(Value::as_str)
                .is_some_and(|id| roots.contains(&id))
    });
    let Some(m) = model else {
        return f;
    };
    let id = m.get("spdxId").and_then(Value::as_str).unwrap_or_default();
    f.model_sha256 = m
        .get("verifiedUsing")
        .and_then(Value::as_array)
        .and_then(|a| {
            a.iter()
                .find(|h| h.get("algorithm").and_then(Value::as_str) == Some("sha256"))
        })
        .and_then(|h| h.get("hashValue"))
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase);
    f.has_model_card = [
        "ai_domain",
        "ai_typeOfModel",
        "ai_informationAboutTraining",
        "ai_limitation",
    ]
    .iter()
    .any(|k| m.get(*k).is_some());
    f.has_supplier = m.get("suppliedBy").is_some();
    let rel = |t: &str| {
        graph.iter().any(|n| {
            ty(n) == "Relationship"
                && n.get("from").and_then(Value::as_str) == Some(id)
                && n.get("relationshipType").and_then(Value::as_str) == Some(t)
        })
    };
    f.has_datasets = rel("trainedOn") || rel("testedOn");
    f.has_license = rel("hasDeclaredLicense") || rel("hasConcludedLicense");
    f.has_file_hashes = rel("contains");
    f
}
