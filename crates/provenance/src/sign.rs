//! Signing a statement as a DSSE envelope in a Sigstore bundle v0.3 — the same
//! container `hallmark sign` writes for OMS signatures, so every verifier of those
//! (key, certificate, keyless) authenticates attestations too.

use hallmark_signing::Signer;

use crate::error::ProvenanceError;
use crate::statement::Statement;

/// Serializes `statement`, signs its DSSE PAE with `signer` and returns the bundle JSON.
///
/// # Errors
/// [`ProvenanceError::Sign`] when signing fails (also when a certificate does not belong
/// to its key), and [`ProvenanceError::Encode`] when the statement does not serialize.
pub fn sign_statement(statement: &Statement, signer: &Signer) -> Result<Vec<u8>, ProvenanceError> {
    let payload = serde_json::to_vec(statement).map_err(ProvenanceError::Encode)?;
    sign_payload(payload, signer)
}

/// Signs exact payload bytes (an in-toto statement) into a bundle.
///
/// # Errors
/// As [`sign_statement`].
pub fn sign_payload(payload: Vec<u8>, signer: &Signer) -> Result<Vec<u8>, ProvenanceError> {
    Ok(hallmark_signing::sign_in_toto_payload(payload, signer)?)
}
