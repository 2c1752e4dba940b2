//! `hallmark sigstore serve|token` options (a private Sigstore instance).

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub(crate) enum SigstoreCommand {
    /// Serve the instance: OIDC discovery/JWKS, Fulcio v2, Rekor v1, /trust-config.json.
    Serve(SigstoreServeArgs),
    /// Print an ID token for an identity (operator only: reads the issuer key from the
    /// data directory). For CI machines and tests.
    Token(SigstoreTokenArgs),
}

#[derive(Debug, Args)]
pub(crate) struct SigstoreServeArgs {
    /// Data directory (keys, CA, log); created on first start.
    #[arg(long = "data-dir", value_name = "DIR")]
    pub(crate) data_dir: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub(crate) listen: String,
    /// URL clients use to reach the instance (default: http://LISTEN); it is also the
    /// OIDC issuer named in certificates.
    #[arg(long = "public-url")]
    pub(crate) public_url: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct SigstoreTokenArgs {
    /// Data directory of the instance.
    #[arg(long = "data-dir", value_name = "DIR")]
    pub(crate) data_dir: PathBuf,
    /// E-mail identity to certify.
    #[arg(long, conflicts_with = "subject")]
    pub(crate) email: Option<String>,
    /// URI identity to certify instead of an e-mail (e.g. https://hub.example/alice).
    #[arg(long)]
    pub(crate) subject: Option<String>,
    /// Token lifetime in seconds.
    #[arg(long = "ttl", default_value_t = 600)]
    pub(crate) ttl_seconds: u64,
    /// Issuer URL, if the instance has never been started with this data directory.
    #[arg(long = "public-url")]
    pub(crate) public_url: Option<String>,
}
