//! Building the statement for a training run.

use std::collections::BTreeMap;

use hallmark_bom::time::rfc3339;
use hallmark_bom::{Component, Dataset};
use serde_json::json;

use crate::error::ProvenanceError;
use crate::statement::{
    BuildDefinition, Builder, CodeRef, DatasetParam, ExternalParameters, ML_TRAINING_BUILD_TYPE,
    Provenance, ResourceDescriptor, RunDetails, RunMetadata, SLSA_PROVENANCE_V1, STATEMENT_TYPE,
    Statement,
};

/// The default `builder.id`: a training run on a developer's or CI machine, attested by
/// the `hallmark` CLI (SLSA Build L1: the tenant controls the provenance).
pub const LOCAL_BUILDER_ID: &str = "https://example.invalid/hallmark/builders/local-cli/v1";

/// Everything known about one training run.
#[derive(Clone, Debug)]
pub struct TrainingRun {
    /// The trained model, described from disk.
    pub model: Component,
    /// Datasets and their roles.
    pub datasets: Vec<Dataset>,
    /// The base model, when fine-tuning.
    pub base_model: Option<Component>,
    /// Training code.
    pub code: CodeRef,
    /// Hyperparameters and configuration.
    pub parameters: BTreeMap<String, String>,
    /// Requested hardware class.
    pub hardware: Option<String>,
    /// `builder.id`.
    pub builder_id: String,
    /// Run identifier.
    pub invocation_id: Option<String>,
    /// Start time (seconds since the epoch).
    pub started_on: Option<u64>,
    /// End time (seconds since the epoch).
    pub finished_on: u64,
}

/// Parses `--code [REPO@]COMMIT`: a 40- or 64-hex-digit git commit, optionally prefixed by
/// the repository URL and `@`.
///
/// # Errors
/// [`ProvenanceError::Input`] when the commit is not hex of a git object id length.
pub fn parse_code_ref(s: &str) -> Result<CodeRef, ProvenanceError> {
    let (repo, commit) = match s.rsplit_once('@') {
        Some((r, c)) if !r.is_empty() => (Some(r.to_owned()), c),
        _ => (None, s),
    };
    let commit = commit.to_ascii_lowercase();
    if !(commit.len() == 40 || commit.len() == 64) || !commit.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Err(ProvenanceError::Input {
            field: "--code",
            reason: format!(
                "{s:?}: expected [REPOSITORY@]COMMIT with a full 40- (SHA-1) or 64-hex-digit (SHA-256) git commit"
            ),
        });
    }
    Ok(CodeRef {
        repository: repo,
        commit,
        entry_point: None,
    })
}

/// Parses `--param KEY=VALUE`.
///
/// # Errors
/// [`ProvenanceError::Input`] without `=` or with an empty key.
pub fn parse_param(s: &str) -> Result<(String, String), ProvenanceError> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        _ => Err(ProvenanceError::Input {
            field: "--param",
            reason: format!("{s:?}: expected KEY=VALUE"),
        }),
    }
}

fn component_descriptor(c: &Component, role: &str) -> ResourceDescriptor {
    let mut d = ResourceDescriptor {
        uri: Some(c.purl.clone()),
        name: Some(c.name.clone()),
        ..ResourceDescriptor::default()
    };
    d.annotations.insert("role".into(), json!(role));
    if let Some(a) = &c.artifact {
        d.digest.insert("sha256".into(), a.root_sha256.clone());
        d.annotations.insert("files".into(), json!(a.files.len()));
        d.annotations
            .insert("digestMethod".into(), json!("oms-files-sha256"));
    }
    d
}

/// Builds the statement.
///
/// # Errors
/// [`ProvenanceError::Input`] when the model was not described from disk.
pub fn build_statement(run: &TrainingRun) -> Result<Statement, ProvenanceError> {
    let Some(model) = &run.model.artifact else {
        return Err(ProvenanceError::Input {
            field: "--model",
            reason: "the model must be a local directory or file".into(),
        });
    };
    let mut subject = vec![ResourceDescriptor {
        name: Some(run.model.name.clone()),
        digest: BTreeMap::from([("sha256".to_owned(), model.root_sha256.clone())]),
        ..ResourceDescriptor::default()
    }];
    for f in &model.files {
        subject.push(ResourceDescriptor {
            name: Some(f.path.clone()),
            digest: BTreeMap::from([("sha256".to_owned(), f.sha256.clone())]),
            ..ResourceDescriptor::default()
        });
    }
    let mut deps = Vec::new();
    let mut code = ResourceDescriptor {
        uri: Some(match &run.code.repository {
            Some(r) => format!("git+{r}@{}", run.code.commit),
            None => format!("git+unknown@{}", run.code.commit),
        }),
        name: Some("training-code".into()),
        ..ResourceDescriptor::default()
    };
    code.digest
        .insert("gitCommit".into(), run.code.commit.clone());
    code.annotations.insert("role".into(), json!("code"));
    deps.push(code);
    if let Some(b) = &run.base_model {
        deps.push(component_descriptor(b, "baseModel"));
    }
    for d in &run.datasets {
        deps.push(component_descriptor(&d.component, d.role.as_str()));
    }
    let external = ExternalParameters {
        code: run.code.clone(),
        datasets: run
            .datasets
            .iter()
            .map(|d| DatasetParam {
                uri: d.component.purl.clone(),
                role: d.role.as_str().to_owned(),
            })
            .collect(),
        base_model: run.base_model.as_ref().map(|b| b.purl.clone()),
        parameters: run.parameters.clone(),
        hardware: run.hardware.clone(),
    };
    Ok(Statement {
        type_: STATEMENT_TYPE.into(),
        subject,
        predicate_type: SLSA_PROVENANCE_V1.into(),
        predicate: Provenance {
            build_definition: BuildDefinition {
                build_type: ML_TRAINING_BUILD_TYPE.into(),
                external_parameters: external,
                internal_parameters: Some(json!({
                    "attestor": { "name": "hallmark", "version": env!("CARGO_PKG_VERSION") },
                    "modelDigestMethod": "oms-files-sha256",
                })),
                resolved_dependencies: deps,
            },
            run_details: RunDetails {
                builder: Builder {
                    id: run.builder_id.clone(),
                    version: BTreeMap::new(),
                },
                metadata: Some(RunMetadata {
                    invocation_id: run.invocation_id.clone(),
                    started_on: run.started_on.map(rfc3339),
                    finished_on: Some(rfc3339(run.finished_on)),
                }),
                byproducts: Vec::new(),
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_refs() {
        let c = parse_code_ref(
            "https://git.example/acme/train@0123456789ABCDEF0123456789abcdef01234567",
        )
        .unwrap();
        assert_eq!(
            c.repository.as_deref(),
            Some("https://git.example/acme/train")
        );
        assert_eq!(c.commit, "0123456789abcdef0123456789abcdef01234567");
        assert!(parse_code_ref("main").is_err());
        assert!(parse_code_ref("repo@abc123").is_err());
    }

    #[test]
    fn params() {
        assert_eq!(
            parse_param("lr=3e-5").unwrap(),
            ("lr".into(), "3e-5".into())
        );
        assert_eq!(parse_param("x=a=b").unwrap().1, "a=b");
        assert!(parse_param("=1").is_err());
        assert!(parse_param("lr").is_err());
    }
}
