//! `hallmark log audit` options.

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub(crate) enum LogCommand {
    /// Audit a transparency log from its tiles: verify the checkpoint signature, hash every
    /// new entry into the tiles, recompute the root, and check that the tree extends the
    /// checkpoint seen last time (no rollback, no fork). With --since-checkpoint the new
    /// checkpoint is remembered for the next run.
    Audit(AuditArgs),
    /// Follow a log (C2SP tlog-tiles: this project's, or Rekor v2 shaped) from a saved
    /// state: verify it extends the saved checkpoint, then report new entries whose
    /// certificate identity/issuer match watch rules, entries for watched identities made
    /// by another issuer than the expected one, and (--first-signer) subjects signed by a
    /// signer not seen for them before. JSON lines on stdout; exit 1 on any alert.
    Monitor(MonitorArgs),
}

#[derive(Debug, Args)]
pub(crate) struct AuditArgs {
    /// The log: a base URL (http:// or https://, serving /checkpoint and /tile/...) or a
    /// directory laid out the same way.
    #[arg(value_name = "URL-or-DIR")]
    pub(crate) log: String,
    /// The log's public key (PEM, ECDSA P-256).
    #[arg(long = "public-key", alias = "public_key", value_name = "PUB.pem")]
    pub(crate) public_key: PathBuf,
    /// The checkpoint origin to expect (e.g. "log.example - 1"); default: the origin of
    /// the previously seen checkpoint, if any.
    #[arg(long)]
    pub(crate) origin: Option<String>,
    /// The checkpoint seen last time. The log must extend it; on success it is replaced
    /// by the new checkpoint. A missing file means a first, full audit.
    #[arg(
        long = "since-checkpoint",
        alias = "since_checkpoint",
        value_name = "FILE"
    )]
    pub(crate) since_checkpoint: Option<PathBuf>,
    /// Also require the audited checkpoint to be cosigned by a quorum of this C2SP
    /// witness policy's witnesses, and to extend the witnessed checkpoint seen last
    /// (refused naming the missing witnesses, or the fork).
    #[arg(long = "witness-policy", value_name = "FILE")]
    pub(crate) witness_policy: Option<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct MonitorArgs {
    /// The log: a base URL (http:// or https://, serving /checkpoint and /tile/...) or a
    /// directory laid out the same way.
    #[arg(value_name = "URL-or-DIR")]
    pub(crate) log: String,
    /// The log's public key (PEM, ECDSA P-256).
    #[arg(long = "public-key", value_name = "PUB.pem")]
    pub(crate) public_key: PathBuf,
    /// The checkpoint origin to expect; default: the saved checkpoint's.
    #[arg(long)]
    pub(crate) origin: Option<String>,
    /// The monitor's state (saved checkpoint and seen signers), created if missing and
    /// replaced after each verified poll.
    #[arg(long, value_name = "FILE")]
    pub(crate) state: PathBuf,
    /// A watch list file (JSON: {"rules": [{"identity" | "identity_regex", "issuer" |
    /// "issuer_regex", "expected_issuer", "name"}], "first_signer": bool}).
    #[arg(long, value_name = "RULES.json")]
    pub(crate) watch: Option<PathBuf>,
    /// Watch rules.
    #[command(flatten)]
    pub(crate) rules: super::common::WatchRuleArgs,
    /// Poll once and exit (the default when --interval is not given).
    #[arg(long, conflicts_with = "interval")]
    pub(crate) once: bool,
    /// Follow: poll every SECS seconds (at least 1).
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) interval: Option<u64>,
    /// With --interval: stop after N polls (0: never).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub(crate) polls: u64,
    /// POST each alert (a JSON object) to this URL, 10-second timeout; the URL is never
    /// printed (it may hold a token).
    #[arg(long, value_name = "URL")]
    pub(crate) webhook: Option<String>,
    /// Also require each new checkpoint to be cosigned by a quorum of this C2SP witness
    /// policy's witnesses and to extend the witnessed checkpoint seen last; a refusal is a
    /// `witness-policy` alert naming the missing witnesses or the fork, and the state is
    /// not advanced past it.
    #[arg(long = "witness-policy", value_name = "FILE")]
    pub(crate) witness_policy: Option<PathBuf>,
}
