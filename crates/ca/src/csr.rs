//! Proof of possession: a PKCS#10 CSR's self-signature (what sigstore clients send), or a
//! signature over the token subject (Fulcio's `publicKeyRequest`).

use der::{Decode as _, Encode as _};
use hallmark_crypto::{DigestAlg, PublicKey};
use x509_cert::request::CertReq;

use crate::error::CaError;
use crate::tbs::{OID_ECDSA_SHA256, OID_ECDSA_SHA384, OID_ECDSA_SHA512};

/// Largest CSR accepted.
pub const MAX_CSR_BYTES: usize = 16 * 1024;

fn pem_body(text: &str, labels: &[&str]) -> Option<Vec<u8>> {
    for label in labels {
        let begin = format!("-----BEGIN {label}-----");
        let end = format!("-----END {label}-----");
        if let (Some(b), Some(e)) = (text.find(&begin), text.find(&end))
            && e > b
        {
            let body: String = text[b + begin.len()..e]
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            return base64::Engine::decode(&base64::engine::general_purpose::STANDARD, body).ok();
        }
    }
    None
}

/// Parses a CSR (PEM or DER), checks its self-signature and returns the SPKI DER of the
/// key it proves possession of. Only ECDSA keys on P-256, P-384 and P-521 are accepted.
pub fn verify_csr(bytes: &[u8]) -> Result<Vec<u8>, CaError> {
    if bytes.len() > MAX_CSR_BYTES {
        return Err(CaError::BadRequest(format!(
            "CSR is {} bytes, over the {MAX_CSR_BYTES}-byte limit",
            bytes.len()
        )));
    }
    let der = match std::str::from_utf8(bytes) {
        Ok(text) if text.contains("-----BEGIN") => {
            pem_body(text, &["CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"])
                .ok_or_else(|| CaError::BadRequest("CSR PEM block is malformed".into()))?
        }
        _ => bytes.to_vec(),
    };
    let req = CertReq::from_der(&der)
        .map_err(|e| CaError::BadRequest(format!("CSR is not a PKCS#10 request: {e}")))?;
    let spki_der = req.info.public_key.to_der()?;
    let key = PublicKey::from_spki_der(&spki_der)
        .map_err(|e| CaError::BadRequest(format!("CSR key: {e}")))?;
    let digest = match req.algorithm.oid {
        o if o == OID_ECDSA_SHA256 => DigestAlg::Sha256,
        o if o == OID_ECDSA_SHA384 => DigestAlg::Sha384,
        o if o == OID_ECDSA_SHA512 => DigestAlg::Sha512,
        o => {
            return Err(CaError::BadRequest(format!(
                "CSR signature algorithm {o} is not ECDSA with SHA-2"
            )));
        }
    };
    let signed = req.info.to_der()?;
    let sig = req
        .signature
        .as_bytes()
        .ok_or_else(|| CaError::BadRequest("CSR signature has unused bits".into()))?;
    key.verify_with_digest(&signed, sig, digest).map_err(|_| {
        CaError::ProofOfPossession("the CSR's signature does not verify with its public key".into())
    })?;
    Ok(spki_der)
}

/// Checks a Fulcio `publicKeyRequest`: `proof` must be a signature by `public_key_pem`
/// over the token subject.
pub fn verify_signed_subject(
    public_key_pem: &[u8],
    proof: &[u8],
    subject: &str,
) -> Result<Vec<u8>, CaError> {
    let key = PublicKey::from_pem(public_key_pem)
        .map_err(|e| CaError::BadRequest(format!("publicKey: {e}")))?;
    key.verify(subject.as_bytes(), proof)
        .or_else(|_| key.verify_with_digest(subject.as_bytes(), proof, DigestAlg::Sha256))
        .map_err(|_| {
            CaError::ProofOfPossession(format!(
                "the proof is not a signature over the subject {subject:?} by the submitted key"
            ))
        })?;
    Ok(key.spki_der().to_vec())
}

/// Builds a PKCS#10 CSR (PEM) for `key` with an empty subject, self-signed as proof of
/// possession — what a Sigstore client sends to Fulcio.
pub fn build_csr(key: &hallmark_crypto::SigningKey) -> Result<String, CaError> {
    use x509_cert::request::CertReqInfo;
    let info = CertReqInfo {
        version: x509_cert::request::Version::V1,
        subject: x509_cert::name::Name::default(),
        public_key: spki::SubjectPublicKeyInfoOwned::from_der(key.public_key().spki_der())?,
        attributes: Default::default(),
    };
    let sig = key.sign(&info.to_der()?)?;
    let req = CertReq {
        info,
        algorithm: crate::tbs::signature_algorithm(key.curve()),
        signature: der::asn1::BitString::from_bytes(&sig)?,
    };
    Ok(crate::material::pem("CERTIFICATE REQUEST", &req.to_der()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_csrs_verify_and_tampered_ones_do_not() {
        let key = hallmark_crypto::SigningKey::generate(hallmark_crypto::Curve::P256).unwrap();
        let pem = build_csr(&key).unwrap();
        assert_eq!(
            verify_csr(pem.as_bytes()).unwrap(),
            key.public_key().spki_der()
        );
        let other = hallmark_crypto::SigningKey::generate(hallmark_crypto::Curve::P256).unwrap();
        let mut req =
            CertReq::from_der(&pem_body(&pem, &["CERTIFICATE REQUEST"]).unwrap()).unwrap();
        req.info.public_key =
            spki::SubjectPublicKeyInfoOwned::from_der(other.public_key().spki_der()).unwrap();
        let forged = crate::material::pem("CERTIFICATE REQUEST", &req.to_der().unwrap());
        assert!(matches!(
            verify_csr(forged.as_bytes()),
            Err(CaError::ProofOfPossession(_))
        ));
    }
}
