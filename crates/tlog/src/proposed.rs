//! Rekor v1 proposed entries, the bodies of `POST /api/v1/log/entries`: parsed into typed
//! structs with bounds (never a `serde_json::Value` tree of untrusted input), then built
//! into canonicalized bodies by [`crate::rekor`].
//!
//! Accepted: `{"kind":"dsse","apiVersion":"0.0.1","spec":{"proposedContent":{"envelope":
//! TEXT,"verifiers":[B64(PEM)…]}}}` and `{"kind":"hashedrekord","apiVersion":"0.0.1",
//! "spec":{"data":{"hash":{"algorithm":"sha256","value":HEX}},"signature":{"content":B64,
//! "publicKey":{"content":B64(PEM)}}}}`. Unknown fields are skipped without being kept.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;

use crate::bounded::{Bounded, Cap};
use crate::error::Error;
use crate::rekor::{MAX_VERIFIERS, dsse_body, hashedrekord_body};

/// Largest PEM text of one verifier (a certificate or public key).
pub const MAX_VERIFIER_PEM_BYTES: usize = 16 * 1024;

struct VerifierCap;
impl Cap for VerifierCap {
    const MAX: usize = MAX_VERIFIERS;
    const WHAT: &'static str = "verifiers";
}

#[derive(Deserialize)]
struct Request {
    kind: String,
    spec: Spec,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Spec {
    #[serde(default)]
    proposed_content: Option<DsseContent>,
    #[serde(default)]
    data: Option<HashedData>,
    #[serde(default)]
    signature: Option<HashedSignature>,
}

#[derive(Deserialize)]
struct DsseContent {
    envelope: String,
    verifiers: Bounded<String, VerifierCap>,
}

#[derive(Deserialize)]
struct HashedData {
    hash: HashValue,
}

#[derive(Deserialize)]
struct HashValue {
    algorithm: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HashedSignature {
    content: String,
    public_key: Content,
}

#[derive(Deserialize)]
struct Content {
    content: String,
}

/// A proposed entry, parsed and bounded but not yet checked.
#[derive(Debug)]
#[non_exhaustive]
pub enum Proposed {
    /// `dsse` v0.0.1.
    Dsse {
        /// The envelope's exact JSON text.
        envelope: String,
        /// The verifiers' PEM texts.
        verifiers: Vec<String>,
    },
    /// `hashedrekord` v0.0.1.
    HashedRekord {
        /// Hex SHA-256 of the artifact.
        digest_hex: String,
        /// Base64 signature over the artifact.
        signature_b64: String,
        /// The verifier's PEM text (one-element list, like [`Proposed::Dsse`]'s).
        verifier: [String; 1],
    },
}

fn pem_of(b64: &str, field: &str) -> Result<String, Error> {
    if b64.len() > MAX_VERIFIER_PEM_BYTES * 4 / 3 + 4 {
        return Err(Error::InvalidEntry(format!(
            "{field} exceeds {MAX_VERIFIER_PEM_BYTES} bytes of PEM"
        )));
    }
    let pem = B64
        .decode(b64)
        .map_err(|_| Error::InvalidEntry(format!("{field} is not base64")))?;
    String::from_utf8(pem).map_err(|_| Error::InvalidEntry(format!("{field} is not PEM text")))
}

impl Proposed {
    /// Parses a `POST /api/v1/log/entries` body.
    ///
    /// # Errors
    /// [`Error::InvalidEntry`] naming the field: not JSON of the shape above, an
    /// unsupported kind or hash algorithm, more than [`MAX_VERIFIERS`] verifiers, a
    /// verifier that is not base64 PEM or exceeds [`MAX_VERIFIER_PEM_BYTES`].
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        let req: Request = serde_json::from_slice(body)
            .map_err(|e| Error::InvalidEntry(format!("request body: {e}")))?;
        match req.kind.as_str() {
            "dsse" => {
                let c = req
                    .spec
                    .proposed_content
                    .ok_or_else(|| Error::InvalidEntry("missing spec.proposedContent".into()))?;
                let verifiers = c
                    .verifiers
                    .0
                    .iter()
                    .map(|v| pem_of(v, "spec.proposedContent.verifiers[]"))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Self::Dsse {
                    envelope: c.envelope,
                    verifiers,
                })
            }
            "hashedrekord" => {
                let missing = |f: &str| Error::InvalidEntry(format!("missing spec.{f}"));
                let data = req.spec.data.ok_or_else(|| missing("data"))?;
                let sig = req.spec.signature.ok_or_else(|| missing("signature"))?;
                if data.hash.algorithm != "sha256" {
                    return Err(Error::InvalidEntry(format!(
                        "hash algorithm {:?} is not supported (sha256 only)",
                        data.hash.algorithm
                    )));
                }
                Ok(Self::HashedRekord {
                    digest_hex: data.hash.value,
                    signature_b64: sig.content,
                    verifier: [pem_of(
                        &sig.public_key.content,
                        "spec.signature.publicKey.content",
                    )?],
                })
            }
            other => Err(Error::InvalidEntry(format!(
                "entry kind {other:?} is not supported; this log accepts `dsse` and `hashedrekord` v0.0.1"
            ))),
        }
    }

    /// The verifiers' PEM texts (certificates or public keys).
    #[must_use]
    pub fn verifiers(&self) -> &[String] {
        match self {
            Self::Dsse { verifiers, .. } => verifiers,
            Self::HashedRekord { verifier, .. } => verifier,
        }
    }

    /// Checks every signature and builds the canonicalized body
    /// ([`dsse_body`], [`hashedrekord_body`]).
    ///
    /// # Errors
    /// As those functions.
    pub fn canonical_body(&self) -> Result<Vec<u8>, Error> {
        match self {
            Self::Dsse {
                envelope,
                verifiers,
            } => {
                let refs: Vec<&str> = verifiers.iter().map(String::as_str).collect();
                dsse_body(envelope, &refs)
            }
            Self::HashedRekord {
                digest_hex,
                signature_b64,
                verifier: [pem],
            } => hashedrekord_body(digest_hex, signature_b64, pem),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_and_bounds_are_checked_before_any_crypto() {
        let pem = B64.encode("-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n");
        let ok = format!(
            r#"{{"kind":"dsse","apiVersion":"0.0.1","extra":[1,[2]],"spec":{{"proposedContent":{{"envelope":"{{}}","verifiers":["{pem}"]}}}}}}"#
        );
        let p = Proposed::parse(ok.as_bytes()).unwrap();
        assert_eq!(p.verifiers().len(), 1);
        let nine = vec![format!("\"{pem}\""); MAX_VERIFIERS + 1].join(",");
        let many = format!(
            r#"{{"kind":"dsse","spec":{{"proposedContent":{{"envelope":"{{}}","verifiers":[{nine}]}}}}}}"#
        );
        let e = Proposed::parse(many.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("more than 8 verifiers"), "{e}");
        let e = Proposed::parse(b"[0,0,0]").unwrap_err();
        assert!(e.to_string().contains("request body"), "{e}");
        let e = Proposed::parse(br#"{"kind":"intoto","spec":{}}"#).unwrap_err();
        assert!(e.to_string().contains("\"intoto\" is not supported"), "{e}");
        let e = Proposed::parse(br#"{"kind":"hashedrekord","spec":{"data":{"hash":{"algorithm":"sha1","value":"00"}},"signature":{"content":"","publicKey":{"content":""}}}}"#).unwrap_err();
        assert!(e.to_string().contains("sha1"), "{e}");
    }
}
