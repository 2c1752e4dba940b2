//! The in-toto Statement v1 with a SLSA Provenance v1 predicate of the ML training
//! buildType (`docs/ml-training-buildtype.md`), as serde types.
//!
//! Field names follow <https://slsa.dev/spec/v1.0/provenance> and
//! <https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md>; the
//! `externalParameters` / `internalParameters` layout is the buildType's.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// in-toto Statement v1 `_type`.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// SLSA Provenance v1 predicate type.
pub const SLSA_PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";
/// The ML training buildType this crate writes and verifies.
pub const ML_TRAINING_BUILD_TYPE: &str =
    "https://example.invalid/hallmark/buildtypes/ml-training/v1";

/// An in-toto ResourceDescriptor (subject entries use only `name` and `digest`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceDescriptor {
    /// URI (a purl for models and datasets, `git+<repo>@<commit>` for code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// Algorithm → lower-case hex digest.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub digest: BTreeMap<String, String>,
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Where to download it, when different from `uri`.
    #[serde(
        default,
        rename = "downloadLocation",
        skip_serializing_if = "Option::is_none"
    )]
    pub download_location: Option<String>,
    /// Free-form facts (the buildType defines `role` and `files`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, serde_json::Value>,
}

impl ResourceDescriptor {
    /// The SHA-256 digest, when present.
    #[must_use]
    pub fn sha256(&self) -> Option<&str> {
        self.digest.get("sha256").map(String::as_str)
    }

    /// `annotations.role` as a string.
    #[must_use]
    pub fn role(&self) -> Option<&str> {
        self.annotations.get("role").and_then(|v| v.as_str())
    }
}

/// The statement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    /// Always [`STATEMENT_TYPE`].
    #[serde(rename = "_type")]
    pub type_: String,
    /// What was built: the model by OMS root digest first, then each of its files.
    pub subject: Vec<ResourceDescriptor>,
    /// Always [`SLSA_PROVENANCE_V1`].
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    /// The provenance.
    pub predicate: Provenance,
}

/// SLSA Provenance v1 predicate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// Inputs.
    #[serde(rename = "buildDefinition")]
    pub build_definition: BuildDefinition,
    /// Who ran it and when.
    #[serde(rename = "runDetails")]
    pub run_details: RunDetails,
}

/// `buildDefinition`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BuildDefinition {
    /// Always [`ML_TRAINING_BUILD_TYPE`] for statements this crate accepts.
    #[serde(rename = "buildType")]
    pub build_type: String,
    /// What the person or pipeline that started training controlled.
    #[serde(rename = "externalParameters")]
    pub external_parameters: ExternalParameters,
    /// What the trainer set on its own.
    #[serde(
        rename = "internalParameters",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub internal_parameters: Option<serde_json::Value>,
    /// Inputs by digest: training code, base model, datasets.
    #[serde(rename = "resolvedDependencies", default)]
    pub resolved_dependencies: Vec<ResourceDescriptor>,
}

/// `externalParameters` of the ML training buildType.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalParameters {
    /// The training code.
    pub code: CodeRef,
    /// Datasets by purl, with their role.
    #[serde(default)]
    pub datasets: Vec<DatasetParam>,
    /// Base model by purl, when fine-tuning.
    #[serde(rename = "baseModel", default, skip_serializing_if = "Option::is_none")]
    pub base_model: Option<String>,
    /// Hyperparameters and other training configuration (`--param k=v`), as strings.
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
    /// Requested hardware class, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hardware: Option<String>,
}

/// Training code reference.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeRef {
    /// Repository URL, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// Git commit (hex).
    pub commit: String,
    /// Entry point (script, module or command), when given.
    #[serde(
        rename = "entryPoint",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub entry_point: Option<String>,
}

/// One dataset parameter.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetParam {
    /// Package URL.
    pub uri: String,
    /// `trainedOn` or `testedOn`.
    pub role: String,
}

/// `runDetails`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunDetails {
    /// The trainer.
    pub builder: Builder,
    /// Invocation facts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<RunMetadata>,
    /// Evaluation reports, logs (by digest).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub byproducts: Vec<ResourceDescriptor>,
}

/// `runDetails.builder`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Builder {
    /// Trainer identity (a URI).
    pub id: String,
    /// Trainer component versions.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub version: BTreeMap<String, String>,
}

/// `runDetails.metadata`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunMetadata {
    /// Identifier of this training run.
    #[serde(
        rename = "invocationId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub invocation_id: Option<String>,
    /// RFC 3339 start time.
    #[serde(rename = "startedOn", default, skip_serializing_if = "Option::is_none")]
    pub started_on: Option<String>,
    /// RFC 3339 end time.
    #[serde(
        rename = "finishedOn",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub finished_on: Option<String>,
}

impl Statement {
    /// The model subject (the first, by OMS root digest).
    #[must_use]
    pub fn model_subject(&self) -> Option<&ResourceDescriptor> {
        self.subject.first()
    }

    /// Resolved dependencies with a given `annotations.role`.
    pub fn dependencies_with_role<'a>(
        &'a self,
        role: &'a str,
    ) -> impl Iterator<Item = &'a ResourceDescriptor> + 'a {
        self.predicate
            .build_definition
            .resolved_dependencies
            .iter()
            .filter(move |d| d.role() == Some(role))
    }
}
