//! Rekor v1 compatibility: `dsse` v0.0.1 canonicalized bodies, entry UUIDs, signed entry
//! timestamps (SETs), and the JSON a Sigstore bundle's `tlogEntries[]` and Rekor's
//! `GET /api/v1/log/entries/{uuid}` carry.
//!
//! Body (sigstore/rekor `pkg/types/dsse/v0.0.1`): RFC 8785 JSON of
//! `{"apiVersion":"0.0.1","kind":"dsse","spec":{"envelopeHash":{"algorithm":"sha256","value":
//! hex SHA-256 of the submitted envelope text},"payloadHash":{…of the decoded payload},
//! "signatures":[{"signature": the envelope's base64 sig,"verifier": base64(PEM)}] sorted by
//! signature}}`. Like Rekor, every envelope signature must verify with one of the verifiers.
//! SET: the log key's signature over RFC 8785 JSON of `{"body","integratedTime","logID",
//! "logIndex"}`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hallmark_crypto::{DigestAlg, PublicKey, load_certificates_pem};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::bounded::{Bounded, Cap};

use crate::error::Error;
use crate::merkle::{Hash, sha256};
use crate::note::{LogKey, LogVerifier, SignedCheckpoint};
use crate::tile::MAX_ENTRY_BYTES;

/// Largest envelope accepted.
pub const MAX_ENVELOPE_BYTES: usize = 16 * 1024 * 1024;

fn canonical(v: &Value) -> Result<Vec<u8>, Error> {
    serde_json_canonicalizer::to_vec(v).map_err(|e| Error::InvalidEntry(format!("RFC 8785: {e}")))
}

fn verifier_key(pem: &str) -> Result<PublicKey, Error> {
    if pem.contains("-----BEGIN CERTIFICATE-----") {
        let certs = load_certificates_pem(pem.as_bytes())
            .map_err(|e| Error::InvalidEntry(e.to_string()))?;
        let cert = certs
            .first()
            .ok_or_else(|| Error::InvalidEntry("empty certificate PEM".into()))?;
        cert.public_key()
            .map_err(|e| Error::InvalidEntry(e.to_string()))
    } else {
        PublicKey::from_pem_with_source(pem.as_bytes(), "verifier")
            .map_err(|e| Error::InvalidEntry(e.to_string()))
    }
}

/// Most signatures a submitted envelope may carry.
pub const MAX_SIGNATURES: usize = 8;
/// Most verifiers a `dsse` entry may name.
pub const MAX_VERIFIERS: usize = 8;

struct SignatureCap;
impl Cap for SignatureCap {
    const MAX: usize = MAX_SIGNATURES;
    const WHAT: &'static str = "envelope signatures";
}

/// The fields of a DSSE envelope this log reads (others are ignored, not kept).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    payload: String,
    payload_type: String,
    signatures: Bounded<EnvelopeSignature, SignatureCap>,
}

#[derive(Deserialize)]
struct EnvelopeSignature {
    sig: String,
}

/// Builds the canonicalized `dsse` v0.0.1 body for a submitted envelope (its exact JSON
/// text) and the PEM verifiers (certificates or public keys), checking every signature.
/// At most [`MAX_SIGNATURES`] signatures and [`MAX_VERIFIERS`] verifiers, no two the
/// same; the PAE is hashed once per digest algorithm, not once per verifier.
///
/// # Errors
/// [`Error::InvalidEntry`] for a malformed envelope, too many or repeated signatures or
/// verifiers, an unverifiable signature, or a body too large for an entry bundle.
pub fn dsse_body(envelope_json: &str, verifiers_pem: &[&str]) -> Result<Vec<u8>, Error> {
    let bad = |m: &str| Error::InvalidEntry(m.to_owned());
    if envelope_json.len() > MAX_ENVELOPE_BYTES {
        return Err(Error::InvalidEntry(format!(
            "envelope of {} bytes exceeds {MAX_ENVELOPE_BYTES}",
            envelope_json.len()
        )));
    }
    if verifiers_pem.is_empty() {
        return Err(bad("no verifiers"));
    }
    if verifiers_pem.len() > MAX_VERIFIERS {
        return Err(Error::InvalidEntry(format!(
            "{} verifiers exceed the limit of {MAX_VERIFIERS}",
            verifiers_pem.len()
        )));
    }
    let env: Envelope = serde_json::from_str(envelope_json)
        .map_err(|e| Error::InvalidEntry(format!("envelope JSON: {e}")))?;
    let sigs = env.signatures.0;
    if sigs.is_empty() {
        return Err(bad("envelope has no signatures"));
    }
    if let Some(i) = first_repeat(sigs.iter().map(|s| s.sig.as_str())) {
        return Err(Error::InvalidEntry(format!(
            "envelope signature {i} repeats an earlier one"
        )));
    }
    let keys = verifiers_pem
        .iter()
        .map(|p| verifier_key(p).map(|k| (k, *p)))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(i) = first_repeat(keys.iter().map(|(k, _)| k.spki_der())) {
        return Err(Error::InvalidEntry(format!(
            "verifier {i} repeats the key of an earlier one"
        )));
    }
    let payload = B64
        .decode(&env.payload)
        .map_err(|_| bad("envelope payload is not base64"))?;
    drop(env.payload);
    let payload_hash = sha256(&payload);
    let pae = hallmark_format::dsse::pae(&env.payload_type, &payload);
    drop(payload);
    // One digest per algorithm any key may need: the curve's own, and SHA-256 (the
    // v0.2.0 compatibility path).
    let mut digests: Vec<(DigestAlg, Vec<u8>)> = Vec::new();
    for (k, _) in &keys {
        for alg in [k.curve().digest(), DigestAlg::Sha256] {
            if !digests.iter().any(|(a, _)| *a == alg) {
                digests.push((alg, alg.digest(&pae)));
            }
        }
    }
    drop(pae);
    let mut out = Vec::with_capacity(sigs.len());
    for s in sigs {
        let sig = B64.decode(&s.sig).map_err(|_| bad("sig is not base64"))?;
        let pem = keys
            .iter()
            .find(|(k, _)| {
                digests.iter().any(|(alg, d)| {
                    (*alg == k.curve().digest() || *alg == DigestAlg::Sha256)
                        && k.verify_prehashed(*alg, d, &sig).is_ok()
                })
            })
            .map(|(_, p)| *p)
            .ok_or_else(|| bad("an envelope signature does not verify with any verifier"))?;
        out.push((s.sig, B64.encode(pem.as_bytes())));
    }
    out.sort();
    let signatures: Vec<Value> = out
        .into_iter()
        .map(|(s, v)| json!({"signature": s, "verifier": v}))
        .collect();
    let body = json!({
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": {
            "envelopeHash": {"algorithm": "sha256", "value": hex::encode(sha256(envelope_json.as_bytes()))},
            "payloadHash": {"algorithm": "sha256", "value": hex::encode(payload_hash)},
            "signatures": signatures,
        }
    });
    let bytes = canonical(&body)?;
    if bytes.len() > MAX_ENTRY_BYTES {
        return Err(bad("canonicalized body exceeds 65535 bytes"));
    }
    Ok(bytes)
}

/// The position of the first item equal to an earlier one.
fn first_repeat<T: PartialEq>(items: impl Iterator<Item = T>) -> Option<usize> {
    let mut seen: Vec<T> = Vec::new();
    for (i, x) in items.enumerate() {
        if seen.contains(&x) {
            return Some(i);
        }
        seen.push(x);
    }
    None
}

/// `(kind, apiVersion)` of a canonicalized body, e.g. `("dsse", "0.0.1")`.
#[must_use]
pub fn kind_version(body: &[u8]) -> Option<(String, String)> {
    let v: Value = serde_json::from_slice(body).ok()?;
    Some((
        v.get("kind")?.as_str()?.to_owned(),
        v.get("apiVersion")?.as_str()?.to_owned(),
    ))
}

/// Rekor v1 entry UUID: 16 hex digits of the tree ID, then the hex leaf hash.
#[must_use]
pub fn entry_uuid(tree_id: u64, leaf: &Hash) -> String {
    format!("{tree_id:016x}{}", hex::encode(leaf))
}

/// The leaf hash named by a UUID (80 hex digits with tree ID, or 64 without); `None` if
/// malformed or for another tree.
#[must_use]
pub fn parse_uuid(uuid: &str, tree_id: u64) -> Option<Hash> {
    let hash_hex = match uuid.len() {
        80 => {
            let (tid, h) = uuid.split_at(16);
            if u64::from_str_radix(tid, 16).ok()? != tree_id {
                return None;
            }
            h
        }
        64 => uuid,
        _ => return None,
    };
    hex::decode(hash_hex).ok()?.try_into().ok()
}

/// The bytes a SET signs.
///
/// # Errors
/// Only on a canonicalization failure.
pub fn set_payload(
    body: &[u8],
    integrated_time: i64,
    log_id: &Hash,
    log_index: u64,
) -> Result<Vec<u8>, Error> {
    canonical(&json!({
        "body": B64.encode(body),
        "integratedTime": integrated_time,
        "logID": hex::encode(log_id),
        "logIndex": log_index,
    }))
}

/// Signs a SET by the log whose checkpoint key is `key` named `key_name` (its `logID` is
/// [`LogVerifier::log_id`] of that name).
///
/// # Errors
/// Key failures.
pub fn sign_set(
    key: &LogKey,
    key_name: &str,
    body: &[u8],
    integrated_time: i64,
    log_index: u64,
) -> Result<Vec<u8>, Error> {
    key.sign(&set_payload(
        body,
        integrated_time,
        &key.verifier().log_id(key_name),
        log_index,
    )?)
}

/// Verifies a SET by the log whose checkpoint key is `v` named `key_name`.
#[must_use]
pub fn verify_set(
    v: &LogVerifier,
    key_name: &str,
    body: &[u8],
    integrated_time: i64,
    log_index: u64,
    set: &[u8],
) -> bool {
    set_payload(body, integrated_time, &v.log_id(key_name), log_index)
        .is_ok_and(|p| v.verify(&p, set))
}

/// Builds the canonicalized `hashedrekord` v0.0.1 body (sigstore/rekor
/// `pkg/types/hashedrekord/v0.0.1`) for a SHA-256 `digest_hex` of an artifact, its
/// base64 signature and the PEM verifier (certificate or public key), checking the
/// signature over the digest as Rekor does.
///
/// # Errors
/// [`Error::InvalidEntry`] for a malformed digest, signature or verifier, or a signature
/// that does not verify.
pub fn hashedrekord_body(
    digest_hex: &str,
    signature_b64: &str,
    verifier_pem: &str,
) -> Result<Vec<u8>, Error> {
    let bad = |m: &str| Error::InvalidEntry(m.to_owned());
    let digest: [u8; 32] = hex::decode(digest_hex)
        .ok()
        .and_then(|d| d.try_into().ok())
        .ok_or_else(|| bad("data.hash.value is not a hex SHA-256 digest"))?;
    let sig = B64
        .decode(signature_b64)
        .map_err(|_| bad("signature.content is not base64"))?;
    verifier_key(verifier_pem)?
        .verify_sha256_prehashed(&digest, &sig)
        .map_err(|_| bad("the signature does not verify over data.hash with the verifier"))?;
    canonical(&json!({
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": hex::encode(digest)}},
            "signature": {"content": signature_b64, "publicKey": {"content": B64.encode(verifier_pem.as_bytes())}},
        },
    }))
}

/// Everything a log entry needs to be presented to a verifier.
#[derive(Clone, Debug)]
pub struct EntryProof<'a> {
    /// Canonicalized body (the leaf data).
    pub body: &'a [u8],
    /// Leaf index.
    pub index: u64,
    /// Rekor integrated time (Unix seconds).
    pub integrated_time: i64,
    /// Log ID (`SHA-256` of the log key's SPKI).
    pub log_id: Hash,
    /// Signed entry timestamp.
    pub set: &'a [u8],
    /// Inclusion proof hashes against `checkpoint`.
    pub proof: &'a [Hash],
    /// The checkpoint the proof leads to.
    pub checkpoint: &'a SignedCheckpoint,
}

impl EntryProof<'_> {
    /// One element of a Sigstore bundle's `verificationMaterial.tlogEntries[]`
    /// (proto3 JSON: int64 as strings, bytes as base64).
    #[must_use]
    pub fn bundle_tlog_entry(&self) -> Value {
        let (kind, version) =
            kind_version(self.body).unwrap_or_else(|| ("dsse".into(), "0.0.1".into()));
        json!({
            "logIndex": self.index.to_string(),
            "logId": {"keyId": B64.encode(self.log_id)},
            "kindVersion": {"kind": kind, "version": version},
            "integratedTime": self.integrated_time.to_string(),
            "inclusionPromise": {"signedEntryTimestamp": B64.encode(self.set)},
            "inclusionProof": {
                "logIndex": self.index.to_string(),
                "rootHash": B64.encode(self.checkpoint.checkpoint.root),
                "treeSize": self.checkpoint.checkpoint.size.to_string(),
                "hashes": self.proof.iter().map(|h| B64.encode(h)).collect::<Vec<_>>(),
                "checkpoint": {"envelope": self.checkpoint.text},
            },
            "canonicalizedBody": B64.encode(self.body),
        })
    }

    /// Rekor v1 `LogEntry` (`{uuid: {body, integratedTime, logID, logIndex, verification}}`).
    #[must_use]
    pub fn rekor_v1_entry(&self, tree_id: u64) -> Value {
        let uuid = entry_uuid(tree_id, &crate::merkle::leaf_hash(self.body));
        json!({ uuid: {
            "body": B64.encode(self.body),
            "integratedTime": self.integrated_time,
            "logID": hex::encode(self.log_id),
            "logIndex": self.index,
            "verification": {
                "inclusionProof": {
                    "checkpoint": self.checkpoint.text,
                    "hashes": self.proof.iter().map(hex::encode).collect::<Vec<_>>(),
                    "logIndex": self.index,
                    "rootHash": hex::encode(self.checkpoint.checkpoint.root),
                    "treeSize": self.checkpoint.checkpoint.size,
                },
                "signedEntryTimestamp": B64.encode(self.set),
            },
        }})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_round_trip() {
        let h = [7u8; 32];
        let u = entry_uuid(42, &h);
        assert_eq!(u.len(), 80);
        assert_eq!(parse_uuid(&u, 42), Some(h));
        assert_eq!(parse_uuid(&u, 43), None);
        assert_eq!(parse_uuid(&u[16..], 1), Some(h));
        assert_eq!(parse_uuid("zz", 1), None);
    }

    #[test]
    fn set_round_trip() {
        let k = LogKey::generate(crate::LogKeyType::EcdsaP256).unwrap();
        let set = sign_set(&k, "h", b"body", 1_700_000_000, 5).unwrap();
        assert!(verify_set(
            k.verifier(),
            "h",
            b"body",
            1_700_000_000,
            5,
            &set
        ));
        assert!(!verify_set(
            k.verifier(),
            "h",
            b"body",
            1_700_000_001,
            5,
            &set
        ));
    }
}
