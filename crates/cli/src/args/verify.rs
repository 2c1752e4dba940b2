//! `hallmark verify key|certificate|sigstore` and `hallmark inspect` options.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::common::{EngineArgs, SelectionArgs};

#[derive(Debug, Subcommand)]
pub(crate) enum VerifyMethod {
    /// Verify a signature made with a key, given the public key.
    Key(VerifyKeyArgs),
    /// Verify a signature made with a certificate, given trusted root certificates.
    Certificate(VerifyCertArgs),
    /// Verify a keyless (Sigstore) signature offline: identity, issuer, certificate,
    /// transparency log. Without a trust option the Sigstore public-good trusted root
    /// compiled into hallmark is used (see --help for its date).
    Sigstore(VerifySigstoreArgs),
}

#[derive(Debug, Args)]
pub(crate) struct VerifyCommon {
    /// The model: a directory or a single file.
    pub(crate) model: PathBuf,
    /// The signature to verify.
    #[arg(long)]
    pub(crate) signature: PathBuf,
    /// Check only the files the signature names; accept other files.
    #[arg(
        long = "ignore-unsigned-files",
        alias = "ignore_unsigned_files",
        overrides_with = "no_ignore_unsigned_files"
    )]
    pub(crate) ignore_unsigned_files: bool,
    /// Check every file (default).
    #[arg(
        long = "no-ignore-unsigned-files",
        alias = "no_ignore_unsigned_files",
        hide = true
    )]
    pub(crate) no_ignore_unsigned_files: bool,
    /// Print a machine-readable JSON result on standard output.
    #[arg(long)]
    pub(crate) json: bool,
    /// Do not re-read files unchanged (same device, inode, size, mtime, ctime) since they
    /// were hashed on this machine with the digest this signature records.
    #[arg(long)]
    pub(crate) incremental: bool,
    #[command(flatten)]
    pub(crate) selection: SelectionArgs,
    #[command(flatten)]
    pub(crate) engine: EngineArgs,
    #[cfg(feature = "client")]
    #[command(flatten)]
    pub(crate) hub: VerifyHubArgs,
}

/// `--hub`: after the signature verifies, ask a hub whether the revision it signs is
/// revoked by an open incident (issue 20 §2).
#[cfg(feature = "client")]
#[derive(Args)]
pub(crate) struct VerifyHubArgs {
    /// After the signature verifies, refuse (exit 1, naming the incident) if this hub
    /// reports the revision revoked. The revision is --repo/--revision, else every
    /// revision of the hub (of --repo, when given) whose model.sig is this signature.
    #[arg(long, value_name = "URL")]
    pub(crate) hub: Option<String>,
    /// The hub repository the model is from (owner/name).
    #[arg(long, value_name = "OWNER/NAME", requires = "hub")]
    pub(crate) repo: Option<String>,
    /// The revision (branch or commit) of --repo the model is.
    #[arg(long, requires = "repo")]
    pub(crate) revision: Option<String>,
    /// Accept a revision the hub reports revoked (a warning names the incident).
    #[arg(long = "allow-revoked", requires = "hub")]
    pub(crate) allow_revoked: bool,
    /// API token for a private repository; default: $HALLMARK_TOKEN, $HF_TOKEN, else the
    /// one `hallmark login` stored for the hub.
    #[arg(long = "hub-token", value_name = "TOKEN", requires = "hub")]
    pub(crate) token: Option<String>,
}

#[cfg(feature = "client")]
impl std::fmt::Debug for VerifyHubArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyHubArgs")
            .field("hub", &self.hub)
            .field("repo", &self.repo)
            .field("revision", &self.revision)
            .field("allow_revoked", &self.allow_revoked)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

#[derive(Debug, Args)]
pub(crate) struct VerifyKeyArgs {
    #[command(flatten)]
    pub(crate) common: VerifyCommon,
    /// PEM public key (SubjectPublicKeyInfo).
    #[arg(long = "public-key", alias = "public_key", value_name = "PUB.pem")]
    pub(crate) public_key: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyCertArgs {
    #[command(flatten)]
    pub(crate) common: VerifyCommon,
    /// PEM file(s) with the trusted root certificate(s) (repeatable, required).
    #[arg(
        long = "certificate-chain",
        alias = "certificate_chain",
        value_name = "ROOTS.pem",
        required = true
    )]
    pub(crate) certificate_chain: Vec<PathBuf>,
    /// Validate the chain now instead of at the leaf's notBefore (the reference's rule,
    /// which accepts expired leaves).
    #[arg(long = "strict-validity")]
    pub(crate) strict_validity: bool,
    /// Accepted for compatibility with model_signing (fingerprints are in --json).
    #[arg(long = "log-fingerprints", alias = "log_fingerprints", hide = true)]
    pub(crate) log_fingerprints: bool,
}

#[derive(Debug, Args)]
pub(crate) struct VerifySigstoreArgs {
    #[command(flatten)]
    pub(crate) common: VerifyCommon,
    /// The signer's identity (certificate SAN: an email or URI), matched exactly.
    #[arg(long, required_unless_present = "identity_regex")]
    pub(crate) identity: Option<String>,
    /// A regular expression the signer's identity must match in full.
    #[arg(
        long = "identity-regex",
        alias = "identity_regex",
        conflicts_with = "identity"
    )]
    pub(crate) identity_regex: Option<String>,
    /// Also require the bundle's log entry to be under a checkpoint cosigned by a quorum
    /// of this C2SP witness policy's witnesses (e.g. the hub's /witness-policy, pinned):
    /// the checkpoint in the bundle, else the log's /checkpoint (URL from the policy's
    /// `log` line) proven to extend it. Refused naming the missing witnesses, or a fork.
    #[cfg(feature = "client")]
    #[arg(long = "witness-policy", value_name = "FILE")]
    pub(crate) witness_policy: Option<std::path::PathBuf>,
    /// The OIDC issuer of the identity (e.g. https://accounts.google.com), matched exactly.
    #[arg(long = "identity-provider", alias = "identity_provider")]
    pub(crate) identity_provider: String,
    /// ClientTrustConfig JSON (as model_signing takes) for a private Sigstore instance.
    #[arg(long = "trust-config", alias = "trust_config", value_name = "FILE")]
    pub(crate) trust_config: Option<PathBuf>,
    /// A trusted_root.json instead of a ClientTrustConfig.
    #[arg(
        long = "trusted-root",
        alias = "trusted_root",
        value_name = "FILE",
        conflicts_with = "trust_config"
    )]
    pub(crate) trusted_root: Option<PathBuf>,
    /// Verify against Sigstore's staging instance (its trusted root is compiled in).
    #[arg(long = "use-staging", alias = "use_staging")]
    pub(crate) use_staging: bool,
}

#[derive(Debug, Args)]
pub(crate) struct InspectArgs {
    /// The signature file.
    pub(crate) signature: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
    /// List every resource.
    #[arg(long)]
    pub(crate) resources: bool,
}
