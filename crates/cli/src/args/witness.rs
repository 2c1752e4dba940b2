//! `hallmark witness serve` options (a C2SP transparency-log witness).

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub(crate) enum WitnessCommand {
    /// Serve a C2SP tlog-witness (`POST /add-checkpoint`) for the logs in the config,
    /// cosigning with an Ed25519 key made in the data directory on first start.
    Serve(WitnessServeArgs),
}

#[derive(Debug, Args)]
pub(crate) struct WitnessServeArgs {
    /// Data directory (key, latest cosigned checkpoint per log); created on first start.
    #[arg(long = "data-dir", value_name = "DIR")]
    pub(crate) data_dir: PathBuf,
    /// Address to listen on (port 0: any free port; the URL is printed on stdout).
    #[arg(long, default_value = "127.0.0.1:8090")]
    pub(crate) listen: String,
    /// The witnessed logs, one `log <origin> <vkey>` line each (Ed25519 or ECDSA vkeys);
    /// default DIR/logs.conf.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// The witness's key name, used when the key is made (first start).
    #[arg(long, default_value = "hallmark-witness")]
    pub(crate) name: String,
}
