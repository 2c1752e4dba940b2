//! # hallmark-python
//!
//! The native half of the `hallmark` wheel: `hallmark._native`, which the pure-Python
//! package `hallmark.model_signing` (python/hallmark) calls behind an API that mirrors
//! `model_signing` 1.1.1's `signing.Config` / `verifying.Config` / `hashing.Config`.
//!
//! Every call takes plain values (paths, strings, flags) so the Python side owns the
//! builder objects and this crate owns nothing but the translation to
//! `hallmark-signing`. The GIL is released (`Python::detach`) for the whole of hashing,
//! signing and verifying, so other Python threads run while a model is hashed.
//!
//! Errors become the exceptions the reference raises: `ValueError` subclasses
//! (`hallmark._errors.VerificationError`, carrying every reason) for signatures and
//! models that do not verify, `FileNotFoundError`/`OSError` for unreadable inputs.
//!
//! Keyless *signing* is not here: its HTTP client lives in the CLI, so
//! `use_sigstore_signer` runs the `hallmark` binary that the same wheel installs.

mod errors;
mod hashing;
mod sign;
mod verify;

use pyo3::prelude::*;

/// `hallmark._native`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(sign::sign, m)?)?;
    m.add_function(wrap_pyfunction!(verify::verify, m)?)?;
    m.add_function(wrap_pyfunction!(hashing::hash, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
