//! An RFC 3161 timestamp authority (with RFC 5816's ESSCertIDv2), as Sigstore clients use
//! one: `POST /api/v1/timestamp` with a DER `TimeStampReq` over the hash of a signature,
//! answered with a DER `TimeStampResp` whose token is a CMS SignedData (RFC 5652) over a
//! `TSTInfo`, signed by [`TsaMaterial`]'s key.
//!
//! ASN.1 types are RustCrypto's (`x509-tsp` for TimeStampReq/TSTInfo/TimeStampResp,
//! `cmpv2` for PKIStatusInfo, `cms` for SignedData, `x509-cert`); the signature is ECDSA
//! P-256 with SHA-256 by aws-lc-rs through hallmark-crypto. No crypto primitive is written
//! here.
//!
//! The token: `TSTInfo{version 1, policy` [`TSA_POLICY`] (or the request's, which must be
//! the same), `messageImprint` copied, random 128-bit serial, `genTime` now (whole seconds,
//! `Z`), accuracy 1 s, `nonce` copied}; one SignerInfo (issuer and serial of the signing
//! certificate, SHA-256, ecdsa-with-SHA256) with signed attributes contentType =
//! id-ct-TSTInfo, messageDigest, signingTime and signingCertificateV2 (SHA-256 of the
//! signing certificate); the signing certificate is embedded when `certReq` is true.
//!
//! Refused requests (the HTTP layer answers 400 naming the field): not DER of a
//! TimeStampReq, a hash other than SHA-256/384/512, a digest of the wrong length, another
//! policy, any extension; requests over [`MAX_TIMESTAMP_REQUEST_BYTES`].

use std::time::SystemTime;

use der::asn1::{Any, GeneralizedTime, Int, ObjectIdentifier, OctetString, SetOfVec, UtcTime};
use der::{Decode as _, Encode as _, Sequence};
use thiserror::Error;
use x509_cert::attr::{Attribute, AttributeValue};
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_tsp::{Accuracy, TimeStampReq, TimeStampResp, TspVersion, TstInfo};

use crate::tsa_material::TsaMaterial;

/// Largest request body: a TimeStampReq over a SHA-512 digest with a nonce is ~100 bytes.
pub const MAX_TIMESTAMP_REQUEST_BYTES: usize = 4096;

/// The policy this TSA issues under (Sigstore's timestamp-authority default).
pub const TSA_POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.2");

const OID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const OID_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const OID_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
const OID_ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const OID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const OID_CT_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const OID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const OID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const OID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
const OID_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");

/// Why a timestamp request was refused (the client's fault: HTTP 400).
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum TsaRefusal {
    /// The body exceeds [`MAX_TIMESTAMP_REQUEST_BYTES`].
    #[error("the timestamp request exceeds {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// The body is not DER of a TimeStampReq.
    #[error("TimeStampReq: not a DER RFC 3161 request: {0}")]
    Malformed(String),
    /// The hash algorithm is not SHA-256/384/512.
    #[error(
        "TimeStampReq.messageImprint.hashAlgorithm: {0} is not supported (SHA-256, SHA-384, SHA-512)"
    )]
    HashAlgorithm(String),
    /// The digest length does not match the hash.
    #[error("TimeStampReq.messageImprint.hashedMessage: {got} bytes, the hash gives {want}")]
    DigestLength {
        /// Bytes given.
        got: usize,
        /// Bytes expected.
        want: usize,
    },
    /// Another policy was asked for.
    #[error("TimeStampReq.reqPolicy: {0} is not this TSA's policy ({TSA_POLICY})")]
    Policy(String),
    /// Extensions were sent (none is supported).
    #[error("TimeStampReq.extensions: not supported")]
    Extensions,
}

/// A failure of the TSA itself (HTTP 500).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TsaFailure {
    /// Encoding failed.
    #[error("timestamp encoding: {0}")]
    Der(#[from] der::Error),
    /// Signing or randomness failed.
    #[error("timestamp signing: {0}")]
    Crypto(String),
}

/// ESSCertIDv2 (RFC 5035): hash algorithm SHA-256 (the default, omitted) and certificate
/// hash; no issuerSerial.
#[derive(Clone, Debug, Sequence)]
struct EssCertIdV2 {
    cert_hash: OctetString,
}

/// SigningCertificateV2 (RFC 5035 §3): the signer's certificate only, no policies.
#[derive(Clone, Debug, Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
}

/// A checked request: what the token repeats.
#[derive(Debug)]
pub struct TimestampRequest {
    req: TimeStampReq,
}

impl TimestampRequest {
    /// Parses and checks a DER TimeStampReq.
    ///
    /// # Errors
    /// A [`TsaRefusal`] naming the field.
    pub fn parse(der: &[u8]) -> Result<Self, TsaRefusal> {
        if der.len() > MAX_TIMESTAMP_REQUEST_BYTES {
            return Err(TsaRefusal::TooLarge {
                limit: MAX_TIMESTAMP_REQUEST_BYTES,
            });
        }
        let req = TimeStampReq::from_der(der).map_err(|e| TsaRefusal::Malformed(e.to_string()))?;
        let alg = req.message_imprint.hash_algorithm.oid;
        let want = match alg {
            OID_SHA256 => 32,
            OID_SHA384 => 48,
            OID_SHA512 => 64,
            other => return Err(TsaRefusal::HashAlgorithm(other.to_string())),
        };
        let got = req.message_imprint.hashed_message.as_bytes().len();
        if got != want {
            return Err(TsaRefusal::DigestLength { got, want });
        }
        if let Some(p) = req.req_policy
            && p != TSA_POLICY
        {
            return Err(TsaRefusal::Policy(p.to_string()));
        }
        if req.extensions.is_some() {
            return Err(TsaRefusal::Extensions);
        }
        Ok(Self { req })
    }
}

fn attribute(oid: ObjectIdentifier, value: Any) -> Result<Attribute, der::Error> {
    let mut values = SetOfVec::new();
    values.insert(AttributeValue::from(value))?;
    Ok(Attribute { oid, values })
}

fn sha256_alg() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: OID_SHA256,
        parameters: None,
    }
}

/// Issues the DER TimeStampResp (status granted) for `request`, stamped `now`.
///
/// # Errors
/// [`TsaFailure`] on an encoding or signing failure.
pub fn issue(
    tsa: &TsaMaterial,
    request: &TimestampRequest,
    now: SystemTime,
) -> Result<Vec<u8>, TsaFailure> {
    let req = &request.req;
    let mut serial = [0u8; 16];
    hallmark_crypto::random_fill(&mut serial).map_err(|e| TsaFailure::Crypto(e.to_string()))?;
    serial[0] = (serial[0] & 0x7f) | 0x01;
    // Whole seconds: DER GeneralizedTime allows no trailing zeros in fractions.
    let secs = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let stamped = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    let tst = TstInfo {
        version: TspVersion::V1,
        policy: TSA_POLICY,
        message_imprint: req.message_imprint.clone(),
        serial_number: Int::new(&serial)?,
        gen_time: GeneralizedTime::from_system_time(stamped)?,
        accuracy: Some(Accuracy {
            seconds: Some(1),
            millis: None,
            micros: None,
        }),
        ordering: false,
        nonce: req.nonce.clone(),
        tsa: None,
        extensions: None,
    };
    let tst_der = tst.to_der()?;
    let leaf = x509_cert::Certificate::from_der(&tsa.leaf_der)?;
    let cert_hash = hallmark_crypto::sha256(&tsa.leaf_der);
    let signing_cert = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            cert_hash: OctetString::new(cert_hash.to_vec())?,
        }],
    };
    let mut signed_attrs = SetOfVec::new();
    signed_attrs.insert(attribute(
        OID_CONTENT_TYPE,
        Any::encode_from(&OID_CT_TST_INFO)?,
    )?)?;
    signed_attrs.insert(attribute(
        OID_MESSAGE_DIGEST,
        Any::encode_from(&OctetString::new(
            hallmark_crypto::sha256(&tst_der).to_vec(),
        )?)?,
    )?)?;
    signed_attrs.insert(attribute(
        OID_SIGNING_TIME,
        Any::encode_from(&UtcTime::from_system_time(stamped)?)?,
    )?)?;
    signed_attrs.insert(attribute(
        OID_SIGNING_CERTIFICATE_V2,
        Any::encode_from(&signing_cert)?,
    )?)?;
    // The signature covers the DER of the attributes as a SET OF (RFC 5652 §5.4).
    let signature = tsa
        .key
        .sign(&signed_attrs.to_der()?)
        .map_err(|e| TsaFailure::Crypto(e.to_string()))?;
    let signer = cms::signed_data::SignerInfo {
        version: cms::content_info::CmsVersion::V1,
        sid: cms::signed_data::SignerIdentifier::IssuerAndSerialNumber(
            cms::cert::IssuerAndSerialNumber {
                issuer: leaf.tbs_certificate.issuer.clone(),
                serial_number: leaf.tbs_certificate.serial_number.clone(),
            },
        ),
        digest_alg: sha256_alg(),
        signed_attrs: Some(signed_attrs),
        signature_algorithm: AlgorithmIdentifierOwned {
            oid: OID_ECDSA_SHA256,
            parameters: None,
        },
        signature: OctetString::new(signature)?,
        unsigned_attrs: None,
    };
    let certificates = if req.cert_req {
        let mut set = SetOfVec::new();
        set.insert(cms::cert::CertificateChoices::Certificate(leaf))?;
        Some(cms::signed_data::CertificateSet(set))
    } else {
        None
    };
    let mut digest_algorithms = SetOfVec::new();
    digest_algorithms.insert(sha256_alg())?;
    let mut signer_infos = SetOfVec::new();
    signer_infos.insert(signer)?;
    let signed_data = cms::signed_data::SignedData {
        version: cms::content_info::CmsVersion::V3,
        digest_algorithms,
        encap_content_info: cms::signed_data::EncapsulatedContentInfo {
            econtent_type: OID_CT_TST_INFO,
            econtent: Some(Any::encode_from(&OctetString::new(tst_der)?)?),
        },
        certificates,
        crls: None,
        signer_infos: cms::signed_data::SignerInfos(signer_infos),
    };
    let resp = TimeStampResp {
        status: cmpv2::status::PkiStatusInfo {
            status: cmpv2::status::PkiStatus::Accepted,
            status_string: None,
            fail_info: None,
        },
        time_stamp_token: Some(cms::content_info::ContentInfo {
            content_type: OID_SIGNED_DATA,
            content: Any::encode_from(&signed_data)?,
        }),
    };
    Ok(resp.to_der()?)
}

/// `nonce` as a positive DER INTEGER (top bit cleared, first byte non-zero: minimal).
fn nonce_int(mut nonce: [u8; 8]) -> Result<Int, der::Error> {
    nonce[0] = (nonce[0] & 0x7f) | 0x01;
    Int::new(&nonce)
}

/// A DER TimeStampReq for the SHA-256 of `message` with `nonce` (random bytes), asking
/// for the certificate (what Sigstore clients send).
///
/// # Errors
/// Encoding failures only.
pub fn request_for(message: &[u8], nonce: [u8; 8]) -> Result<Vec<u8>, der::Error> {
    TimeStampReq {
        version: TspVersion::V1,
        message_imprint: x509_tsp::MessageImprint {
            hash_algorithm: x509_cert::spki::AlgorithmIdentifier {
                oid: OID_SHA256,
                parameters: None,
            },
            hashed_message: OctetString::new(hallmark_crypto::sha256(message).to_vec())?,
        },
        req_policy: None,
        nonce: Some(nonce_int(nonce)?),
        cert_req: true,
        extensions: None,
    }
    .to_der()
}

/// Why a TSA's answer is unusable (checked by the signer before it writes anything).
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum TsaAnswerError {
    /// Not DER of a TimeStampResp.
    #[error("the answer is not a DER RFC 3161 TimeStampResp: {0}")]
    Malformed(String),
    /// The status is not granted.
    #[error("the timestamp authority did not grant the request (status {0})")]
    NotGranted(String),
    /// The token does not stamp what was asked (imprint or nonce differ).
    #[error("the timestamp does not cover the request: {0}")]
    Mismatch(&'static str),
}

/// Checks that `resp` (DER TimeStampResp) grants a token over the SHA-256 of `message`
/// with `nonce`. The signature is verified later, against the trust root, by the verifier.
///
/// # Errors
/// [`TsaAnswerError`].
pub fn check_answer(resp: &[u8], message: &[u8], nonce: [u8; 8]) -> Result<(), TsaAnswerError> {
    let bad = |e: der::Error| TsaAnswerError::Malformed(e.to_string());
    let resp = TimeStampResp::from_der(resp).map_err(bad)?;
    if resp.status.status != cmpv2::status::PkiStatus::Accepted {
        return Err(TsaAnswerError::NotGranted(format!(
            "{:?}",
            resp.status.status
        )));
    }
    let token = resp
        .time_stamp_token
        .ok_or(TsaAnswerError::Mismatch("no timeStampToken"))?;
    let sd: cms::signed_data::SignedData = token.content.decode_as().map_err(bad)?;
    let econtent = sd
        .encap_content_info
        .econtent
        .ok_or(TsaAnswerError::Mismatch("no TSTInfo"))?;
    let octets: OctetString = econtent.decode_as().map_err(bad)?;
    let tst = TstInfo::from_der(octets.as_bytes()).map_err(bad)?;
    if tst.message_imprint.hash_algorithm.oid != OID_SHA256
        || tst.message_imprint.hashed_message.as_bytes() != hallmark_crypto::sha256(message)
    {
        return Err(TsaAnswerError::Mismatch("messageImprint"));
    }
    let want = nonce_int(nonce).map_err(bad)?;
    if tst.nonce.as_ref() != Some(&want) {
        return Err(TsaAnswerError::Mismatch("nonce"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hallmark_crypto::Certificate;

    fn material() -> (tempfile::TempDir, TsaMaterial) {
        let dir = tempfile::tempdir().unwrap();
        let m = TsaMaterial::load_or_create(&dir.path().join("tsa"), "Test").unwrap();
        (dir, m)
    }

    #[test]
    fn a_token_stamps_the_request_and_verifies_with_the_tsa_key() {
        let (_d, tsa) = material();
        let req = request_for(b"signature bytes", [9; 8]).unwrap();
        let resp = issue(
            &tsa,
            &TimestampRequest::parse(&req).unwrap(),
            SystemTime::now(),
        )
        .unwrap();
        check_answer(&resp, b"signature bytes", [9; 8]).unwrap();
        assert_eq!(
            check_answer(&resp, b"other", [9; 8]),
            Err(TsaAnswerError::Mismatch("messageImprint"))
        );
        assert_eq!(
            check_answer(&resp, b"signature bytes", [8; 8]),
            Err(TsaAnswerError::Mismatch("nonce"))
        );
        // The SignerInfo's signature verifies over the signed attributes with the TSA key,
        // and its messageDigest is the TSTInfo's hash.
        let resp = TimeStampResp::from_der(&resp).unwrap();
        let sd: cms::signed_data::SignedData =
            resp.time_stamp_token.unwrap().content.decode_as().unwrap();
        let si = sd.signer_infos.0.get(0).unwrap();
        let attrs = si.signed_attrs.as_ref().unwrap().to_der().unwrap();
        let leaf = Certificate::from_der(&tsa.leaf_der).unwrap();
        leaf.public_key()
            .unwrap()
            .verify(&attrs, si.signature.as_bytes())
            .unwrap();
        assert_eq!(
            sd.certificates.unwrap().0.len(),
            1,
            "certReq: the signer is embedded"
        );
    }

    #[test]
    fn bad_requests_name_the_field() {
        let good = request_for(b"x", [1; 8]).unwrap();
        assert!(matches!(
            TimestampRequest::parse(&good[..good.len() - 3]),
            Err(TsaRefusal::Malformed(_))
        ));
        assert!(matches!(
            TimestampRequest::parse(&vec![0u8; MAX_TIMESTAMP_REQUEST_BYTES + 1]),
            Err(TsaRefusal::TooLarge {
                limit: MAX_TIMESTAMP_REQUEST_BYTES
            })
        ));
        let mut req = TimeStampReq::from_der(&good).unwrap();
        req.message_imprint.hashed_message = OctetString::new(vec![0u8; 20]).unwrap();
        let e = TimestampRequest::parse(&req.to_der().unwrap()).unwrap_err();
        assert_eq!(e, TsaRefusal::DigestLength { got: 20, want: 32 });
        assert!(
            e.to_string()
                .starts_with("TimeStampReq.messageImprint.hashedMessage"),
            "{e}"
        );
        let mut req = TimeStampReq::from_der(&good).unwrap();
        req.message_imprint.hash_algorithm.oid = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
        let e = TimestampRequest::parse(&req.to_der().unwrap()).unwrap_err();
        assert!(
            e.to_string().contains("hashAlgorithm: 1.3.14.3.2.26"),
            "{e}"
        );
        let mut req = TimeStampReq::from_der(&good).unwrap();
        req.req_policy = Some(ObjectIdentifier::new_unwrap("1.2.3.4"));
        let e = TimestampRequest::parse(&req.to_der().unwrap()).unwrap_err();
        assert!(
            e.to_string().starts_with("TimeStampReq.reqPolicy: 1.2.3.4"),
            "{e}"
        );
    }
}
