//! Errors of signing and verification.

use hallmark_crypto::{ChainError, CryptoError};
use hallmark_format::FormatError;
use hallmark_hash::HashError;
use hallmark_sigstore::SigstoreError;
use thiserror::Error;

use crate::compare::Difference;

/// Why signing failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SignError {
    /// The model path does not exist or cannot be read.
    #[error("model path {path}: {source}")]
    ModelPath {
        /// The path given.
        path: String,
        /// Why it cannot be read.
        #[source]
        source: std::io::Error,
    },
    /// After exclusions there is nothing to sign.
    #[error(
        "model {path} has no files to sign after exclusions (pass --allow-empty to sign an empty model anyway)"
    )]
    EmptyModel {
        /// The model path.
        path: String,
    },
    /// Enumerating or hashing the model failed.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// The key or certificate cannot be used.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// Keyless signing (certificate authority, transparency log) failed. The signer is
    /// pluggable, so its error is kept as it is (a `&str` or `String` converts with `.into()`).
    #[error("keyless signing: {0}")]
    Keyless(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A key held outside the process (a PKCS#11 token) could not sign.
    #[error("{0}")]
    ExternalKey(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The signing certificate does not belong to the private key.
    #[error(
        "signing certificate {certificate} does not match the private key (certificate key {cert_key}, private key {private_key})"
    )]
    CertificateKeyMismatch {
        /// Certificate subject.
        certificate: String,
        /// Fingerprint of the certificate's key.
        cert_key: String,
        /// Fingerprint of the private key's public key.
        private_key: String,
    },
    /// The bundle could not be written where it was streamed to.
    #[error("cannot write the signature: {0}")]
    Write(#[source] std::io::Error),
}

/// Why verification failed.
///
/// [`VerifyError::is_input_error`] separates problems with the caller's own inputs
/// (exit status 2 in the CLI) from a signature or model that does not verify (exit 1).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The model path does not exist or cannot be read.
    #[error("model path {path}: {source}")]
    ModelPath {
        /// The path given.
        path: String,
        /// Why it cannot be read.
        #[source]
        source: std::io::Error,
    },
    /// The bundle is malformed or uses an unsupported format.
    #[error("signature is malformed: {0}")]
    Bundle(#[from] FormatError),
    /// The bundle was made with another method than the one asked for.
    #[error(
        "signature was made with the {found} method, but verification with the {expected} method was requested"
    )]
    WrongMethod {
        /// Method of the bundle.
        found: &'static str,
        /// Method requested.
        expected: &'static str,
    },
    /// The key hint in the bundle names another key.
    #[error(
        "key mismatch: the signature names the key with hint {bundle_hint}, but the public key given has hint {given_hint}"
    )]
    KeyMismatch {
        /// Hint in the bundle.
        bundle_hint: String,
        /// Hint of the key given.
        given_hint: String,
    },
    /// The DSSE signature does not verify.
    #[error(
        "the signature does not verify with {signer}: the signed statement was altered or was signed by another key"
    )]
    BadSignature {
        /// Which key was used.
        signer: String,
    },
    /// The certificate chain does not validate.
    #[error("certificate chain: {0}")]
    Chain(#[from] ChainError),
    /// The key or certificate cannot be used.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// A keyless (Sigstore) verifier refused the bundle.
    #[error(transparent)]
    Keyless(#[from] SigstoreError),
    /// The Sigstore verifier and the OMS bundle parser read different payloads.
    #[error("the verified DSSE payload differs from the bundle's envelope")]
    PayloadDiffers,
    /// The statement's subject digest is not the digest of its resources.
    #[error(
        "manifest is inconsistent: subject digest is {recorded} but the resources hash to {computed}"
    )]
    RootDigest {
        /// In the statement.
        recorded: String,
        /// Recomputed over the listed resources.
        computed: String,
    },
    /// Enumerating or hashing the local model failed.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// `--ignore-unsigned-files` with a signature that lists no file: nothing would be checked.
    #[error(
        "the signature lists no files, so --ignore-unsigned-files would check nothing; refusing to call this model verified"
    )]
    NothingSigned,
    /// The local model differs from the signed manifest.
    #[error("the model does not match its signature ({} difference{})", .0.len(), if .0.len() == 1 { "" } else { "s" })]
    Mismatch(Vec<Difference>),
}

impl VerifyError {
    /// Whether this is a problem with the caller's inputs rather than a failed verification.
    #[must_use]
    pub fn is_input_error(&self) -> bool {
        matches!(self, Self::ModelPath { .. }) || matches!(self, Self::Hash(HashError::Cancelled))
    }
}
