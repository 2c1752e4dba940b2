//! Errors that stop a policy check before a verdict (exit status 2 in the CLI).

use thiserror::Error;

/// The policy or an input given to the check cannot be used.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// A file cannot be read.
    #[error("cannot read {what} {path}: {source}")]
    Read {
        /// What the file is.
        what: &'static str,
        /// Its path.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The BOM given is not JSON.
    #[error("cannot read BOM {path}: not JSON: {source}")]
    BomNotJson {
        /// The BOM file.
        path: String,
        /// The JSON error (with line and column).
        #[source]
        source: serde_json::Error,
    },
    /// The policy is not valid TOML of the expected shape.
    #[error("policy {path}: {source}")]
    Parse {
        /// The policy file.
        path: String,
        /// The TOML error (with line and column and the key).
        #[source]
        source: Box<toml::de::Error>,
    },
    /// The policy file is larger than [`crate::policy::MAX_POLICY_BYTES`].
    #[error("policy {path}: larger than {limit} bytes")]
    TooLarge {
        /// The policy file.
        path: String,
        /// The limit.
        limit: usize,
    },
    /// The policy file is not UTF-8.
    #[error("policy {path}: not UTF-8")]
    NotUtf8 {
        /// The policy file.
        path: String,
    },
    /// A policy value is unacceptable.
    #[error("policy field {field}: {reason}")]
    Invalid {
        /// The field (`version`, `scan.max_verdict`, …).
        field: &'static str,
        /// What is wrong.
        reason: InvalidField,
    },
    /// A key, certificate or trust root file named by the policy cannot be read.
    #[error("policy {field} {path}: {source}")]
    TrustFile {
        /// The field.
        field: &'static str,
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A key or certificate named by the policy cannot be parsed.
    #[error("policy {field} {path}: {source}")]
    Trust {
        /// The field.
        field: &'static str,
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: Box<hallmark_crypto::CryptoError>,
    },
    /// The model cannot be read.
    #[error("{0}")]
    Model(#[source] Box<hallmark_bom::BomError>),
}

impl From<hallmark_bom::BomError> for PolicyError {
    fn from(e: hallmark_bom::BomError) -> Self {
        Self::Model(Box::new(e))
    }
}

/// Why a policy field is refused (a closed set: tests and callers match on it).
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum InvalidField {
    /// `version` is not 1.
    #[error("{0} is not supported (this hallmark reads version 1)")]
    UnsupportedVersion(u32),
    /// `scan.max_verdict` names no verdict.
    #[error("{0:?}: use clean, unverified, suspicious or dangerous")]
    UnknownVerdict(String),
    /// `scorecard.min_score` is outside 0..=10.
    #[error("{0} is outside 0..=10")]
    ScoreOutOfRange(f64),
    /// A signature is required but nobody may sign.
    #[error(
        "a signature is required but no public_keys, certificate_roots or identities say who may sign"
    )]
    NoSigner,
}
