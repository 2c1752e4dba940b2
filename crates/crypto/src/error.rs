//! Error types of this crate.
//!
//! Every message names the input (file label, certificate subject or field)
//! involved; no message ever contains key material.

/// Errors from parsing keys and certificates, signing and signature checks.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// No PEM block of the expected kind was found.
    #[error("{source_name}: no PEM block of type {expected} found")]
    PemNotFound {
        /// Label of the input (usually a file name).
        source_name: String,
        /// The PEM labels that would have been accepted.
        expected: String,
    },
    /// A PEM block was found but could not be decoded.
    #[error("{source_name}: malformed PEM block '{label}': {reason}")]
    PemMalformed {
        /// Label of the input.
        source_name: String,
        /// The PEM label of the block.
        label: String,
        /// What is wrong with it.
        reason: String,
    },
    /// DER structure could not be parsed.
    #[error("{source_name}: cannot parse {what}: {reason}")]
    Der {
        /// Label of the input.
        source_name: String,
        /// The structure being parsed (for example "PKCS#8 private key").
        what: String,
        /// Parser message.
        reason: String,
    },
    /// The key is not an elliptic-curve key on P-256, P-384 or P-521.
    #[error(
        "only elliptic-curve keys on P-256, P-384 or P-521 are supported; {source_name}'s key is {key_type}"
    )]
    UnsupportedKey {
        /// Label of the input.
        source_name: String,
        /// Human name of the key type found (for example "RSA" or "EC on curve 1.3.132.0.10").
        key_type: String,
    },
    /// The private key is encrypted and no password was given, or the password is wrong.
    #[error("{source_name}: {reason}")]
    Password {
        /// Label of the input.
        source_name: String,
        /// What went wrong.
        reason: String,
    },
    /// aws-lc-rs rejected the key material.
    #[error("{source_name}: key rejected: {reason}")]
    KeyRejected {
        /// Label of the input.
        source_name: String,
        /// Reason given by aws-lc-rs.
        reason: String,
    },
    /// Signing failed inside aws-lc-rs.
    #[error("signing with the {curve} key failed")]
    SigningFailed {
        /// Curve name of the key.
        curve: &'static str,
    },
    /// A signature did not verify.
    #[error("signature verification failed with {key} ({algorithm})")]
    BadSignature {
        /// Description of the verifying key (curve and fingerprint).
        key: String,
        /// The verification algorithm used.
        algorithm: String,
    },
    /// The requested combination of key and algorithm is not supported.
    #[error("unsupported algorithm: {0}")]
    UnsupportedAlgorithm(String),
}

/// Errors from certificate path building and validation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// No trust anchors were given.
    #[error("no trust anchors were given to validate certificate '{leaf}' against")]
    NoTrustAnchors {
        /// Subject of the leaf.
        leaf: String,
    },
    /// No path from the leaf to a self-signed trust anchor could be built.
    #[error(
        "cannot build a certificate path from '{leaf}' to a self-signed trust anchor: unable to get local issuer certificate for '{stuck_at}' (issuer '{issuer}'){detail}"
    )]
    NoPath {
        /// Subject of the leaf.
        leaf: String,
        /// Subject of the certificate whose issuer could not be found.
        stuck_at: String,
        /// The issuer name that was looked for.
        issuer: String,
        /// Extra explanation (formatted as "; ..." or empty).
        detail: String,
    },
    /// A certificate in the path is not valid at the validation time.
    #[error("certificate '{subject}' is not yet valid at {at} (notBefore {not_before})")]
    NotYetValid {
        /// Subject of the certificate.
        subject: String,
        /// Validation time (RFC 3339).
        at: String,
        /// The certificate's notBefore (RFC 3339).
        not_before: String,
    },
    /// A certificate in the path has expired at the validation time.
    #[error("certificate '{subject}' has expired at {at} (notAfter {not_after})")]
    Expired {
        /// Subject of the certificate.
        subject: String,
        /// Validation time (RFC 3339).
        at: String,
        /// The certificate's notAfter (RFC 3339).
        not_after: String,
    },
    /// A certificate's signature did not verify under its issuer's key.
    #[error(
        "signature of certificate '{subject}' does not verify with the key of '{issuer}': {reason}"
    )]
    BadCertSignature {
        /// Subject of the signed certificate.
        subject: String,
        /// Subject of the issuer certificate.
        issuer: String,
        /// Why.
        reason: String,
    },
    /// An issuer in the path is not allowed to act as a CA.
    #[error("certificate '{subject}' cannot issue certificates: {reason}")]
    InvalidCa {
        /// Subject of the would-be CA.
        subject: String,
        /// Why (missing basicConstraints CA:TRUE, keyUsage lacks keyCertSign, ...).
        reason: String,
    },
    /// A pathLenConstraint was exceeded.
    #[error(
        "certificate '{subject}' has pathLenConstraint {path_len} but {intermediates} intermediate certificate(s) follow it"
    )]
    PathLenExceeded {
        /// Subject of the constraining CA.
        subject: String,
        /// Its pathLenConstraint.
        path_len: u8,
        /// Number of non-self-issued intermediates below it.
        intermediates: usize,
    },
    /// A certificate carries a critical extension this implementation does not process.
    #[error("certificate '{subject}' has an unsupported critical extension {oid}{name}")]
    UnhandledCriticalExtension {
        /// Subject of the certificate.
        subject: String,
        /// Dotted OID.
        oid: String,
        /// Human name in parentheses, or empty.
        name: String,
    },
    /// A certificate uses a feature this implementation does not support.
    #[error("certificate '{subject}': {reason}")]
    Unsupported {
        /// Subject of the certificate.
        subject: String,
        /// What is unsupported.
        reason: String,
    },
    /// The leaf may not be used for signing.
    #[error(
        "certificate '{subject}' cannot be used for signing: keyUsage lacks digitalSignature and extendedKeyUsage lacks codeSigning"
    )]
    LeafNotForSigning {
        /// Subject of the leaf.
        subject: String,
    },
    /// A certificate or extension could not be parsed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}
