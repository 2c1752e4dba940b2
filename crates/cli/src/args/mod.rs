//! Command-line surface: the clap structs, one file per command group. Every flag also
//! accepts model_signing 1.1.1's `--snake_case` spelling, so `hallmark` is a drop-in
//! replacement for `model_signing`. Commands outside the enabled Cargo features are absent.

#[cfg(feature = "client")]
pub(crate) mod attest;
#[cfg(feature = "client")]
pub(crate) mod bom;
pub(crate) mod common;
pub(crate) mod digest;
#[cfg(feature = "server")]
pub(crate) mod hub;
#[cfg(feature = "client")]
pub(crate) mod log;
#[cfg(feature = "pkcs11")]
pub(crate) mod pkcs11;
#[cfg(feature = "client")]
pub(crate) mod policy;
#[cfg(feature = "server")]
pub(crate) mod query;
#[cfg(feature = "client")]
pub(crate) mod remote;
#[cfg(feature = "client")]
pub(crate) mod require;
#[cfg(feature = "client")]
pub(crate) mod scan;
pub(crate) mod sign;
#[cfg(feature = "server")]
pub(crate) mod sigstore;
pub(crate) mod verify;
#[cfg(feature = "server")]
pub(crate) mod witness;

use clap::{Args, Parser, Subcommand};

/// Sign and verify ML models in the OpenSSF Model Signing (OMS) format.
///
/// Exit status: 0 = success (verified), 1 = verification failed, 2 = usage or input
/// error, 130 = interrupted.
#[derive(Debug, Parser)]
#[command(name = "hallmark", version = env!("HALLMARK_VERSION"), about, long_about = None, propagate_version = true)]
pub(crate) struct Cli {
    /// Accepted for compatibility with model_signing; hallmark prints warnings and errors only.
    #[arg(long = "log-level", alias = "log_level", global = true, hide = true)]
    pub(crate) log_level: Option<String>,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Sign a model (a directory or a single file); without a method, `sigstore`.
    #[command(subcommand)]
    Sign(sign::SignMethod),
    /// Verify a model against its signature; without a method, `sigstore`.
    #[command(subcommand)]
    Verify(verify::VerifyMethod),
    /// Decode a signature and show what it claims, WITHOUT verifying anything.
    Inspect(verify::InspectArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) on stdout.
    Completions(CompletionsArgs),
    /// Print the model's root digest (`sha256:HEX`), the subject digest `sign` writes.
    Digest(digest::DigestArgs),
    /// Run and administer the model hub (`hub serve`, `hub admin ...`).
    #[cfg(feature = "server")]
    #[command(subcommand)]
    Hub(hub::HubCommand),
    /// Upload a model directory to a hub as a new revision (the hub signs it).
    #[cfg(feature = "client")]
    Push(remote::PushArgs),
    /// Store a hub API token for push and pull (checked against the hub first).
    #[cfg(feature = "client")]
    Login(remote::LoginArgs),
    /// Download a model from a hub and verify its signature.
    #[cfg(feature = "client")]
    Pull(remote::PullArgs),
    /// Transparency-log tools (audit a log like a monitor / witness).
    #[cfg(feature = "client")]
    #[command(subcommand)]
    Log(log::LogCommand),
    /// Run a private Sigstore instance (OIDC issuer, CA, transparency log).
    #[cfg(feature = "server")]
    #[command(subcommand)]
    Sigstore(sigstore::SigstoreCommand),
    /// Run a C2SP transparency-log witness (cosigns checkpoints it has checked).
    #[cfg(feature = "server")]
    #[command(subcommand)]
    Witness(witness::WitnessCommand),
    /// Scan model files for code-execution payloads, without loading them.
    #[cfg(feature = "client")]
    #[command(after_help = scan::EXIT_HELP)]
    Scan(scan::ScanArgs),
    /// Write an AI-BOM for a model: CycloneDX 1.6 ML-BOM or SPDX 3.0.1 AI/Dataset.
    #[cfg(feature = "client")]
    Bom(bom::BomArgs),
    /// SLSA provenance for ML training: `train` writes it, `verify` checks it.
    #[cfg(feature = "client")]
    #[command(subcommand)]
    Attest(attest::AttestCommand),
    /// Decide whether a model may be used (signature, scan, provenance, BOM) and score it.
    #[cfg(feature = "client")]
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
}

/// model_signing's default method: `sign MODEL …` and `verify MODEL …` mean `sign sigstore
/// MODEL …` / `verify sigstore MODEL …`. Inserts `sigstore` after `sign`/`verify` when the
/// next argument names none of that command's methods (nor asks for help), as the
/// reference's `_PKICmdGroup` does. Arguments are otherwise unchanged.
pub(crate) fn with_default_method(
    mut args: Vec<std::ffi::OsString>,
    cmd: &clap::Command,
) -> Vec<std::ffi::OsString> {
    // The first argument that is not the global `--log-level VALUE` is the command.
    let mut i = 1;
    while let Some(a) = args.get(i).and_then(|a| a.to_str()) {
        match a {
            "--log-level" | "--log_level" => i += 2,
            a if a.starts_with("--log-level=") || a.starts_with("--log_level=") => i += 1,
            _ => break,
        }
    }
    let Some(group) = args
        .get(i)
        .and_then(|a| a.to_str())
        .filter(|a| matches!(*a, "sign" | "verify"))
        .and_then(|a| cmd.find_subcommand(a))
    else {
        return args;
    };
    if group.find_subcommand("sigstore").is_none() {
        return args;
    }
    let explicit = match args.get(i + 1).and_then(|a| a.to_str()) {
        None => true,
        Some("-h" | "--help" | "help") => true,
        Some(next) => group.find_subcommand(next).is_some(),
    };
    if !explicit {
        args.insert(i + 1, "sigstore".into());
    }
    args
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::*;

    fn rewrite(args: &[&str]) -> Vec<String> {
        let args = args.iter().map(std::ffi::OsString::from).collect();
        with_default_method(args, &Cli::command())
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn sign_and_verify_default_to_sigstore_like_the_reference() {
        assert_eq!(
            rewrite(&["hm", "verify", "model", "--signature", "s"]),
            ["hm", "verify", "sigstore", "model", "--signature", "s"]
        );
        assert_eq!(
            rewrite(&["hm", "--log-level", "INFO", "verify", "--use_staging", "m"]),
            [
                "hm",
                "--log-level",
                "INFO",
                "verify",
                "sigstore",
                "--use_staging",
                "m"
            ]
        );
        for unchanged in [
            &["hm", "verify", "key", "m"][..],
            &["hm", "verify", "sigstore", "m"],
            &["hm", "verify", "--help"],
            &["hm", "verify"],
            &["hm", "inspect", "model.sig"],
        ] {
            assert_eq!(rewrite(unchanged), unchanged);
        }
        #[cfg(feature = "client")]
        assert_eq!(
            rewrite(&["hm", "sign", "m"]),
            ["hm", "sign", "sigstore", "m"]
        );
    }
}

#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell, e.g. `hallmark completions bash > /etc/bash_completion.d/hallmark`.
    #[arg(value_enum)]
    pub(crate) shell: clap_complete::Shell,
}
