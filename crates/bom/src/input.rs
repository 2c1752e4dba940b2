//! What a BOM describes: the model, its datasets and base model, and the evidence about
//! it. Built by the caller (the CLI) from paths and flags; serialized by
//! [`crate::cyclonedx`] and [`crate::spdx`].

use crate::artifact::Artifact;
use crate::error::BomError;
use crate::evidence::{ScanSummary, SignatureSummary};
use crate::purl;

/// A model, dataset or base model: identifiers plus, when it was available locally, its
/// files and digests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Component {
    /// Name.
    pub name: String,
    /// Version (the root digest unless given).
    pub version: String,
    /// Package URL.
    pub purl: String,
    /// Files and digests, when described from disk.
    pub artifact: Option<Artifact>,
    /// SPDX license expression, when declared.
    pub license: Option<String>,
    /// SHA-256 (hex) known from elsewhere (an attestation's resolved dependency) when it
    /// was not described from disk.
    pub sha256: Option<String>,
}

impl Component {
    /// A component described from disk. `purl` overrides the generic purl; `version`
    /// overrides the root digest as version.
    ///
    /// # Errors
    /// [`BomError::Purl`] when the given purl is malformed.
    pub fn local(
        artifact: Artifact,
        purl_override: Option<&str>,
        version: Option<&str>,
    ) -> Result<Self, BomError> {
        let purl = match purl_override {
            Some(p) => {
                purl::validate(p)?;
                p.to_owned()
            }
            None => purl::generic(&artifact.name, version, &artifact.root_sha256),
        };
        let version = version
            .map(str::to_owned)
            .or_else(|| purl_version(&purl))
            .unwrap_or_else(|| artifact.root_sha256.clone());
        Ok(Self {
            name: purl_name(&purl).unwrap_or_else(|| artifact.name.clone()),
            version,
            purl,
            artifact: Some(artifact),
            license: None,
            sha256: None,
        })
    }

    /// A component known only by its purl (no local copy, so no digests).
    ///
    /// # Errors
    /// [`BomError::Purl`] when the purl is malformed.
    pub fn remote(purl_str: &str) -> Result<Self, BomError> {
        purl::validate(purl_str)?;
        Ok(Self {
            name: purl_name(purl_str).unwrap_or_else(|| purl_str.to_owned()),
            version: purl_version(purl_str).unwrap_or_default(),
            purl: purl_str.to_owned(),
            artifact: None,
            license: None,
            sha256: None,
        })
    }

    /// The root digest, when described from disk.
    #[must_use]
    pub fn root_sha256(&self) -> Option<&str> {
        self.artifact.as_ref().map(|a| a.root_sha256.as_str())
    }

    /// The digest to record: the root digest when described from disk, else the one
    /// known from elsewhere.
    #[must_use]
    pub fn known_sha256(&self) -> Option<&str> {
        self.root_sha256().or(self.sha256.as_deref())
    }
}

/// `namespace/name` of a purl, percent-decoding left as is.
fn purl_name(p: &str) -> Option<String> {
    let rest = purl::without_qualifiers(p).strip_prefix("pkg:")?;
    let (_, path) = rest.split_once('/')?;
    let name = path.split('@').next()?;
    (!name.is_empty()).then(|| name.to_owned())
}

fn purl_version(p: &str) -> Option<String> {
    let base = purl::without_qualifiers(p);
    let (_, v) = base.rsplit_once('@')?;
    (!v.is_empty() && !v.contains('/')).then(|| v.to_owned())
}

/// How a dataset relates to the model (SPDX 3 relationship types).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatasetRole {
    /// The model was trained on it.
    TrainedOn,
    /// The model was evaluated on it.
    TestedOn,
}

impl DatasetRole {
    /// `trainedOn` or `testedOn`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TrainedOn => "trainedOn",
            Self::TestedOn => "testedOn",
        }
    }
}

/// A dataset and its role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dataset {
    /// The dataset.
    pub component: Component,
    /// Trained or tested on.
    pub role: DatasetRole,
}

/// Model-card facts given on the command line (all optional).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModelCard {
    /// ML task, e.g. `text-classification`.
    pub task: Option<String>,
    /// Architecture family, e.g. `bert`.
    pub architecture_family: Option<String>,
    /// Learning approach: supervised, unsupervised, reinforcement-learning,
    /// semi-supervised or self-supervised.
    pub approach: Option<String>,
}

/// The learning approaches CycloneDX 1.6 allows.
pub const APPROACHES: [&str; 5] = [
    "supervised",
    "unsupervised",
    "reinforcement-learning",
    "semi-supervised",
    "self-supervised",
];

/// A link to an attestation about the model: a file beside the BOM or a URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttestationRef {
    /// Path (relative to the BOM) or URL.
    pub url: String,
    /// What it is (kind, predicate type, signer).
    pub comment: String,
}

/// Everything a BOM says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BomInput {
    /// The model (described from disk).
    pub model: Component,
    /// Model-card facts.
    pub card: ModelCard,
    /// Supplier (organisation or person), when declared.
    pub supplier: Option<String>,
    /// Training and evaluation datasets.
    pub datasets: Vec<Dataset>,
    /// The model it was fine-tuned from.
    pub base_model: Option<Component>,
    /// Signatures over the model (decoded, not verified).
    pub signatures: Vec<SignatureSummary>,
    /// Scan verdict.
    pub scan: Option<ScanSummary>,
    /// Where the provenance attestation is (path or URL), when known.
    pub provenance: Option<String>,
    /// Further attestations about the model (in-toto statements, Sigstore bundles).
    pub attestations: Vec<AttestationRef>,
    /// Further facts about the model as `(name, value)` pairs (`hallmark:*` names):
    /// CycloneDX properties, SPDX annotations.
    pub facts: Vec<(String, String)>,
    /// Creation time, seconds since the Unix epoch (`SOURCE_DATE_EPOCH` in the CLI).
    pub created: u64,
}

impl BomInput {
    /// Checks values the output formats constrain.
    ///
    /// # Errors
    /// [`BomError::Field`] naming the value.
    pub fn check(&self) -> Result<(), BomError> {
        if let Some(a) = &self.card.approach
            && !APPROACHES.contains(&a.as_str())
        {
            return Err(BomError::Field {
                field: "approach",
                reason: format!("{a:?} is not one of {}", APPROACHES.join(", ")),
            });
        }
        if self.model.artifact.is_none() {
            return Err(BomError::Field {
                field: "model",
                reason: "the model must be described from disk".into(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_components_take_name_and_version_from_the_purl() {
        let c = Component::remote("pkg:huggingface/google-bert/bert-base-uncased@86b5e09").unwrap();
        assert_eq!(c.name, "google-bert/bert-base-uncased");
        assert_eq!(c.version, "86b5e09");
        assert!(Component::remote("bert").is_err());
    }
}
