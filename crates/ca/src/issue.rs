//! Issuing certificates: Fulcio's API v2 request handling and certificate profile.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use der::Decode as _;
use der::asn1::{Ia5String, Utf8StringRef};
use hallmark_oidc::Claims;
use serde::Deserialize;
use serde_json::json;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{KeyUsage, KeyUsages, SubjectAltName};
use x509_cert::name::Name;

use crate::csr::{verify_csr, verify_signed_subject};
use crate::error::CaError;
use crate::material::{CaMaterial, pem};
use crate::sct::embedded_sct_extension_value;
use crate::tbs::{
    OID_FULCIO_ISSUER_V1, OID_FULCIO_ISSUER_V2, OID_KP_CODE_SIGNING, OID_SCT_LIST,
    OID_SUBJECT_ALT_NAME, TbsParts, authority_key_id, ext, extended_key_usage, key_identifier,
    key_usage, random_serial, raw_ext, sign, subject_key_id, tbs, validity,
};

/// The identity a certificate names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SanIdentity {
    /// An rfc822Name SAN.
    Email(String),
    /// A URI SAN.
    Uri(String),
}

impl SanIdentity {
    /// The identity Fulcio would certify for these token claims: a verified e-mail
    /// address, else a URL subject.
    pub fn from_claims(c: &Claims) -> Result<Self, CaError> {
        if let Some(email) = c.email.as_deref().filter(|e| !e.is_empty()) {
            if !c.email_verified {
                return Err(CaError::BadRequest(format!(
                    "the token's e-mail {email} is not verified"
                )));
            }
            return Ok(Self::Email(email.to_owned()));
        }
        if c.sub.starts_with("https://") || c.sub.starts_with("http://") {
            return Ok(Self::Uri(c.sub.clone()));
        }
        Err(CaError::BadRequest(
            "the token carries neither a verified e-mail nor a URL subject to certify".into(),
        ))
    }

    /// The SAN value as a string.
    #[must_use]
    pub fn value(&self) -> &str {
        match self {
            Self::Email(s) | Self::Uri(s) => s,
        }
    }
}

/// A certificate and the chain above it (DER, leaf first).
#[derive(Clone, Debug)]
pub struct IssuedCertificate {
    /// The leaf.
    pub leaf_der: Vec<u8>,
    /// Intermediate then root.
    pub chain_der: Vec<Vec<u8>>,
}

impl IssuedCertificate {
    /// Fulcio v2's answer: `{"signedCertificateEmbeddedSct": {"chain": {"certificates": [PEM…]}}}`.
    #[must_use]
    pub fn fulcio_response(&self) -> serde_json::Value {
        let certs: Vec<String> = std::iter::once(&self.leaf_der)
            .chain(&self.chain_der)
            .map(|d| pem("CERTIFICATE", d))
            .collect();
        json!({ "signedCertificateEmbeddedSct": { "chain": { "certificates": certs } } })
    }
}

/// The certificate authority.
#[derive(Debug)]
pub struct Ca {
    material: CaMaterial,
    lifetime: Duration,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SigningCertRequest {
    #[serde(default)]
    certificate_signing_request: Option<String>,
    #[serde(default)]
    public_key_request: Option<PublicKeyRequest>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PublicKeyRequest {
    public_key: PublicKeyContent,
    proof_of_possession: String,
}

#[derive(Deserialize)]
struct PublicKeyContent {
    content: String,
}

fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Ca {
    /// A CA issuing certificates valid for `lifetime` (Fulcio: 10 minutes).
    #[must_use]
    pub fn new(material: CaMaterial, lifetime: Duration) -> Self {
        Self { material, lifetime }
    }

    /// The CA material.
    #[must_use]
    pub fn material(&self) -> &CaMaterial {
        &self.material
    }

    /// Handles `POST /api/v2/signingCert` for a caller whose token has already been
    /// validated (`claims`): checks the proof of possession and issues the certificate.
    pub fn handle_signing_cert(
        &self,
        claims: &Claims,
        body: &[u8],
    ) -> Result<IssuedCertificate, CaError> {
        let req: SigningCertRequest = serde_json::from_slice(body)
            .map_err(|e| CaError::BadRequest(format!("request body: {e}")))?;
        let spki = match (req.certificate_signing_request, req.public_key_request) {
            (Some(csr_b64), _) => {
                let csr = STANDARD.decode(csr_b64.trim()).map_err(|e| {
                    CaError::BadRequest(format!("certificateSigningRequest is not base64: {e}"))
                })?;
                verify_csr(&csr)?
            }
            (None, Some(pk)) => {
                let proof = STANDARD
                    .decode(pk.proof_of_possession.trim())
                    .map_err(|e| {
                        CaError::BadRequest(format!("proofOfPossession is not base64: {e}"))
                    })?;
                verify_signed_subject(pk.public_key.content.as_bytes(), &proof, &claims.sub)?
            }
            (None, None) => {
                return Err(CaError::BadRequest(
                    "neither certificateSigningRequest nor publicKeyRequest given".into(),
                ));
            }
        };
        let identity = SanIdentity::from_claims(claims)?;
        self.issue(&spki, &identity, &claims.iss, SystemTime::now())
    }

    /// Issues a code-signing certificate for `spki_der` naming `identity`, with the OIDC
    /// `issuer` in the Fulcio extensions and an embedded SCT.
    pub fn issue(
        &self,
        spki_der: &[u8],
        identity: &SanIdentity,
        issuer: &str,
        now: SystemTime,
    ) -> Result<IssuedCertificate, CaError> {
        let m = &self.material;
        let inter = x509_cert::Certificate::from_der(&m.intermediate_der)?;
        let inter_spki = der::Encode::to_der(&inter.tbs_certificate.subject_public_key_info)?;
        let san = match identity {
            SanIdentity::Email(e) => GeneralName::Rfc822Name(
                Ia5String::new(e)
                    .map_err(|_| CaError::BadRequest(format!("e-mail {e:?} is not ASCII")))?,
            ),
            SanIdentity::Uri(u) => GeneralName::UniformResourceIdentifier(
                Ia5String::new(u)
                    .map_err(|_| CaError::BadRequest(format!("URI {u:?} is not ASCII")))?,
            ),
        };
        let extensions = vec![
            key_usage(KeyUsage(KeyUsages::DigitalSignature.into()))?,
            extended_key_usage(OID_KP_CODE_SIGNING, false)?,
            subject_key_id(&key_identifier(spki_der)?)?,
            authority_key_id(&key_identifier(&inter_spki)?)?,
            ext(OID_SUBJECT_ALT_NAME, true, &SubjectAltName(vec![san]))?,
            raw_ext(OID_FULCIO_ISSUER_V1, false, issuer.as_bytes().to_vec())?,
            ext(OID_FULCIO_ISSUER_V2, false, &Utf8StringRef::new(issuer)?)?,
        ];
        let parts = |extensions| -> Result<TbsParts, CaError> {
            Ok(TbsParts {
                serial: random_serial()?,
                issuer: inter.tbs_certificate.subject.clone(),
                subject: Name::default(),
                validity: validity(now, now + self.lifetime)?,
                spki_der: spki_der.to_vec(),
                extensions,
            })
        };
        let mut pre = tbs(parts(extensions)?, m.intermediate_key.curve())?;
        let pre_der = der::Encode::to_der(&pre)?;
        let sct = embedded_sct_extension_value(&m.ct_key, millis(now), &inter_spki, &pre_der)?;
        if let Some(exts) = pre.extensions.as_mut() {
            exts.push(raw_ext(OID_SCT_LIST, false, sct)?);
        }
        let leaf_der = sign(pre, &m.intermediate_key)?;
        Ok(IssuedCertificate {
            leaf_der,
            chain_der: vec![m.intermediate_der.clone(), m.root_der.clone()],
        })
    }

    /// The trusted-root entries for this CA and its CT log: `certificateAuthorities[0]`
    /// (intermediate then root, as sigstore-python needs) and `ctlogs[0]`.
    #[must_use]
    pub fn trusted_root_entries(
        &self,
        base_url: &str,
        org: &str,
    ) -> (serde_json::Value, serde_json::Value) {
        let m = &self.material;
        let start = der::DateTime::from_system_time(m.valid_from)
            .map_or_else(|_| "1970-01-01T00:00:00Z".to_owned(), |d| d.to_string());
        let ct_spki = m.ct_key.public_key().spki_der().to_vec();
        let ca = json!({
            "subject": { "organization": org, "commonName": format!("{org} intermediate") },
            "uri": base_url,
            "certChain": { "certificates": [ { "rawBytes": STANDARD.encode(&m.intermediate_der) }, { "rawBytes": STANDARD.encode(&m.root_der) } ] },
            "validFor": { "start": start },
        });
        let ct = json!({
            "baseUrl": base_url,
            "hashAlgorithm": "SHA2_256",
            "publicKey": { "rawBytes": STANDARD.encode(&ct_spki), "keyDetails": "PKIX_ECDSA_P256_SHA_256", "validFor": { "start": start } },
            "logId": { "keyId": STANDARD.encode(hallmark_crypto::sha256(&ct_spki)) },
        });
        (ca, ct)
    }
}
