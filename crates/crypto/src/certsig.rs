//! Verification of certificate signatures (issuer key over tbsCertificate).
//!
//! Allowed: RSA PKCS#1 v1.5 and RSASSA-PSS (MGF1, salt = hash length) with
//! SHA-256/384/512 and a modulus of at least 2048 bits; ECDSA with
//! SHA-256/384/512 on P-256/P-384/P-521; Ed25519. SHA-1 is refused.

use aws_lc_rs::signature::{self, RsaParameters, UnparsedPublicKey, VerificationAlgorithm};
use der::asn1::{ContextSpecific, UintRef};
use der::oid::ObjectIdentifier;
use der::{Decode as _, Reader as _, SliceReader, TagNumber};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use crate::curve::Curve;
use crate::digest::DigestAlg;
use crate::error::CertSignatureRefusal as Refusal;
use crate::oids;

/// Verifies `sig` over `tbs` with the issuer key `spki`, for the
/// certificate's `sig_alg`. The error says why it failed.
pub(crate) fn verify(
    sig_alg: &AlgorithmIdentifierOwned,
    spki: &SubjectPublicKeyInfoOwned,
    tbs: &[u8],
    sig: &[u8],
) -> Result<(), Refusal> {
    let key = spki
        .subject_public_key
        .as_bytes()
        .ok_or(Refusal::IssuerKeyUnusedBits)?;
    let key_alg = spki.algorithm.oid;
    let alg: &'static dyn VerificationAlgorithm = match sig_alg.oid {
        oids::SHA1_WITH_RSA | oids::ECDSA_WITH_SHA1 => {
            return Err(Refusal::Sha1);
        }
        oids::SHA256_WITH_RSA => rsa(key_alg, key, DigestAlg::Sha256, false)?,
        oids::SHA384_WITH_RSA => rsa(key_alg, key, DigestAlg::Sha384, false)?,
        oids::SHA512_WITH_RSA => rsa(key_alg, key, DigestAlg::Sha512, false)?,
        oids::ID_RSASSA_PSS => {
            let digest = pss_digest(sig_alg)?;
            rsa(key_alg, key, digest, true)?
        }
        oids::ECDSA_WITH_SHA256 => ecdsa(spki, DigestAlg::Sha256)?,
        oids::ECDSA_WITH_SHA384 => ecdsa(spki, DigestAlg::Sha384)?,
        oids::ECDSA_WITH_SHA512 => ecdsa(spki, DigestAlg::Sha512)?,
        oids::ID_ED25519 => {
            if key_alg != oids::ID_ED25519 {
                return Err(mismatch("Ed25519", key_alg));
            }
            &signature::ED25519
        }
        other => {
            return Err(Refusal::UnsupportedAlgorithm {
                oid: other.to_string(),
            });
        }
    };
    UnparsedPublicKey::new(alg, key)
        .verify(tbs, sig)
        .map_err(|_| Refusal::Invalid)
}

fn mismatch(signature: &'static str, key_alg: ObjectIdentifier) -> Refusal {
    Refusal::KeyTypeMismatch {
        signature,
        key_type: oids::key_type_name(&key_alg),
    }
}

fn rsa(
    key_alg: ObjectIdentifier,
    key: &[u8],
    digest: DigestAlg,
    pss: bool,
) -> Result<&'static dyn VerificationAlgorithm, Refusal> {
    if key_alg != oids::RSA_ENCRYPTION {
        return Err(mismatch("RSA", key_alg));
    }
    let bits = rsa_modulus_bits(key)?;
    if bits < 2048 {
        return Err(Refusal::RsaKeyTooSmall { bits });
    }
    if bits > 8192 {
        return Err(Refusal::RsaKeyTooLarge { bits });
    }
    let params: &'static RsaParameters = match (pss, digest) {
        (false, DigestAlg::Sha256) => &signature::RSA_PKCS1_2048_8192_SHA256,
        (false, DigestAlg::Sha384) => &signature::RSA_PKCS1_2048_8192_SHA384,
        (false, DigestAlg::Sha512) => &signature::RSA_PKCS1_2048_8192_SHA512,
        (true, DigestAlg::Sha256) => &signature::RSA_PSS_2048_8192_SHA256,
        (true, DigestAlg::Sha384) => &signature::RSA_PSS_2048_8192_SHA384,
        (true, DigestAlg::Sha512) => &signature::RSA_PSS_2048_8192_SHA512,
    };
    Ok(params)
}

/// Bit length of the modulus of a PKCS#1 `RSAPublicKey`.
fn rsa_modulus_bits(key: &[u8]) -> Result<usize, Refusal> {
    let parse = || -> der::Result<usize> {
        let mut reader = SliceReader::new(key)?;
        let bits = reader.sequence(|r| {
            let n = UintRef::decode(r)?;
            let _e = UintRef::decode(r)?;
            let bytes = n.as_bytes();
            let lead = bytes.first().map_or(8, |b| b.leading_zeros() as usize);
            Ok(bytes.len() * 8 - lead)
        })?;
        reader.finish(bits)
    };
    parse().map_err(Refusal::RsaKey)
}

fn ecdsa(
    spki: &SubjectPublicKeyInfoOwned,
    digest: DigestAlg,
) -> Result<&'static dyn VerificationAlgorithm, Refusal> {
    if spki.algorithm.oid != oids::ID_EC_PUBLIC_KEY {
        return Err(mismatch("ECDSA", spki.algorithm.oid));
    }
    let curve_oid: ObjectIdentifier = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as().ok())
        .ok_or(Refusal::CurveNotNamed)?;
    let curve = Curve::from_oid(&curve_oid).ok_or_else(|| Refusal::UnsupportedCurve {
        curve: oids::curve_name(&curve_oid),
    })?;
    Ok(curve.verification_alg(digest))
}

fn digest_of(oid: ObjectIdentifier) -> Result<DigestAlg, Refusal> {
    match oid {
        oids::ID_SHA256 => Ok(DigestAlg::Sha256),
        oids::ID_SHA384 => Ok(DigestAlg::Sha384),
        oids::ID_SHA512 => Ok(DigestAlg::Sha512),
        other => Err(Refusal::PssHash {
            oid: other.to_string(),
        }),
    }
}

/// Reads RSASSA-PSS-params and returns the hash, requiring MGF1 with the
/// same hash and a salt as long as the hash (what aws-lc-rs verifies).
fn pss_digest(sig_alg: &AlgorithmIdentifierOwned) -> Result<DigestAlg, Refusal> {
    let params = sig_alg
        .parameters
        .as_ref()
        .ok_or(Refusal::PssNoParameters)?;
    let parse = || -> der::Result<(Option<AlgorithmIdentifierOwned>, Option<AlgorithmIdentifierOwned>, Option<u32>)> {
        let mut r = SliceReader::new(params.value())?;
        let hash = ContextSpecific::<AlgorithmIdentifierOwned>::decode_explicit(&mut r, TagNumber::N0)?
            .map(|c| c.value);
        let mgf = ContextSpecific::<AlgorithmIdentifierOwned>::decode_explicit(&mut r, TagNumber::N1)?
            .map(|c| c.value);
        let salt = ContextSpecific::<u32>::decode_explicit(&mut r, TagNumber::N2)?.map(|c| c.value);
        let _trailer = ContextSpecific::<u32>::decode_explicit(&mut r, TagNumber::N3)?;
        r.finish((hash, mgf, salt))
    };
    let (hash, mgf, salt) = parse().map_err(Refusal::PssParameters)?;
    let hash = hash.ok_or(Refusal::PssDefaultHash)?;
    let digest = digest_of(hash.oid)?;
    let mgf = mgf.ok_or(Refusal::PssDefaultMgf)?;
    let mgf_hash: Option<AlgorithmIdentifierOwned> =
        mgf.parameters.as_ref().and_then(|p| p.decode_as().ok());
    if mgf.oid != oids::ID_MGF1 || mgf_hash.map(|h| h.oid) != Some(hash.oid) {
        return Err(Refusal::PssMgf);
    }
    let want = match digest {
        DigestAlg::Sha256 => 32,
        DigestAlg::Sha384 => 48,
        DigestAlg::Sha512 => 64,
    };
    let salt = salt.unwrap_or(20);
    if salt != want {
        return Err(Refusal::PssSaltLength { salt, want });
    }
    Ok(digest)
}
