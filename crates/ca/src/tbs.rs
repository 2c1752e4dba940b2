//! Certificate assembly: extensions, TBS, signing with aws-lc-rs through hallmark-crypto.

use std::time::SystemTime;

use der::asn1::{BitString, ObjectIdentifier, OctetString};
use der::{Decode as _, Encode};
use hallmark_crypto::{Curve, SigningKey};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::certificate::{Certificate, TbsCertificate, Version};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectKeyIdentifier,
};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

use crate::error::{CaError, IssueFailure};

pub(crate) const OID_ECDSA_SHA256: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
pub(crate) const OID_ECDSA_SHA384: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
pub(crate) const OID_ECDSA_SHA512: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
const OID_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
const OID_EXT_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const OID_BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
pub(crate) const OID_SUBJECT_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");
pub(crate) const OID_AUTHORITY_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.35");
pub(crate) const OID_SUBJECT_ALT_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
pub(crate) const OID_KP_CODE_SIGNING: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
/// Fulcio's legacy OIDC issuer extension (raw UTF-8 bytes); sigstore-python reads this one.
pub(crate) const OID_FULCIO_ISSUER_V1: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.1");
/// Fulcio's OIDC issuer extension (DER UTF8String).
pub(crate) const OID_FULCIO_ISSUER_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.8");
/// RFC 6962 embedded SCT list.
pub(crate) const OID_SCT_LIST: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.4.2");

/// The signature algorithm a key of `curve` signs certificates with.
pub(crate) fn signature_algorithm(curve: Curve) -> AlgorithmIdentifierOwned {
    let oid = match curve {
        Curve::P256 => OID_ECDSA_SHA256,
        Curve::P384 => OID_ECDSA_SHA384,
        Curve::P521 => OID_ECDSA_SHA512,
    };
    AlgorithmIdentifierOwned {
        oid,
        parameters: None,
    }
}

/// RFC 7093 §2 method 1: the leftmost 160 bits of SHA-256 of the subjectPublicKey bits.
pub(crate) fn key_identifier(spki_der: &[u8]) -> Result<Vec<u8>, CaError> {
    let spki = SubjectPublicKeyInfoOwned::from_der(spki_der)?;
    let bits = spki.subject_public_key.raw_bytes();
    Ok(hallmark_crypto::sha256(bits)[..20].to_vec())
}

/// An extension whose value is the DER of `value`.
pub(crate) fn ext<T: Encode>(
    oid: ObjectIdentifier,
    critical: bool,
    value: &T,
) -> Result<Extension, CaError> {
    Ok(Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value.to_der()?)?,
    })
}

/// The keyUsage extension (critical).
pub(crate) fn key_usage(usage: KeyUsage) -> Result<Extension, CaError> {
    ext(OID_KEY_USAGE, true, &usage)
}

/// The extendedKeyUsage extension with one purpose.
pub(crate) fn extended_key_usage(
    purpose: ObjectIdentifier,
    critical: bool,
) -> Result<Extension, CaError> {
    ext(
        OID_EXT_KEY_USAGE,
        critical,
        &ExtendedKeyUsage(vec![purpose]),
    )
}

/// The basicConstraints extension (critical): a CA allowing `Some(n)` CAs below it, or
/// (`None`) an end entity.
pub(crate) fn basic_constraints(ca_path_len: Option<u8>) -> Result<Extension, CaError> {
    let value = BasicConstraints {
        ca: ca_path_len.is_some(),
        path_len_constraint: ca_path_len,
    };
    ext(OID_BASIC_CONSTRAINTS, true, &value)
}

/// The subjectKeyIdentifier extension (non-critical) carrying `id`.
pub(crate) fn subject_key_id(id: &[u8]) -> Result<Extension, CaError> {
    ext(
        OID_SUBJECT_KEY_ID,
        false,
        &SubjectKeyIdentifier(OctetString::new(id)?),
    )
}

/// The authorityKeyIdentifier extension (non-critical) naming the issuer's key `id`.
pub(crate) fn authority_key_id(id: &[u8]) -> Result<Extension, CaError> {
    ext(
        OID_AUTHORITY_KEY_ID,
        false,
        &AuthorityKeyIdentifier {
            key_identifier: Some(OctetString::new(id)?),
            authority_cert_issuer: None,
            authority_cert_serial_number: None,
        },
    )
}

/// An extension with raw value bytes.
pub(crate) fn raw_ext(
    oid: ObjectIdentifier,
    critical: bool,
    value: Vec<u8>,
) -> Result<Extension, CaError> {
    Ok(Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value)?,
    })
}

/// A random positive 128-bit serial number.
pub(crate) fn random_serial() -> Result<SerialNumber, CaError> {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| CaError::Internal(IssueFailure::RandomSerial))?;
    bytes[0] = (bytes[0] & 0x7f) | 0x01;
    Ok(SerialNumber::new(&bytes)?)
}

/// RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050 (strict verifiers
/// such as `cryptography` refuse anything else).
fn time(t: SystemTime) -> Result<Time, CaError> {
    match der::asn1::UtcTime::from_system_time(t) {
        Ok(utc) => Ok(Time::UtcTime(utc)),
        Err(_) => Ok(Time::GeneralTime(
            der::asn1::GeneralizedTime::from_system_time(t)?,
        )),
    }
}

pub(crate) fn validity(not_before: SystemTime, not_after: SystemTime) -> Result<Validity, CaError> {
    Ok(Validity {
        not_before: time(not_before)?,
        not_after: time(not_after)?,
    })
}

/// What goes into a TBSCertificate.
pub(crate) struct TbsParts {
    pub(crate) serial: SerialNumber,
    pub(crate) issuer: Name,
    pub(crate) subject: Name,
    pub(crate) validity: Validity,
    pub(crate) spki_der: Vec<u8>,
    pub(crate) extensions: Vec<Extension>,
}

pub(crate) fn tbs(parts: TbsParts, signer_curve: Curve) -> Result<TbsCertificate, CaError> {
    Ok(TbsCertificate {
        version: Version::V3,
        serial_number: parts.serial,
        signature: signature_algorithm(signer_curve),
        issuer: parts.issuer,
        validity: parts.validity,
        subject: parts.subject,
        subject_public_key_info: SubjectPublicKeyInfoOwned::from_der(&parts.spki_der)?,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(parts.extensions),
    })
}

/// Signs a TBS with `key` and returns the certificate DER.
pub(crate) fn sign(tbs: TbsCertificate, key: &SigningKey) -> Result<Vec<u8>, CaError> {
    let sig = key.sign(&tbs.to_der()?)?;
    let cert = Certificate {
        signature_algorithm: tbs.signature.clone(),
        tbs_certificate: tbs,
        signature: BitString::from_bytes(&sig)?,
    };
    Ok(cert.to_der()?)
}
