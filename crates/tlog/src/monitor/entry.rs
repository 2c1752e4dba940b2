//! Who signed a log entry: the verifiers named in its canonicalized body, read as
//! certificate identity (SAN) and OIDC issuer (Fulcio extension), or as a bare key.
//!
//! Understood bodies: Rekor v1 `dsse` 0.0.1 (`spec.signatures[].verifier`, base64 PEM)
//! and `hashedrekord` 0.0.1 (`spec.signature.publicKey.content`, base64 PEM); Rekor v2
//! `hashedrekord` 0.0.2 (`spec.hashedRekordV002.signature.verifier`) and `dsse` 0.0.2
//! (`spec.dsseV002.signatures[].verifier`), whose verifiers carry DER
//! (`x509Certificate.rawBytes` or `publicKey.rawBytes`). Entries are at most 64 KiB
//! (the bundle's length prefix), so parsing one is bounded.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hallmark_crypto::{Certificate, PublicKey, sha256};
use serde::Serialize;
use serde_json::Value;

/// Most verifiers read from one entry.
pub const MAX_SIGNERS_PER_ENTRY: usize = 16;

/// One signer of an entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EntrySigner {
    /// The certificate's first SAN, or `key:sha256:<hex of the SPKI>` for a bare key.
    pub identity: String,
    /// The certificate's OIDC issuer, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
}

/// The signers of an entry body; empty when the body is not a kind understood here.
#[must_use]
pub fn signers(body: &[u8]) -> Vec<EntrySigner> {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    let spec = &v["spec"];
    let mut out: Vec<EntrySigner> = Vec::new();
    let mut push = |s: Option<EntrySigner>| {
        if let Some(s) = s
            && out.len() < MAX_SIGNERS_PER_ENTRY
            && !out.contains(&s)
        {
            out.push(s);
        }
    };
    match (v["kind"].as_str(), v["apiVersion"].as_str()) {
        (Some("dsse"), Some("0.0.1")) => {
            for s in spec["signatures"].as_array().into_iter().flatten() {
                push(s["verifier"].as_str().and_then(from_b64_pem));
            }
        }
        (Some("hashedrekord"), Some("0.0.1")) => {
            push(
                spec["signature"]["publicKey"]["content"]
                    .as_str()
                    .and_then(from_b64_pem),
            );
        }
        (Some("hashedrekord"), Some("0.0.2")) => {
            push(from_v2(&spec["hashedRekordV002"]["signature"]["verifier"]));
        }
        (Some("dsse"), Some("0.0.2")) => {
            for s in spec["dsseV002"]["signatures"]
                .as_array()
                .into_iter()
                .flatten()
            {
                push(from_v2(&s["verifier"]));
            }
        }
        _ => {}
    }
    out
}

fn from_v2(verifier: &Value) -> Option<EntrySigner> {
    let der = |f: &str| {
        verifier[f]["rawBytes"]
            .as_str()
            .and_then(|s| B64.decode(s).ok())
    };
    if let Some(d) = der("x509Certificate") {
        return from_cert_der(&d);
    }
    der("publicKey").map(|d| key_signer(&d))
}

fn from_b64_pem(b64: &str) -> Option<EntrySigner> {
    let pem = B64.decode(b64).ok()?;
    let (label, der) = pem_rfc7468::decode_vec(&pem).ok()?;
    match label {
        "CERTIFICATE" => from_cert_der(&der),
        "PUBLIC KEY" => Some(key_signer(&der)),
        _ => None,
    }
}

fn from_cert_der(der: &[u8]) -> Option<EntrySigner> {
    let cert = Certificate::from_der(der).ok()?;
    let identity = cert.san_values().into_iter().next()?;
    Some(EntrySigner {
        identity,
        issuer: cert.oidc_issuer(),
    })
}

fn key_signer(spki: &[u8]) -> EntrySigner {
    // Normalise through the parser when possible, so one key has one name.
    let der =
        PublicKey::from_spki_der(spki).map_or_else(|_| spki.to_vec(), |k| k.spki_der().to_vec());
    EntrySigner {
        identity: format!("key:sha256:{}", hex::encode(sha256(&der))),
        issuer: None,
    }
}
