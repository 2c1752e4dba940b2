//! Object identifiers used by this crate.

use der::oid::ObjectIdentifier as Oid;

pub(crate) const ID_EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
pub(crate) const SECP256R1: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
pub(crate) const SECP384R1: Oid = Oid::new_unwrap("1.3.132.0.34");
pub(crate) const SECP521R1: Oid = Oid::new_unwrap("1.3.132.0.35");
pub(crate) const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
pub(crate) const ID_RSASSA_PSS: Oid = Oid::new_unwrap("1.2.840.113549.1.1.10");
pub(crate) const ID_ED25519: Oid = Oid::new_unwrap("1.3.101.112");
pub(crate) const ID_ED448: Oid = Oid::new_unwrap("1.3.101.113");
pub(crate) const ID_X25519: Oid = Oid::new_unwrap("1.3.101.110");
pub(crate) const ID_X448: Oid = Oid::new_unwrap("1.3.101.111");
pub(crate) const ID_DSA: Oid = Oid::new_unwrap("1.2.840.10040.4.1");

pub(crate) const SHA1_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.5");
pub(crate) const SHA256_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
pub(crate) const SHA384_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
pub(crate) const SHA512_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
pub(crate) const ECDSA_WITH_SHA1: Oid = Oid::new_unwrap("1.2.840.10045.4.1");
pub(crate) const ECDSA_WITH_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
pub(crate) const ECDSA_WITH_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
pub(crate) const ECDSA_WITH_SHA512: Oid = Oid::new_unwrap("1.2.840.10045.4.3.4");
pub(crate) const ID_SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
pub(crate) const ID_SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
pub(crate) const ID_SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");
pub(crate) const ID_MGF1: Oid = Oid::new_unwrap("1.2.840.113549.1.1.8");

pub(crate) const CE_SUBJECT_KEY_ID: Oid = Oid::new_unwrap("2.5.29.14");
pub(crate) const CE_KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.15");
pub(crate) const CE_SUBJECT_ALT_NAME: Oid = Oid::new_unwrap("2.5.29.17");
pub(crate) const CE_ISSUER_ALT_NAME: Oid = Oid::new_unwrap("2.5.29.18");
pub(crate) const CE_BASIC_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.19");
pub(crate) const CE_NAME_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.30");
pub(crate) const CE_CERTIFICATE_POLICIES: Oid = Oid::new_unwrap("2.5.29.32");
pub(crate) const CE_POLICY_MAPPINGS: Oid = Oid::new_unwrap("2.5.29.33");
pub(crate) const CE_AUTHORITY_KEY_ID: Oid = Oid::new_unwrap("2.5.29.35");
pub(crate) const CE_POLICY_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.36");
pub(crate) const CE_EXT_KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.37");
pub(crate) const CE_INHIBIT_ANY_POLICY: Oid = Oid::new_unwrap("2.5.29.54");
/// Fulcio's OIDC issuer extension (DER UTF8String).
pub(crate) const FULCIO_OIDC_ISSUER: Oid = Oid::new_unwrap("1.3.6.1.4.1.57264.1.8");
/// Fulcio's legacy OIDC issuer extension (raw UTF-8 bytes).
pub(crate) const FULCIO_OIDC_ISSUER_V1: Oid = Oid::new_unwrap("1.3.6.1.4.1.57264.1.1");
pub(crate) const KP_CODE_SIGNING: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.3");

/// Human name of a public-key algorithm OID, for error messages.
pub(crate) fn key_type_name(oid: &Oid) -> String {
    let name = match *oid {
        RSA_ENCRYPTION => "RSA",
        ID_RSASSA_PSS => "RSA-PSS",
        ID_ED25519 => "Ed25519",
        ID_ED448 => "Ed448",
        ID_X25519 => "X25519",
        ID_X448 => "X448",
        ID_DSA => "DSA",
        ID_EC_PUBLIC_KEY => "EC",
        _ => return format!("of unknown algorithm {oid}"),
    };
    name.to_owned()
}

/// Human name of an EC curve OID, for error messages.
pub(crate) fn curve_name(oid: &Oid) -> String {
    match oid.to_string().as_str() {
        "1.3.132.0.10" => "EC on curve secp256k1 (1.3.132.0.10)".to_owned(),
        "1.3.36.3.3.2.8.1.1.7" => "EC on curve brainpoolP256r1".to_owned(),
        "1.3.36.3.3.2.8.1.1.11" => "EC on curve brainpoolP384r1".to_owned(),
        "1.3.36.3.3.2.8.1.1.13" => "EC on curve brainpoolP512r1".to_owned(),
        "1.3.132.0.33" => "EC on curve P-224 (secp224r1)".to_owned(),
        "1.2.840.10045.3.1.1" => "EC on curve P-192 (prime192v1)".to_owned(),
        other => format!("EC on curve {other}"),
    }
}

/// Human name of a certificate extension, for error messages.
pub(crate) fn extension_name(oid: &Oid) -> &'static str {
    match *oid {
        CE_SUBJECT_KEY_ID => "subjectKeyIdentifier",
        CE_KEY_USAGE => "keyUsage",
        CE_SUBJECT_ALT_NAME => "subjectAltName",
        CE_ISSUER_ALT_NAME => "issuerAltName",
        CE_BASIC_CONSTRAINTS => "basicConstraints",
        CE_NAME_CONSTRAINTS => "nameConstraints",
        CE_CERTIFICATE_POLICIES => "certificatePolicies",
        CE_POLICY_MAPPINGS => "policyMappings",
        CE_AUTHORITY_KEY_ID => "authorityKeyIdentifier",
        CE_POLICY_CONSTRAINTS => "policyConstraints",
        CE_EXT_KEY_USAGE => "extendedKeyUsage",
        CE_INHIBIT_ANY_POLICY => "inhibitAnyPolicy",
        _ => "",
    }
}
