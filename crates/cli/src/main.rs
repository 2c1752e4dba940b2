//! `hallmark`: sign and verify ML models in the OpenSSF Model Signing format.
//!
//! Thin glue over `hallmark-signing`; see `hallmark --help`.

mod args;
mod attest;
mod bom;
mod hub;
mod hubclient;
mod inspect;
mod log;
mod policy;
mod progress;
mod pull;
mod push;
mod scan;
mod sign;
mod sigstore;
mod verify;

use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _};

use crate::args::{Cli, Command};

/// Exit status for a verification that ran and failed.
pub(crate) const EXIT_FAILED: u8 = 1;
/// Exit status for bad usage or unreadable inputs.
pub(crate) const EXIT_INPUT: u8 = 2;
/// Exit status after Ctrl-C.
pub(crate) const EXIT_INTERRUPTED: u8 = 130;

fn main() -> ExitCode {
    restore_sigpipe();
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
    let cli = match Cli::from_arg_matches(&command.get_matches()) {
        Ok(c) => c,
        Err(e) => e.exit(),
    };
    hallmark_hash::timing::mark("parse arguments");
    let code = match cli.command {
        Command::Sign(m) => sign::run(m),
        Command::Verify(m) => verify::run(m),
        Command::Inspect(a) => inspect::run(&a),
        Command::Hub(c) => hub::run(c),
        Command::Push(a) => push::run(&a),
        Command::Pull(a) => pull::run(&a),
        Command::Log(c) => log::run(c),
        Command::Sigstore(c) => sigstore::run(c),
        Command::Scan(a) => scan::run(&a),
        Command::Bom(a) => bom::run(&a),
        Command::Attest(c) => attest::run(c),
        Command::Policy(c) => policy::run(c),
    };
    hallmark_hash::timing::mark("done");
    ExitCode::from(code)
}

/// Largest input file read whole (keys, certificates, trust configs, signatures): the
/// signature-bundle limit. Anything larger is refused before it is read.
const MAX_INPUT_BYTES: u64 = 256 * 1024 * 1024;

/// Reads a user-supplied file, naming it in the error, refusing files over the input
/// limit without reading them (so `--signature /dev/zero` cannot exhaust memory).
pub(crate) fn read_input(what: &str, path: &std::path::Path) -> Result<Vec<u8>, String> {
    use std::io::Read as _;
    let file = std::fs::File::open(path)
        .map_err(|e| format!("cannot read {what} {}: {e}", path.display()))?;
    if file
        .metadata()
        .is_ok_and(|m| m.is_file() && m.len() > MAX_INPUT_BYTES)
    {
        return Err(format!(
            "{what} {} is larger than {MAX_INPUT_BYTES} bytes; refusing to read it",
            path.display()
        ));
    }
    let mut bytes = Vec::new();
    file.take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {what} {}: {e}", path.display()))?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(format!(
            "{what} {} is larger than {MAX_INPUT_BYTES} bytes; refusing to read it",
            path.display()
        ));
    }
    Ok(bytes)
}

/// Prints an error for the user: one line, plus an indented cause chain.
pub(crate) fn report_error(prefix: &str, err: &dyn std::error::Error) {
    eprintln!("{prefix}: {err}");
    let mut source = err.source();
    while let Some(s) = source {
        eprintln!("  caused by: {s}");
        source = s.source();
    }
}

/// Makes a closed stdout (`hallmark … | head`) end the process quietly, as Unix tools do,
/// instead of a panic in `println!`.
#[allow(unsafe_code)]
fn restore_sigpipe() {
    // SAFETY: called first thing in main, before any thread exists; SIG_DFL is a valid
    // disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
