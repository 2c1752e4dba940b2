//! Errors for parsing and building OMS documents.

use thiserror::Error;

use crate::digest::HashAlgorithm;

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
        reason: FieldRefusal,
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
    #[error("{field} is not valid standard base64: {source}")]
    Base64 {
        /// Field path.
        field: String,
        /// Decoder error.
        #[source]
        source: base64::DecodeError,
    },
    /// A resource identifier that is malformed or unsafe.
    #[error("resource name {name:?} is not allowed: {reason}")]
    BadResourceName {
        /// The name as recorded.
        name: String,
        /// Why it was refused.
        reason: NameRefusal,
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
    /// The resource names pass what a compact list addresses.
    #[error(transparent)]
    NamesFull(#[from] NamesFull),
}

/// The names of a compact resource list ([`crate::resources::Names`]) exceed what its
/// `u32` offsets address (4 GiB in total).
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
#[error("resource names exceed 4 GiB in total (at name number {count})")]
pub struct NamesFull {
    /// How many names were stored already.
    pub count: usize,
}

/// What is wrong with a field ([`FormatError::BadField`]); the message follows the field name.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum FieldRefusal {
    /// Not a JSON object.
    #[error("must be a JSON object")]
    NotObject,
    /// Not a string.
    #[error("must be a string")]
    NotString,
    /// Not an array.
    #[error("must be an array")]
    NotArray,
    /// Not a boolean.
    #[error("must be a boolean")]
    NotBoolean,
    /// Not an array of strings.
    #[error("must be an array of strings")]
    NotStringArray,
    /// An object was expected (protobuf JSON message).
    #[error("must be an object")]
    NotMessage,
    /// Empty where a value is required.
    #[error("is empty")]
    Empty,
    /// The DSSE envelope has no signature.
    #[error("is empty: the envelope carries no signature")]
    NoSignature,
    /// Not hexadecimal.
    #[error("is not a hex digest ({0})")]
    NotHex(#[source] hex::FromHexError),
    /// A list that must have exactly one entry.
    #[error("must have exactly one entry, found {found}")]
    NotExactlyOne {
        /// Entries found.
        found: usize,
    },
    /// A digest of the wrong length.
    #[error("must be {expected} bytes, found {found}")]
    DigestLength {
        /// Required length in bytes.
        expected: usize,
        /// Length found.
        found: usize,
    },
    /// A resource digest of the wrong length for the hash.
    #[error("of {resource:?} is {found} bytes, {hash} needs {expected}")]
    ResourceDigestLength {
        /// The resource name.
        resource: String,
        /// Length found.
        found: usize,
        /// The hash algorithm.
        hash: HashAlgorithm,
        /// Its digest length.
        expected: usize,
    },
    /// A resource algorithm other than the serialization's (boxed strings keep
    /// [`FormatError`] small).
    #[error("is {found:?} but the serialization says {expected:?} (resource {resource:?})")]
    AlgorithmMismatch {
        /// The algorithm recorded.
        found: Box<str>,
        /// The serialization's algorithm.
        expected: Box<str>,
        /// The resource name.
        resource: Box<str>,
    },
    /// An unknown hash algorithm.
    #[error("{found:?} is not one of sha256, blake2b, blake3")]
    UnknownHash {
        /// The name found.
        found: String,
    },
    /// An unknown serialization method.
    #[error("{found:?} is not \"files\" or \"shards\"")]
    UnknownMethod {
        /// The name found.
        found: String,
    },
    /// Not a positive integer.
    #[error("must be a positive integer, found {found}")]
    NotPositiveInteger {
        /// The JSON value found.
        found: String,
    },
    /// An unsafe or malformed path.
    #[error("resource name {name:?} is not allowed: {reason}")]
    UnsafePath {
        /// The path as recorded.
        name: String,
        /// Why it was refused.
        reason: NameRefusal,
    },
    /// Not exactly one kind of verification material.
    #[error(
        "must hold exactly one of publicKey, x509CertificateChain, certificate (found {found})"
    )]
    MaterialCount {
        /// Kinds present.
        found: usize,
    },
    /// More certificates than the configured limit.
    #[error("holds {count} certificates, over the limit of {limit}")]
    TooManyCertificates {
        /// Count found.
        count: usize,
        /// Limit.
        limit: usize,
    },
    /// The fast statement parser hands over to the detailed one.
    #[error("needs the detailed checks")]
    NeedsDetailedChecks,
}

/// Why a resource name was refused ([`FormatError::BadResourceName`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum NameRefusal {
    /// A shard name that is not `path:start:end`.
    #[error("expected path:start:end")]
    ShardSyntax,
    /// A shard start offset that is not a decimal integer.
    #[error("start offset is not a decimal integer")]
    StartOffset,
    /// A shard end offset that is not a decimal integer.
    #[error("end offset is not a decimal integer")]
    EndOffset,
    /// A shard whose end is not after its start.
    #[error("shard end must be greater than its start")]
    EmptyShard,
    /// An empty name.
    #[error("empty name")]
    Empty,
    /// An absolute path.
    #[error("absolute path")]
    Absolute,
    /// A NUL byte.
    #[error("contains a NUL byte")]
    Nul,
    /// A backslash.
    #[error("contains a backslash")]
    Backslash,
    /// A `..` component.
    #[error("contains a `..` component")]
    DotDot,
    /// Only `.` and empty components.
    #[error("names no file")]
    NoFile,
}
