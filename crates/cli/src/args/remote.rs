//! `hallmark push` and `hallmark pull` options, and where the hub is.

use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Args)]
pub(crate) struct PushArgs {
    /// The model directory.
    pub(crate) dir: PathBuf,
    /// Target repository, owner/name (created on first push).
    pub(crate) repo: String,
    #[command(flatten)]
    pub(crate) hub: HubArgs,
    /// The repository is private: create it private; refuse to push (exit 1) if it exists
    /// and is public.
    #[arg(long)]
    pub(crate) private: bool,
    /// Commit message.
    #[arg(long, short, default_value = "")]
    pub(crate) message: String,
    /// After the push, attach this Sigstore bundle (an AI-BOM or SLSA provenance
    /// statement about the pushed files) to the new revision as a claim (repeatable).
    #[arg(long, value_name = "FILE")]
    pub(crate) attach: Vec<PathBuf>,
    /// Print a machine-readable JSON result on standard output.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct PullArgs {
    /// Repository, owner/name.
    pub(crate) repo: String,
    /// Destination directory (created; must be empty unless --force). Files are downloaded
    /// beside it and moved in only once every check passed.
    pub(crate) dir: PathBuf,
    #[command(flatten)]
    pub(crate) hub: HubArgs,
    /// Branch or commit.
    #[arg(long, short, default_value = "main")]
    pub(crate) revision: String,
    /// Pin the hub's public key (key-signed hubs) instead of fetching it from the hub.
    #[arg(long = "public-key", alias = "public_key")]
    pub(crate) public_key: Option<PathBuf>,
    /// Require this signer identity (e.g. https://hub.example/alice) instead of the one
    /// pinned for the repository.
    #[arg(long)]
    pub(crate) identity: Option<String>,
    /// Require this OIDC issuer of the signer instead of the one pinned for the repository.
    #[arg(long = "identity-provider", alias = "identity_provider")]
    pub(crate) identity_provider: Option<String>,
    /// Verify keyless signatures against this trust config (e.g. the hub operator's
    /// trust-config.json, obtained out of band) instead of the one pinned for the repository.
    #[arg(long = "trust-config", alias = "trust_config")]
    pub(crate) trust_config: Option<PathBuf>,
    /// Require the revision's log entry to be under a checkpoint cosigned by a quorum of
    /// this C2SP witness policy's witnesses (the hub's /witness-policy, pinned); each
    /// witnessed checkpoint is remembered, and one that does not extend it is refused as a
    /// fork. Refused naming the missing witnesses or the fork; nothing is written.
    #[arg(long = "witness-policy", value_name = "FILE")]
    pub(crate) witness_policy: Option<PathBuf>,
    /// Accept and re-pin a signer, trust config or key that differs from the one pinned
    /// for the repository (pins live in $XDG_CONFIG_HOME/hallmark/pins.json, else
    /// ~/.config/hallmark/pins.json; the first verified pull of a repository pins it).
    #[arg(long = "accept-new-signer")]
    pub(crate) accept_new_signer: bool,
    /// Write into a non-empty directory.
    #[arg(long)]
    pub(crate) force: bool,
    /// Accept a revision without signature (reported, exit 0).
    #[arg(long = "allow-unsigned")]
    pub(crate) allow_unsigned: bool,
    /// Accept a revision the hub reports revoked by an open incident (a warning names it).
    #[arg(long = "allow-revoked")]
    pub(crate) allow_revoked: bool,
    /// Require a claim of the revision (repeatable): KIND[=VALUE], KIND one of
    /// publisher-signature, hub-signature, scan, bom, provenance. `scan=V` accepts a
    /// verdict no worse than V (clean < unverified < suspicious < dangerous); for the
    /// others VALUE is the status (verified, the default, or untrusted). Each claim's
    /// bundle must name the verified files; scan and hub-signature claims must verify
    /// under the pinned trust.
    #[arg(long, value_name = "KIND[=VALUE]", value_parser = super::require::parse)]
    pub(crate) require: Vec<super::require::Requirement>,
    /// Run this `hallmark policy` file (TOML) on the downloaded files before moving them
    /// into place: the publisher signatures (else model.sig), a local scan, and the
    /// revision's provenance and BOM claims are its evidence.
    #[arg(long, value_name = "FILE")]
    pub(crate) policy: Option<PathBuf>,
    /// Print a machine-readable JSON result on standard output.
    #[arg(long)]
    pub(crate) json: bool,
}

/// Where the hub is and how to authenticate.
#[derive(Debug, Args)]
pub(crate) struct HubArgs {
    /// Hub URL.
    #[arg(long, env = "HALLMARK_HUB", default_value = "http://127.0.0.1:8080")]
    pub(crate) hub: String,
    /// API token (hm_…); default: $HALLMARK_TOKEN, $HF_TOKEN, else the one `hallmark login`
    /// stored for this hub.
    #[arg(long, env = "HALLMARK_TOKEN", hide_env_values = true)]
    pub(crate) token: Option<String>,
    /// Parallel transfers.
    #[arg(long, default_value_t = 4)]
    pub(crate) jobs: usize,
    /// No progress bar.
    #[arg(long, short)]
    pub(crate) quiet: bool,
}

/// `hallmark login`: store a hub API token for `push` and `pull`.
#[derive(Args)]
pub(crate) struct LoginArgs {
    /// Hub URL.
    #[arg(long, env = "HALLMARK_HUB", default_value = "http://127.0.0.1:8080")]
    pub(crate) hub: String,
    /// The API token (hm_…, from the hub's Settings → Tokens page); default: $HF_TOKEN, else
    /// a line read from standard input.
    #[arg(long, value_name = "TOKEN")]
    pub(crate) token: Option<String>,
}

impl std::fmt::Debug for LoginArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginArgs")
            .field("hub", &self.hub)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}
