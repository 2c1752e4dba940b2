//! Checking a bundle someone else signed (a publisher's `model.sig`, an attachment):
//! that its signature verifies, and whether its signer is one the repo's owner trusts.
//!
//! | material | `verified` when | `untrusted` when | refused (422) when |
//! |---|---|---|---|
//! | public key | a trusted key with the bundle's hint verifies it | no trusted key has its hint (the hub cannot check it without the key, so it is not logged) | a trusted key with its hint does not verify it |
//! | certificate chain | the chain reaches a trusted anchor | it does not | the leaf's key does not verify it |
//! | keyless certificate | it verifies against the hub's own or the public-good trust root for a trusted identity and issuer | no trusted identity matches, or the certificate does not chain to one of those roots (signer and issuer shown as the certificate names them) | the leaf's key does not verify it |

use std::collections::BTreeMap;

use hallmark_crypto::{Certificate, ChainPolicy, PublicKey};
use hallmark_format::Manifest;
use hallmark_format::bundle::{Bundle, VerificationMaterial};
use hallmark_format::dsse::pae;
use hallmark_format::limits::Limits;
use hallmark_format::statement::parse_statement;
use hallmark_signing::VerifyError;
use hallmark_signing::verify::{CertificateVerifier, EnvelopeVerifier, KeyVerifier};
use hallmark_sigstore::{IdentityPolicy, TrustedRoot, verify_dsse_bundle};
use hallmark_store::{ClaimStatus, TrustEntry, TrustKind};

use super::refusal::{ClaimRefusal, MAX_CLAIM_BYTES};

/// What checking a bundle established.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    /// Trust status.
    pub status: ClaimStatus,
    /// Who signed (`key sha256:…`, a certificate subject, an identity).
    pub signer: String,
    /// The identity's issuer or the certificate's issuer.
    pub issuer: Option<String>,
    /// The PEM the log checks the envelope with (`None`: an unknown key; not logged).
    pub verifier_pem: Option<String>,
    /// The DSSE envelope's JSON, as the log takes it.
    pub envelope_json: String,
}

fn cert_pem(der: &[u8]) -> String {
    pem_rfc7468::encode_string("CERTIFICATE", pem_rfc7468::LineEnding::LF, der).unwrap_or_default()
}

/// Parses a claim bundle (at most [`MAX_CLAIM_BYTES`]).
///
/// # Errors
/// [`ClaimRefusal::TooLarge`], [`ClaimRefusal::Malformed`].
pub fn parse(bytes: &[u8], what: &str) -> Result<Bundle, ClaimRefusal> {
    if bytes.len() as u64 > MAX_CLAIM_BYTES {
        return Err(ClaimRefusal::TooLarge {
            what: what.to_owned(),
            size: bytes.len() as u64,
        });
    }
    Bundle::parse(bytes, &Limits::default()).map_err(|e| ClaimRefusal::Malformed {
        what: what.to_owned(),
        why: e.to_string(),
    })
}

fn envelope_json(bytes: &[u8], what: &str) -> Result<String, ClaimRefusal> {
    let v: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| ClaimRefusal::Malformed {
            what: what.to_owned(),
            why: e.to_string(),
        })?;
    v.get("dsseEnvelope")
        .map(ToString::to_string)
        .ok_or_else(|| ClaimRefusal::Malformed {
            what: what.to_owned(),
            why: "no dsseEnvelope (message signatures are not claims)".into(),
        })
}

/// Checks the envelope's first signature with the leaf certificate's own key.
fn leaf_signed(bundle: &Bundle, der: &[u8], what: &str) -> Result<Certificate, ClaimRefusal> {
    let bad = |why: String| ClaimRefusal::BadSignature {
        what: what.to_owned(),
        why,
    };
    let leaf = Certificate::from_der(der).map_err(|e| bad(format!("certificate: {e}")))?;
    let key = leaf
        .public_key()
        .map_err(|e| bad(format!("certificate key: {e}")))?;
    let env = &bundle.envelope;
    let sig = env
        .signatures
        .first()
        .ok_or_else(|| bad("the envelope has no signature".into()))?;
    key.verify(&pae(&env.payload_type, &env.payload), &sig.sig)
        .map_err(|_| bad(format!("not by the key of certificate {}", leaf.subject())))?;
    Ok(leaf)
}

/// Authenticates `bundle` and rates its signer against the owner's `trusted` entries and
/// the keyless trust `roots`.
///
/// # Errors
/// [`ClaimRefusal::BadSignature`] when the signature does not verify.
pub fn authenticate(
    bundle: &Bundle,
    bytes: &[u8],
    trusted: &[TrustEntry],
    roots: &[TrustedRoot],
    what: &str,
) -> Result<Checked, ClaimRefusal> {
    let envelope_json = envelope_json(bytes, what)?;
    let bad = |e: &dyn std::fmt::Display| ClaimRefusal::BadSignature {
        what: what.to_owned(),
        why: e.to_string(),
    };
    let of = |kind: TrustKind| trusted.iter().filter(move |t| t.kind == kind);
    match &bundle.material {
        VerificationMaterial::PublicKey { hint, .. } => {
            for t in of(TrustKind::PublicKey) {
                let Ok(key) = PublicKey::from_pem(t.value.as_bytes()) else {
                    continue;
                };
                let fingerprint = key.fingerprint();
                match (KeyVerifier { key: key.clone() }).authenticate(bundle, bytes) {
                    Ok(_) => {
                        return Ok(Checked {
                            status: ClaimStatus::Verified,
                            signer: format!("key {fingerprint}"),
                            issuer: None,
                            verifier_pem: Some(key.to_pem()),
                            envelope_json,
                        });
                    }
                    Err(VerifyError::KeyMismatch { .. }) => {}
                    // Without a hint every trusted key is tried.
                    Err(_) if hint.is_none() => {}
                    Err(e) => return Err(bad(&e)),
                }
            }
            Ok(Checked {
                status: ClaimStatus::Untrusted,
                signer: hint
                    .as_ref()
                    .map_or_else(|| "an unnamed key".to_owned(), |h| format!("key hint {h}")),
                issuer: None,
                verifier_pem: None,
                envelope_json,
            })
        }
        VerificationMaterial::X509CertificateChain(ders) => {
            let leaf = leaf_signed(bundle, ders.first().map_or(&[][..], Vec::as_slice), what)?;
            let anchors: Vec<Certificate> = of(TrustKind::CertificateChain)
                .flat_map(|t| {
                    hallmark_crypto::load_certificates_pem(t.value.as_bytes()).unwrap_or_default()
                })
                .collect();
            let chained = !anchors.is_empty()
                && (CertificateVerifier {
                    anchors,
                    policy: ChainPolicy::default(),
                })
                .authenticate(bundle, bytes)
                .is_ok();
            Ok(Checked {
                status: if chained {
                    ClaimStatus::Verified
                } else {
                    ClaimStatus::Untrusted
                },
                signer: leaf.subject(),
                issuer: Some(leaf.issuer()),
                verifier_pem: Some(cert_pem(leaf.der())),
                envelope_json,
            })
        }
        VerificationMaterial::Certificate(der) => {
            let leaf = leaf_signed(bundle, der, what)?;
            for t in of(TrustKind::Identity) {
                let policy = IdentityPolicy {
                    identity: Some(t.value.clone()),
                    identity_regex: None,
                    issuer: t.issuer.clone().unwrap_or_default(),
                };
                for root in roots {
                    if let Ok(v) = verify_dsse_bundle(bytes, root, &policy)
                        && v.payload == bundle.envelope.payload
                    {
                        return Ok(Checked {
                            status: ClaimStatus::Verified,
                            signer: v.identity,
                            issuer: Some(v.issuer),
                            verifier_pem: Some(cert_pem(der)),
                            envelope_json,
                        });
                    }
                }
            }
            // Not an identity the owner trusts: who the certificate says signed, and the
            // OIDC issuer its CA recorded, shown as claimed (the status says untrusted).
            Ok(Checked {
                status: ClaimStatus::Untrusted,
                signer: leaf
                    .san_values()
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| leaf.subject()),
                issuer: leaf.oidc_issuer(),
                verifier_pem: Some(cert_pem(der)),
                envelope_json,
            })
        }
    }
}

/// Checks that a publisher's `model.sig` signs exactly the uploaded files (`expected`,
/// the revision's manifest), then authenticates it.
///
/// # Errors
/// [`ClaimRefusal`]: malformed, another file set, a signature that does not verify.
pub fn check(
    bytes: &[u8],
    expected: &Manifest,
    trusted: &[TrustEntry],
    roots: &[TrustedRoot],
) -> Result<Checked, ClaimRefusal> {
    let what = crate::names::SIGNATURE_FILE;
    let bundle = parse(bytes, what)?;
    let parsed = parse_statement(&bundle.envelope.payload, &Limits::default()).map_err(|e| {
        ClaimRefusal::Malformed {
            what: what.to_owned(),
            why: e.to_string(),
        }
    })?;
    let mismatch = |why: String| ClaimRefusal::Mismatch {
        what: what.to_owned(),
        why,
    };
    let want: BTreeMap<String, (&str, &[u8])> = expected
        .resources
        .iter()
        .map(|r| (r.to_string(), (r.algorithm, r.digest)))
        .collect();
    let got: BTreeMap<String, (&str, &[u8])> = parsed
        .manifest
        .resources
        .iter()
        .map(|r| (r.to_string(), (r.algorithm, r.digest)))
        .collect();
    for (name, (alg, digest)) in &want {
        match got.get(name) {
            None => return Err(mismatch(format!("{name} was uploaded but is not signed"))),
            Some((a, d)) if a != alg || d != digest => {
                return Err(mismatch(format!(
                    "{name}: signed {a}:{}, uploaded {alg}:{}",
                    hex::encode(d),
                    hex::encode(digest)
                )));
            }
            Some(_) => {}
        }
    }
    if let Some(name) = got.keys().find(|n| !want.contains_key(*n)) {
        return Err(mismatch(format!("{name} is signed but was not uploaded")));
    }
    let root = super::statement::root_digest(expected);
    if parsed.root_digest.as_deref().map(hex::encode).as_deref() != Some(root.as_str()) {
        return Err(mismatch(format!(
            "its subject digest is not the revision's manifest root sha256:{root}"
        )));
    }
    authenticate(&bundle, bytes, trusted, roots, what)
}
