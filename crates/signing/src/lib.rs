//! # hallmark-signing
//!
//! The library facade for OpenSSF Model Signing (OMS v1.0): [`sign::sign_model`] hashes a
//! model and produces a Sigstore bundle v0.3 that the reference `model_signing` 1.1.1
//! verifies; [`verify::verify_model`] authenticates a bundle (key, certificate, or a
//! pluggable keyless verifier), checks the statement and re-hashes the model, reporting
//! every difference by file; [`hashed::verify_hashed`] does the same with digests the
//! caller computed while the bytes arrived (a download), never reading them twice.
//!
//! Verification order (fail closed at each step): parse the bundle with limits →
//! authenticate the DSSE envelope over the exact payload bytes → check `payloadType` →
//! parse the statement → recompute the root digest in list order → hash the local model
//! with the serialization the bundle declares → compare as a map. Compared with the
//! reference: shards, blake2b and blake3 bundles verify (the reference CLI cannot),
//! duplicate and unsafe resource names are refused, and the compatibility PAE of
//! `model_signing` 0.2.0 is accepted only for 0.2.0-layout statements.

pub mod compare;
pub mod error;
pub mod hashed;
pub mod keyless;
pub mod paths;
pub mod sign;
pub mod verify;
pub mod write;

pub use error::{SignError, VerifyError};
pub use hashed::{signed_params, verify_hashed};
pub use sign::{
    ExternalKey, KeylessSignature, KeylessSigner, SignOptions, SignedModel, Signer, hash_model,
    sign_in_toto_payload, sign_manifest, sign_model,
};
pub use verify::{EnvelopeVerifier, SignerInfo, Verified, VerifyOptions, verify_model};
pub use write::write_signed_manifest;
