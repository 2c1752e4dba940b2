//! The Sigstore bundle v0.3 JSON that carries an OMS signature
//! (`docs/oms-spec.md` §1.1, §8; Sigstore protobuf-specs `Bundle` JSON mapping).
//!
//! Reading is lenient where released producers differ (`keyid` absent, `""` or `null`;
//! `tlogEntries` absent; `publicKey` with `hint` or with the older `rawBytes`/`keyDetails`)
//! and strict where the meaning would change: the media type must be exactly the v0.3
//! string, and unknown fields are refused, as the reference verifier refuses them.
//! Writing produces exactly the reference 1.1.x shape, compact, in its key order.

use serde_json::Value;

use crate::dsse::{Envelope, EnvelopeSignature};
use crate::error::{FieldRefusal, FormatError};
use crate::json::{Obj, b64_decode};
use crate::limits::Limits;

const DOC: &str = "signature bundle";

mod out;
mod types;

pub use types::{BUNDLE_MEDIA_TYPE_V03, Bundle, VerificationMaterial};

impl Bundle {
    /// Parses bundle bytes, enforcing `limits`.
    pub fn parse(bytes: &[u8], limits: &Limits) -> Result<Self, FormatError> {
        if bytes.len() > limits.max_bundle_bytes {
            return Err(FormatError::TooLarge {
                size: bytes.len(),
                limit: limits.max_bundle_bytes,
            });
        }
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|source| FormatError::Json { what: DOC, source })?;
        let top = Obj::new(DOC, "", &value)?;
        top.deny_unknown(&[
            "mediaType",
            "media_type",
            "verificationMaterial",
            "verification_material",
            "dsseEnvelope",
            "dsse_envelope",
        ])?;
        let media_type = top
            .get_either("mediaType", "media_type")
            .ok_or_else(|| FormatError::MissingField {
                what: DOC,
                field: "mediaType".into(),
            })?
            .as_str()
            .ok_or_else(|| top.bad("mediaType", FieldRefusal::NotString))?;
        if media_type != BUNDLE_MEDIA_TYPE_V03 {
            return Err(FormatError::MediaType {
                found: media_type.to_owned(),
            });
        }
        let vm_value = top
            .get_either("verificationMaterial", "verification_material")
            .ok_or_else(|| FormatError::MissingField {
                what: DOC,
                field: "verificationMaterial".into(),
            })?;
        let vm = Obj::new(DOC, "verificationMaterial", vm_value)?;
        let (material, tlog_entries, timestamp_verification_data) = parse_material(&vm, limits)?;
        let env_value = top
            .get_either("dsseEnvelope", "dsse_envelope")
            .ok_or_else(|| FormatError::MissingField {
                what: DOC,
                field: "dsseEnvelope".into(),
            })?;
        let envelope = parse_envelope(&Obj::new(DOC, "dsseEnvelope", env_value)?)?;
        Ok(Self {
            media_type: media_type.to_owned(),
            material,
            tlog_entries,
            timestamp_verification_data,
            envelope,
        })
    }

    /// Serializes the bundle as compact JSON in the reference 1.1.x key order:
    /// `mediaType`, `verificationMaterial{<material>, tlogEntries[, timestampVerificationData]}`,
    /// `dsseEnvelope{payload, payloadType, signatures[{sig, keyid}]}`.
    #[must_use]
    pub fn to_json(&self) -> Vec<u8> {
        let b64_len = |n: usize| n.div_ceil(3) * 4;
        let material = match &self.material {
            VerificationMaterial::PublicKey {
                legacy_raw_bytes, ..
            } => legacy_raw_bytes.as_ref().map_or(0, |r| b64_len(r.len())),
            VerificationMaterial::X509CertificateChain(certs) => {
                certs.iter().map(|c| b64_len(c.len()) + 16).sum()
            }
            VerificationMaterial::Certificate(c) => b64_len(c.len()),
        };
        let mut out = Vec::with_capacity(1024 + material + b64_len(self.envelope.payload.len()));
        // Strings, byte arrays and JSON values always serialize into a Vec.
        let _ = serde_json::to_writer(
            &mut out,
            &out::BundleOut(self, out::Payload::Bytes(&self.envelope.payload)),
        );
        out
    }

    /// [`Self::to_json`] written to `w`, with the envelope's payload produced by
    /// `payload` while it is base64-encoded into `w` (the bundle's own
    /// `envelope.payload` is not used: leave it empty). A payload of hundreds of
    /// megabytes (the statement of a million-file model) is then never in memory, nor
    /// is its base64. The bytes written are those of [`Self::to_json`] of this bundle
    /// with that payload.
    ///
    /// # Errors
    /// Those of `w` and of `payload` (then what was written is incomplete).
    pub fn write_json_with_payload<W: std::io::Write>(
        &self,
        w: W,
        payload: &dyn Fn(&mut dyn std::io::Write) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        let failed = std::cell::Cell::new(None);
        let written = serde_json::to_writer(
            w,
            &out::BundleOut(
                self,
                out::Payload::Streamed {
                    payload,
                    failed: &failed,
                },
            ),
        );
        // An error of `payload` itself is kept aside (serde_json's string writer only
        // expects errors of its own writer) and takes precedence.
        match failed.into_inner() {
            Some(e) => Err(e),
            None => written.map_err(std::io::Error::from),
        }
    }
}

type Material = (VerificationMaterial, Vec<Value>, Option<Value>);

fn parse_material(vm: &Obj<'_>, limits: &Limits) -> Result<Material, FormatError> {
    vm.deny_unknown(&[
        "publicKey",
        "public_key",
        "x509CertificateChain",
        "x509_certificate_chain",
        "certificate",
        "tlogEntries",
        "tlog_entries",
        "timestampVerificationData",
        "timestamp_verification_data",
    ])?;
    let pk = vm.get_either("publicKey", "public_key");
    let chain = vm.get_either("x509CertificateChain", "x509_certificate_chain");
    let cert = vm.get("certificate");
    let present =
        usize::from(pk.is_some()) + usize::from(chain.is_some()) + usize::from(cert.is_some());
    if present != 1 {
        return Err(FormatError::BadField {
            what: DOC,
            field: "verificationMaterial".into(),
            reason: FieldRefusal::MaterialCount { found: present },
        });
    }
    let material = if let Some(pk) = pk {
        let pk = Obj::new(DOC, "verificationMaterial.publicKey", pk)?;
        pk.deny_unknown(&["hint", "rawBytes", "raw_bytes", "keyDetails", "key_details"])?;
        let hint = pk.opt_str("hint")?.map(str::to_owned);
        let legacy_raw_bytes = match pk.get_either("rawBytes", "raw_bytes") {
            None => None,
            Some(v) => Some(b64_decode(
                "verificationMaterial.publicKey.rawBytes",
                v.as_str()
                    .ok_or_else(|| pk.bad("rawBytes", FieldRefusal::NotString))?,
            )?),
        };
        VerificationMaterial::PublicKey {
            hint,
            legacy_raw_bytes,
        }
    } else if let Some(chain) = chain {
        let chain = Obj::new(DOC, "verificationMaterial.x509CertificateChain", chain)?;
        chain.deny_unknown(&["certificates"])?;
        let list = chain.req_array("certificates")?;
        if list.is_empty() {
            return Err(chain.bad("certificates", FieldRefusal::Empty));
        }
        if list.len() > limits.max_certificates {
            return Err(chain.bad(
                "certificates",
                FieldRefusal::TooManyCertificates {
                    count: list.len(),
                    limit: limits.max_certificates,
                },
            ));
        }
        let mut certs = Vec::with_capacity(list.len());
        for (i, c) in list.iter().enumerate() {
            certs.push(raw_bytes(&Obj::new(
                DOC,
                &format!("verificationMaterial.x509CertificateChain.certificates[{i}]"),
                c,
            )?)?);
        }
        VerificationMaterial::X509CertificateChain(certs)
    } else {
        let c = Obj::new(
            DOC,
            "verificationMaterial.certificate",
            cert.unwrap_or(&Value::Null),
        )?;
        VerificationMaterial::Certificate(raw_bytes(&c)?)
    };
    let tlog_entries = match vm.get_either("tlogEntries", "tlog_entries") {
        None => Vec::new(),
        Some(v) => v
            .as_array()
            .cloned()
            .ok_or_else(|| vm.bad("tlogEntries", FieldRefusal::NotArray))?,
    };
    let tsv = vm
        .get_either("timestampVerificationData", "timestamp_verification_data")
        .cloned();
    if let Some(t) = &tsv
        && !t.is_object()
    {
        return Err(vm.bad("timestampVerificationData", FieldRefusal::NotMessage));
    }
    Ok((material, tlog_entries, tsv))
}

fn raw_bytes(o: &Obj<'_>) -> Result<Vec<u8>, FormatError> {
    o.deny_unknown(&["rawBytes", "raw_bytes"])?;
    let s = o
        .get_either("rawBytes", "raw_bytes")
        .ok_or_else(|| FormatError::MissingField {
            what: DOC,
            field: o.field_path("rawBytes"),
        })?
        .as_str()
        .ok_or_else(|| o.bad("rawBytes", FieldRefusal::NotString))?;
    let der = b64_decode(&o.field_path("rawBytes"), s)?;
    if der.is_empty() {
        return Err(o.bad("rawBytes", FieldRefusal::Empty));
    }
    Ok(der)
}

fn parse_envelope(env: &Obj<'_>) -> Result<Envelope, FormatError> {
    env.deny_unknown(&["payload", "payloadType", "payload_type", "signatures"])?;
    let payload = b64_decode("dsseEnvelope.payload", env.req_str("payload")?)?;
    let payload_type = env
        .get_either("payloadType", "payload_type")
        .ok_or_else(|| FormatError::MissingField {
            what: DOC,
            field: "dsseEnvelope.payloadType".into(),
        })?
        .as_str()
        .ok_or_else(|| env.bad("payloadType", FieldRefusal::NotString))?
        .to_owned();
    let list = env.req_array("signatures")?;
    if list.is_empty() {
        return Err(env.bad("signatures", FieldRefusal::NoSignature));
    }
    let mut signatures = Vec::with_capacity(list.len().min(16));
    for (i, s) in list.iter().take(16).enumerate() {
        let s = Obj::new(DOC, &format!("dsseEnvelope.signatures[{i}]"), s)?;
        s.deny_unknown(&["sig", "keyid"])?;
        let sig = b64_decode(&s.field_path("sig"), s.req_str("sig")?)?;
        if sig.is_empty() {
            return Err(s.bad("sig", FieldRefusal::Empty));
        }
        let keyid = s.opt_str("keyid")?.map(str::to_owned);
        signatures.push(EnvelopeSignature { sig, keyid });
    }
    Ok(Envelope {
        payload,
        payload_type,
        signatures,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Bundle {
        Bundle {
            media_type: BUNDLE_MEDIA_TYPE_V03.into(),
            material: VerificationMaterial::PublicKey {
                hint: Some("ab".repeat(32)),
                legacy_raw_bytes: None,
            },
            tlog_entries: vec![],
            timestamp_verification_data: None,
            envelope: Envelope {
                payload: b"{}".to_vec(),
                payload_type: crate::dsse::IN_TOTO_PAYLOAD_TYPE.into(),
                signatures: vec![EnvelopeSignature {
                    sig: vec![1, 2, 3],
                    keyid: Some(String::new()),
                }],
            },
        }
    }

    #[test]
    fn a_streamed_payload_writes_the_same_bytes() {
        // Every length modulo 3 (padding), and one larger than the encoder's buffers;
        // written in pieces of odd sizes.
        for len in [0usize, 1, 2, 3, 4, 5, 1000, 100_003] {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let mut b = sample();
            b.envelope.payload = bytes.clone();
            let expected = b.to_json();
            b.envelope.payload.clear();
            let mut streamed = Vec::new();
            b.write_json_with_payload(&mut streamed, &|w| {
                bytes.chunks(333).try_for_each(|c| w.write_all(c))
            })
            .unwrap();
            assert_eq!(streamed, expected, "payload of {len} bytes");
        }
    }

    #[test]
    fn a_failing_payload_or_writer_is_an_error() {
        let b = sample();
        let err = b
            .write_json_with_payload(Vec::new(), &|w| {
                w.write_all(b"part")?;
                Err(std::io::Error::other("payload source broke"))
            })
            .unwrap_err();
        assert_eq!(err.to_string(), "payload source broke");
        /// A writer that takes `room` bytes, then fails.
        struct Full(usize);
        impl std::io::Write for Full {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                if self.0 == 0 {
                    return Err(std::io::Error::other("disk full"));
                }
                let n = buf.len().min(self.0);
                self.0 -= n;
                Ok(n)
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        // Fails inside the payload (after 120 bytes) and after it (after 4,200).
        for room in [120, 4200] {
            let err = b
                .write_json_with_payload(Full(room), &|w| w.write_all(&[b'x'; 3000]))
                .unwrap_err();
            assert!(err.to_string().contains("disk full"), "{room}: {err}");
        }
    }

    #[test]
    fn writes_the_reference_shape() {
        let text = String::from_utf8(sample().to_json()).unwrap();
        assert_eq!(
            text,
            format!(
                "{{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\",\"verificationMaterial\":{{\"publicKey\":{{\"hint\":\"{}\"}},\"tlogEntries\":[]}},\"dsseEnvelope\":{{\"payload\":\"e30=\",\"payloadType\":\"application/vnd.in-toto+json\",\"signatures\":[{{\"sig\":\"AQID\",\"keyid\":\"\"}}]}}}}",
                "ab".repeat(32)
            )
        );
        assert_eq!(
            Bundle::parse(text.as_bytes(), &Limits::default()).unwrap(),
            sample()
        );
    }

    /// The writer before it wrote directly: a `serde_json::Value` tree, printed compact.
    fn to_json_via_value(b: &Bundle) -> Vec<u8> {
        use crate::json::b64_encode;
        use serde_json::{Map, json};
        let mut vm = Map::new();
        match &b.material {
            VerificationMaterial::PublicKey {
                hint,
                legacy_raw_bytes,
            } => {
                let mut pk = Map::new();
                if let Some(h) = hint {
                    pk.insert("hint".into(), json!(h));
                }
                if let Some(raw) = legacy_raw_bytes {
                    pk.insert("rawBytes".into(), json!(b64_encode(raw)));
                }
                vm.insert("publicKey".into(), Value::Object(pk));
            }
            VerificationMaterial::X509CertificateChain(certs) => {
                let certs: Vec<Value> = certs
                    .iter()
                    .map(|c| json!({ "rawBytes": b64_encode(c) }))
                    .collect();
                vm.insert(
                    "x509CertificateChain".into(),
                    json!({ "certificates": certs }),
                );
            }
            VerificationMaterial::Certificate(c) => {
                vm.insert("certificate".into(), json!({ "rawBytes": b64_encode(c) }));
            }
        }
        vm.insert("tlogEntries".into(), Value::Array(b.tlog_entries.clone()));
        if let Some(t) = &b.timestamp_verification_data {
            vm.insert("timestampVerificationData".into(), t.clone());
        }
        let sigs: Vec<Value> = b
            .envelope
            .signatures
            .iter()
            .map(|s| json!({ "sig": b64_encode(&s.sig), "keyid": s.keyid.clone().unwrap_or_default() }))
            .collect();
        let top = json!({
            "mediaType": b.media_type,
            "verificationMaterial": Value::Object(vm),
            "dsseEnvelope": {
                "payload": b64_encode(&b.envelope.payload),
                "payloadType": b.envelope.payload_type,
                "signatures": sigs,
            },
        });
        serde_json::to_vec(&top).unwrap()
    }

    #[test]
    fn direct_writer_is_byte_identical_to_the_value_tree() {
        let bytes = |n: usize, seed: u8| -> Vec<u8> {
            (0..n)
                .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
                .collect()
        };
        let materials = [
            VerificationMaterial::PublicKey {
                hint: Some("ab".repeat(32)),
                legacy_raw_bytes: None,
            },
            VerificationMaterial::PublicKey {
                hint: None,
                legacy_raw_bytes: Some(bytes(91, 1)),
            },
            VerificationMaterial::PublicKey {
                hint: Some("h\"\\\u{1}é".into()),
                legacy_raw_bytes: Some(bytes(2, 2)),
            },
            VerificationMaterial::PublicKey {
                hint: None,
                legacy_raw_bytes: None,
            },
            VerificationMaterial::X509CertificateChain(vec![]),
            VerificationMaterial::X509CertificateChain(vec![
                bytes(700, 3),
                bytes(1, 4),
                bytes(0, 5),
            ]),
            VerificationMaterial::Certificate(bytes(500, 6)),
        ];
        let tlog = serde_json::json!({ "logIndex": "7", "kindVersion": { "kind": "dsse", "version": "0.0.1" }, "n": 1.5, "z": null });
        for (i, material) in materials.into_iter().enumerate() {
            for payload_len in [0, 1, 2, 3, 4, 100_001] {
                let mut b = sample();
                b.material = material.clone();
                b.envelope.payload = bytes(payload_len, 7);
                if i % 2 == 1 {
                    b.tlog_entries = vec![tlog.clone(), serde_json::json!([1, "x"])];
                    b.timestamp_verification_data =
                        Some(serde_json::json!({ "rfc3161Timestamps": [] }));
                    b.envelope.payload_type = "type/\"quoted\"".into();
                    b.envelope.signatures = vec![
                        EnvelopeSignature {
                            sig: bytes(71, 8),
                            keyid: None,
                        },
                        EnvelopeSignature {
                            sig: vec![],
                            keyid: Some("k\u{7f}".into()),
                        },
                    ];
                }
                let direct = b.to_json();
                assert_eq!(
                    String::from_utf8(direct).unwrap(),
                    String::from_utf8(to_json_via_value(&b)).unwrap(),
                    "material {i}, payload {payload_len} bytes"
                );
            }
        }
    }

    #[test]
    fn lenient_where_producers_differ() {
        let text = String::from_utf8(sample().to_json()).unwrap();
        for variant in [
            text.replace(",\"keyid\":\"\"", ""),
            text.replace("\"keyid\":\"\"", "\"keyid\":null"),
            text.replace(",\"tlogEntries\":[]", ""),
        ] {
            Bundle::parse(variant.as_bytes(), &Limits::default()).unwrap();
        }
    }

    #[test]
    fn strict_where_meaning_changes() {
        let text = String::from_utf8(sample().to_json()).unwrap();
        /// A broken document, a word its message must contain, and the expected variant.
        type Case = (String, &'static str, fn(&FormatError) -> bool);
        let cases: [Case; 5] = [
            (
                text.replace("bundle.v0.3+json", "bundle+json;version=0.3"),
                "mediaType",
                |e| matches!(e, FormatError::MediaType { found } if found.ends_with("version=0.3")),
            ),
            (
                text.replacen('{', "{\"extra\":1,", 1),
                "unknown field `extra`",
                |e| matches!(e, FormatError::UnknownField { field, .. } if field == "extra"),
            ),
            (
                text.replace("\"sig\":\"AQID\"", "\"sig\":\"A-_D\""),
                "base64",
                |e| matches!(e, FormatError::Base64 { field, .. } if field.ends_with(".sig")),
            ),
            (
                text.replace("[{\"sig\":\"AQID\",\"keyid\":\"\"}]", "[]"),
                "no signature",
                |e| {
                    matches!(
                        e,
                        FormatError::BadField {
                            reason: FieldRefusal::NoSignature,
                            ..
                        }
                    )
                },
            ),
            (text[..text.len() / 2].to_owned(), "not valid JSON", |e| {
                matches!(e, FormatError::Json { .. })
            }),
        ];
        for (bad, needle, is_expected) in cases {
            let err = Bundle::parse(bad.as_bytes(), &Limits::default()).unwrap_err();
            assert!(is_expected(&err), "unexpected error: {err:?}");
            // The message names the field for the user.
            assert!(
                err.to_string().contains(needle),
                "{err:?} should mention {needle:?}"
            );
        }
        let limits = Limits {
            max_bundle_bytes: 10,
            ..Limits::default()
        };
        assert!(matches!(
            Bundle::parse(text.as_bytes(), &limits),
            Err(FormatError::TooLarge { .. })
        ));
    }
}
