//! The elliptic curves OMS signs with and the ECDSA algorithms that go with them.

use crate::digest::DigestAlg;
use crate::oids;
use aws_lc_rs::signature::{self, EcdsaSigningAlgorithm, EcdsaVerificationAlgorithm};

/// An elliptic curve supported for OMS signing keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Curve {
    /// NIST P-256 (secp256r1, prime256v1).
    P256,
    /// NIST P-384 (secp384r1).
    P384,
    /// NIST P-521 (secp521r1).
    P521,
}

impl Curve {
    /// The NIST name: `"P-256"`, `"P-384"` or `"P-521"`.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
            Curve::P521 => "P-521",
        }
    }

    /// The hash OMS pairs with this curve (oms-spec §1.2).
    #[must_use]
    pub fn digest(&self) -> DigestAlg {
        match self {
            Curve::P256 => DigestAlg::Sha256,
            Curve::P384 => DigestAlg::Sha384,
            Curve::P521 => DigestAlg::Sha512,
        }
    }

    /// The Sigstore `keyDetails` name of the OMS algorithm for this curve,
    /// e.g. `PKIX_ECDSA_P384_SHA_384`.
    #[must_use]
    pub fn key_details(&self) -> &'static str {
        match self {
            Curve::P256 => "PKIX_ECDSA_P256_SHA_256",
            Curve::P384 => "PKIX_ECDSA_P384_SHA_384",
            Curve::P521 => "PKIX_ECDSA_P521_SHA_512",
        }
    }

    pub(crate) fn oid(&self) -> der::oid::ObjectIdentifier {
        match self {
            Curve::P256 => oids::SECP256R1,
            Curve::P384 => oids::SECP384R1,
            Curve::P521 => oids::SECP521R1,
        }
    }

    pub(crate) fn from_oid(oid: &der::oid::ObjectIdentifier) -> Option<Curve> {
        [Curve::P256, Curve::P384, Curve::P521]
            .into_iter()
            .find(|c| c.oid() == *oid)
    }

    pub(crate) fn signing_alg(&self) -> &'static EcdsaSigningAlgorithm {
        match self {
            Curve::P256 => &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            Curve::P384 => &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
            Curve::P521 => &signature::ECDSA_P521_SHA512_ASN1_SIGNING,
        }
    }

    /// aws-lc-rs verification algorithm for this curve with `digest`
    /// (DER signatures). Every combination of the three curves and three
    /// hashes exists in aws-lc-rs.
    pub(crate) fn verification_alg(
        &self,
        digest: DigestAlg,
    ) -> &'static EcdsaVerificationAlgorithm {
        use DigestAlg::{Sha256, Sha384, Sha512};
        match (self, digest) {
            (Curve::P256, Sha256) => &signature::ECDSA_P256_SHA256_ASN1,
            (Curve::P256, Sha384) => &signature::ECDSA_P256_SHA384_ASN1,
            (Curve::P256, Sha512) => &signature::ECDSA_P256_SHA512_ASN1,
            (Curve::P384, Sha256) => &signature::ECDSA_P384_SHA256_ASN1,
            (Curve::P384, Sha384) => &signature::ECDSA_P384_SHA384_ASN1,
            (Curve::P384, Sha512) => &signature::ECDSA_P384_SHA512_ASN1,
            (Curve::P521, Sha256) => &signature::ECDSA_P521_SHA256_ASN1,
            (Curve::P521, Sha384) => &signature::ECDSA_P521_SHA384_ASN1,
            (Curve::P521, Sha512) => &signature::ECDSA_P521_SHA512_ASN1,
        }
    }
}

impl std::fmt::Display for Curve {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curve_names_and_oids() {
        for c in [Curve::P256, Curve::P384, Curve::P521] {
            assert_eq!(Curve::from_oid(&c.oid()), Some(c));
        }
        assert_eq!(Curve::P384.name(), "P-384");
        assert_eq!(Curve::P521.digest(), DigestAlg::Sha512);
    }
}
