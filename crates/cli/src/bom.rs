//! `hallmark bom`: an AI-BOM for a model (CycloneDX 1.6 ML-BOM or SPDX 3.0.1), linking
//! it to its datasets and base model (hallmark-bom).

use anyhow::{Context as _, anyhow};
use hallmark_bom::time::now_or_source_date_epoch;
use hallmark_bom::{
    BomInput, Component, ModelCard, describe, parse_scan_report, summarize_signature,
};
use hallmark_hash::EngineOptions;

use crate::args::bom::{BomArgs, BomFormat};
use crate::lineage;
use crate::util::{OrExit as _, Outcome, read_input, write_atomically};

fn build(a: &BomArgs) -> anyhow::Result<BomInput> {
    let engine = EngineOptions::default();
    let artifact = describe(&a.model, "model", &engine)?;
    let mut model = Component::local(artifact, a.purl.as_deref(), a.model_version.as_deref())
        .context("--purl")?;
    if let Some(n) = &a.name {
        model.name.clone_from(n);
    }
    model.license.clone_from(&a.license);
    let mut signatures = Vec::new();
    for s in &a.signature {
        let bytes = read_input("signature", s)?;
        signatures.push(summarize_signature(&s.display().to_string(), &bytes)?);
    }
    let scan = match &a.scan_report {
        Some(p) => Some(parse_scan_report(
            &p.display().to_string(),
            &read_input("scan report", p)?,
        )?),
        None => None,
    };
    let input = BomInput {
        model,
        card: ModelCard {
            task: a.task.clone(),
            architecture_family: a.architecture_family.clone(),
            approach: a.approach.clone(),
        },
        supplier: a.supplier.clone(),
        datasets: lineage::datasets(&a.lineage, &engine)?,
        base_model: lineage::base_model(&a.lineage, &engine)?,
        signatures,
        scan,
        provenance: a.provenance.as_ref().map(|p| p.display().to_string()),
        attestations: Vec::new(),
        facts: Vec::new(),
        created: now_or_source_date_epoch(),
    };
    input.check().map_err(|e| anyhow!("--{e}"))?;
    Ok(input)
}

pub(crate) fn run(a: &BomArgs) -> Outcome {
    let input = build(a).or_input()?;
    for s in &input.signatures {
        if s.subject_sha256
            .as_deref()
            .is_some_and(|d| Some(d) != input.model.root_sha256())
        {
            errln!(
                "warning: signature {} names sha256:{}, not this model's digest (or it was made with other hashing options)",
                s.file,
                s.subject_sha256.as_deref().unwrap_or_default()
            );
        }
    }
    let doc = match a.format {
        BomFormat::Cyclonedx => hallmark_bom::to_cyclonedx(&input),
        BomFormat::Spdx => hallmark_bom::to_spdx(&input),
    };
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    match &a.output {
        Some(p) => {
            write_atomically(p, text.as_bytes()).or_input()?;
            errln!(
                "Wrote {} BOM for {} (sha256:{}) to {}",
                match a.format {
                    BomFormat::Cyclonedx => "CycloneDX 1.6",
                    BomFormat::Spdx => "SPDX 3.0.1",
                },
                a.model.display(),
                input.model.root_sha256().unwrap_or_default(),
                p.display()
            );
        }
        None => out!("{text}"),
    }
    Ok(0)
}
