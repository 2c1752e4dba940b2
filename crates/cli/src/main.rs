//! `hallmark`: sign and verify ML models in the OpenSSF Model Signing format.
//!
//! Thin glue over `hallmark-signing`; see `hallmark --help`. The commands beyond signing
//! and verifying are behind Cargo features (`client`, `server`; both by default).
//!
//! Modules: `util` (exit statuses, errors, file helpers) is a leaf, `args` holds the clap
//! structs, and each command module depends on those two (plus the helpers `progress`,
//! `keyless`, `keyless_v2`, `idtoken` with `ambient` and `oauth`, `http`, `trustsrc`, `lineage`, `hubclient`,
//! `pins`, `pulltrust`, `require`, `claimattach` and `stage`), never on `main` or on another command;
//! `malloc` (the allocator's tuning for the model-hashing commands) is a leaf `main` calls.

#[cfg(not(feature = "verify"))]
compile_error!("hallmark-cli needs at least the `verify` feature");

/// `println!` for command output, through [`util::write_stdout`]: a closed stdout ends the
/// process quietly instead of panicking (SIGPIPE is ignored). `std`'s printing macros are
/// refused by clippy in this crate (`clippy.toml`).
macro_rules! outln {
    () => {
        $crate::util::write_stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::util::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` for command output (see [`outln!`]).
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::util::write_stdout(format_args!($($arg)*))
    };
}

/// `eprintln!` that ignores a closed stderr, through [`util::write_stderr`].
macro_rules! errln {
    () => {
        $crate::util::write_stderr(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::util::write_stderr(format_args!("{}\n", format_args!($($arg)*)))
    };
}

#[cfg(feature = "client")]
mod ambient;
mod args;
#[cfg(feature = "client")]
mod attest;
#[cfg(feature = "client")]
mod bom;
#[cfg(feature = "client")]
mod claimattach;
mod digest;
#[cfg(feature = "client")]
mod download;
#[cfg(feature = "client")]
mod http;
#[cfg(feature = "server")]
mod hub;
#[cfg(feature = "client")]
mod hubclient;
#[cfg(feature = "server")]
mod hubexport;
#[cfg(feature = "server")]
mod hubquery;
#[cfg(feature = "client")]
mod idtoken;
mod incremental;
mod inspect;
#[cfg(feature = "client")]
mod keyless;
#[cfg(feature = "client")]
mod keyless_v2;
#[cfg(feature = "client")]
mod lineage;
#[cfg(feature = "client")]
mod log;
#[cfg(feature = "client")]
mod login;
#[cfg(feature = "client")]
mod logmonitor;
mod malloc;
#[cfg(feature = "client")]
mod oauth;
#[cfg(feature = "server")]
mod orgtrust;
#[cfg(feature = "server")]
mod orgwatch;
#[cfg(feature = "client")]
mod pins;
#[cfg(feature = "pkcs11")]
mod pkcs11;
#[cfg(feature = "client")]
mod policy;
mod progress;
#[cfg(feature = "client")]
mod pull;
#[cfg(feature = "client")]
mod pulltrust;
#[cfg(feature = "client")]
mod push;
#[cfg(feature = "client")]
mod require;
#[cfg(feature = "client")]
mod revoked;
#[cfg(feature = "client")]
mod scan;
#[cfg(feature = "server")]
mod serve;
mod sign;
#[cfg(feature = "server")]
mod sigstore;
#[cfg(feature = "client")]
mod stage;
mod trustsrc;
mod util;
mod verify;
#[cfg(feature = "client")]
mod verifyhub;
#[cfg(feature = "server")]
mod witness;
#[cfg(feature = "client")]
mod witnessed;

use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _};

use crate::args::{Cli, Command};

fn main() -> ExitCode {
    hallmark_hash::timing::mark("start");
    let command = Cli::command().mut_subcommand("verify", |v| {
        v.mut_subcommand("sigstore", |s| {
            s.after_help(format!(
                "Trust: without --trust-config or --trusted-root, the Sigstore public-good trusted root \
                 compiled into this binary is used (snapshot of {}). Verification is fully offline.",
                hallmark_sigstore::PUBLIC_GOOD_SNAPSHOT_DATE
            ))
        })
    });
    let argv = args::with_default_method(std::env::args_os().collect(), &command);
    let cli = match Cli::from_arg_matches(&command.get_matches_from(argv)) {
        Ok(c) => c,
        Err(e) => e.exit(),
    };
    // SIGPIPE stays ignored (Rust's default) for every command: a write to a socket or pipe
    // whose reader went away is an error the command reports, never a silent death; output
    // goes through `outln!`, which ends quietly when stdout's reader is gone.
    if matches!(
        cli.command,
        Command::Sign(_) | Command::Verify(_) | Command::Digest(_)
    ) {
        malloc::return_large_blocks();
    }
    hallmark_hash::timing::mark("parse arguments");
    // Each command prints its own result; an error it returns is printed here, under the
    // command's prefix, with its cause chain.
    let (prefix, outcome) = match cli.command {
        Command::Sign(m) => ("Signing failed", sign::run(m)),
        Command::Verify(m) => ("Verification failed", verify::run(m)),
        Command::Inspect(a) => ("Inspect failed", inspect::run(&a)),
        Command::Digest(a) => ("Computing digest failed", digest::run(&a)),
        Command::Completions(a) => {
            // Into memory first: clap_complete panics on a failed write.
            let mut script = Vec::new();
            clap_complete::generate(a.shell, &mut Cli::command(), "hallmark", &mut script);
            out!("{}", String::from_utf8_lossy(&script));
            ("Error", Ok(0))
        }
        #[cfg(feature = "server")]
        Command::Hub(c) => ("Error", hub::run(c)),
        #[cfg(feature = "client")]
        Command::Push(a) => ("Error", push::run(&a)),
        #[cfg(feature = "client")]
        Command::Login(a) => ("Login failed", login::run(&a)),
        #[cfg(feature = "client")]
        Command::Pull(a) => ("Error", pull::run(&a)),
        #[cfg(feature = "client")]
        Command::Log(c) => ("Error", log::run(c)),
        #[cfg(feature = "server")]
        Command::Sigstore(c) => ("Error", sigstore::run(c)),
        #[cfg(feature = "server")]
        Command::Witness(c) => ("Error", witness::run(c)),
        #[cfg(feature = "client")]
        Command::Scan(a) => ("hallmark scan", scan::run(&a)),
        #[cfg(feature = "client")]
        Command::Bom(a) => ("hallmark bom", bom::run(&a)),
        #[cfg(feature = "client")]
        Command::Attest(c) => ("hallmark attest", attest::run(c)),
        #[cfg(feature = "client")]
        Command::Policy(c) => ("Policy check failed", policy::run(c)),
    };
    let code = outcome.unwrap_or_else(|failure| failure.report(prefix));
    hallmark_hash::timing::mark("done");
    ExitCode::from(code)
}
