//! `hallmark scan` options.

use std::path::PathBuf;

use clap::Args;

/// Exit codes, shown by `hallmark scan --help`.
pub(crate) const EXIT_HELP: &str = "Exit status: 0 = every file clean; 1 = at least one file dangerous or suspicious \
(blocked by policy); 2 = usage or input error (a path cannot be read); 3 = nothing flagged, but at least one file \
unverified (parse error, unsupported variant or limit: never treated as clean); 130 = interrupted. \
Precedence: 1, then 2, then 3.";

/// `hallmark scan` options.
#[derive(Debug, Args)]
pub(crate) struct ScanArgs {
    /// Files or directories (scanned recursively; formats are identified by content).
    #[arg(required = true, value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,
    /// Print a JSON report on standard output.
    #[arg(long, conflicts_with = "sarif")]
    pub(crate) json: bool,
    /// Print a SARIF 2.1.0 log on standard output.
    #[arg(long)]
    pub(crate) sarif: bool,
    /// Allow an extra global `module.name` in pickles (repeatable; reported as an override).
    #[arg(long = "allow", value_name = "MODULE.NAME")]
    pub(crate) allow: Vec<String>,
    /// Also list clean files and informational notes.
    #[arg(long, short = 'v')]
    pub(crate) verbose: bool,
}
