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
    /// A PEM block has no END line.
    #[error("{source_name}: malformed PEM block '{label}': missing '-----END {label}-----' line")]
    PemMissingEnd {
        /// Label of the input.
        source_name: String,
        /// The PEM label of the block.
        label: String,
    },
    /// A PEM block's body is not valid base64.
    #[error("{source_name}: malformed PEM block '{label}': invalid base64: {source}")]
    PemBase64 {
        /// Label of the input.
        source_name: String,
        /// The PEM label of the block.
        label: String,
        /// The decoder's error.
        #[source]
        source: base64::DecodeError,
    },
    /// DER structure could not be parsed.
    #[error("{source_name}: cannot parse {what}: {source}")]
    Der {
        /// Label of the input.
        source_name: String,
        /// The structure being parsed (for example "PKCS#8 private key").
        what: String,
        /// The parser's error.
        #[source]
        source: Box<DerError>,
    },
    /// DER structure parsed but is not acceptable.
    #[error("{source_name}: cannot parse {what}: {reason}")]
    Malformed {
        /// Label of the input.
        source_name: String,
        /// The structure being parsed.
        what: String,
        /// What is wrong with it.
        reason: Malformation,
    },
    /// The private key is in OpenSSH's own format.
    #[error(
        "{source_name}: cannot parse private key: the OpenSSH key format is not supported; \
         convert it with `ssh-keygen -p -m PKCS8 -f <file>`"
    )]
    OpenSshKey {
        /// Label of the input.
        source_name: String,
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
        reason: PasswordRefusal,
    },
    /// aws-lc-rs rejected the private key.
    #[error("{source_name}: key rejected: {source}")]
    KeyRejected {
        /// Label of the input.
        source_name: String,
        /// Reason given by aws-lc-rs.
        #[source]
        source: aws_lc_rs::error::KeyRejected,
    },
    /// aws-lc-rs rejected the public key point.
    #[error("{source_name}: key rejected: invalid {curve} public key: {source}")]
    PublicKeyRejected {
        /// Label of the input.
        source_name: String,
        /// Curve name of the key.
        curve: &'static str,
        /// Reason given by aws-lc-rs.
        #[source]
        source: aws_lc_rs::error::KeyRejected,
    },
    /// Signing failed inside aws-lc-rs.
    #[error("signing with the {curve} key failed")]
    SigningFailed {
        /// Curve name of the key.
        curve: &'static str,
    },
    /// Another operation failed inside aws-lc-rs.
    #[error("{0} failed inside aws-lc-rs")]
    Internal(&'static str),
    /// A signature did not verify.
    #[error("signature verification failed with {key} ({algorithm})")]
    BadSignature {
        /// Description of the verifying key (curve and fingerprint).
        key: String,
        /// The verification algorithm used.
        algorithm: String,
    },
}

/// The parser error behind [`CryptoError::Der`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DerError {
    /// ASN.1 DER decoding or encoding.
    #[error(transparent)]
    Asn1(#[from] der::Error),
    /// PKCS#8 (plain or encrypted) structure.
    #[error(transparent)]
    Pkcs8(#[from] pkcs8::Error),
    /// SEC1 EC private key structure.
    #[error(transparent)]
    Sec1(#[from] sec1::Error),
}

/// What is wrong with a structure that parsed ([`CryptoError::Malformed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Malformation {
    /// The certificate's tbsCertificate bytes cannot be located.
    #[error("cannot locate the tbsCertificate encoding")]
    TbsNotFound,
    /// An extension appears twice in one certificate.
    #[error("extension appears more than once")]
    DuplicateExtension,
    /// An EC private key does not name its curve.
    #[error("the key does not name its curve (explicit or missing parameters)")]
    CurveNotNamed,
    /// The public key BIT STRING has unused bits.
    #[error("public key BIT STRING has unused bits")]
    UnusedBits,
    /// A raw (r‖s) ECDSA signature has the wrong length for the curve.
    #[error("raw ECDSA signature is {found} bytes, expected {expected}")]
    RawSignatureLength {
        /// Twice the curve's scalar size.
        expected: usize,
        /// What the signer returned.
        found: usize,
    },
}

/// Why an encrypted private key could not be opened ([`CryptoError::Password`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordRefusal {
    /// The key is encrypted and no password was given.
    #[error("the private key is encrypted; a password is required")]
    Required,
    /// The key uses the legacy OpenSSL PEM encryption.
    #[error(
        "legacy OpenSSL-encrypted PEM (Proc-Type: 4,ENCRYPTED) is not supported; \
         convert the key with `openssl pkcs8 -topk8 -v2 aes-256-cbc`"
    )]
    LegacyEncryption,
    /// Decryption failed (usually a wrong password).
    #[error("cannot decrypt the private key (wrong password?): {0}")]
    Decrypt(#[source] pkcs8::Error),
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
        "cannot build a certificate path from '{leaf}' to a self-signed trust anchor: unable to get local issuer certificate for '{stuck_at}' (issuer '{issuer}'){}",
        .stop.suffix()
    )]
    NoPath {
        /// Subject of the leaf.
        leaf: String,
        /// Subject of the certificate whose issuer could not be found.
        stuck_at: String,
        /// The issuer name that was looked for.
        issuer: String,
        /// Why the search stopped there.
        stop: PathStop,
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
        reason: CertSignatureRefusal,
    },
    /// An issuer in the path is not allowed to act as a CA.
    #[error("certificate '{subject}' cannot issue certificates: {reason}")]
    InvalidCa {
        /// Subject of the would-be CA.
        subject: String,
        /// Why.
        reason: CaRefusal,
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
    /// A CA in the path carries nameConstraints, which this implementation does not process.
    #[error("certificate '{subject}': nameConstraints are not supported")]
    NameConstraints {
        /// Subject of the certificate.
        subject: String,
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

/// Why an issuer in the path may not act as a CA ([`ChainError::InvalidCa`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CaRefusal {
    /// keyUsage is present without keyCertSign.
    #[error("keyUsage lacks keyCertSign")]
    NoKeyCertSign,
    /// basicConstraints says CA:FALSE.
    #[error("basicConstraints has CA:FALSE")]
    NotCa,
    /// No basicConstraints and nothing else makes it a CA.
    #[error("it has no basicConstraints extension")]
    NoBasicConstraints,
    /// An intermediate (not the anchor) without basicConstraints CA:TRUE.
    #[error("it has no basicConstraints CA:TRUE")]
    IntermediateNotCa,
}

/// Why a certificate's signature does not verify under its issuer's key
/// ([`ChainError::BadCertSignature`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CertSignatureRefusal {
    /// The outer signatureAlgorithm differs from the signed one.
    #[error("signatureAlgorithm differs from tbsCertificate.signature")]
    AlgorithmMismatch,
    /// The signature BIT STRING has unused bits.
    #[error("signature BIT STRING has unused bits")]
    SignatureUnusedBits,
    /// The issuer's public key BIT STRING has unused bits.
    #[error("issuer public key BIT STRING has unused bits")]
    IssuerKeyUnusedBits,
    /// SHA-1 signatures are refused.
    #[error("SHA-1 certificate signatures are not accepted")]
    Sha1,
    /// A signature algorithm this implementation does not accept.
    #[error("unsupported signature algorithm {oid}")]
    UnsupportedAlgorithm {
        /// Dotted OID of the algorithm.
        oid: String,
    },
    /// The signature algorithm does not fit the issuer's key type.
    #[error("{signature} signature but the issuer key is {key_type}")]
    KeyTypeMismatch {
        /// Signature family (RSA, ECDSA, Ed25519).
        signature: &'static str,
        /// Human name of the issuer's key type.
        key_type: String,
    },
    /// The issuer's RSA key is shorter than 2048 bits.
    #[error("the issuer's RSA key has {bits} bits; at least 2048 are required")]
    RsaKeyTooSmall {
        /// Modulus length.
        bits: usize,
    },
    /// The issuer's RSA key is longer than 8192 bits.
    #[error("the issuer's RSA key has {bits} bits; at most 8192 are supported")]
    RsaKeyTooLarge {
        /// Modulus length.
        bits: usize,
    },
    /// The issuer's RSA key does not parse.
    #[error("cannot parse the issuer's RSA public key: {0}")]
    RsaKey(#[source] der::Error),
    /// The issuer's EC key does not name its curve.
    #[error("the issuer's EC key does not name its curve")]
    CurveNotNamed,
    /// The issuer's EC key is on an unsupported curve.
    #[error("the issuer's key is {curve}, which is not supported")]
    UnsupportedCurve {
        /// Human name of the curve.
        curve: String,
    },
    /// RSASSA-PSS without parameters.
    #[error("RSASSA-PSS signature without parameters")]
    PssNoParameters,
    /// RSASSA-PSS parameters do not parse.
    #[error("cannot parse RSASSA-PSS parameters: {0}")]
    PssParameters(#[source] der::Error),
    /// RSASSA-PSS with the default (SHA-1) hash.
    #[error("RSASSA-PSS with the default SHA-1 hash is not accepted")]
    PssDefaultHash,
    /// RSASSA-PSS with the default (MGF1-SHA-1) mask generation.
    #[error("RSASSA-PSS with the default MGF1-SHA-1 is not accepted")]
    PssDefaultMgf,
    /// RSASSA-PSS with a hash other than SHA-256/384/512.
    #[error("RSASSA-PSS with hash {oid} is not accepted (SHA-256/384/512 only)")]
    PssHash {
        /// Dotted OID of the hash.
        oid: String,
    },
    /// RSASSA-PSS mask generation other than MGF1 with the signature hash.
    #[error("RSASSA-PSS mask generation must be MGF1 with the signature hash")]
    PssMgf,
    /// RSASSA-PSS salt length other than the hash length.
    #[error("RSASSA-PSS salt length {salt} is not supported (must equal the hash length {want})")]
    PssSaltLength {
        /// Salt length in the parameters.
        salt: u32,
        /// The hash length.
        want: u32,
    },
    /// The signature does not verify.
    #[error("the signature is invalid")]
    Invalid,
}

/// Why path building stopped at a certificate ([`ChainError::NoPath`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathStop {
    /// No candidate issuer has the certificate's issuer name.
    IssuerNotFound,
    /// The certificate is self-signed but not a trust anchor.
    SelfSignedNotTrusted,
    /// The path reached [`crate::MAX_DEPTH`] certificates.
    MaxDepth,
    /// The search ran out of steps (many same-named issuers).
    SearchBudget,
}

impl PathStop {
    /// The explanation appended to the [`ChainError::NoPath`] message.
    fn suffix(self) -> &'static str {
        match self {
            Self::IssuerNotFound => "",
            Self::SelfSignedNotTrusted => "; it is self-signed but not among the trust anchors",
            Self::MaxDepth => "; maximum path length reached",
            Self::SearchBudget => "; path search budget exhausted",
        }
    }
}
