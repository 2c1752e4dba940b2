//! Keys and signatures as hardware tokens (PKCS#11) hand them out: the public key as
//! `CKA_EC_PARAMS` (the DER namedCurve OID) plus `CKA_EC_POINT` (a DER OCTET STRING
//! holding the SEC1 point, or the bare point on some tokens), and ECDSA signatures as
//! raw `r‖s` (`CKM_ECDSA`), which OMS bundles carry DER-encoded (oms-spec §1.2).

use der::Decode as _;
use der::asn1::OctetStringRef;
use der::oid::ObjectIdentifier;

use crate::curve::Curve;
use crate::error::{CryptoError, Malformation};
use crate::keys::{PublicKey, der_err, unsupported};
use crate::oids;

/// Bytes of one coordinate / scalar.
fn scalar_len(curve: Curve) -> usize {
    match curve {
        Curve::P256 => 32,
        Curve::P384 => 48,
        Curve::P521 => 66,
    }
}

impl PublicKey {
    /// Builds a key from a token's `CKA_EC_PARAMS` (DER namedCurve OID) and
    /// `CKA_EC_POINT` (DER OCTET STRING of the point, or the bare SEC1 point).
    ///
    /// # Errors
    /// Parameters that are not a named P-256/P-384/P-521 curve, or an invalid point.
    pub fn from_ec_params_point(
        ec_params: &[u8],
        ec_point: &[u8],
        source: &str,
    ) -> Result<Self, CryptoError> {
        let oid = ObjectIdentifier::from_der(ec_params)
            .map_err(|_| unsupported(source, "EC with explicit or missing curve parameters"))?;
        let curve =
            Curve::from_oid(&oid).ok_or_else(|| unsupported(source, &oids::curve_name(&oid)))?;
        let n = scalar_len(curve);
        let is_point = |p: &[u8]| {
            (p.len() == 1 + 2 * n && p[0] == 4) || (p.len() == 1 + n && matches!(p[0], 2 | 3))
        };
        let point = match OctetStringRef::from_der(ec_point) {
            Ok(inner) if is_point(inner.as_bytes()) => inner.as_bytes(),
            _ if is_point(ec_point) => ec_point,
            Ok(_) => {
                return Err(unsupported(
                    source,
                    &format!("an EC point that is not a {} point", curve.name()),
                ));
            }
            Err(e) => return Err(der_err(source, "CKA_EC_POINT", e)),
        };
        Self::from_point(curve, point, source)
    }
}

/// Converts a raw ECDSA signature (`r‖s`, each the curve's scalar size, as PKCS#11
/// `CKM_ECDSA` returns it) to the DER `SEQUENCE { INTEGER r, INTEGER s }` OMS uses.
///
/// # Errors
/// A signature whose length is not twice the curve's scalar size.
pub fn ecdsa_der_from_raw(curve: Curve, raw: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let n = scalar_len(curve);
    if raw.len() != 2 * n {
        return Err(CryptoError::Malformed {
            source_name: "token".to_owned(),
            what: format!("{} signature", curve.name()),
            reason: Malformation::RawSignatureLength {
                expected: 2 * n,
                found: raw.len(),
            },
        });
    }
    let mut body = Vec::with_capacity(2 * n + 8);
    for half in [&raw[..n], &raw[n..]] {
        let start = half.iter().position(|&b| b != 0).unwrap_or(half.len() - 1);
        let digits = &half[start..];
        let pad = usize::from(digits[0] & 0x80 != 0);
        body.push(0x02);
        push_len(&mut body, digits.len() + pad);
        if pad == 1 {
            body.push(0);
        }
        body.extend_from_slice(digits);
    }
    let mut out = Vec::with_capacity(body.len() + 3);
    out.push(0x30);
    push_len(&mut out, body.len());
    out.extend_from_slice(&body);
    Ok(out)
}

/// DER definite length (at most 255 here: a P-521 signature body is under 140 bytes).
fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        out.push(0x81);
        out.push(len as u8);
    }
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{
        ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING,
        ECDSA_P521_SHA512_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _,
    };

    use super::*;

    #[test]
    fn raw_token_signatures_verify_as_der_on_every_curve() {
        let rng = SystemRandom::new();
        for (curve, alg, oid) in [
            (
                Curve::P256,
                &ECDSA_P256_SHA256_FIXED_SIGNING,
                oids::SECP256R1,
            ),
            (
                Curve::P384,
                &ECDSA_P384_SHA384_FIXED_SIGNING,
                oids::SECP384R1,
            ),
            (
                Curve::P521,
                &ECDSA_P521_SHA512_FIXED_SIGNING,
                oids::SECP521R1,
            ),
        ] {
            let pair = EcdsaKeyPair::generate(alg).unwrap();
            let point = pair.public_key().as_ref().to_vec();
            let params = der::Encode::to_der(&oid).unwrap();
            // SoftHSM style (DER OCTET STRING) and bare point give the same key.
            let wrapped = der::Encode::to_der(&OctetStringRef::new(&point).unwrap()).unwrap();
            let key = PublicKey::from_ec_params_point(&params, &wrapped, "t").unwrap();
            assert_eq!(
                key,
                PublicKey::from_ec_params_point(&params, &point, "t").unwrap()
            );
            assert_eq!(key.curve(), curve);
            // Enough signatures that r or s with the top bit set (DER pad byte) occurs.
            for i in 0..16u8 {
                let msg = [i; 40];
                let raw = pair.sign(&rng, &msg).unwrap();
                let der = ecdsa_der_from_raw(curve, raw.as_ref()).unwrap();
                key.verify(&msg, &der).unwrap();
            }
        }
    }

    #[test]
    fn der_encoding_strips_zeros_and_pads_high_bits() {
        let mut raw = vec![0u8; 64];
        raw[31] = 1; // r = 1
        raw[32] = 0x80; // s = 0x80 00 … 00 (32 bytes, top bit set)
        let der = ecdsa_der_from_raw(Curve::P256, &raw).unwrap();
        let mut want = vec![0x30, 3 + 35, 0x02, 1, 1, 0x02, 33, 0];
        want.push(0x80);
        want.extend_from_slice(&[0; 31]);
        assert_eq!(der, want);
        // P-521: long-form SEQUENCE length.
        let der = ecdsa_der_from_raw(Curve::P521, &[0xff; 132]).unwrap();
        assert_eq!(&der[..3], &[0x30, 0x81, 2 * (2 + 67)]);
    }

    #[test]
    fn wrong_lengths_and_curves_are_refused() {
        let e = ecdsa_der_from_raw(Curve::P256, &[1; 63]).unwrap_err();
        assert!(matches!(
            e,
            CryptoError::Malformed {
                reason: Malformation::RawSignatureLength {
                    expected: 64,
                    found: 63
                },
                ..
            }
        ));
        let secp256k1 = der::Encode::to_der(&ObjectIdentifier::new_unwrap("1.3.132.0.10")).unwrap();
        let e = PublicKey::from_ec_params_point(&secp256k1, &[4; 65], "slot 1").unwrap_err();
        assert!(matches!(e, CryptoError::UnsupportedKey { .. }), "{e}");
        let p256 = der::Encode::to_der(&oids::SECP256R1).unwrap();
        assert!(PublicKey::from_ec_params_point(&p256, &[4; 10], "t").is_err());
    }
}
