//! Signing a statement as a DSSE envelope in a Sigstore bundle v0.3 — the same
//! container `hallmark sign` writes for OMS signatures, so every verifier of those
//! (key, certificate, keyless) authenticates attestations too.

use hallmark_format::bundle::{BUNDLE_MEDIA_TYPE_V03, Bundle, VerificationMaterial};
use hallmark_format::dsse::{Envelope, EnvelopeSignature, IN_TOTO_PAYLOAD_TYPE, pae};
use hallmark_signing::{SignError, Signer};

use crate::error::ProvenanceError;
use crate::statement::Statement;

/// Serializes `statement`, signs its DSSE PAE with `signer` and returns the bundle JSON.
///
/// # Errors
/// [`ProvenanceError::Crypto`] / [`ProvenanceError::Sign`] when signing fails, and
/// [`ProvenanceError::Input`] when a certificate does not belong to its key, and
/// [`ProvenanceError::Encode`] when the statement does not serialize.
pub fn sign_statement(statement: &Statement, signer: &Signer) -> Result<Vec<u8>, ProvenanceError> {
    let payload = serde_json::to_vec(statement).map_err(ProvenanceError::Encode)?;
    sign_payload(payload, signer)
}

/// Signs exact payload bytes (an in-toto statement) into a bundle.
///
/// # Errors
/// As [`sign_statement`].
pub fn sign_payload(payload: Vec<u8>, signer: &Signer) -> Result<Vec<u8>, ProvenanceError> {
    let to_sign = pae(IN_TOTO_PAYLOAD_TYPE, &payload);
    let envelope = |sig, keyid| Envelope {
        payload: payload.clone(),
        payload_type: IN_TOTO_PAYLOAD_TYPE.to_owned(),
        signatures: vec![EnvelopeSignature { sig, keyid }],
    };
    let bundle = match signer {
        Signer::Key(key) => Bundle {
            media_type: BUNDLE_MEDIA_TYPE_V03.to_owned(),
            material: VerificationMaterial::PublicKey {
                hint: Some(key.public_key().hint()),
                legacy_raw_bytes: None,
            },
            tlog_entries: Vec::new(),
            timestamp_verification_data: None,
            envelope: envelope(key.sign(&to_sign)?, Some(String::new())),
        },
        Signer::Certificate { key, leaf, chain } => {
            let cert_key = leaf.public_key()?;
            if cert_key != key.public_key() {
                return Err(SignError::CertificateKeyMismatch {
                    certificate: leaf.subject(),
                    cert_key: cert_key.fingerprint(),
                    private_key: key.public_key().fingerprint(),
                }
                .into());
            }
            let mut ders = vec![leaf.der().to_vec()];
            ders.extend(chain.iter().map(|c| c.der().to_vec()));
            Bundle {
                media_type: BUNDLE_MEDIA_TYPE_V03.to_owned(),
                material: VerificationMaterial::X509CertificateChain(ders),
                tlog_entries: Vec::new(),
                timestamp_verification_data: None,
                envelope: envelope(key.sign(&to_sign)?, Some(String::new())),
            }
        }
        Signer::Keyless(k) => {
            let ks = k.sign(&payload, &to_sign)?;
            Bundle {
                media_type: BUNDLE_MEDIA_TYPE_V03.to_owned(),
                material: VerificationMaterial::Certificate(ks.certificate_der),
                tlog_entries: ks.tlog_entries,
                timestamp_verification_data: ks.timestamp_verification_data,
                envelope: envelope(ks.signature, None),
            }
        }
    };
    Ok(bundle.to_json())
}
