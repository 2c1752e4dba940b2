//! The hashing configuration (`hashing.Config`) as the Python side hands it over, and
//! `hallmark._native.hash` (what `hashing.Config().hash(model)` returns).

use std::path::{Path, PathBuf};

use hallmark_format::{HashAlgorithm, Serialization};
use hallmark_hash::EngineOptions;
use hallmark_signing::paths::{resolve, resolve_ignore_paths};
use hallmark_signing::{SignOptions, hash_model};
use pyo3::prelude::*;

use crate::errors::{sign_error, value_error};

/// `hashing.Config` flattened to a dict by python/hallmark/model_signing/hashing.py.
#[derive(Debug, FromPyObject)]
#[pyo3(from_item_all)]
pub(crate) struct HashingOptions {
    /// `files` or `shards`; `None` (verification only): as the signature says.
    method: Option<String>,
    /// `sha256`, `blake2` or `blake3` (the reference's spelling).
    hashing_algorithm: String,
    /// Bytes per shard.
    shard_size: u64,
    /// Follow symlinks to files.
    allow_symlinks: bool,
    /// Paths to exclude, relative to the model directory (or absolute inside it).
    ignore_paths: Vec<PathBuf>,
    /// Exclude `.git`, `.gitattributes`, `.github`, `.gitignore`.
    ignore_git_paths: bool,
    /// Worker threads (`None`: one per core).
    max_workers: Option<usize>,
}

impl HashingOptions {
    pub(crate) fn serialization(&self) -> PyResult<Serialization> {
        match self.method.as_deref().unwrap_or("files") {
            "files" => Ok(Serialization::Files),
            "shards" if self.shard_size == 0 => {
                Err(value_error("shard_size", "must be greater than 0"))
            }
            // The reference hashes BLAKE3 "shards" as whole files.
            "shards" if self.hashing_algorithm == "blake3" => Ok(Serialization::Files),
            "shards" => Ok(Serialization::Shards {
                shard_size: self.shard_size,
            }),
            other => Err(value_error(
                "serialization method",
                format!("{other:?} is not files or shards"),
            )),
        }
    }

    /// Whether the caller chose a serialization (else verification takes the signature's).
    pub(crate) fn chosen(&self) -> bool {
        self.method.is_some()
    }

    pub(crate) fn hash(&self) -> PyResult<HashAlgorithm> {
        HashAlgorithm::from_name(&self.hashing_algorithm).ok_or_else(|| {
            value_error(
                "hashing_algorithm",
                format!("Unsupported hashing method {}", self.hashing_algorithm),
            )
        })
    }

    pub(crate) fn allow_symlinks(&self) -> bool {
        self.allow_symlinks
    }

    pub(crate) fn ignore_git_paths(&self) -> bool {
        self.ignore_git_paths
    }

    pub(crate) fn engine(&self) -> EngineOptions {
        EngineOptions {
            threads: self.max_workers.unwrap_or(0),
            ..EngineOptions::default()
        }
    }

    /// The ignore paths as model-relative POSIX paths. As in the reference API they are
    /// relative to the model directory; those that resolve outside it are dropped.
    pub(crate) fn model_ignore_paths(&self, model: &Path) -> Vec<String> {
        let cwd = std::env::current_dir().unwrap_or_default();
        let root = resolve(model, &cwd);
        resolve_ignore_paths(&root, &root, &self.ignore_paths).0
    }

    pub(crate) fn sign_options(
        &self,
        model: &Path,
        signature: Option<&Path>,
    ) -> PyResult<SignOptions> {
        Ok(SignOptions {
            serialization: self.serialization()?,
            hash: self.hash()?,
            allow_symlinks: self.allow_symlinks,
            ignore_paths: self.model_ignore_paths(model),
            ignore_git_paths: self.ignore_git_paths,
            signature_path: signature.map(Path::to_path_buf),
            // The reference signs empty models.
            allow_empty: true,
            engine: self.engine(),
        })
    }
}

/// A hashed model: `(model_name, serialization, [(name, algorithm, hex digest)])`.
type HashedModel = (String, String, Vec<(String, String, String)>);

/// Hashes a model the way signing would (`hashing.Config().hash(model)`), GIL released.
#[pyfunction]
pub(crate) fn hash(
    py: Python<'_>,
    model: PathBuf,
    hashing: HashingOptions,
) -> PyResult<HashedModel> {
    let opts = hashing.sign_options(&model, None)?;
    let manifest = py
        .detach(|| hash_model(&model, &opts))
        .map_err(sign_error)?;
    let resources = manifest
        .resources
        .iter()
        .map(|r| (r.to_string(), r.algorithm.to_owned(), hex::encode(r.digest)))
        .collect();
    Ok((
        manifest.model_name,
        manifest.params.method.method().to_owned(),
        resources,
    ))
}
