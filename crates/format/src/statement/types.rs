//! The statement's type names and what parsing returns (shared by the checked
//! [`super::parse_statement`] path and its fast reader).

use crate::manifest::Manifest;

/// `_type` of an in-toto Statement v1.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// The OMS predicate type written by every reference release since 0.3.
pub const PREDICATE_TYPE_V1: &str = "https://model_signing/signature/v1.0";
/// The predicate type `model_signing` 0.2.0 wrote (one subject per file).
pub const PREDICATE_TYPE_LEGACY: &str = "https://model_signing/Digests/v0.1";

pub(super) const DOC: &str = "in-toto statement";

/// Which statement layout a payload used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatementVersion {
    /// `https://model_signing/signature/v1.0`.
    V1,
    /// `https://model_signing/Digests/v0.1` (model_signing 0.2.0).
    LegacyDigestsV01,
}

/// A parsed OMS statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedStatement {
    /// Layout.
    pub version: StatementVersion,
    /// `subject[0].digest.sha256` (absent for the legacy layout, which has no root).
    pub root_digest: Option<Vec<u8>>,
    /// The manifest (model name from `subject[0].name`).
    pub manifest: Manifest,
}
