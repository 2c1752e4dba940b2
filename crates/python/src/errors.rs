//! Rust errors → the Python exceptions the reference raises.

use std::io::ErrorKind;

use hallmark_signing::{SignError, VerifyError};
use pyo3::exceptions::{PyFileNotFoundError, PyOSError, PyValueError};
use pyo3::prelude::*;

/// `hallmark._errors.VerificationError(message, reasons)` (a `ValueError`, as the
/// reference's verification failures are).
pub(crate) fn verification_error(message: String, reasons: Vec<String>) -> PyErr {
    Python::attach(|py| {
        let made = py
            .import("hallmark._errors")
            .and_then(|m| m.getattr("VerificationError"))
            .and_then(|cls| cls.call1((message.clone(), reasons)));
        match made {
            Ok(exc) => PyErr::from_value(exc),
            Err(_) => PyValueError::new_err(message),
        }
    })
}

fn io_error(path: &str, source: &std::io::Error) -> PyErr {
    let msg = format!("{path}: {source}");
    if source.kind() == ErrorKind::NotFound {
        PyFileNotFoundError::new_err(msg)
    } else {
        PyOSError::new_err(msg)
    }
}

/// An unreadable input file (key, certificate, signature, trust config).
pub(crate) fn input_error(what: &str, path: &std::path::Path, source: &std::io::Error) -> PyErr {
    io_error(&format!("{what} {}", path.display()), source)
}

/// A key, certificate or option the caller gave that cannot be used.
pub(crate) fn value_error(what: &str, e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(format!("{what}: {e}"))
}

pub(crate) fn sign_error(e: SignError) -> PyErr {
    match &e {
        SignError::ModelPath { path, source } => io_error(&format!("model path {path}"), source),
        _ => PyValueError::new_err(e.to_string()),
    }
}

pub(crate) fn verify_error(e: VerifyError) -> PyErr {
    match e {
        VerifyError::ModelPath { path, source } => io_error(&format!("model path {path}"), &source),
        VerifyError::Mismatch(diffs) => {
            let reasons: Vec<String> = diffs.iter().map(ToString::to_string).collect();
            // The reference: ValueError(f"Signature mismatch: {diff_message}"), a list.
            let message = format!("Signature mismatch: {reasons:?}");
            verification_error(message, reasons)
        }
        other => {
            let message = other.to_string();
            verification_error(message.clone(), vec![message])
        }
    }
}
