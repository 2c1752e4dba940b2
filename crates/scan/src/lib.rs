//! # hallmark-scan
//!
//! A static scanner for ML model files: it tells, without loading anything, whether
//! loading a file would run code, import modules outside a framework allow-list, or touch
//! files, processes or the network. It reads through `Read + Seek` only, never extracts
//! archives to disk, never uses the network, and bounds every count and size
//! ([`Limits`]).
//!
//! ## Verdicts
//! Each file gets one [`Verdict`]: **clean**, **dangerous**, **suspicious** (outside the
//! allow-list: blocked by policy), or **unverified** — a parse error, an unsupported
//! variant or a limit is never "clean". Findings carry a stable rule id ([`Rule`]), the
//! archive member, the byte offset (pickle opcode offset), the `module.name` involved and
//! the call loading would make.
//!
//! ## Formats (identified by content, never by file name)
//! * **Pickle** protocols 0–5 (Python 3.8–3.14 `pickle`/`_pickle` semantics): a symbolic
//!   emulation of the whole machine — stack with mark fences, memo (PUT/GET/MEMOIZE),
//!   frames, GLOBAL/INST/STACK_GLOBAL (with computed operands and protocol-4 dotted
//!   names), REDUCE/BUILD/OBJ/NEWOBJ/NEWOBJ_EX, SETITEM(S)/APPEND(S)/ADDITEMS writes,
//!   persistent ids, EXT codes, stacked pickles, discarded call results, Python 2 name
//!   mapping (`fix_imports`).
//! * **PyTorch**: `torch.save` zip (format version 1–3, any archive prefix; storages
//!   skipped) and legacy stacked-pickle files (magic `0x1950a86a20f9469cfc6c`), legacy tar.
//! * **joblib**: pickles with inline NumPy arrays (`NumpyArrayWrapper`, alignment padding),
//!   compressed with any of joblib's compressors (zlib, gzip, bz2, xz, lzma, lz4).
//! * **NumPy** `.npy` format 1.0–3.0 (object arrays are emulated as pickles) and `.npz`.
//! * **safetensors** (format of huggingface/safetensors 0.8): strict header validation.
//! * **GGUF** v1–v3: header bounds, tensor table, `tokenizer.chat_template*` checks.
//! * **ONNX** `ModelProto` (IR 3–11): custom operator domains, external-data locations.
//! * **Keras** v3 `.keras` (zip: `config.json`), `keras_metadata.pb`, HDF5 `model_config`:
//!   Lambda layers, serialized functions, custom objects, `TorchModuleWrapper`.
//! * **TensorFlow SavedModel** `saved_model.pb` (schema 1): op allow-list.
//! * **Archives**: zip (APPNOTE 6.3.10 subset: stored, deflate, zip64 — the zip64 end
//!   records PyTorch always writes are followed), tar (ustar, pax, GNU), 7z, and the
//!   streams gzip, zlib, bzip2, xz, lzma, lz4; nested to [`Limits::max_depth`]; bombs
//!   (inflation budget, ratio cap, decoder memory), overlaps, traversal, links, header
//!   differentials, encryption flags over clear data and polyglots reported. zstd and rar
//!   are identified and reported as unverified.
//! * **Repository files**: Python sources and scripts are flagged for review; JSON configs
//!   with `auto_map` (trust_remote_code) and chat templates are checked.
//!
//! ## Policy
//! The allow-list ([`policy`]) is versioned as [`POLICY_VERSION`]; it covers the Python
//! stdlib types pickles need, PyTorch (the globals of torch 2.x's weights-only
//! unpickler), NumPy 1.x/2.x, joblib, scikit-learn, SciPy sparse, XGBoost, LightGBM and
//! transformers' training arguments. Everything else is reported; known execution,
//! nested-loader and I/O callables (pickle.loads, torch.load, numpy.load, marshal,
//! importlib, pkgutil.resolve_name, builtins.eval/exec/getattr, os, subprocess,
//! socket…) are graded dangerous. Deviations: HDF5 files are not parsed (the model config
//! is located by content); the Jinja2 check is pattern-based, not a template parser.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod ctx;
mod error;
mod formats;
mod identify;
mod io;
mod limits;
mod pickle;
pub mod policy;
mod report;
mod scanner;

use std::path::Path;

pub use error::{Result, ScanError};
pub use io::ReadSeek;
pub use limits::Limits;
pub use policy::{POLICY_VERSION, Policy};
pub use report::{FileReport, Finding, MemberReport, Rule, Severity, Verdict};

/// A configured scanner.
#[derive(Clone, Debug, Default)]
pub struct Scanner {
    limits: Limits,
    policy: Policy,
}

impl Scanner {
    /// A scanner with these limits and policy.
    #[must_use]
    pub fn new(limits: Limits, policy: Policy) -> Self {
        Self { limits, policy }
    }

    /// The policy in force.
    #[must_use]
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Scans a file, or every file under a directory (links are reported, not followed;
    /// `.git` is skipped).
    ///
    /// # Errors
    /// When the path (or a directory under it) cannot be read.
    pub fn scan_path(&self, path: &Path) -> Result<Vec<FileReport>> {
        let mut out = Vec::new();
        scanner::scan_path(path, &self.limits, &self.policy, &mut out)?;
        Ok(out)
    }

    /// Scans one seekable source, reported under `name`.
    pub fn scan_reader(&self, name: &str, r: &mut dyn ReadSeek) -> FileReport {
        scanner::scan_top(r, name, &self.limits, &self.policy, None, ctx::Role::Plain)
    }

    /// Scans bytes in memory.
    #[must_use]
    pub fn scan_bytes(&self, name: &str, bytes: &[u8]) -> FileReport {
        self.scan_reader(name, &mut std::io::Cursor::new(bytes))
    }
}
