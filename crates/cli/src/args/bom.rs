//! `hallmark bom` options, and the lineage options `attest train` shares.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

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
