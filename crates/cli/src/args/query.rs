//! `hallmark hub query signatures|revisions` options.

use clap::{Args, Subcommand};

use crate::args::remote::HubArgs;

/// `hallmark hub query …`: the hub's incident-response queries (GET /api/query/…).
#[derive(Debug, Subcommand)]
pub(crate) enum QueryCommand {
    /// Signatures by identity (exact or regex) and/or issuer in a time window, across the
    /// repositories the caller may read.
    Signatures(SignatureQueryArgs),
    /// Revisions whose claims name a dataset or base model, containing a file, or flagged
    /// by a scanner rule (and those fine-tuned from them).
    Revisions(RevisionQueryArgs),
}

/// Output and hub options both queries share.
#[derive(Debug, Args)]
pub(crate) struct QueryOut {
    #[command(flatten)]
    pub(crate) hub: HubArgs,
    /// Print the hub's JSON answer instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("who").args(["identity", "identity_regex", "issuer"]).multiple(true).required(true)))]
pub(crate) struct SignatureQueryArgs {
    /// Signer identity, exactly.
    #[arg(long, conflicts_with = "identity_regex")]
    pub(crate) identity: Option<String>,
    /// Signer identity, an anchored regular expression.
    #[arg(long = "identity-regex", alias = "identity_regex")]
    pub(crate) identity_regex: Option<String>,
    /// OIDC issuer of the signature.
    #[arg(long)]
    pub(crate) issuer: Option<String>,
    /// Signed at or after this RFC 3339 time.
    #[arg(long)]
    pub(crate) since: Option<String>,
    /// Signed before this RFC 3339 time.
    #[arg(long)]
    pub(crate) until: Option<String>,
    #[command(flatten)]
    pub(crate) out: QueryOut,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("selector").args(["dataset", "base_model", "sha256", "rule"]).required(true)))]
pub(crate) struct RevisionQueryArgs {
    /// Dataset digest, purl or name.
    #[arg(long)]
    pub(crate) dataset: Option<String>,
    /// Base model purl, name or digest.
    #[arg(long = "base-model", alias = "base_model")]
    pub(crate) base_model: Option<String>,
    /// SHA-256 of a file the revision contains.
    #[arg(long)]
    pub(crate) sha256: Option<String>,
    /// Scanner rule that flagged the revision.
    #[arg(long)]
    pub(crate) rule: Option<String>,
    #[command(flatten)]
    pub(crate) out: QueryOut,
}
