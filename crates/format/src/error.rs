//! Errors for parsing and building OMS documents.

use thiserror::Error;

/// Why an OMS document (bundle, envelope, statement, manifest) was refused.
///
/// Every message names the field, resource or value involved.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum FormatError {
    /// The signature file is larger than the configured limit.
    #[error("signature bundle is {size} bytes, over the {limit}-byte limit")]
    TooLarge {
        /// Actual size.
        size: usize,
        /// Limit.
        limit: usize,
    },
    /// The bytes are not JSON, or not the JSON shape expected.
    #[error("{what} is not valid JSON: {source}")]
    Json {
        /// Which document.
        what: &'static str,
        /// Parser error (line and column).
        #[source]
        source: serde_json::Error,
    },
    /// A required field is absent.
    #[error("{what}: missing field `{field}`")]
    MissingField {
        /// Which document.
        what: &'static str,
        /// Field path.
        field: String,
    },
    /// A field has the wrong type or an invalid value.
    #[error("{what}: field `{field}` {reason}")]
    BadField {
        /// Which document.
        what: &'static str,
        /// Field path.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A field the format does not define.
    #[error(
        "{what}: unknown field `{field}` (the reference model_signing rejects bundles with unknown fields)"
    )]
    UnknownField {
        /// Which document.
        what: &'static str,
        /// Field path.
        field: String,
    },
    /// The bundle's media type is not the one OMS uses.
    #[error(
        "unsupported bundle mediaType {found:?}; expected \"application/vnd.dev.sigstore.bundle.v0.3+json\""
    )]
    MediaType {
        /// What the bundle says.
        found: String,
    },
    /// The DSSE payload type is not in-toto.
    #[error("unsupported DSSE payloadType {found:?}; expected \"application/vnd.in-toto+json\"")]
    PayloadType {
        /// What the envelope says.
        found: String,
    },
    /// The statement `_type` is wrong.
    #[error(
        "unsupported in-toto statement _type {found:?}; expected \"https://in-toto.io/Statement/v1\""
    )]
    StatementType {
        /// What the statement says.
        found: String,
    },
    /// The predicate type is neither OMS v1.0 nor the legacy v0.1.
    #[error(
        "unsupported predicateType {found:?}; expected \"https://model_signing/signature/v1.0\""
    )]
    PredicateType {
        /// What the statement says.
        found: String,
    },
    /// Base64 that does not decode.
    #[error("{field} is not valid standard base64: {reason}")]
    Base64 {
        /// Field path.
        field: String,
        /// Decoder error.
        reason: String,
    },
    /// A resource identifier that is malformed or unsafe.
    #[error("resource name {name:?} is not allowed: {reason}")]
    BadResourceName {
        /// The name as recorded.
        name: String,
        /// Why it was refused.
        reason: String,
    },
    /// The same resource appears twice.
    #[error("resource {name:?} is listed more than once in the manifest")]
    DuplicateResource {
        /// The duplicated name.
        name: String,
    },
    /// More resources than the configured limit.
    #[error("manifest lists {count} resources, over the limit of {limit}")]
    TooManyResources {
        /// Count found.
        count: usize,
        /// Limit.
        limit: usize,
    },
}
