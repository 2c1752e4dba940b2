//! # hallmark-policy
//!
//! One verdict for a model — may it be loaded? — from four pieces of evidence, and a
//! model scorecard:
//!
//! * **signature**: every OMS signature given verifies (model re-hashed) and its signer is
//!   allowed: a listed public key, a certificate chaining to a listed root with an allowed
//!   SAN/subject, or a Sigstore identity with an allowed issuer
//!   (`hallmark_signing::verify_model` with `KeyVerifier` / `CertificateVerifier` /
//!   `KeylessVerifier`);
//! * **scan**: the verdict of a `hallmark scan --json` report is no worse than allowed;
//! * **provenance**: SLSA Provenance v1 of the ML training buildType
//!   (`hallmark-provenance`), signed by an allowed signer, naming this model, built by an
//!   allowed builder from allowed (and, if required, digest-pinned) datasets and base model;
//! * **BOM**: a CycloneDX 1.6 or SPDX 3.0.1 AI-BOM describing this model's digest.
//!
//! The scorecard ([`scorecard`]) adapts OpenSSF Scorecard to models (MLSecOps notes §5):
//! Signed-Model, Safe-Serialization, Scan-Clean, Provenance, Pinned-Lineage, AI-BOM,
//! License, Remote-Code — each 0–10 with a weight and what to fix. Policy files are TOML
//! ([`policy`]), version 1.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod check;
pub mod error;
pub mod evidence;
mod facts;
pub mod policy;
pub mod scorecard;
pub mod trust;

pub use check::{Decision, Inputs, Outcome, check};
pub use error::{InvalidField, PolicyError};
pub use policy::Policy;
pub use scorecard::{ScoreCheck, Scorecard};
