//! `hallmark digest MODEL`: the model's root digest as model_signing defines it (upstream
//! `model_signing digest`, after 1.1.1): SHA-256 over the raw per-file (or per-shard)
//! digests in manifest order, whatever the content hash: the subject digest `sign`
//! writes, for other documents to reference the model by. Same selection flags as `sign`;
//! unlike `sign`, no signature file is left out.

use anyhow::Context as _;
use hallmark_hash::HashError;
use hallmark_signing::paths::resolve_ignore_paths;
use hallmark_signing::{SignError, SignOptions, hash_model};
use serde_json::json;

use crate::args::digest::DigestArgs;
use crate::progress::Engine;
use crate::util::{EXIT_INTERRUPTED, Failure, OrExit as _, Outcome};

pub(crate) fn run(a: &DigestArgs) -> Outcome {
    let (serialization, hash) = a.hashing.params().or_input()?;
    let cwd = std::env::current_dir()
        .context("cannot determine the current directory")
        .or_input()?;
    let (ignore_paths, outside) = resolve_ignore_paths(&a.model, &cwd, &a.selection.ignore_paths);
    for p in outside {
        errln!(
            "warning: --ignore-paths {} is outside the model and has no effect",
            p.display()
        );
    }
    let engine = Engine::new(&a.engine, a.json);
    let opts = SignOptions {
        serialization,
        hash,
        allow_symlinks: a.selection.allow_symlinks,
        ignore_paths,
        ignore_git_paths: !a.selection.no_ignore_git_paths,
        signature_path: None,
        allow_empty: true,
        engine: engine.options.clone(),
    };
    let result = hash_model(&a.model, &opts);
    engine.finish();
    let manifest = match result {
        Err(SignError::Hash(HashError::Cancelled)) => return Ok(EXIT_INTERRUPTED),
        Err(e @ SignError::ModelPath { .. }) => return Err(Failure::input(e)),
        Err(e) => return Err(Failure::failed(e)),
        Ok(_) if engine.cancelled() => return Ok(EXIT_INTERRUPTED),
        Ok(m) => m,
    };
    let digest = format!(
        "sha256:{}",
        hex::encode(hallmark_crypto::sha256(manifest.root_digest_input()))
    );
    if a.json {
        let out = json!({
            "model_digest": digest,
            "model": a.model.display().to_string(),
            "model_name": manifest.model_name,
            "serialization": manifest.params.method.method(),
            "hash": manifest.params.hash.to_string(),
            "resource_count": manifest.resources.len(),
        });
        outln!("{out}");
    } else {
        outln!("{digest}");
    }
    Ok(0)
}
