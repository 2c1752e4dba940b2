//! `hallmark policy check`: one verdict from signature, scan, provenance and AI-BOM, and
//! the model scorecard (hallmark-policy).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use hallmark_hash::EngineOptions;
use hallmark_policy::{Inputs, Policy, check};
use serde_json::json;

use crate::{EXIT_FAILED, EXIT_INPUT};

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

pub(crate) fn run(c: PolicyCommand) -> u8 {
    let PolicyCommand::Check(a) = c;
    let result = Policy::load(&a.policy).and_then(|p| {
        let inputs = Inputs {
            model: a.model.clone(),
            signatures: a.signature.clone(),
            scan_report: a.scan_report.clone(),
            provenance: a.provenance.clone(),
            bom: a.bom.clone(),
        };
        check(&p, &inputs, &EngineOptions::default())
    });
    let d = match result {
        Ok(d) => d,
        Err(e) => {
            if a.json {
                println!(
                    "{}",
                    json!({ "allowed": false, "error": e.to_string(), "input_error": true })
                );
            }
            eprintln!("Policy check failed: {e}");
            return EXIT_INPUT;
        }
    };
    if a.json {
        println!("{}", serde_json::to_value(&d).unwrap_or_default());
    } else {
        let refusals = d.refusals().count();
        if d.allowed {
            println!(
                "Policy check: ALLOWED ({} sha256 {})",
                a.model.display(),
                d.model_digest.trim_start_matches("sha256:")
            );
        } else {
            println!(
                "Policy check: DENIED ({refusals} refusal{}) for {}",
                if refusals == 1 { "" } else { "s" },
                a.model.display()
            );
        }
        for o in &d.outcomes {
            println!(
                "  {:<8} {:<11} {}",
                if o.passed { "ok" } else { "REFUSED" },
                o.check,
                o.detail
            );
        }
        println!();
        print!("{}", d.scorecard.table());
    }
    for o in d.refusals() {
        eprintln!("refused: {}: {}", o.check, o.detail);
    }
    if d.allowed { 0 } else { EXIT_FAILED }
}
