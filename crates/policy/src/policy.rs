//! The policy file (TOML). Paths inside it are relative to the file.
//!
//! ```toml
//! [signature]
//! required = true
//! public_keys = ["keys/release.pub"]          # key method: allowed signing keys
//! certificate_roots = ["ca/root.pem"]          # certificate method: trust anchors
//! identities = ["release@acme.example"]        # allowed certificate SAN/subject or keyless identity
//! issuers = ["https://accounts.google.com"]    # keyless: allowed OIDC issuers
//! trusted_root = "trusted_root.json"           # keyless: instead of the public-good root
//!
//! [scan]
//! required = true
//! max_verdict = "clean"                        # or "unverified"
//!
//! [provenance]
//! required = true
//! public_keys = ["keys/trainer.pub"]           # default: [signature] keys and roots
//! builders = ["https://example.invalid/hallmark/builders/local-cli/v1"]
//! allowed_datasets = ["pkg:generic/imdb@*"]    # `*` at the end matches any suffix
//! allowed_base_models = ["pkg:huggingface/google-bert/*"]
//! require_pinned_lineage = true
//!
//! [bom]
//! required = true
//!
//! [scorecard]
//! min_score = 7.0
//! ```

use std::path::{Path, PathBuf};

use hallmark_bom::ScanVerdict;
use serde::Deserialize;

use crate::error::{InvalidField, PolicyError};

/// Largest policy file read.
pub const MAX_POLICY_BYTES: usize = 1024 * 1024;

/// A parsed policy.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Format version (1).
    #[serde(default = "one")]
    pub version: u32,
    /// Who may sign.
    #[serde(default)]
    pub signature: SignaturePolicy,
    /// Scan verdict required.
    #[serde(default)]
    pub scan: ScanPolicy,
    /// Training provenance required.
    #[serde(default)]
    pub provenance: ProvenancePolicy,
    /// AI-BOM required.
    #[serde(default)]
    pub bom: BomPolicy,
    /// Minimum scorecard score.
    #[serde(default)]
    pub scorecard: ScorecardPolicy,
    /// Directory the policy's relative paths are resolved against.
    #[serde(skip)]
    pub base_dir: PathBuf,
}

fn one() -> u32 {
    1
}

fn yes() -> bool {
    true
}

/// `[signature]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignaturePolicy {
    /// A verified signature by an allowed signer is required (default true).
    #[serde(default = "yes")]
    pub required: bool,
    /// Allowed public keys (PEM files).
    #[serde(default)]
    pub public_keys: Vec<PathBuf>,
    /// Trust anchors for the certificate method (PEM files).
    #[serde(default)]
    pub certificate_roots: Vec<PathBuf>,
    /// Allowed identities (certificate SAN or subject; keyless SAN).
    #[serde(default)]
    pub identities: Vec<String>,
    /// Allowed OIDC issuers (keyless).
    #[serde(default)]
    pub issuers: Vec<String>,
    /// Keyless trust: a trusted_root.json (default: the Sigstore public-good root).
    #[serde(default)]
    pub trusted_root: Option<PathBuf>,
}

impl Default for SignaturePolicy {
    fn default() -> Self {
        Self {
            required: true,
            public_keys: Vec::new(),
            certificate_roots: Vec::new(),
            identities: Vec::new(),
            issuers: Vec::new(),
            trusted_root: None,
        }
    }
}

/// `[scan]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanPolicy {
    /// A scan report is required (default true).
    #[serde(default = "yes")]
    pub required: bool,
    /// Worst verdict accepted: `clean` (default) or `unverified`.
    #[serde(default = "clean")]
    pub max_verdict: String,
}

fn clean() -> String {
    "clean".into()
}

impl Default for ScanPolicy {
    fn default() -> Self {
        Self {
            required: true,
            max_verdict: clean(),
        }
    }
}

impl ScanPolicy {
    /// The verdict ceiling.
    ///
    /// # Errors
    /// [`PolicyError::Invalid`] for an unknown verdict name.
    pub fn ceiling(&self) -> Result<ScanVerdict, PolicyError> {
        ScanVerdict::from_name(&self.max_verdict).ok_or_else(|| PolicyError::Invalid {
            field: "scan.max_verdict",
            reason: InvalidField::UnknownVerdict(self.max_verdict.clone()),
        })
    }
}

/// `[provenance]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvenancePolicy {
    /// Verified SLSA provenance is required (default false).
    #[serde(default)]
    pub required: bool,
    /// Keys that may sign provenance (default: `[signature]` keys).
    #[serde(default)]
    pub public_keys: Vec<PathBuf>,
    /// Allowed `builder.id`s (empty: any).
    #[serde(default)]
    pub builders: Vec<String>,
    /// Allowed dataset purls (patterns; absent: any).
    #[serde(default)]
    pub allowed_datasets: Option<Vec<String>>,
    /// Allowed base-model purls (patterns; absent: any).
    #[serde(default)]
    pub allowed_base_models: Option<Vec<String>>,
    /// Base model and datasets must be resolved by digest.
    #[serde(default)]
    pub require_pinned_lineage: bool,
}

/// `[bom]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BomPolicy {
    /// An AI-BOM describing this model is required (default false).
    #[serde(default)]
    pub required: bool,
}

/// `[scorecard]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScorecardPolicy {
    /// Minimum score out of 10 (absent: not enforced).
    #[serde(default)]
    pub min_score: Option<f64>,
}

impl Policy {
    /// Parses policy text; `base_dir` resolves relative paths.
    ///
    /// # Errors
    /// [`PolicyError::Parse`] with the TOML error (line and column), or
    /// [`PolicyError::Invalid`] naming the field.
    pub fn parse(text: &str, origin: &str, base_dir: &Path) -> Result<Self, PolicyError> {
        let mut p: Self = toml::from_str(text).map_err(|e| PolicyError::Parse {
            path: origin.to_owned(),
            source: Box::new(e),
        })?;
        if p.version != 1 {
            return Err(PolicyError::Invalid {
                field: "version",
                reason: InvalidField::UnsupportedVersion(p.version),
            });
        }
        p.scan.ceiling()?;
        if let Some(m) = p.scorecard.min_score
            && !(0.0..=10.0).contains(&m)
        {
            return Err(PolicyError::Invalid {
                field: "scorecard.min_score",
                reason: InvalidField::ScoreOutOfRange(m),
            });
        }
        let s = &p.signature;
        if s.required
            && s.public_keys.is_empty()
            && s.certificate_roots.is_empty()
            && s.identities.is_empty()
        {
            return Err(PolicyError::Invalid {
                field: "signature",
                reason: InvalidField::NoSigner,
            });
        }
        p.base_dir = base_dir.to_owned();
        Ok(p)
    }

    /// Reads and parses a policy file.
    ///
    /// # Errors
    /// [`PolicyError::Read`], [`PolicyError::TooLarge`], [`PolicyError::NotUtf8`] and the
    /// errors of [`Policy::parse`].
    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        let bytes = std::fs::read(path).map_err(|e| PolicyError::Read {
            what: "policy",
            path: path.display().to_string(),
            source: e,
        })?;
        if bytes.len() > MAX_POLICY_BYTES {
            return Err(PolicyError::TooLarge {
                path: path.display().to_string(),
                limit: MAX_POLICY_BYTES,
            });
        }
        let text = String::from_utf8(bytes).map_err(|_| PolicyError::NotUtf8 {
            path: path.display().to_string(),
        })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Self::parse(&text, &path.display().to_string(), &base)
    }

    /// A policy path resolved against the policy file's directory.
    #[must_use]
    pub fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_owned()
        } else {
            self.base_dir.join(p)
        }
    }
}

/// Whether `purl` matches `pattern` (exact, or prefix when the pattern ends in `*`);
/// qualifiers of `purl` are ignored.
#[must_use]
pub fn purl_matches(pattern: &str, purl: &str) -> bool {
    let purl = hallmark_bom::purl::without_qualifiers(purl);
    match pattern.strip_suffix('*') {
        Some(prefix) => purl.starts_with(prefix),
        None => purl == hallmark_bom::purl::without_qualifiers(pattern),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects_typos() {
        let p = Policy::parse(
            "[signature]\npublic_keys = [\"k.pub\"]\n[provenance]\nallowed_datasets = [\"pkg:generic/imdb@*\"]\n",
            "p.toml",
            Path::new("/etc/hm"),
        )
        .unwrap();
        assert_eq!(p.resolve(Path::new("k.pub")), Path::new("/etc/hm/k.pub"));
        assert!(p.scan.required);
        let e = Policy::parse("[signature]\npublic_key = []\n", "p.toml", Path::new(""))
            .unwrap_err()
            .to_string();
        assert!(e.contains("p.toml") && e.contains("public_key"), "{e}");
        let e = Policy::parse("[signature]\n", "p.toml", Path::new(""))
            .unwrap_err()
            .to_string();
        assert!(e.contains("who may sign"), "{e}");
    }

    #[test]
    fn purl_patterns() {
        assert!(purl_matches(
            "pkg:generic/imdb@*",
            "pkg:generic/imdb@abc?checksum=sha256:abc"
        ));
        assert!(purl_matches(
            "pkg:generic/imdb@abc",
            "pkg:generic/imdb@abc?checksum=sha256:abc"
        ));
        assert!(!purl_matches(
            "pkg:generic/imdb@*",
            "pkg:generic/imdb-poisoned@abc"
        ));
    }
}
