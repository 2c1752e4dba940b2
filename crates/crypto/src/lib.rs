//! Cryptography for Hallmark: the key handling, signatures and X.509 chain
//! validation needed to sign and verify models in the OpenSSF Model Signing
//! (OMS) v1.0 format, byte-compatible with the Python reference
//! `model_signing` 1.1.1.
//!
//! What it implements:
//!
//! * **ECDSA for DSSE** (OMS v1.0; oms-spec §1.2, §3.1): P-256, P-384 and
//!   P-521 keys only, DER (ASN.1) signatures, hash fixed by the curve
//!   (P-256→SHA-256, P-384→SHA-384, P-521→SHA-512); [`PublicKey::verify_with_digest`]
//!   covers the v0.2.0 compatibility path (SHA-256 on any curve).
//! * **Key files** ([`SigningKey::from_pem`], [`PublicKey::from_pem`]):
//!   PKCS#8, SEC1 and encrypted PKCS#8 (PBES2) private keys, SPKI public
//!   keys; text before, between and after PEM blocks is ignored (the
//!   reference's keys carry GnuTLS `certtool` output before the block).
//! * **`publicKey.hint`** ([`PublicKey::hint`]): hex SHA-256 of the SPKI PEM
//!   text exactly as OpenSSL writes it (oms-spec §9 fact 8).
//! * **Certificate path validation** ([`verify_certificate_chain`]): an RFC
//!   5280 subset with the semantics of OpenSSL `X509_verify_cert` as the
//!   reference runs it through pyOpenSSL (oms-spec §3.2, §9 fact 10): the
//!   path must end at a *self-signed* certificate from the trust-anchor set
//!   (no partial chains), validity is checked at the leaf's `notBefore` by
//!   default, a `CA:TRUE` leaf is accepted, RSA (PKCS#1 v1.5 and PSS, at
//!   least 2048 bits), ECDSA and Ed25519 certificate signatures are checked.
//!
//! All primitives come from `aws-lc-rs`; parsing uses the RustCrypto
//! `der`/`spki`/`pkcs8`/`sec1`/`x509-cert` crates.
//!
//! Deviations from the reference / OpenSSL, all deliberate:
//!
//! * Legacy OpenSSL-encrypted PEM (`Proc-Type: 4,ENCRYPTED`) private keys are
//!   rejected with a hint to convert them to encrypted PKCS#8; a password
//!   given for an unencrypted key is ignored (the reference raises an error).
//! * SHA-1 certificate signatures and RSA keys under 2048 bits are rejected
//!   (OpenSSL at security level 1 accepts SHA-1). The trust anchor's own
//!   self-signature is not checked, as in OpenSSL.
//! * Certificates carrying `nameConstraints` are rejected as unsupported
//!   (OpenSSL enforces them). Certificate policies are not processed
//!   (OpenSSL only does so when asked to).
//! * Issuer lookup compares the DER of the names (OpenSSL compares a
//!   canonicalised form, e.g. case-insensitively), plus AKI/SKI when both are
//!   present; alternative issuers are tried (backtracking) up to depth 10.
//! * A leaf with neither keyUsage nor extendedKeyUsage is accepted for
//!   signing (the reference only logs a warning); callers may warn using
//!   [`Certificate::has_usage_extensions`].
//! * Revocation (CRL/OCSP) is not checked, as in the reference.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod cert;
mod certsig;
mod chain;
mod error;
mod keys;
mod oids;
mod pem;

pub use cert::{Certificate, load_certificates_pem, load_certificates_pem_with_source};
pub use chain::{ChainPolicy, ChainTime, MAX_DEPTH, ValidatedChain, verify_certificate_chain};
pub use error::{
    CaRefusal, CertSignatureRefusal, ChainError, CryptoError, DerError, Malformation,
    PasswordRefusal, PathStop,
};
pub use keys::{PublicKey, SigningKey};

use aws_lc_rs::signature::{self, EcdsaSigningAlgorithm, EcdsaVerificationAlgorithm};

/// An elliptic curve supported for OMS signing keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Curve {
    /// NIST P-256 (secp256r1, prime256v1).
    P256,
    /// NIST P-384 (secp384r1).
    P384,
    /// NIST P-521 (secp521r1).
    P521,
}

impl Curve {
    /// The NIST name: `"P-256"`, `"P-384"` or `"P-521"`.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
            Curve::P521 => "P-521",
        }
    }

    /// The hash OMS pairs with this curve (oms-spec §1.2).
    #[must_use]
    pub fn digest(&self) -> DigestAlg {
        match self {
            Curve::P256 => DigestAlg::Sha256,
            Curve::P384 => DigestAlg::Sha384,
            Curve::P521 => DigestAlg::Sha512,
        }
    }

    /// The Sigstore `keyDetails` name of the OMS algorithm for this curve,
    /// e.g. `PKIX_ECDSA_P384_SHA_384`.
    #[must_use]
    pub fn key_details(&self) -> &'static str {
        match self {
            Curve::P256 => "PKIX_ECDSA_P256_SHA_256",
            Curve::P384 => "PKIX_ECDSA_P384_SHA_384",
            Curve::P521 => "PKIX_ECDSA_P521_SHA_512",
        }
    }

    pub(crate) fn oid(&self) -> der::oid::ObjectIdentifier {
        match self {
            Curve::P256 => oids::SECP256R1,
            Curve::P384 => oids::SECP384R1,
            Curve::P521 => oids::SECP521R1,
        }
    }

    pub(crate) fn from_oid(oid: &der::oid::ObjectIdentifier) -> Option<Curve> {
        [Curve::P256, Curve::P384, Curve::P521]
            .into_iter()
            .find(|c| c.oid() == *oid)
    }

    pub(crate) fn signing_alg(&self) -> &'static EcdsaSigningAlgorithm {
        match self {
            Curve::P256 => &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            Curve::P384 => &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
            Curve::P521 => &signature::ECDSA_P521_SHA512_ASN1_SIGNING,
        }
    }

    /// aws-lc-rs verification algorithm for this curve with `digest`
    /// (DER signatures). Every combination of the three curves and three
    /// hashes exists in aws-lc-rs.
    pub(crate) fn verification_alg(
        &self,
        digest: DigestAlg,
    ) -> &'static EcdsaVerificationAlgorithm {
        use DigestAlg::{Sha256, Sha384, Sha512};
        match (self, digest) {
            (Curve::P256, Sha256) => &signature::ECDSA_P256_SHA256_ASN1,
            (Curve::P256, Sha384) => &signature::ECDSA_P256_SHA384_ASN1,
            (Curve::P256, Sha512) => &signature::ECDSA_P256_SHA512_ASN1,
            (Curve::P384, Sha256) => &signature::ECDSA_P384_SHA256_ASN1,
            (Curve::P384, Sha384) => &signature::ECDSA_P384_SHA384_ASN1,
            (Curve::P384, Sha512) => &signature::ECDSA_P384_SHA512_ASN1,
            (Curve::P521, Sha256) => &signature::ECDSA_P521_SHA256_ASN1,
            (Curve::P521, Sha384) => &signature::ECDSA_P521_SHA384_ASN1,
            (Curve::P521, Sha512) => &signature::ECDSA_P521_SHA512_ASN1,
        }
    }
}

impl std::fmt::Display for Curve {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A hash used with ECDSA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestAlg {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl DigestAlg {
    /// The name, e.g. `"SHA-256"`.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            DigestAlg::Sha256 => "SHA-256",
            DigestAlg::Sha384 => "SHA-384",
            DigestAlg::Sha512 => "SHA-512",
        }
    }
}

/// Seeds the process-wide random generator on a background thread.
///
/// aws-lc seeds its DRBG from CPU jitter entropy on first use, which takes tens of
/// milliseconds; a signer calls this before hashing a model so that the first ECDSA
/// signature does not pay for it afterwards.
pub fn warm_up_rng() {
    let _ = std::thread::Builder::new()
        .name("rng-seed".into())
        .spawn(|| {
            let mut buf = [0u8; 16];
            let _ = aws_lc_rs::rand::fill(&mut buf);
        });
}

/// Fills `buf` with cryptographically secure random bytes.
///
/// # Errors
/// Only if the system random generator fails.
pub fn random_fill(buf: &mut [u8]) -> Result<(), CryptoError> {
    aws_lc_rs::rand::fill(buf).map_err(|_| CryptoError::Internal("the random generator"))
}

/// SHA-256 of `data` (aws-lc-rs).
#[must_use]
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_known_answer() {
        assert_eq!(
            hex::encode(sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn curve_names_and_oids() {
        for c in [Curve::P256, Curve::P384, Curve::P521] {
            assert_eq!(Curve::from_oid(&c.oid()), Some(c));
        }
        assert_eq!(Curve::P384.name(), "P-384");
        assert_eq!(Curve::P521.digest(), DigestAlg::Sha512);
    }
}
