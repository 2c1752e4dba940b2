//! `hallmark policy check` options.

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub(crate) enum PolicyCommand {
    /// Decide whether a model may be used: exit 0 allowed, 1 denied, 2 input error.
    Check(PolicyCheckArgs),
}

#[derive(Debug, Args)]
pub(crate) struct PolicyCheckArgs {
    /// The model: a directory or a single file.
    pub(crate) model: PathBuf,
    /// The policy (TOML; see `hallmark-policy` docs for the fields).
    #[arg(long)]
    pub(crate) policy: PathBuf,
    /// OMS signature (repeatable; every one given must verify).
    #[arg(long, value_name = "SIG")]
    pub(crate) signature: Vec<PathBuf>,
    /// `hallmark scan --json` report of the model.
    #[arg(long = "scan-report", value_name = "REPORT")]
    pub(crate) scan_report: Option<PathBuf>,
    /// Provenance bundle from `hallmark attest train`.
    #[arg(long, value_name = "FILE")]
    pub(crate) provenance: Option<PathBuf>,
    /// AI-BOM from `hallmark bom` (CycloneDX or SPDX).
    #[arg(long, value_name = "FILE")]
    pub(crate) bom: Option<PathBuf>,
    /// Print the verdict and scorecard as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}
