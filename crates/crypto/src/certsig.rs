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

use crate::{Curve, DigestAlg, oids};

/// Verifies `sig` over `tbs` with the issuer key `spki`, for the
/// certificate's `sig_alg`. The error string says why it failed.
pub(crate) fn verify(
    sig_alg: &AlgorithmIdentifierOwned,
    spki: &SubjectPublicKeyInfoOwned,
    tbs: &[u8],
    sig: &[u8],
) -> Result<(), String> {
    let key = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| "issuer public key BIT STRING has unused bits".to_owned())?;
    let key_alg = spki.algorithm.oid;
    let alg: &'static dyn VerificationAlgorithm = match sig_alg.oid {
        oids::SHA1_WITH_RSA | oids::ECDSA_WITH_SHA1 => {
            return Err("SHA-1 certificate signatures are not accepted".to_owned());
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
        other => return Err(format!("unsupported signature algorithm {other}")),
    };
    UnparsedPublicKey::new(alg, key)
        .verify(tbs, sig)
        .map_err(|_| "the signature is invalid".to_owned())
}

fn mismatch(sig: &str, key_alg: ObjectIdentifier) -> String {
    format!(
        "{sig} signature but the issuer key is {}",
        oids::key_type_name(&key_alg)
    )
}

fn rsa(
    key_alg: ObjectIdentifier,
    key: &[u8],
    digest: DigestAlg,
    pss: bool,
) -> Result<&'static dyn VerificationAlgorithm, String> {
    if key_alg != oids::RSA_ENCRYPTION {
        return Err(mismatch("RSA", key_alg));
    }
    let bits = rsa_modulus_bits(key)?;
    if bits < 2048 {
        return Err(format!(
            "the issuer's RSA key has {bits} bits; at least 2048 are required"
        ));
    }
    if bits > 8192 {
        return Err(format!(
            "the issuer's RSA key has {bits} bits; at most 8192 are supported"
        ));
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
fn rsa_modulus_bits(key: &[u8]) -> Result<usize, String> {
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
    parse().map_err(|e| format!("cannot parse the issuer's RSA public key: {e}"))
}

fn ecdsa(
    spki: &SubjectPublicKeyInfoOwned,
    digest: DigestAlg,
) -> Result<&'static dyn VerificationAlgorithm, String> {
    if spki.algorithm.oid != oids::ID_EC_PUBLIC_KEY {
        return Err(mismatch("ECDSA", spki.algorithm.oid));
    }
    let curve_oid: ObjectIdentifier = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as().ok())
        .ok_or_else(|| "the issuer's EC key does not name its curve".to_owned())?;
    let curve = Curve::from_oid(&curve_oid).ok_or_else(|| {
        format!(
            "the issuer's key is {}, which is not supported",
            oids::curve_name(&curve_oid)
        )
    })?;
    Ok(curve.verification_alg(digest))
}

fn digest_of(oid: ObjectIdentifier) -> Result<DigestAlg, String> {
    match oid {
        oids::ID_SHA256 => Ok(DigestAlg::Sha256),
        oids::ID_SHA384 => Ok(DigestAlg::Sha384),
        oids::ID_SHA512 => Ok(DigestAlg::Sha512),
        other => Err(format!(
            "RSASSA-PSS with hash {other} is not accepted (SHA-256/384/512 only)"
        )),
    }
}

/// Reads RSASSA-PSS-params and returns the hash, requiring MGF1 with the
/// same hash and a salt as long as the hash (what aws-lc-rs verifies).
fn pss_digest(sig_alg: &AlgorithmIdentifierOwned) -> Result<DigestAlg, String> {
    let params = sig_alg
        .parameters
        .as_ref()
        .ok_or_else(|| "RSASSA-PSS signature without parameters".to_owned())?;
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
    let (hash, mgf, salt) =
        parse().map_err(|e| format!("cannot parse RSASSA-PSS parameters: {e}"))?;
    let hash =
        hash.ok_or_else(|| "RSASSA-PSS with the default SHA-1 hash is not accepted".to_owned())?;
    let digest = digest_of(hash.oid)?;
    let mgf =
        mgf.ok_or_else(|| "RSASSA-PSS with the default MGF1-SHA-1 is not accepted".to_owned())?;
    let mgf_hash: Option<AlgorithmIdentifierOwned> =
        mgf.parameters.as_ref().and_then(|p| p.decode_as().ok());
    if mgf.oid != oids::ID_MGF1 || mgf_hash.map(|h| h.oid) != Some(hash.oid) {
        return Err("RSASSA-PSS mask generation must be MGF1 with the signature hash".to_owned());
    }
    let want = match digest {
        DigestAlg::Sha256 => 32,
        DigestAlg::Sha384 => 48,
        DigestAlg::Sha512 => 64,
    };
    if salt.unwrap_or(20) != want {
        return Err(format!(
            "RSASSA-PSS salt length {} is not supported (must equal the hash length {want})",
            salt.unwrap_or(20)
        ));
    }
    Ok(digest)
}
