//! `hallmark bom`: an AI-BOM for a model (CycloneDX 1.6 ML-BOM or SPDX 3.0.1), linking
//! it to its datasets and base model (hallmark-bom).

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use hallmark_bom::time::now_or_source_date_epoch;
use hallmark_bom::{
    BomInput, Component, Dataset, DatasetRole, ModelCard, describe, parse_scan_report,
    summarize_signature,
};
use hallmark_hash::EngineOptions;

use crate::{EXIT_INPUT, read_input};

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum BomFormat {
    /// CycloneDX 1.6 JSON (ML-BOM).
    Cyclonedx,
    /// SPDX 3.0.1 JSON-LD (AI and Dataset profiles).
    Spdx,
}

/// `hallmark bom` options.
#[derive(Debug, Args)]
pub(crate) struct BomArgs {
    /// The model: a directory or a single file.
    pub(crate) model: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "cyclonedx")]
    pub(crate) format: BomFormat,
    /// Write the BOM here instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// OMS signature of the model (repeatable): its signer is recorded (decoded, not verified).
    #[arg(long, value_name = "SIG")]
    pub(crate) signature: Vec<PathBuf>,
    /// `hallmark scan --json` report of the model: its verdict is recorded.
    #[arg(long = "scan-report", value_name = "REPORT")]
    pub(crate) scan_report: Option<PathBuf>,
    /// Provenance attestation to reference (from `hallmark attest train`).
    #[arg(long, value_name = "FILE")]
    pub(crate) provenance: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) lineage: LineageArgs,
    /// Model name (default: the directory name, or the purl's name).
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// Model version (default: the OMS root digest, or the purl's version).
    #[arg(long = "model-version", value_name = "VERSION")]
    pub(crate) model_version: Option<String>,
    /// Model package URL, e.g. pkg:huggingface/acme/sentiment@9f2c… (default: a pkg:generic purl pinned by digest).
    #[arg(long, value_name = "PURL")]
    pub(crate) purl: Option<String>,
    /// SPDX license expression of the model.
    #[arg(long)]
    pub(crate) license: Option<String>,
    /// Supplier (organisation or person).
    #[arg(long)]
    pub(crate) supplier: Option<String>,
    /// ML task, e.g. text-classification.
    #[arg(long)]
    pub(crate) task: Option<String>,
    /// Architecture family, e.g. bert.
    #[arg(long = "architecture-family", value_name = "FAMILY")]
    pub(crate) architecture_family: Option<String>,
    /// Learning approach: supervised, unsupervised, reinforcement-learning, semi-supervised, self-supervised.
    #[arg(long)]
    pub(crate) approach: Option<String>,
}

/// Datasets and base model, shared by `bom` and `attest train`.
#[derive(Debug, Args)]
pub(crate) struct LineageArgs {
    /// Training dataset: DIR or DIR=PURL (repeatable; same as --trained-on).
    #[arg(long, value_name = "DIR[=PURL]")]
    pub(crate) dataset: Vec<String>,
    /// Dataset the model was trained on: DIR or DIR=PURL (repeatable).
    #[arg(long = "trained-on", value_name = "DIR[=PURL]")]
    pub(crate) trained_on: Vec<String>,
    /// Dataset the model was evaluated on: DIR or DIR=PURL (repeatable).
    #[arg(long = "tested-on", value_name = "DIR[=PURL]")]
    pub(crate) tested_on: Vec<String>,
    /// Base model: DIR, DIR=PURL, or a purl alone when no local copy exists.
    #[arg(long = "base-model", value_name = "DIR[=PURL]|PURL")]
    pub(crate) base_model: Option<String>,
}

/// Splits `DIR=PURL` (only when the part after `=` is a purl).
fn split_spec(spec: &str) -> (&str, Option<&str>) {
    match spec.split_once('=') {
        Some((dir, purl)) if purl.starts_with("pkg:") => (dir, Some(purl)),
        _ => (spec, None),
    }
}

/// Describes `DIR[=PURL]` from disk.
pub(crate) fn local_component(
    spec: &str,
    what: &'static str,
    engine: &EngineOptions,
) -> Result<Component, String> {
    let (dir, purl) = split_spec(spec);
    let artifact = describe(Path::new(dir), what, engine).map_err(|e| e.to_string())?;
    Component::local(artifact, purl, None).map_err(|e| format!("{what} {dir}: {e}"))
}

impl LineageArgs {
    /// The datasets, described from disk.
    pub(crate) fn datasets(&self, engine: &EngineOptions) -> Result<Vec<Dataset>, String> {
        let trained = self
            .dataset
            .iter()
            .chain(&self.trained_on)
            .map(|s| (s, DatasetRole::TrainedOn));
        let tested = self.tested_on.iter().map(|s| (s, DatasetRole::TestedOn));
        trained
            .chain(tested)
            .map(|(s, role)| {
                Ok(Dataset {
                    component: local_component(s, "dataset", engine)?,
                    role,
                })
            })
            .collect()
    }

    /// The base model: from disk, or by purl alone.
    pub(crate) fn base_model(&self, engine: &EngineOptions) -> Result<Option<Component>, String> {
        match &self.base_model {
            None => Ok(None),
            Some(s) if s.starts_with("pkg:") => Component::remote(s)
                .map(Some)
                .map_err(|e| format!("--base-model: {e}")),
            Some(s) => local_component(s, "base model", engine).map(Some),
        }
    }
}

fn build(a: &BomArgs) -> Result<BomInput, String> {
    let engine = EngineOptions::default();
    let artifact = describe(&a.model, "model", &engine).map_err(|e| e.to_string())?;
    let mut model = Component::local(artifact, a.purl.as_deref(), a.model_version.as_deref())
        .map_err(|e| format!("--purl: {e}"))?;
    if let Some(n) = &a.name {
        model.name.clone_from(n);
    }
    model.license.clone_from(&a.license);
    let mut signatures = Vec::new();
    for s in &a.signature {
        let bytes = read_input("signature", s)?;
        signatures.push(
            summarize_signature(&s.display().to_string(), &bytes).map_err(|e| e.to_string())?,
        );
    }
    let scan = match &a.scan_report {
        Some(p) => Some(
            parse_scan_report(&p.display().to_string(), &read_input("scan report", p)?)
                .map_err(|e| e.to_string())?,
        ),
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
        datasets: a.lineage.datasets(&engine)?,
        base_model: a.lineage.base_model(&engine)?,
        signatures,
        scan,
        provenance: a.provenance.as_ref().map(|p| p.display().to_string()),
        created: now_or_source_date_epoch(),
    };
    input.check().map_err(|e| format!("--{e}"))?;
    Ok(input)
}

pub(crate) fn run(a: &BomArgs) -> u8 {
    let input = match build(a) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("hallmark bom: {e}");
            return EXIT_INPUT;
        }
    };
    for s in &input.signatures {
        if s.subject_sha256
            .as_deref()
            .is_some_and(|d| Some(d) != input.model.root_sha256())
        {
            eprintln!(
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
            if let Err(e) = crate::sign::write_atomically(p, text.as_bytes()) {
                eprintln!("hallmark bom: cannot write {}: {e}", p.display());
                return EXIT_INPUT;
            }
            eprintln!(
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
        None => print!("{text}"),
    }
    0
}
