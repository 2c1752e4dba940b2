//! Errors that stop a policy check before a verdict (exit status 2 in the CLI).

use thiserror::Error;

/// The policy or an input given to the check cannot be used.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// A file cannot be read.
    #[error("cannot read {what} {path}: {reason}")]
    Read {
        /// What the file is.
        what: &'static str,
        /// Its path.
        path: String,
        /// The I/O error.
        reason: String,
    },
    /// The policy is not valid TOML of the expected shape.
    #[error("policy {path}: {reason}")]
    Parse {
        /// The policy file.
        path: String,
        /// The TOML error (with line and column).
        reason: String,
    },
    /// A policy value is unacceptable.
    #[error("policy field {field}: {reason}")]
    Invalid {
        /// The field.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// A key, certificate or trust root named by the policy cannot be loaded.
    #[error("policy {field} {path}: {reason}")]
    Trust {
        /// The field.
        field: &'static str,
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The model cannot be read.
    #[error("{0}")]
    Model(#[from] hallmark_bom::BomError),
}
