//! Errors of the instance.

use thiserror::Error;

/// What went wrong while opening or serving the instance.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum InstanceError {
    /// OIDC issuer failure.
    #[error(transparent)]
    Oidc(#[from] hallmark_oidc::OidcError),
    /// CA failure.
    #[error(transparent)]
    Ca(#[from] hallmark_ca::CaError),
    /// Log failure.
    #[error("transparency log: {0}")]
    Log(#[from] hallmark_tlog::Error),
    /// File system failure.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: std::path::PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The log's stored tree id is not a number.
    #[error("{} is not a number", path.display())]
    TreeId {
        /// The `tree-id` file.
        path: std::path::PathBuf,
    },
    /// A thread panicked while holding the OIDC issuer.
    #[error("issuer lock poisoned")]
    IssuerPoisoned,
}
