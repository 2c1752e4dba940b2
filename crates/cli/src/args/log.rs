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
    /// Print the result as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}
