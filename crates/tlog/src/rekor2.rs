//! Rekor v2 (rekor-tiles) compatibility: the `POST /api/v2/log/entries` request
//! (`CreateEntryRequest`), the `hashedrekord` v0.0.2 canonicalized body it is logged as, and
//! the `TransparencyLogEntry` answered (which clients copy into a bundle as is).
//!
//! Request (protobuf JSON, rekor-tiles `api/proto/rekor/v2`): exactly one of
//! `hashedRekordRequestV002{digest, signature{content, verifier}}` and
//! `dsseRequestV002{envelope{payload, payloadType, signatures[{sig, keyid}]}, verifiers[]}`,
//! where a verifier is `{publicKey{rawBytes: DER SPKI} | x509Certificate{rawBytes: DER},
//! keyDetails}`. Unknown fields are refused, as rekor-tiles does. A DSSE request is logged
//! the way Rekor v2 clients log DSSE since rekor-tiles v2.3.0: as `hashedrekord` 0.0.2 whose
//! digest is the hash of the envelope's PAE and whose signature is the envelope's only
//! signature (sigstore-python 4.5 `_build_dsse_request`).
//!
//! Body: RFC 8785 JSON of `{"apiVersion":"0.0.2","kind":"hashedrekord","spec":
//! {"hashedRekordV002":{"data":{"algorithm":"SHA2_256","digest":B64},"signature":{"content":
//! B64,"verifier":{"keyDetails":…,"x509Certificate"|"publicKey":{"rawBytes":B64}}}}}}`
//! (rekor-tiles `pkg/types/hashedrekord` `ToLogEntry`; sigstore-go recomputes these bytes).
//!
//! Supported keys: ECDSA P-256/P-384/P-521 with SHA-256/384/512 (`PKIX_ECDSA_P*`), the
//! digest length must be the hash's; the signature must verify over the digest (prehash).
//! RSA and Ed25519ph are refused (this log's crypto is ECDSA only).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hallmark_crypto::{Certificate, Curve, DigestAlg, PublicKey};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::bounded::{Bounded, Cap};
use crate::error::Error;
use crate::layout::Appended;
use crate::merkle::Hash;
use crate::proposed::MAX_VERIFIER_PEM_BYTES;
use crate::rekor::{MAX_ENVELOPE_BYTES, MAX_SIGNATURES, MAX_VERIFIERS};
use crate::tile::MAX_ENTRY_BYTES;

fn bad(field: &str, what: impl std::fmt::Display) -> Error {
    Error::InvalidEntry(format!("{field}: {what}"))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateEntryRequest {
    #[serde(default)]
    hashed_rekord_request_v002: Option<HashedRekordRequest>,
    #[serde(default)]
    dsse_request_v002: Option<DsseRequest>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct HashedRekordRequest {
    digest: String,
    signature: SignatureJson,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SignatureJson {
    content: String,
    verifier: VerifierJson,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct VerifierJson {
    #[serde(default)]
    public_key: Option<RawBytes>,
    #[serde(default)]
    x509_certificate: Option<RawBytes>,
    key_details: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawBytes {
    raw_bytes: String,
}

struct VerifierCap;
impl Cap for VerifierCap {
    const MAX: usize = MAX_VERIFIERS;
    const WHAT: &'static str = "verifiers";
}

struct SignatureCap;
impl Cap for SignatureCap {
    const MAX: usize = MAX_SIGNATURES;
    const WHAT: &'static str = "envelope signatures";
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DsseRequest {
    envelope: EnvelopeJson,
    verifiers: Bounded<VerifierJson, VerifierCap>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EnvelopeJson {
    payload: String,
    payload_type: String,
    signatures: Bounded<EnvelopeSignature, SignatureCap>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvelopeSignature {
    sig: String,
    #[serde(default)]
    #[allow(dead_code)]
    keyid: Option<String>,
}

/// The verifier of a v2 entry: a certificate or a bare key, as DER.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum V2Verifier {
    /// `x509Certificate.rawBytes`: a DER certificate.
    Certificate(Vec<u8>),
    /// `publicKey.rawBytes`: a DER SubjectPublicKeyInfo.
    PublicKey(Vec<u8>),
}

impl V2Verifier {
    /// The verifier as PEM text (`CERTIFICATE` or `PUBLIC KEY`), the form the write
    /// policy checks.
    #[must_use]
    pub fn to_pem(&self) -> String {
        let (label, der) = match self {
            Self::Certificate(d) => ("CERTIFICATE", d),
            Self::PublicKey(d) => ("PUBLIC KEY", d),
        };
        pem_rfc7468::encode_string(label, pem_rfc7468::LineEnding::LF, der).unwrap_or_default()
    }

    fn key(&self, field: &str) -> Result<PublicKey, Error> {
        match self {
            Self::Certificate(der) => Certificate::from_der(der)
                .and_then(|c| c.public_key())
                .map_err(|e| bad(&format!("{field}.x509Certificate.rawBytes"), e)),
            Self::PublicKey(der) => PublicKey::from_spki_der(der)
                .map_err(|e| bad(&format!("{field}.publicKey.rawBytes"), e)),
        }
    }

    fn json(&self) -> (&'static str, Value) {
        match self {
            Self::Certificate(d) => ("x509Certificate", json!({"rawBytes": B64.encode(d)})),
            Self::PublicKey(d) => ("publicKey", json!({"rawBytes": B64.encode(d)})),
        }
    }
}

/// A `hashedrekord` v0.0.2 entry, parsed and bounded but not yet checked.
#[derive(Clone, Debug)]
pub struct HashedRekordV2 {
    /// The digest signed (of the artifact, or of a DSSE envelope's PAE).
    pub digest: Vec<u8>,
    /// The DER ECDSA signature.
    pub signature: Vec<u8>,
    /// Who signed.
    pub verifier: V2Verifier,
    /// The curve `keyDetails` names.
    pub curve: Curve,
}

fn b64(field: &str, s: &str, max: usize) -> Result<Vec<u8>, Error> {
    if s.len() > max * 4 / 3 + 4 {
        return Err(bad(field, format_args!("exceeds {max} bytes")));
    }
    B64.decode(s).map_err(|_| bad(field, "is not base64"))
}

fn curve_of(field: &str, key_details: &str) -> Result<Curve, Error> {
    [Curve::P256, Curve::P384, Curve::P521]
        .into_iter()
        .find(|c| c.key_details() == key_details)
        .ok_or_else(|| {
            bad(
                field,
                format_args!(
                    "{key_details:?} is not supported; this log accepts PKIX_ECDSA_P256_SHA_256, PKIX_ECDSA_P384_SHA_384 and PKIX_ECDSA_P521_SHA_512"
                ),
            )
        })
}

fn verifier_of(field: &str, v: VerifierJson) -> Result<(V2Verifier, Curve), Error> {
    let curve = curve_of(&format!("{field}.keyDetails"), &v.key_details)?;
    let verifier = match (v.x509_certificate, v.public_key) {
        (Some(c), None) => V2Verifier::Certificate(b64(
            &format!("{field}.x509Certificate.rawBytes"),
            &c.raw_bytes,
            MAX_VERIFIER_PEM_BYTES,
        )?),
        (None, Some(k)) => V2Verifier::PublicKey(b64(
            &format!("{field}.publicKey.rawBytes"),
            &k.raw_bytes,
            MAX_VERIFIER_PEM_BYTES,
        )?),
        _ => {
            return Err(bad(
                field,
                "needs exactly one of x509Certificate and publicKey",
            ));
        }
    };
    Ok((verifier, curve))
}

impl HashedRekordV2 {
    /// Parses a `POST /api/v2/log/entries` body. A `dsseRequestV002` becomes the
    /// `hashedrekord` it is logged as (one signature, one verifier).
    ///
    /// # Errors
    /// [`Error::InvalidEntry`] naming the field: not JSON of that shape, an unknown field,
    /// neither or both requests, bad base64, an unsupported `keyDetails`, too many
    /// verifiers or signatures, an envelope over [`MAX_ENVELOPE_BYTES`].
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        let req: CreateEntryRequest =
            serde_json::from_slice(body).map_err(|e| bad("request body", e))?;
        match (req.hashed_rekord_request_v002, req.dsse_request_v002) {
            (Some(h), None) => {
                let f = "hashedRekordRequestV002";
                let (verifier, curve) =
                    verifier_of(&format!("{f}.signature.verifier"), h.signature.verifier)?;
                Ok(Self {
                    digest: b64(&format!("{f}.digest"), &h.digest, 64)?,
                    signature: b64(
                        &format!("{f}.signature.content"),
                        &h.signature.content,
                        1024,
                    )?,
                    verifier,
                    curve,
                })
            }
            (None, Some(d)) => {
                let f = "dsseRequestV002";
                let [sig] = d.envelope.signatures.0.as_slice() else {
                    return Err(bad(
                        &format!("{f}.envelope.signatures"),
                        "must hold exactly one signature",
                    ));
                };
                let signature = b64(&format!("{f}.envelope.signatures[0].sig"), &sig.sig, 1024)?;
                let Ok::<[VerifierJson; 1], _>([v]) = d.verifiers.0.try_into() else {
                    return Err(bad(
                        &format!("{f}.verifiers"),
                        "must hold exactly one verifier",
                    ));
                };
                let (verifier, curve) = verifier_of(&format!("{f}.verifiers[0]"), v)?;
                let payload = b64(
                    &format!("{f}.envelope.payload"),
                    &d.envelope.payload,
                    MAX_ENVELOPE_BYTES,
                )?;
                let pae = hallmark_format::dsse::pae(&d.envelope.payload_type, &payload);
                Ok(Self {
                    digest: curve.digest().digest(&pae),
                    signature,
                    verifier,
                    curve,
                })
            }
            (None, None) => Err(bad(
                "request body",
                "needs hashedRekordRequestV002 (or dsseRequestV002)",
            )),
            (Some(_), Some(_)) => Err(bad(
                "request body",
                "holds both hashedRekordRequestV002 and dsseRequestV002",
            )),
        }
    }

    /// The hash `keyDetails` implies.
    #[must_use]
    pub fn digest_alg(&self) -> DigestAlg {
        self.curve.digest()
    }

    /// Checks the entry as rekor-tiles does (the key is of the `keyDetails` curve, the
    /// digest is as long as its hash, the signature verifies over the digest) and builds
    /// its canonicalized body.
    ///
    /// # Errors
    /// [`Error::InvalidEntry`] naming what failed.
    pub fn canonical_body(&self) -> Result<Vec<u8>, Error> {
        let key = self.verifier.key("verifier")?;
        if key.curve() != self.curve {
            return Err(bad(
                "verifier.keyDetails",
                format_args!(
                    "{} does not match the verifier's {} key",
                    self.curve.key_details(),
                    key.curve().name()
                ),
            ));
        }
        let alg = self.digest_alg();
        let want = alg.digest(b"").len();
        if self.digest.len() != want {
            return Err(bad(
                "digest",
                format_args!(
                    "is {} bytes, {} needs {want}",
                    self.digest.len(),
                    alg.name()
                ),
            ));
        }
        key.verify_prehashed(alg, &self.digest, &self.signature)
            .map_err(|_| {
                bad(
                    "signature.content",
                    "does not verify over the digest with the verifier",
                )
            })?;
        let algorithm = match alg {
            DigestAlg::Sha256 => "SHA2_256",
            DigestAlg::Sha384 => "SHA2_384",
            DigestAlg::Sha512 => "SHA2_512",
        };
        let (vname, vjson) = self.verifier.json();
        let body = json!({
            "apiVersion": "0.0.2",
            "kind": "hashedrekord",
            "spec": {"hashedRekordV002": {
                "data": {"algorithm": algorithm, "digest": B64.encode(&self.digest)},
                "signature": {
                    "content": B64.encode(&self.signature),
                    "verifier": {"keyDetails": self.curve.key_details(), vname: vjson},
                },
            }},
        });
        let bytes = serde_json_canonicalizer::to_vec(&body)
            .map_err(|e| Error::InvalidEntry(format!("RFC 8785: {e}")))?;
        if bytes.len() > MAX_ENTRY_BYTES {
            return Err(bad(
                "request body",
                "canonicalized entry exceeds 65535 bytes",
            ));
        }
        Ok(bytes)
    }
}

/// The `TransparencyLogEntry` of an appended v2 entry (protobuf JSON, int64 as strings,
/// bytes as base64): log ID = the checkpoint key ID, `integratedTime` 0, no inclusion
/// promise, an inclusion proof whose index, size and root are the checkpoint's.
#[must_use]
pub fn transparency_log_entry(appended: &Appended, body: &[u8], log_id: &Hash) -> Value {
    let cp = &appended.checkpoint;
    json!({
        "logIndex": appended.index.to_string(),
        "logId": {"keyId": B64.encode(log_id)},
        "kindVersion": {"kind": "hashedrekord", "version": "0.0.2"},
        "integratedTime": "0",
        "inclusionProof": {
            "logIndex": appended.index.to_string(),
            "rootHash": B64.encode(cp.checkpoint.root),
            "treeSize": cp.checkpoint.size.to_string(),
            "hashes": appended.proof.iter().map(|h| B64.encode(h)).collect::<Vec<_>>(),
            "checkpoint": {"envelope": cp.text},
        },
        "canonicalizedBody": B64.encode(body),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hallmark_crypto::SigningKey;

    /// A request logging `digest` with `key`'s signature over the message `artifact`.
    fn request(key: &SigningKey, digest: &[u8], extra: &str) -> String {
        let sig = key.sign(b"artifact").unwrap();
        format!(
            r#"{{"hashedRekordRequestV002":{{"digest":"{}","signature":{{"content":"{}","verifier":{{"publicKey":{{"rawBytes":"{}"}},"keyDetails":"PKIX_ECDSA_P256_SHA_256"{extra}}}}}}}}}"#,
            B64.encode(digest),
            B64.encode(sig),
            B64.encode(key.public_key().spki_der())
        )
    }

    #[test]
    fn a_hashedrekord_request_becomes_the_v2_body() {
        let key = SigningKey::generate(Curve::P256).unwrap();
        let digest = DigestAlg::Sha256.digest(b"artifact");
        let e = HashedRekordV2::parse(request(&key, &digest, "").as_bytes()).unwrap();
        let body = e.canonical_body().unwrap();
        let text = String::from_utf8(body).unwrap();
        assert!(text.starts_with(r#"{"apiVersion":"0.0.2","kind":"hashedrekord","spec":{"hashedRekordV002":{"data":{"algorithm":"SHA2_256","digest":""#), "{text}");
        assert!(
            text.contains(
                r#""verifier":{"keyDetails":"PKIX_ECDSA_P256_SHA_256","publicKey":{"rawBytes":"#
            ),
            "{text}"
        );
        // Another digest: the signature no longer verifies.
        let other = DigestAlg::Sha256.digest(b"other");
        let e = HashedRekordV2::parse(request(&key, &other, "").as_bytes()).unwrap();
        let err = e.canonical_body().unwrap_err().to_string();
        assert!(err.contains("signature.content"), "{err}");
    }

    #[test]
    fn malformed_requests_name_the_field() {
        let key = SigningKey::generate(Curve::P256).unwrap();
        let digest = DigestAlg::Sha256.digest(b"artifact");
        let cases: Vec<(String, &str)> = vec![
            (request(&key, &digest, r#","extra":1"#), "unknown field `extra`"),
            ("{}".into(), "needs hashedRekordRequestV002"),
            (request(&key, &digest, "").replace("PKIX_ECDSA_P256_SHA_256", "PKIX_ED25519"), "keyDetails: \"PKIX_ED25519\" is not supported"),
            (request(&key, &digest, "").replace(r#""digest":""#, r#""digest":"!"#), "hashedRekordRequestV002.digest: is not base64"),
            (request(&key, &digest, "").replace(r#""publicKey""#, r#""x509Certificate":{"rawBytes":""},"publicKey""#), "needs exactly one of x509Certificate and publicKey"),
            (r#"{"dsseRequestV002":{"envelope":{"payload":"","payloadType":"x","signatures":[]},"verifiers":[]}}"#.into(), "dsseRequestV002.envelope.signatures: must hold exactly one signature"),
        ];
        for (body, want) in cases {
            let err = HashedRekordV2::parse(body.as_bytes())
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{want:?} not in {err:?}");
        }
        // A digest of the wrong length for the curve's hash.
        let short = request(&key, &digest[..20], "");
        let err = HashedRekordV2::parse(short.as_bytes())
            .unwrap()
            .canonical_body()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("digest: is 20 bytes, SHA-256 needs 32"),
            "{err}"
        );
    }

    #[test]
    fn a_dsse_request_is_logged_as_hashedrekord_over_the_pae() {
        let key = SigningKey::generate(Curve::P256).unwrap();
        let pae = hallmark_format::dsse::pae("application/vnd.in-toto+json", b"{}");
        let sig = key.sign(&pae).unwrap();
        let body = format!(
            r#"{{"dsseRequestV002":{{"envelope":{{"payload":"{}","payloadType":"application/vnd.in-toto+json","signatures":[{{"sig":"{}","keyid":""}}]}},"verifiers":[{{"publicKey":{{"rawBytes":"{}"}},"keyDetails":"PKIX_ECDSA_P256_SHA_256"}}]}}}}"#,
            B64.encode(b"{}"),
            B64.encode(&sig),
            B64.encode(key.public_key().spki_der())
        );
        let e = HashedRekordV2::parse(body.as_bytes()).unwrap();
        assert_eq!(e.digest, DigestAlg::Sha256.digest(&pae));
        assert_eq!(e.signature, sig);
        e.canonical_body().unwrap();
    }
}
