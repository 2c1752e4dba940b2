//! # hallmark-format
//!
//! The OpenSSF Model Signing (OMS) formats, as data structures with no I/O:
//!
//! * the **manifest** of per-file or per-shard digests and its serialization parameters
//!   (`files` / `shards`, `sha256` / `blake2b` / `blake3`), with the reference's
//!   canonical resource order and root digest input ([`manifest`], [`resource`]);
//! * the **in-toto Statement v1** carrying the predicate
//!   `https://model_signing/signature/v1.0`, plus a reader for the legacy
//!   `https://model_signing/Digests/v0.1` layout written by `model_signing` 0.2.0
//!   ([`statement`]);
//! * the **DSSE envelope** and its pre-authentication encoding, including the
//!   v0.2.0 compatibility PAE ([`dsse`]);
//! * the **Sigstore bundle v0.3** JSON (`application/vnd.dev.sigstore.bundle.v0.3+json`)
//!   ([`bundle`]).
//!
//! Spec versions: OMS v1.0 (ossf/model-signing-spec), interoperable with the reference
//! implementation `model_signing` 0.2.0 – 1.1.1. Deviations from the written spec follow
//! the reference where they disagree (single-file resource name `"."`, shard algorithm
//! `<hash>-sharded-<N>`, component-wise resource order); see `docs/oms-spec.md` §4.4 in
//! the research notes. Readers accept both spellings.
//!
//! Cryptography is not done here: the root digest input is exposed as bytes
//! ([`manifest::Manifest::root_digest_input`]) and hashed by the caller.

pub mod bundle;
pub mod digest;
pub mod dsse;
pub mod error;
mod json;
pub mod limits;
pub mod manifest;
pub mod resource;
pub mod resources;
pub mod statement;

pub use digest::HashAlgorithm;
pub use error::{FieldRefusal, FormatError, NameRefusal};
pub use json::b64_encode;
pub use manifest::{
    Manifest, ResourceDigest, Serialization, SerializationParams, resource_algorithm,
};
pub use resource::ResourceName;
pub use resources::{NameIter, Names, NamesFull, Resource, Resources};
