//! # hallmark-bom
//!
//! AI-BOMs for ML models and the datasets they were trained and tested on:
//!
//! * **CycloneDX 1.6** ML-BOM ([`cyclonedx`]): `machine-learning-model` component with a
//!   `modelCard`, `data` components for datasets, SHA-256 of every file, signer identity,
//!   scan verdict, and a plain `dependencies` graph with package URLs (what GUAC ingests:
//!   it ignores `modelCard` and `data`, mlsecops notes §3.3);
//! * **SPDX 3.0.1** with the AI and Dataset profiles ([`spdx`]): `ai_AIPackage`,
//!   `dataset_DatasetPackage`, `trainedOn` / `testedOn` / `descendantOf` / `dependsOn`
//!   relationships.
//!
//! Both documents validate against the official JSON schemas (CycloneDX
//! `bom-1.6.schema.json`, SPDX `spdx-json-schema.json` 3.0.1), shipped in
//! `testdata/bom/schemas/` and checked in this crate's tests.
//!
//! Artifacts are described from disk by [`artifact::describe`], whose root digest is the
//! OMS subject digest (`files` + SHA-256), so a BOM, a SLSA provenance statement and a
//! model signature name a model by the same digest. Signature bundles are decoded, not
//! verified ([`evidence::summarize_signature`]); `hallmark policy check` verifies.
//!
//! Deviations: CycloneDX has no field for a dataset's role, so `trainedOn` / `testedOn`
//! are written as `hallmark:*` properties; the SPDX document omits
//! `software_downloadLocation` unless the purl is a `pkg:huggingface` one (local
//! artifacts have no download location).

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod artifact;
pub mod cyclonedx;
pub mod error;
pub mod evidence;
pub mod input;
pub mod purl;
pub mod spdx;
pub mod time;

pub use artifact::{Artifact, FileDigest, describe};
pub use cyclonedx::to_cyclonedx;
pub use error::BomError;
pub use evidence::{
    ScanSummary, ScanVerdict, SignatureSummary, parse_scan_report, summarize_signature,
};
pub use input::{AttestationRef, BomInput, Component, Dataset, DatasetRole, ModelCard};
pub use spdx::to_spdx;
