//! RFC 6962 signed certificate timestamps for precertificate entries, embedded in the leaf.

use hallmark_crypto::SigningKey;

use crate::error::{CaError, IssueFailure};

/// The data a CT log signs for a precertificate entry (RFC 6962 §3.2):
/// version, signature type, timestamp, entry type, issuer key hash, TBS, extensions.
fn signed_data(
    timestamp_ms: u64,
    issuer_key_hash: &[u8; 32],
    tbs_der: &[u8],
) -> Result<Vec<u8>, CaError> {
    let len = u32::try_from(tbs_der.len())
        .ok()
        .filter(|l| *l < (1 << 24))
        .ok_or(CaError::Internal(IssueFailure::TbsTooLarge))?;
    let mut out = Vec::with_capacity(tbs_der.len() + 64);
    out.push(0); // v1
    out.push(0); // certificate_timestamp
    out.extend_from_slice(&timestamp_ms.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes()); // precert_entry
    out.extend_from_slice(issuer_key_hash);
    out.extend_from_slice(&len.to_be_bytes()[1..]);
    out.extend_from_slice(tbs_der);
    out.extend_from_slice(&0u16.to_be_bytes()); // no extensions
    Ok(out)
}

/// Signs an SCT for the precertificate whose TBS (without poison or SCT extension) is
/// `tbs_der`, issued by the CA whose SubjectPublicKeyInfo is `issuer_spki_der`, and
/// returns the extension value: an OCTET STRING holding the TLS-encoded SCT list.
pub fn embedded_sct_extension_value(
    log_key: &SigningKey,
    timestamp_ms: u64,
    issuer_spki_der: &[u8],
    tbs_der: &[u8],
) -> Result<Vec<u8>, CaError> {
    let issuer_key_hash = hallmark_crypto::sha256(issuer_spki_der);
    let signature = log_key.sign(&signed_data(timestamp_ms, &issuer_key_hash, tbs_der)?)?;
    let log_id = hallmark_crypto::sha256(log_key.public_key().spki_der());
    let mut sct = Vec::with_capacity(128);
    sct.push(0); // v1
    sct.extend_from_slice(&log_id);
    sct.extend_from_slice(&timestamp_ms.to_be_bytes());
    sct.extend_from_slice(&0u16.to_be_bytes()); // no extensions
    sct.push(4); // sha256
    sct.push(3); // ecdsa
    let sig_len = u16::try_from(signature.len())
        .map_err(|_| CaError::Internal(IssueFailure::SctSignatureLength))?;
    sct.extend_from_slice(&sig_len.to_be_bytes());
    sct.extend_from_slice(&signature);
    let sct_len =
        u16::try_from(sct.len()).map_err(|_| CaError::Internal(IssueFailure::SctLength))?;
    let mut list = Vec::with_capacity(sct.len() + 4);
    list.extend_from_slice(&(sct_len + 2).to_be_bytes());
    list.extend_from_slice(&sct_len.to_be_bytes());
    list.extend_from_slice(&sct);
    Ok(der::Encode::to_der(&der::asn1::OctetString::new(list)?)?)
}
