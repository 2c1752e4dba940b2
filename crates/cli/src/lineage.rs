//! Datasets and base model described from disk, shared by `bom` and `attest train`.

use std::path::Path;

use anyhow::Context as _;
use hallmark_bom::{Component, Dataset, DatasetRole, describe};
use hallmark_hash::EngineOptions;

use crate::args::bom::LineageArgs;

/// Splits `DIR=PURL` (only when the part after `=` is a purl).
fn split_spec(spec: &str) -> (&str, Option<&str>) {
    match spec.split_once('=') {
        Some((dir, purl)) if purl.starts_with("pkg:") => (dir, Some(purl)),
        _ => (spec, None),
    }
}

/// Describes `DIR[=PURL]` from disk.
fn local_component(
    spec: &str,
    what: &'static str,
    engine: &EngineOptions,
) -> anyhow::Result<Component> {
    let (dir, purl) = split_spec(spec);
    let artifact = describe(Path::new(dir), what, engine)?;
    Component::local(artifact, purl, None).with_context(|| format!("{what} {dir}"))
}

/// The datasets of `--dataset`, `--trained-on` and `--tested-on`, described from disk.
pub(crate) fn datasets(args: &LineageArgs, engine: &EngineOptions) -> anyhow::Result<Vec<Dataset>> {
    let trained = args
        .dataset
        .iter()
        .chain(&args.trained_on)
        .map(|s| (s, DatasetRole::TrainedOn));
    let tested = args.tested_on.iter().map(|s| (s, DatasetRole::TestedOn));
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

/// The base model of `--base-model`: from disk, or by purl alone.
pub(crate) fn base_model(
    args: &LineageArgs,
    engine: &EngineOptions,
) -> anyhow::Result<Option<Component>> {
    match &args.base_model {
        None => Ok(None),
        Some(s) if s.starts_with("pkg:") => Component::remote(s).map(Some).context("--base-model"),
        Some(s) => local_component(s, "base model", engine).map(Some),
    }
}
