//! `policy check`: one verdict from signature, scan, provenance and BOM, and the
//! scorecard. Every refusal names the check, the file and what is wrong.

use std::path::{Path, PathBuf};

use hallmark_bom::{Artifact, describe, parse_scan_report};
use hallmark_hash::EngineOptions;
use hallmark_provenance::verify_attestation;
use hallmark_signing::{VerifyOptions, verify_model};
use serde::Serialize;
use serde_json::Value;

use crate::error::PolicyError;
use crate::evidence::read_bom;
use crate::facts::{Facts, is_pinned};
use crate::policy::{Policy, purl_matches};
use crate::scorecard::Scorecard;
use crate::trust::{Trust, authenticate, load_keys, signature_trust};

/// The evidence files to judge.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    /// The model directory or file.
    pub model: PathBuf,
    /// OMS signature bundles (each must verify).
    pub signatures: Vec<PathBuf>,
    /// `hallmark scan --json` report.
    pub scan_report: Option<PathBuf>,
    /// Provenance bundle from `hallmark attest train`.
    pub provenance: Option<PathBuf>,
    /// CycloneDX or SPDX BOM from `hallmark bom`.
    pub bom: Option<PathBuf>,
}

/// The result of one check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// `signature`, `scan`, `provenance`, `bom` or `scorecard`.
    pub check: &'static str,
    /// Passed, or refused.
    pub passed: bool,
    /// What was found (a passed check) or why it was refused.
    pub detail: String,
}

/// The verdict.
#[derive(Clone, Debug, Serialize)]
pub struct Decision {
    /// Whether the model may be used.
    pub allowed: bool,
    /// The model's OMS root digest.
    pub model_digest: String,
    /// Every check, passed and refused.
    pub outcomes: Vec<Outcome>,
    /// The model scorecard.
    pub scorecard: Scorecard,
}

impl Decision {
    /// The refusals.
    pub fn refusals(&self) -> impl Iterator<Item = &Outcome> {
        self.outcomes.iter().filter(|o| !o.passed)
    }
}

struct Run<'a> {
    policy: &'a Policy,
    outcomes: Vec<Outcome>,
}

impl Run<'_> {
    fn pass(&mut self, check: &'static str, detail: impl Into<String>) {
        self.outcomes.push(Outcome {
            check,
            passed: true,
            detail: detail.into(),
        });
    }

    fn refuse(&mut self, check: &'static str, detail: impl Into<String>) {
        self.outcomes.push(Outcome {
            check,
            passed: false,
            detail: detail.into(),
        });
    }
}

fn read(what: &'static str, p: &Path) -> Result<Vec<u8>, PolicyError> {
    std::fs::read(p).map_err(|e| PolicyError::Read {
        what,
        path: p.display().to_string(),
        source: e,
    })
}

/// Runs every check of `policy` on `inputs`.
///
/// # Errors
/// [`PolicyError`] when the policy's trust material, the model or a given evidence file
/// cannot be read or parsed (no verdict is possible).
pub fn check(
    policy: &Policy,
    inputs: &Inputs,
    engine: &EngineOptions,
) -> Result<Decision, PolicyError> {
    let model = describe(&inputs.model, "model", engine)?;
    let mut run = Run {
        policy,
        outcomes: Vec::new(),
    };
    let mut facts = Facts::default();
    let trust = signature_trust(policy)?;
    check_signatures(&mut run, &mut facts, &trust, inputs, engine)?;
    check_scan(&mut run, &mut facts, inputs)?;
    check_provenance(&mut run, &mut facts, &trust, inputs, &model)?;
    check_bom(&mut run, &mut facts, inputs, &model)?;
    let scorecard = crate::facts::scorecard(&facts, &model);
    if let Some(min) = policy.scorecard.min_score {
        if scorecard.score + f64::EPSILON < min {
            run.refuse(
                "scorecard",
                format!(
                    "score {:.1} is below the policy minimum {min:.1}",
                    scorecard.score
                ),
            );
        } else {
            run.pass(
                "scorecard",
                format!("score {:.1} ≥ {min:.1}", scorecard.score),
            );
        }
    }
    Ok(Decision {
        allowed: run.outcomes.iter().all(|o| o.passed),
        model_digest: format!("sha256:{}", model.root_sha256),
        outcomes: run.outcomes,
        scorecard,
    })
}

fn check_signatures(
    run: &mut Run<'_>,
    facts: &mut Facts,
    trust: &Trust,
    inputs: &Inputs,
    engine: &EngineOptions,
) -> Result<(), PolicyError> {
    if inputs.signatures.is_empty() {
        if run.policy.signature.required {
            run.refuse("signature", "no signature given (pass --signature FILE); the policy requires one by an allowed signer");
        }
        return Ok(());
    }
    for sig in &inputs.signatures {
        let bytes = read("signature", sig)?;
        let what = format!("signature {}", sig.display());
        let opts = VerifyOptions {
            signature_path: Some(sig.clone()),
            engine: engine.clone(),
            ..VerifyOptions::default()
        };
        let result = authenticate(trust, &what, &bytes, &mut |v| {
            verify_model(&inputs.model, &bytes, v, &opts)
                .map(|ok| (ok.clone(), ok.signer))
                .map_err(|e| describe_verify_error(&e))
        });
        match result {
            Ok((verified, signer)) => {
                run.pass(
                    "signature",
                    format!(
                        "{what}: signed by {signer}; {} resources re-hashed and matched",
                        verified.resources
                    ),
                );
                facts.signed_by.get_or_insert(signer);
            }
            Err(reason) => run.refuse("signature", reason),
        }
    }
    Ok(())
}

fn check_scan(run: &mut Run<'_>, facts: &mut Facts, inputs: &Inputs) -> Result<(), PolicyError> {
    let Some(path) = &inputs.scan_report else {
        if run.policy.scan.required {
            run.refuse("scan", "no scan report given (run `hallmark scan --json MODEL > scan.json` and pass --scan-report scan.json)");
        }
        return Ok(());
    };
    let report = parse_scan_report(&path.display().to_string(), &read("scan report", path)?)?;
    let ceiling = run.policy.scan.ceiling()?;
    if report.files.is_empty() {
        run.refuse(
            "scan",
            format!("scan report {} lists no files", path.display()),
        );
    } else if report.verdict > ceiling {
        let flagged: Vec<String> = report
            .flagged()
            .filter(|f| f.verdict > ceiling)
            .map(|f| {
                let msg = f
                    .first_message
                    .as_deref()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default();
                format!(
                    "{} is {} ({}){msg}",
                    f.path,
                    f.verdict.as_str(),
                    f.rules.join(", ")
                )
            })
            .collect();
        run.refuse(
            "scan",
            format!(
                "scan report {}: verdict {}, the policy accepts at most {}: {}",
                path.display(),
                report.verdict.as_str(),
                ceiling.as_str(),
                flagged.join("; ")
            ),
        );
    } else {
        run.pass(
            "scan",
            format!(
                "scan report {}: {} files, verdict {}",
                path.display(),
                report.files.len(),
                report.verdict.as_str()
            ),
        );
    }
    facts.scan = Some(report);
    Ok(())
}

fn check_provenance(
    run: &mut Run<'_>,
    facts: &mut Facts,
    sig_trust: &Trust,
    inputs: &Inputs,
    model: &Artifact,
) -> Result<(), PolicyError> {
    let p = &run.policy.provenance;
    let Some(path) = &inputs.provenance else {
        if p.required {
            run.refuse(
                "provenance",
                "no provenance given (pass --provenance FILE from `hallmark attest train`)",
            );
        }
        return Ok(());
    };
    let bytes = read("provenance", path)?;
    let keys = if p.public_keys.is_empty() {
        sig_trust.keys.clone()
    } else {
        load_keys(run.policy, "provenance.public_keys", &p.public_keys)?
    };
    let trust = Trust {
        keys,
        roots: sig_trust.roots.clone(),
        identities: sig_trust.identities.clone(),
        issuers: sig_trust.issuers.clone(),
        trusted_root: sig_trust.trusted_root.clone(),
    };
    let what = format!("provenance {}", path.display());
    let verified = authenticate(&trust, &what, &bytes, &mut |v| {
        verify_attestation(&bytes, v)
            .map(|ok| (ok.clone(), ok.signer))
            .map_err(|e| e.to_string())
    });
    let (mut vp, signer) = match verified {
        Ok(x) => x,
        Err(reason) => {
            run.refuse("provenance", reason);
            return Ok(());
        }
    };
    let before = run.outcomes.len();
    if let Err(e) = vp.check_model(model) {
        run.refuse("provenance", format!("{what}: {e}"));
    }
    let builder = vp.statement.predicate.run_details.builder.id.clone();
    if !p.builders.is_empty() && !p.builders.contains(&builder) {
        run.refuse(
            "provenance",
            format!(
                "{what}: builder {builder} is not allowed; the policy allows {}",
                p.builders.join(", ")
            ),
        );
    }
    for d in &vp
        .statement
        .predicate
        .build_definition
        .resolved_dependencies
    {
        let (role, allowed, noun) = match d.role() {
            Some(r @ ("trainedOn" | "testedOn")) => (r, &p.allowed_datasets, "dataset"),
            Some(r @ "baseModel") => (r, &p.allowed_base_models, "base model"),
            _ => continue,
        };
        let uri = d.uri.as_deref().unwrap_or("(no uri)");
        if let Some(list) = allowed
            && !list.iter().any(|pat| purl_matches(pat, uri))
        {
            let allowed = if list.is_empty() {
                "none".to_owned()
            } else {
                list.join(", ")
            };
            run.refuse(
                "provenance",
                format!(
                    "{what}: {noun} {uri} ({role}) is not allowed by the policy; allowed: {allowed}"
                ),
            );
        }
        if p.require_pinned_lineage && !is_pinned(d) {
            run.refuse(
                "provenance",
                format!("{what}: {noun} {uri} is not pinned (no digest, and its purl has no @version); pinned lineage is required"),
            );
        }
    }
    if run.outcomes.len() == before {
        run.pass(
            "provenance",
            format!("{what}: signed by {signer}; builder {builder}; subject matches the model"),
        );
    }
    facts.provenance = Some(vp);
    Ok(())
}

fn check_bom(
    run: &mut Run<'_>,
    facts: &mut Facts,
    inputs: &Inputs,
    model: &Artifact,
) -> Result<(), PolicyError> {
    let Some(path) = &inputs.bom else {
        if run.policy.bom.required {
            run.refuse("bom", "no AI-BOM given (run `hallmark bom MODEL --format cyclonedx > bom.json` and pass --bom bom.json)");
        }
        return Ok(());
    };
    let doc: Value =
        serde_json::from_slice(&read("BOM", path)?).map_err(|e| PolicyError::BomNotJson {
            path: path.display().to_string(),
            source: e,
        })?;
    let f = read_bom(&doc);
    match (&f.kind, &f.model_sha256) {
        (None, _) => run.refuse(
            "bom",
            format!(
                "BOM {} is neither CycloneDX nor SPDX 3 JSON",
                path.display()
            ),
        ),
        (Some(_), None) => run.refuse(
            "bom",
            format!(
                "BOM {} has no SHA-256 for a machine-learning-model component",
                path.display()
            ),
        ),
        (Some(k), Some(d)) if *d != model.root_sha256 => run.refuse(
            "bom",
            format!(
                "BOM {} ({k}) describes sha256:{d}, but the model is sha256:{}",
                path.display(),
                model.root_sha256
            ),
        ),
        (Some(k), Some(_)) => run.pass(
            "bom",
            format!(
                "BOM {} ({k}) describes this model; completeness {}/10",
                path.display(),
                f.completeness()
            ),
        ),
    }
    facts.bom = Some(f);
    Ok(())
}

/// A verification error with every difference named.
fn describe_verify_error(e: &hallmark_signing::VerifyError) -> String {
    match e {
        hallmark_signing::VerifyError::Mismatch(diffs) => {
            let shown: Vec<String> = diffs.iter().take(20).map(ToString::to_string).collect();
            let more = diffs.len().saturating_sub(shown.len());
            let more = if more > 0 {
                format!("; … and {more} more")
            } else {
                String::new()
            };
            format!("{e}: {}{more}", shown.join("; "))
        }
        _ => e.to_string(),
    }
}
