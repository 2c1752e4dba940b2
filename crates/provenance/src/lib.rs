//! # hallmark-provenance
//!
//! SLSA build provenance for **ML training**: an in-toto Statement v1
//! (`https://in-toto.io/Statement/v1`) whose predicate is SLSA Provenance v1.0
//! (`https://slsa.dev/provenance/v1`) with the ML training buildType
//! [`statement::ML_TRAINING_BUILD_TYPE`], documented field by field in
//! `docs/ml-training-buildtype.md`. The statement is signed as a DSSE v1 envelope in a
//! Sigstore bundle v0.3 ([`sign::sign_statement`]) — the container OMS signatures use —
//! and verified with the same [`hallmark_signing::EnvelopeVerifier`]s
//! ([`verify::verify_attestation`]).
//!
//! Binding: the first subject is the model by its OMS root digest (`files` + SHA-256,
//! as [`hallmark_bom::describe`] computes it), followed by one subject per file; base
//! model and datasets are `resolvedDependencies` by purl and root digest, the training
//! code by `gitCommit`. A BOM, this provenance and an OMS signature thus name the model
//! by the same digest, and GUAC links them through the purls.
//!
//! Deviations and limits: provenance made by the `hallmark` CLI on the training machine
//! is SLSA Build L1 (the tenant could forge it); L2+ needs a hosted trainer that signs
//! with its own identity (`builder.id`). Training is not reproducible, so verification
//! checks signatures and digests, never a rebuild.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod build;
pub mod error;
pub mod sign;
pub mod statement;
pub mod verify;

pub use build::{LOCAL_BUILDER_ID, TrainingRun, build_statement, parse_code_ref, parse_param};
pub use error::ProvenanceError;
pub use sign::{sign_payload, sign_statement};
pub use statement::{ML_TRAINING_BUILD_TYPE, SLSA_PROVENANCE_V1, Statement};
pub use verify::{VerifiedProvenance, verify_attestation};
