//! The Rekor v2 and RFC 3161 halves of keyless signing (used by [`crate::keyless`]):
//! timestamps over the signature from every selected TSA, and a `hashedRekordRequestV002`
//! for the DSSE envelope (digest = SHA-256 of the PAE, signature = the envelope's), whose
//! answer is the bundle's `TransparencyLogEntry` as is.
//!
//! Unlike sigstore-python, which only warns when a TSA fails, a TSA failure here stops
//! the signing before anything is written: a Rekor v2 bundle without a timestamp has no
//! verified time and no verifier accepts it.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hallmark_signing::SignError;
use serde_json::{Value, json};

/// Largest TimeStampResp read (a token with one certificate is ~1.5 KiB).
const MAX_TSA_ANSWER_BYTES: u64 = 64 * 1024;

fn keyless(msg: String) -> SignError {
    SignError::Keyless(msg.into())
}

/// Asks the TSA at `url` (the full RFC 3161 endpoint) to timestamp `signature`; returns
/// the `rfc3161Timestamps[]` element (`signedTimestamp` = base64 of the DER answer) after
/// checking that the answer stamps this signature with this nonce.
pub(crate) fn timestamp(url: &str, signature: &[u8]) -> Result<Value, SignError> {
    let mut nonce = [0u8; 8];
    hallmark_crypto::random_fill(&mut nonce).map_err(|e| keyless(format!("TSA nonce: {e}")))?;
    let req = hallmark_ca::tsa::request_for(signature, nonce)
        .map_err(|e| keyless(format!("TSA request: {e}")))?;
    let mut resp = crate::http::agent(Duration::from_secs(30))
        .post(url)
        .header("Content-Type", "application/timestamp-query")
        .send(&req[..])
        .map_err(|e| keyless(format!("POST {url}: {e}")))?;
    let status = resp.status();
    let body = resp
        .body_mut()
        .with_config()
        .limit(MAX_TSA_ANSWER_BYTES)
        .read_to_vec()
        .map_err(|e| keyless(format!("POST {url}: reading the answer: {e}")))?;
    if !status.is_success() {
        let text = String::from_utf8_lossy(&body);
        let msg = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_else(|| text.chars().take(200).collect());
        return Err(keyless(format!("POST {url}: {status}: {msg}")));
    }
    hallmark_ca::tsa::check_answer(&body, signature, nonce)
        .map_err(|e| keyless(format!("POST {url}: {e}")))?;
    Ok(json!({ "signedTimestamp": STANDARD.encode(&body) }))
}

/// The `hashedRekordRequestV002` body logging a DSSE envelope (PAE `pae`, P-256 signature
/// `signature`) signed with the key of `leaf_der`.
pub(crate) fn hashedrekord_request(pae: &[u8], signature: &[u8], leaf_der: &[u8]) -> Value {
    json!({ "hashedRekordRequestV002": {
        "digest": STANDARD.encode(hallmark_crypto::sha256(pae)),
        "signature": {
            "content": STANDARD.encode(signature),
            "verifier": {
                "x509Certificate": { "rawBytes": STANDARD.encode(leaf_der) },
                "keyDetails": "PKIX_ECDSA_P256_SHA_256",
            },
        },
    }})
}

/// Checks that a Rekor v2 answer is a `TransparencyLogEntry` of kind hashedrekord 0.0.2
/// with an inclusion proof and checkpoint (what every verifier needs), and returns it.
pub(crate) fn bundle_entry(answer: Value, url: &str) -> Result<Value, SignError> {
    let kind = answer.pointer("/kindVersion/kind").and_then(Value::as_str);
    let version = answer
        .pointer("/kindVersion/version")
        .and_then(Value::as_str);
    let checkpoint = answer
        .pointer("/inclusionProof/checkpoint/envelope")
        .and_then(Value::as_str);
    if kind != Some("hashedrekord") || version != Some("0.0.2") || checkpoint.is_none() {
        return Err(keyless(format!(
            "{url}: the answer is not a Rekor v2 hashedrekord 0.0.2 entry with an inclusion proof"
        )));
    }
    Ok(answer)
}
