//! ECDSA signing and public keys (oms-spec §1.2, §3.1).

use std::fmt;

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair as _, ParsedPublicKey, UnparsedPublicKey};
use der::Decode as _;
use der::oid::ObjectIdentifier;
use spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};

use crate::curve::Curve;
use crate::digest::{DigestAlg, sha256};
use crate::error::{CryptoError, DerError, Malformation, PasswordRefusal};
use crate::{oids, pem};

const PRIVATE_KEY_LABELS: &str = "PRIVATE KEY, EC PRIVATE KEY or ENCRYPTED PRIVATE KEY";

/// An ECDSA private key on P-256, P-384 or P-521.
///
/// Its `Debug` output shows only the curve and the public-key fingerprint.
pub struct SigningKey {
    curve: Curve,
    key_pair: EcdsaKeyPair,
    public: PublicKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("curve", &self.curve.name())
            .field("public_key", &self.public.fingerprint())
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Parses a PEM private key (PKCS#8 `PRIVATE KEY`, SEC1 `EC PRIVATE KEY`
    /// or PBES2-encrypted PKCS#8 `ENCRYPTED PRIVATE KEY` with `password`).
    /// Text around the PEM block is ignored.
    ///
    /// # Errors
    /// No or malformed PEM block, wrong or missing password, or a key that is
    /// not EC on P-256/P-384/P-521.
    pub fn from_pem(pem: &[u8], password: Option<&[u8]>) -> Result<Self, CryptoError> {
        Self::from_pem_with_source(pem, password, "private key")
    }

    /// Like [`SigningKey::from_pem`], naming `source` (e.g. the file path) in
    /// error messages.
    ///
    /// # Errors
    /// As [`SigningKey::from_pem`].
    pub fn from_pem_with_source(
        pem_text: &[u8],
        password: Option<&[u8]>,
        source: &str,
    ) -> Result<Self, CryptoError> {
        let blocks = pem::parse_blocks(pem_text, source)?;
        let block = blocks
            .iter()
            .find(|b| b.label.ends_with("PRIVATE KEY"))
            .ok_or_else(|| CryptoError::PemNotFound {
                source_name: source.to_owned(),
                expected: PRIVATE_KEY_LABELS.to_owned(),
            })?;
        if block.headers.iter().any(|h| h.contains("ENCRYPTED")) {
            return Err(CryptoError::Password {
                source_name: source.to_owned(),
                reason: PasswordRefusal::LegacyEncryption,
            });
        }
        match block.label.as_str() {
            "PRIVATE KEY" => Self::from_pkcs8_der(&block.der, source),
            "EC PRIVATE KEY" => Self::from_sec1_der(&block.der, source),
            "ENCRYPTED PRIVATE KEY" => {
                let Some(password) = password else {
                    return Err(CryptoError::Password {
                        source_name: source.to_owned(),
                        reason: PasswordRefusal::Required,
                    });
                };
                let info = pkcs8::EncryptedPrivateKeyInfo::try_from(&block.der[..])
                    .map_err(|e| der_err(source, "encrypted PKCS#8 private key", e))?;
                let doc = info.decrypt(password).map_err(|e| CryptoError::Password {
                    source_name: source.to_owned(),
                    reason: PasswordRefusal::Decrypt(e),
                })?;
                Self::from_pkcs8_der(doc.as_bytes(), source)
            }
            "RSA PRIVATE KEY" => Err(unsupported(source, "RSA")),
            "DSA PRIVATE KEY" => Err(unsupported(source, "DSA")),
            "OPENSSH PRIVATE KEY" => Err(CryptoError::OpenSshKey {
                source_name: source.to_owned(),
            }),
            other => Err(CryptoError::PemNotFound {
                source_name: source.to_owned(),
                expected: format!("{PRIVATE_KEY_LABELS} (found {other})"),
            }),
        }
    }

    /// Parses an unencrypted PKCS#8 `PrivateKeyInfo` (DER).
    ///
    /// # Errors
    /// Malformed DER or a key that is not EC on P-256/P-384/P-521.
    pub fn from_pkcs8_der(der: &[u8], source: &str) -> Result<Self, CryptoError> {
        let info = pkcs8::PrivateKeyInfo::try_from(der)
            .map_err(|e| der_err(source, "PKCS#8 private key", e))?;
        let curve = curve_of_algorithm(&info.algorithm, source)?;
        Self::from_aws_der(curve, der, source)
    }

    /// Parses a SEC1 / RFC 5915 `ECPrivateKey` (DER) that names its curve.
    ///
    /// # Errors
    /// Malformed DER, missing curve parameters, or an unsupported curve.
    pub fn from_sec1_der(der: &[u8], source: &str) -> Result<Self, CryptoError> {
        let key = sec1::EcPrivateKey::try_from(der)
            .map_err(|e| der_err(source, "SEC1 EC private key", e))?;
        let oid = key
            .parameters
            .and_then(sec1::EcParameters::named_curve)
            .ok_or_else(|| CryptoError::Malformed {
                source_name: source.to_owned(),
                what: "SEC1 EC private key".to_owned(),
                reason: Malformation::CurveNotNamed,
            })?;
        let curve =
            Curve::from_oid(&oid).ok_or_else(|| unsupported(source, &oids::curve_name(&oid)))?;
        Self::from_aws_der(curve, der, source)
    }

    fn from_aws_der(curve: Curve, der: &[u8], source: &str) -> Result<Self, CryptoError> {
        let key_pair =
            EcdsaKeyPair::from_private_key_der(curve.signing_alg(), der).map_err(|e| {
                CryptoError::KeyRejected {
                    source_name: source.to_owned(),
                    source: e,
                }
            })?;
        let public = PublicKey::from_point(curve, key_pair.public_key().as_ref(), source)?;
        Ok(Self {
            curve,
            key_pair,
            public,
        })
    }

    /// Generates a fresh random key (for tests and tooling).
    ///
    /// # Errors
    /// Only on an internal aws-lc-rs failure.
    pub fn generate(curve: Curve) -> Result<Self, CryptoError> {
        let key_pair = EcdsaKeyPair::generate(curve.signing_alg()).map_err(|_| {
            CryptoError::SigningFailed {
                curve: curve.name(),
            }
        })?;
        let public = PublicKey::from_point(curve, key_pair.public_key().as_ref(), "generated key")?;
        Ok(Self {
            curve,
            key_pair,
            public,
        })
    }

    /// The key's curve.
    #[must_use]
    pub fn curve(&self) -> Curve {
        self.curve
    }

    /// The private key as PKCS#8 v1 DER, for storing it (wiped from memory when dropped).
    ///
    /// # Errors
    /// Only on an internal aws-lc-rs failure.
    pub fn to_pkcs8_der(&self) -> Result<zeroize::Zeroizing<Vec<u8>>, CryptoError> {
        let doc = self
            .key_pair
            .to_pkcs8v1()
            .map_err(|_| CryptoError::SigningFailed {
                curve: self.curve.name(),
            })?;
        Ok(zeroize::Zeroizing::new(doc.as_ref().to_vec()))
    }

    /// The matching public key.
    #[must_use]
    pub fn public_key(&self) -> PublicKey {
        self.public.clone()
    }

    /// ECDSA-signs `msg` with the curve's hash (P-256→SHA-256,
    /// P-384→SHA-384, P-521→SHA-512) and returns the ASN.1 DER signature.
    ///
    /// # Errors
    /// Only on an internal aws-lc-rs failure.
    pub fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let sig = self.key_pair.sign(&SystemRandom::new(), msg).map_err(|_| {
            CryptoError::SigningFailed {
                curve: self.curve.name(),
            }
        })?;
        Ok(sig.as_ref().to_vec())
    }

    /// ECDSA-signs the message whose digest with the curve's hash
    /// ([`Curve::digest`]) is `digest`, and returns the ASN.1 DER signature: the same
    /// signature as [`Self::sign`] over that message, for a message that is hashed
    /// while it is written rather than held in memory (aws-lc's `sign_digest`).
    ///
    /// # Errors
    /// [`CryptoError::SigningFailed`] if `digest` is not a digest of the curve's hash
    /// (wrong length) or on an internal aws-lc-rs failure.
    pub fn sign_digest(&self, digest: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let failed = || CryptoError::SigningFailed {
            curve: self.curve.name(),
        };
        let d = aws_lc_rs::digest::Digest::import_less_safe(digest, self.curve.digest().aws())
            .map_err(|_| failed())?;
        let sig = self.key_pair.sign_digest(&d).map_err(|_| failed())?;
        Ok(sig.as_ref().to_vec())
    }
}

/// An ECDSA public key on P-256, P-384 or P-521.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    curve: Curve,
    /// Canonical SubjectPublicKeyInfo DER (named curve, uncompressed point).
    spki_der: Vec<u8>,
    /// Uncompressed SEC1 point.
    point: Vec<u8>,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("curve", &self.curve.name())
            .field("fingerprint", &self.fingerprint())
            .finish()
    }
}

impl PublicKey {
    /// Parses the first `PUBLIC KEY` (SPKI) PEM block; text around it is ignored.
    ///
    /// # Errors
    /// No or malformed block, or a key that is not EC on P-256/P-384/P-521.
    pub fn from_pem(pem: &[u8]) -> Result<Self, CryptoError> {
        Self::from_pem_with_source(pem, "public key")
    }

    /// Like [`PublicKey::from_pem`], naming `source` in error messages.
    ///
    /// # Errors
    /// As [`PublicKey::from_pem`].
    pub fn from_pem_with_source(pem_text: &[u8], source: &str) -> Result<Self, CryptoError> {
        let blocks = pem::parse_blocks(pem_text, source)?;
        let block = blocks
            .iter()
            .find(|b| b.label == "PUBLIC KEY")
            .ok_or_else(|| CryptoError::PemNotFound {
                source_name: source.to_owned(),
                expected: "PUBLIC KEY".to_owned(),
            })?;
        Self::from_spki_der_with_source(&block.der, source)
    }

    /// Parses a DER SubjectPublicKeyInfo.
    ///
    /// # Errors
    /// Malformed DER, or a key that is not EC on P-256/P-384/P-521.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, CryptoError> {
        Self::from_spki_der_with_source(der, "public key")
    }

    /// Like [`PublicKey::from_spki_der`], naming `source` in error messages.
    ///
    /// # Errors
    /// As [`PublicKey::from_spki_der`].
    pub fn from_spki_der_with_source(der: &[u8], source: &str) -> Result<Self, CryptoError> {
        let spki = SubjectPublicKeyInfoRef::from_der(der)
            .map_err(|e| der_err(source, "SubjectPublicKeyInfo", e))?;
        let curve = curve_of_algorithm(&spki.algorithm, source)?;
        let point = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| CryptoError::Malformed {
                source_name: source.to_owned(),
                what: "SubjectPublicKeyInfo".to_owned(),
                reason: Malformation::UnusedBits,
            })?;
        Self::from_point(curve, point, source)
    }

    /// Builds a key from a SEC1-encoded point (compressed or uncompressed),
    /// validating it with aws-lc-rs and canonicalising the SPKI encoding.
    pub(crate) fn from_point(
        curve: Curve,
        point: &[u8],
        source: &str,
    ) -> Result<Self, CryptoError> {
        let parsed =
            ParsedPublicKey::new(curve.verification_alg(curve.digest()), point).map_err(|e| {
                CryptoError::PublicKeyRejected {
                    source_name: source.to_owned(),
                    curve: curve.name(),
                    source: e,
                }
            })?;
        let spki_der = parsed
            .as_der()
            .map_err(|_| CryptoError::Internal("encoding the public key"))?
            .as_ref()
            .to_vec();
        let spki = SubjectPublicKeyInfoRef::from_der(&spki_der)
            .map_err(|e| der_err(source, "SubjectPublicKeyInfo", e))?;
        let point = spki
            .subject_public_key
            .as_bytes()
            .unwrap_or_default()
            .to_vec();
        Ok(Self {
            curve,
            spki_der,
            point,
        })
    }

    /// The key's curve.
    #[must_use]
    pub fn curve(&self) -> Curve {
        self.curve
    }

    /// Canonical SubjectPublicKeyInfo DER (named curve, uncompressed point).
    #[must_use]
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// The SPKI as PEM exactly as OpenSSL writes it: 64-column base64 lines,
    /// LF line ends, trailing LF.
    #[must_use]
    pub fn to_pem(&self) -> String {
        pem::encode("PUBLIC KEY", &self.spki_der)
    }

    /// The OMS `publicKey.hint`: lower-case hex SHA-256 of [`PublicKey::to_pem`].
    #[must_use]
    pub fn hint(&self) -> String {
        hex::encode(sha256(self.to_pem().as_bytes()))
    }

    /// `sha256:<hex>` of the SPKI DER, for display.
    #[must_use]
    pub fn fingerprint(&self) -> String {
        format!("sha256:{}", hex::encode(sha256(&self.spki_der)))
    }

    /// Verifies a DER ECDSA signature over `msg` using the curve's hash.
    ///
    /// # Errors
    /// [`CryptoError::BadSignature`] if it does not verify.
    pub fn verify(&self, msg: &[u8], der_sig: &[u8]) -> Result<(), CryptoError> {
        self.verify_with_digest(msg, der_sig, self.curve.digest())
    }

    /// Verifies a DER ECDSA signature over `msg` hashed with `alg` (any
    /// combination of the three curves and hashes; used for the v0.2.0
    /// compatibility path, P-384 with SHA-256).
    ///
    /// # Errors
    /// [`CryptoError::BadSignature`] if it does not verify.
    pub fn verify_with_digest(
        &self,
        msg: &[u8],
        der_sig: &[u8],
        alg: DigestAlg,
    ) -> Result<(), CryptoError> {
        UnparsedPublicKey::new(self.curve.verification_alg(alg), &self.point)
            .verify(msg, der_sig)
            .map_err(|_| CryptoError::BadSignature {
                key: format!("{} key {}", self.curve.name(), self.fingerprint()),
                algorithm: format!("ECDSA {} with {}", self.curve.name(), alg.name()),
            })
    }

    /// Verifies a DER ECDSA signature over a message whose SHA-256 `digest` is given
    /// (Rekor `hashedrekord` entries carry only the digest).
    ///
    /// # Errors
    /// [`CryptoError::BadSignature`] when it does not verify.
    pub fn verify_sha256_prehashed(
        &self,
        digest: &[u8; 32],
        der_sig: &[u8],
    ) -> Result<(), CryptoError> {
        self.verify_prehashed(DigestAlg::Sha256, digest, der_sig)
    }

    /// Verifies a DER ECDSA signature over a message whose `alg` digest is given
    /// ([`DigestAlg::digest`]): a message checked against several keys is hashed once.
    ///
    /// # Errors
    /// [`CryptoError::BadSignature`] when it does not verify (or `digest` is not an `alg`
    /// digest).
    pub fn verify_prehashed(
        &self,
        alg: DigestAlg,
        digest: &[u8],
        der_sig: &[u8],
    ) -> Result<(), CryptoError> {
        let bad = || CryptoError::BadSignature {
            key: format!("{} key {}", self.curve.name(), self.fingerprint()),
            algorithm: format!("ECDSA {} over a {} digest", self.curve.name(), alg.name()),
        };
        let d =
            aws_lc_rs::digest::Digest::import_less_safe(digest, alg.aws()).map_err(|_| bad())?;
        UnparsedPublicKey::new(self.curve.verification_alg(alg), &self.point)
            .verify_digest(&d, der_sig)
            .map_err(|_| bad())
    }
}

/// Maps an SPKI/PKCS#8 algorithm identifier to a supported curve.
fn curve_of_algorithm(
    alg: &AlgorithmIdentifierRef<'_>,
    source: &str,
) -> Result<Curve, CryptoError> {
    if alg.oid != oids::ID_EC_PUBLIC_KEY {
        return Err(unsupported(source, &oids::key_type_name(&alg.oid)));
    }
    let curve_oid: ObjectIdentifier = alg
        .parameters_oid()
        .map_err(|_| unsupported(source, "EC with explicit or missing curve parameters"))?;
    Curve::from_oid(&curve_oid).ok_or_else(|| unsupported(source, &oids::curve_name(&curve_oid)))
}

pub(crate) fn unsupported(source: &str, key_type: &str) -> CryptoError {
    CryptoError::UnsupportedKey {
        source_name: source.to_owned(),
        key_type: key_type.to_owned(),
    }
}

pub(crate) fn der_err(source: &str, what: &str, e: impl Into<DerError>) -> CryptoError {
    CryptoError::Der {
        source_name: source.to_owned(),
        what: what.to_owned(),
        source: Box::new(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_all_curves() {
        for curve in [Curve::P256, Curve::P384, Curve::P521] {
            let key = SigningKey::generate(curve).unwrap();
            let sig = key.sign(b"hello").unwrap();
            let pk = key.public_key();
            assert_eq!(pk.curve(), curve);
            pk.verify(b"hello", &sig).unwrap();
            assert!(pk.verify(b"hellO", &sig).is_err());
            let again = PublicKey::from_pem(pk.to_pem().as_bytes()).unwrap();
            assert_eq!(again, pk);
        }
    }

    #[test]
    fn signing_a_digest_verifies_over_the_message() {
        for curve in [Curve::P256, Curve::P384, Curve::P521] {
            let key = SigningKey::generate(curve).unwrap();
            let sig = key.sign_digest(&curve.digest().digest(b"hello")).unwrap();
            key.public_key().verify(b"hello", &sig).unwrap();
            // A digest of another hash (another length) is refused, not signed.
            let other = match curve {
                Curve::P256 => DigestAlg::Sha512,
                _ => DigestAlg::Sha256,
            };
            assert!(matches!(
                key.sign_digest(&other.digest(b"hello")),
                Err(CryptoError::SigningFailed { .. })
            ));
        }
    }

    #[test]
    fn debug_shows_no_secret() {
        let key = SigningKey::generate(Curve::P256).unwrap();
        let dbg = format!("{key:?}");
        assert!(dbg.contains("P-256"));
        assert!(!dbg.contains("key_pair"));
    }
}
