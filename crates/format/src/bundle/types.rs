//! The parsed bundle's types (what [`super::Bundle::parse`] returns and
//! [`super::out`] writes).

use serde_json::Value;

use crate::dsse::Envelope;

/// The only bundle media type OMS producers write.
pub const BUNDLE_MEDIA_TYPE_V03: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// `verificationMaterial`'s key/certificate content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VerificationMaterial {
    /// Key method: a hint identifying the public key (1.1+), or the older embedded key.
    PublicKey {
        /// `hint`: hex SHA-256 of the SPKI PEM text.
        hint: Option<String>,
        /// Pre-1.1 bundles embedded the PEM here; verifiers never trust it.
        legacy_raw_bytes: Option<Vec<u8>>,
    },
    /// Certificate method: leaf first, then the intermediates the signer supplied (DER).
    X509CertificateChain(Vec<Vec<u8>>),
    /// Sigstore keyless: one Fulcio leaf certificate (DER).
    Certificate(Vec<u8>),
}

impl VerificationMaterial {
    /// The signing method this material belongs to: `key`, `certificate` or `sigstore`.
    #[must_use]
    pub fn method(&self) -> &'static str {
        match self {
            Self::PublicKey { .. } => "key",
            Self::X509CertificateChain(_) => "certificate",
            Self::Certificate(_) => "sigstore",
        }
    }
}

/// A parsed bundle. Transparency-log and timestamp data are kept as raw JSON for the
/// Sigstore verifier, which parses them itself.
#[derive(Clone, Debug, PartialEq)]
pub struct Bundle {
    /// `mediaType` (always [`BUNDLE_MEDIA_TYPE_V03`] after parsing).
    pub media_type: String,
    /// Key, chain or certificate.
    pub material: VerificationMaterial,
    /// `verificationMaterial.tlogEntries` (empty for key and certificate bundles).
    pub tlog_entries: Vec<Value>,
    /// `verificationMaterial.timestampVerificationData`, if present.
    pub timestamp_verification_data: Option<Value>,
    /// The DSSE envelope, payload decoded.
    pub envelope: Envelope,
}
