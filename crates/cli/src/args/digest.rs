//! `hallmark digest` options.

use std::path::PathBuf;

use clap::Args;

use super::common::{EngineArgs, HashingArgs, SelectionArgs};

#[derive(Debug, Args)]
pub(crate) struct DigestArgs {
    /// The model: a directory or a single file.
    pub(crate) model: PathBuf,
    #[command(flatten)]
    pub(crate) hashing: HashingArgs,
    #[command(flatten)]
    pub(crate) selection: SelectionArgs,
    #[command(flatten)]
    pub(crate) engine: EngineArgs,
    /// Print a JSON object instead of the `sha256:HEX` line.
    #[arg(long)]
    pub(crate) json: bool,
}
