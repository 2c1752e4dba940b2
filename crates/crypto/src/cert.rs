//! X.509 certificates: parsing, extensions and signature checks.

use std::fmt;
use std::time::SystemTime;

use der::oid::ObjectIdentifier;
use der::{Decode as _, Encode as _};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAltName,
    SubjectKeyIdentifier,
};

use crate::digest::sha256;
use crate::error::{CertSignatureRefusal, CryptoError, Malformation};
use crate::keys::PublicKey;
use crate::keys::der_err;
use crate::{oids, pem};

/// The extensions of a certificate that path validation looks at.
#[derive(Clone, Debug, Default)]
pub(crate) struct Extensions {
    pub(crate) basic_constraints: Option<BasicConstraints>,
    pub(crate) key_usage: Option<KeyUsage>,
    pub(crate) ext_key_usage: Option<Vec<ObjectIdentifier>>,
    pub(crate) subject_key_id: Option<Vec<u8>>,
    pub(crate) authority_key_id: Option<Vec<u8>>,
    pub(crate) san: Vec<String>,
    pub(crate) has_name_constraints: bool,
    /// Critical extensions this crate does not process.
    pub(crate) unhandled_critical: Vec<ObjectIdentifier>,
}

/// A parsed X.509 certificate, keeping its exact DER encoding.
#[derive(Clone)]
pub struct Certificate {
    der: Vec<u8>,
    inner: x509_cert::Certificate,
    tbs: Vec<u8>,
    ext: Extensions,
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("subject", &self.subject())
            .field("serial", &self.serial_hex())
            .finish()
    }
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

impl Eq for Certificate {}

impl Certificate {
    /// Parses a DER certificate.
    ///
    /// # Errors
    /// Malformed DER, or a malformed or duplicated known extension.
    pub fn from_der(der: &[u8]) -> Result<Self, CryptoError> {
        let inner = x509_cert::Certificate::from_der(der)
            .map_err(|e| der_err("certificate", "X.509 certificate", e))?;
        let subject = inner.tbs_certificate.subject.to_string();
        let source = format!("certificate '{subject}'");
        let tbs = tbs_bytes(der).ok_or_else(|| CryptoError::Malformed {
            source_name: source.clone(),
            what: "tbsCertificate".to_owned(),
            reason: Malformation::TbsNotFound,
        })?;
        let ext = parse_extensions(&inner, &source)?;
        Ok(Self {
            der: der.to_vec(),
            inner,
            tbs,
            ext,
        })
    }

    /// The exact DER encoding.
    #[must_use]
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The subject DN as an RFC 4514 string (most specific RDN first), e.g. `CN=leaf,O=Org`.
    #[must_use]
    pub fn subject(&self) -> String {
        self.inner.tbs_certificate.subject.to_string()
    }

    /// The issuer DN as an RFC 4514 string.
    #[must_use]
    pub fn issuer(&self) -> String {
        self.inner.tbs_certificate.issuer.to_string()
    }

    /// The serial number in lower-case hex.
    #[must_use]
    pub fn serial_hex(&self) -> String {
        hex::encode(self.inner.tbs_certificate.serial_number.as_bytes())
    }

    /// Start of the validity period.
    #[must_use]
    pub fn not_before(&self) -> SystemTime {
        self.inner
            .tbs_certificate
            .validity
            .not_before
            .to_system_time()
    }

    /// End of the validity period.
    #[must_use]
    pub fn not_after(&self) -> SystemTime {
        self.inner
            .tbs_certificate
            .validity
            .not_after
            .to_system_time()
    }

    /// The subject public key, which must be EC on P-256, P-384 or P-521.
    ///
    /// # Errors
    /// [`CryptoError::UnsupportedKey`] naming the key type otherwise.
    pub fn public_key(&self) -> Result<PublicKey, CryptoError> {
        let source = format!("certificate '{}'", self.subject());
        let spki = self
            .inner
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| der_err(&source, "SubjectPublicKeyInfo", e))?;
        PublicKey::from_spki_der_with_source(&spki, &source)
    }

    /// Email, URI and DNS subjectAltName values (and IP addresses), in order.
    #[must_use]
    pub fn san_values(&self) -> Vec<String> {
        self.ext.san.clone()
    }

    /// The OIDC issuer a Fulcio-like CA wrote into the certificate: extension
    /// 1.3.6.1.4.1.57264.1.8 (a DER UTF8String), else the legacy 1.3.6.1.4.1.57264.1.1
    /// (raw UTF-8). Only as true as the CA that signed the certificate: use it to show who
    /// a signer claims to be, not to decide trust. `None` when neither is there or readable.
    #[must_use]
    pub fn oidc_issuer(&self) -> Option<String> {
        let exts = self.inner.tbs_certificate.extensions.as_ref()?;
        let value = |oid| {
            exts.iter()
                .find(|e| e.extn_id == oid)
                .map(|e| e.extn_value.as_bytes())
        };
        if let Some(v) = value(oids::FULCIO_OIDC_ISSUER) {
            return der::asn1::Utf8StringRef::from_der(v)
                .ok()
                .map(|s| s.as_str().to_owned());
        }
        value(oids::FULCIO_OIDC_ISSUER_V1)
            .and_then(|v| std::str::from_utf8(v).ok())
            .map(str::to_owned)
    }

    /// Lower-case hex SHA-256 of the DER encoding.
    #[must_use]
    pub fn fingerprint(&self) -> String {
        hex::encode(sha256(&self.der))
    }

    /// Whether the certificate has a keyUsage or an extendedKeyUsage
    /// extension (the reference warns when it has neither).
    #[must_use]
    pub fn has_usage_extensions(&self) -> bool {
        self.ext.key_usage.is_some() || self.ext.ext_key_usage.is_some()
    }

    /// Whether basicConstraints says CA:TRUE.
    #[must_use]
    pub fn is_ca(&self) -> bool {
        self.ext.basic_constraints.as_ref().is_some_and(|bc| bc.ca)
    }

    pub(crate) fn extensions(&self) -> &Extensions {
        &self.ext
    }

    pub(crate) fn version_is_v1(&self) -> bool {
        self.inner.tbs_certificate.version == x509_cert::Version::V1
    }

    /// Raw DER of the subject and issuer names (for issuer matching).
    pub(crate) fn subject_der(&self) -> Vec<u8> {
        self.inner
            .tbs_certificate
            .subject
            .to_der()
            .unwrap_or_default()
    }

    pub(crate) fn issuer_der(&self) -> Vec<u8> {
        self.inner
            .tbs_certificate
            .issuer
            .to_der()
            .unwrap_or_default()
    }

    /// Whether this certificate names itself as issuer (names and, when
    /// both are present, AKI/SKI match) — OpenSSL's "self-signed" test,
    /// which does not check the signature.
    pub(crate) fn is_self_issued(&self) -> bool {
        self.may_be_issued_by(self)
    }

    /// OpenSSL-style candidate-issuer test: `issuer`'s subject equals our
    /// issuer name, and our AKI keyIdentifier equals its SKI when both exist.
    pub(crate) fn may_be_issued_by(&self, issuer: &Certificate) -> bool {
        if self.issuer_der() != issuer.subject_der() {
            return false;
        }
        match (&self.ext.authority_key_id, &issuer.ext.subject_key_id) {
            (Some(aki), Some(ski)) => aki == ski,
            _ => true,
        }
    }

    /// Checks this certificate's signature with `issuer`'s public key.
    pub(crate) fn verify_signed_by(
        &self,
        issuer: &Certificate,
    ) -> Result<(), CertSignatureRefusal> {
        if self.inner.signature_algorithm != self.inner.tbs_certificate.signature {
            return Err(CertSignatureRefusal::AlgorithmMismatch);
        }
        let sig = self
            .inner
            .signature
            .as_bytes()
            .ok_or(CertSignatureRefusal::SignatureUnusedBits)?;
        let spki = &issuer.inner.tbs_certificate.subject_public_key_info;
        crate::certsig::verify(&self.inner.signature_algorithm, spki, &self.tbs, sig)
    }
}

/// Returns the DER of the first element of the outer SEQUENCE (the tbsCertificate).
fn tbs_bytes(der: &[u8]) -> Option<Vec<u8>> {
    let outer_len = header_len(der)?;
    let rest = der.get(outer_len..)?;
    let tbs_header = header_len(rest)?;
    let tbs_body = content_len(rest)?;
    rest.get(..tbs_header.checked_add(tbs_body)?)
        .map(<[u8]>::to_vec)
}

/// Length of a DER TLV header (tag + length octets), single-byte tags only.
fn header_len(der: &[u8]) -> Option<usize> {
    let first = *der.get(1)?;
    if first < 0x80 {
        Some(2)
    } else {
        Some(2 + usize::from(first & 0x7f))
    }
}

/// Content length of a DER TLV.
fn content_len(der: &[u8]) -> Option<usize> {
    let first = *der.get(1)?;
    if first < 0x80 {
        return Some(usize::from(first));
    }
    let n = usize::from(first & 0x7f);
    if n == 0 || n > 4 {
        return None;
    }
    der.get(2..2 + n)?.iter().try_fold(0usize, |acc, b| {
        acc.checked_mul(256)?.checked_add(usize::from(*b))
    })
}

fn parse_extensions(
    cert: &x509_cert::Certificate,
    source: &str,
) -> Result<Extensions, CryptoError> {
    let mut out = Extensions::default();
    let Some(exts) = &cert.tbs_certificate.extensions else {
        return Ok(out);
    };
    let mut seen: Vec<ObjectIdentifier> = Vec::new();
    for ext in exts {
        let oid = ext.extn_id;
        if seen.contains(&oid) {
            return Err(CryptoError::Malformed {
                source_name: source.to_owned(),
                what: format!("extension {oid}"),
                reason: Malformation::DuplicateExtension,
            });
        }
        seen.push(oid);
        let value = ext.extn_value.as_bytes();
        let what = || format!("{} extension ({oid})", oids::extension_name(&oid));
        let bad = |e: der::Error| der_err(source, &what(), e);
        match oid {
            oids::CE_BASIC_CONSTRAINTS => {
                out.basic_constraints = Some(BasicConstraints::from_der(value).map_err(bad)?);
            }
            oids::CE_KEY_USAGE => out.key_usage = Some(KeyUsage::from_der(value).map_err(bad)?),
            oids::CE_EXT_KEY_USAGE => {
                out.ext_key_usage = Some(ExtendedKeyUsage::from_der(value).map_err(bad)?.0);
            }
            oids::CE_SUBJECT_KEY_ID => {
                let ski = SubjectKeyIdentifier::from_der(value).map_err(bad)?;
                out.subject_key_id = Some(ski.0.as_bytes().to_vec());
            }
            oids::CE_AUTHORITY_KEY_ID => {
                let aki = AuthorityKeyIdentifier::from_der(value).map_err(bad)?;
                out.authority_key_id = aki.key_identifier.map(|k| k.as_bytes().to_vec());
            }
            oids::CE_SUBJECT_ALT_NAME => {
                let san = SubjectAltName::from_der(value).map_err(bad)?;
                out.san = san.0.iter().filter_map(general_name_string).collect();
            }
            oids::CE_NAME_CONSTRAINTS => out.has_name_constraints = true,
            oids::CE_CERTIFICATE_POLICIES
            | oids::CE_POLICY_MAPPINGS
            | oids::CE_POLICY_CONSTRAINTS
            | oids::CE_INHIBIT_ANY_POLICY
            | oids::CE_ISSUER_ALT_NAME => {}
            _ => {
                if ext.critical {
                    out.unhandled_critical.push(oid);
                }
            }
        }
    }
    Ok(out)
}

fn general_name_string(name: &GeneralName) -> Option<String> {
    match name {
        GeneralName::Rfc822Name(s)
        | GeneralName::DnsName(s)
        | GeneralName::UniformResourceIdentifier(s) => Some(s.to_string()),
        GeneralName::IpAddress(ip) => {
            let b = ip.as_bytes();
            if let Ok(v4) = <[u8; 4]>::try_from(b) {
                Some(std::net::Ipv4Addr::from(v4).to_string())
            } else if let Ok(v6) = <[u8; 16]>::try_from(b) {
                Some(std::net::Ipv6Addr::from(v6).to_string())
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Parses every `CERTIFICATE` PEM block in `pem` (text around blocks is ignored).
///
/// # Errors
/// No certificate block, or a block that does not parse.
pub fn load_certificates_pem(pem: &[u8]) -> Result<Vec<Certificate>, CryptoError> {
    load_certificates_pem_with_source(pem, "certificate PEM")
}

/// Like [`load_certificates_pem`], naming `source` (e.g. the file path) in errors.
///
/// # Errors
/// As [`load_certificates_pem`].
pub fn load_certificates_pem_with_source(
    pem_text: &[u8],
    source: &str,
) -> Result<Vec<Certificate>, CryptoError> {
    let blocks = pem::parse_blocks(pem_text, source)?;
    let mut certs = Vec::new();
    for (i, block) in blocks
        .iter()
        .filter(|b| b.label == "CERTIFICATE")
        .enumerate()
    {
        let name = || format!("{source} (certificate #{})", i + 1);
        let cert = Certificate::from_der(&block.der).map_err(|e| match e {
            CryptoError::Der { what, source, .. } => CryptoError::Der {
                source_name: name(),
                what,
                source,
            },
            CryptoError::Malformed { what, reason, .. } => CryptoError::Malformed {
                source_name: name(),
                what,
                reason,
            },
            other => other,
        })?;
        certs.push(cert);
    }
    if certs.is_empty() {
        return Err(CryptoError::PemNotFound {
            source_name: source.to_owned(),
            expected: "CERTIFICATE".to_owned(),
        });
    }
    Ok(certs)
}
