//! `hallmark policy check`: one verdict from signature, scan, provenance and AI-BOM, and
//! the model scorecard (hallmark-policy).

use hallmark_hash::EngineOptions;
use hallmark_policy::{Inputs, Policy, check};
use serde_json::json;

use crate::args::policy::PolicyCommand;
use crate::util::{EXIT_FAILED, OrExit as _, Outcome};

/// Exit status 0 when the model is allowed, [`EXIT_FAILED`] when it is denied.
pub(crate) fn run(c: PolicyCommand) -> Outcome {
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
    let d = match result.or_input() {
        Ok(d) => d,
        Err(f) => {
            if a.json {
                outln!(
                    "{}",
                    json!({ "allowed": false, "error": f.message(), "input_error": true })
                );
            }
            return Err(f);
        }
    };
    if a.json {
        outln!("{}", serde_json::to_value(&d).unwrap_or_default());
    } else {
        let refusals = d.refusals().count();
        if d.allowed {
            outln!(
                "Policy check: ALLOWED ({} sha256 {})",
                a.model.display(),
                d.model_digest.trim_start_matches("sha256:")
            );
        } else {
            outln!(
                "Policy check: DENIED ({refusals} refusal{}) for {}",
                if refusals == 1 { "" } else { "s" },
                a.model.display()
            );
        }
        for o in &d.outcomes {
            outln!(
                "  {:<8} {:<11} {}",
                if o.passed { "ok" } else { "REFUSED" },
                o.check,
                o.detail
            );
        }
        outln!();
        out!("{}", d.scorecard.table());
    }
    for o in d.refusals() {
        errln!("refused: {}: {}", o.check, o.detail);
    }
    Ok(if d.allowed { 0 } else { EXIT_FAILED })
}
