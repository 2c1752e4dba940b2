//! What the checks found ([`Facts`]) and its scoring (MLSecOps notes §5 mapping of
//! Scorecard checks).

use hallmark_bom::{Artifact, ScanSummary, ScanVerdict};
use hallmark_provenance::VerifiedProvenance;

use crate::evidence::BomFacts;
use crate::scorecard::{Scorecard, check, ratio};

/// What the checks found, for the scorecard.
#[derive(Debug, Default)]
pub(crate) struct Facts {
    pub(crate) signed_by: Option<String>,
    pub(crate) scan: Option<ScanSummary>,
    pub(crate) provenance: Option<VerifiedProvenance>,
    pub(crate) bom: Option<BomFacts>,
}

/// Extensions of formats that run code when loaded (pickle and pickle-in-zip).
const UNSAFE_EXTENSIONS: [&str; 8] = [
    ".pkl", ".pickle", ".pt", ".pth", ".bin", ".ckpt", ".joblib", ".dill",
];

fn unsafe_files(facts: &Facts, model: &Artifact) -> Vec<String> {
    let mut out: Vec<String> = model
        .files
        .iter()
        .filter(|f| {
            UNSAFE_EXTENSIONS
                .iter()
                .any(|e| f.path.to_ascii_lowercase().ends_with(e))
        })
        .map(|f| f.path.clone())
        .collect();
    if let Some(scan) = &facts.scan {
        for f in &scan.files {
            let fmt = f.format.to_ascii_lowercase();
            if (fmt.contains("pickle") || fmt.contains("torch"))
                && !out.iter().any(|p| f.path.ends_with(p.as_str()))
            {
                out.push(f.path.clone());
            }
        }
    }
    out
}

fn remote_code(facts: &Facts, model: &Artifact) -> Vec<String> {
    let mut out: Vec<String> = model
        .files
        .iter()
        .filter(|f| f.path.ends_with(".py"))
        .map(|f| f.path.clone())
        .collect();
    if let Some(config) = model.files.iter().find(|f| f.path == "config.json")
        && std::fs::read(model.path.join(&config.path))
            .is_ok_and(|b| b.windows(8).any(|w| w == b"auto_map"))
    {
        out.push("config.json (auto_map)".into());
    }
    if let Some(scan) = &facts.scan {
        for f in &scan.files {
            if f.rules
                .iter()
                .any(|r| r == "HM-GEN-002" || r == "HM-GEN-003")
                && !out.contains(&f.path)
            {
                out.push(f.path.clone());
            }
        }
    }
    out
}

/// The scorecard for what was found.
pub(crate) fn scorecard(facts: &Facts, model: &Artifact) -> Scorecard {
    let mut checks = Vec::new();
    checks.push(match &facts.signed_by {
        Some(s) => check("Signed-Model", 10, 10, format!("signed by {s}"), ""),
        None => check(
            "Signed-Model",
            0,
            10,
            "no signature by an allowed signer verified",
            "sign with `hallmark sign` as an allowed signer; pass --signature",
        ),
    });
    let unsafe_ = unsafe_files(facts, model);
    checks.push(check(
        "Safe-Serialization",
        ratio(
            model.files.len().saturating_sub(unsafe_.len()),
            model.files.len(),
        ),
        8,
        if unsafe_.is_empty() {
            "no pickle-based files".to_owned()
        } else {
            format!("pickle-based: {}", unsafe_.join(", "))
        },
        "convert weights to safetensors (or GGUF/ONNX) and drop pickle files",
    ));
    checks.push(match &facts.scan {
        Some(s) if s.verdict == ScanVerdict::Clean => check(
            "Scan-Clean",
            10,
            10,
            format!("{} files clean", s.files.len()),
            "",
        ),
        Some(s) if s.verdict == ScanVerdict::Unverified => check(
            "Scan-Clean",
            5,
            10,
            "some files could not be checked completely",
            "replace the unverified files with a safe format",
        ),
        Some(s) => check(
            "Scan-Clean",
            0,
            10,
            format!("verdict {}", s.verdict.as_str()),
            "remove or replace the flagged files, then re-scan",
        ),
        None => check(
            "Scan-Clean",
            0,
            10,
            "no scan report",
            "run `hallmark scan --json` and pass --scan-report",
        ),
    });
    let (prov, lineage) = match &facts.provenance {
        Some(p) => {
            let deps: Vec<_> = p
                .statement
                .predicate
                .build_definition
                .resolved_dependencies
                .iter()
                .filter(|d| matches!(d.role(), Some("baseModel" | "trainedOn" | "testedOn")))
                .collect();
            let pinned = deps.iter().filter(|d| is_pinned(d)).count();
            let builder = &p.statement.predicate.run_details.builder.id;
            (
                check(
                    "Provenance",
                    10,
                    7,
                    format!("SLSA v1, builder {builder}"),
                    "",
                ),
                if deps.is_empty() {
                    check(
                        "Pinned-Lineage",
                        5,
                        5,
                        "no datasets or base model declared",
                        "declare datasets (--dataset) and the base model in the provenance",
                    )
                } else {
                    check(
                        "Pinned-Lineage",
                        ratio(pinned, deps.len()),
                        5,
                        format!(
                            "{pinned}/{} inputs pinned (digest or purl version)",
                            deps.len()
                        ),
                        "attest datasets and base model from local copies so they are pinned by digest",
                    )
                },
            )
        }
        None => (
            check(
                "Provenance",
                0,
                7,
                "no verified provenance",
                "run `hallmark attest train` and pass --provenance",
            ),
            check(
                "Pinned-Lineage",
                0,
                5,
                "unknown (no provenance)",
                "attest training with datasets and base model by digest",
            ),
        ),
    };
    checks.push(prov);
    checks.push(lineage);
    match &facts.bom {
        Some(b) if b.model_sha256.as_deref() == Some(model.root_sha256.as_str()) => {
            checks.push(check(
                "AI-BOM",
                b.completeness(),
                5,
                format!(
                    "{} completeness {}/10",
                    b.kind.as_deref().unwrap_or("?"),
                    b.completeness()
                ),
                "add model card facts, datasets, license and supplier to the BOM",
            ));
            checks.push(if b.has_license {
                check("License", 10, 3, "declared in the BOM", "")
            } else {
                check(
                    "License",
                    0,
                    3,
                    "no license in the BOM",
                    "declare the model license (hallmark bom --license)",
                )
            });
        }
        _ => {
            checks.push(check(
                "AI-BOM",
                0,
                5,
                "no BOM for this model",
                "run `hallmark bom` and pass --bom",
            ));
            checks.push(check(
                "License",
                0,
                3,
                "unknown (no BOM)",
                "declare the model license in a BOM",
            ));
        }
    }
    let remote = remote_code(facts, model);
    checks.push(if remote.is_empty() {
        check("Remote-Code", 10, 5, "no Python code or auto_map", "")
    } else {
        check(
            "Remote-Code",
            0,
            5,
            format!("custom code: {}", remote.join(", ")),
            "remove custom code (trust_remote_code) or review and pin it",
        )
    });
    Scorecard::new(checks)
}

/// Pinned: resolved by digest, or named by a purl with a version (an immutable revision
/// for hub purls).
pub(crate) fn is_pinned(d: &hallmark_provenance::statement::ResourceDescriptor) -> bool {
    d.sha256().is_some()
        || d.uri.as_deref().is_some_and(|u| {
            let base = hallmark_bom::purl::without_qualifiers(u);
            base.starts_with("pkg:")
                && base
                    .rsplit_once('@')
                    .is_some_and(|(_, v)| !v.is_empty() && !v.contains('/'))
        })
}
