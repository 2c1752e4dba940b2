//! Serializable views of a [`Bundle`] in the reference 1.1.x key order, so
//! [`Bundle::to_json`] can write it through serde_json without building a `Value`
//! tree, and base64-encode the (multi-megabyte, for big manifests) payload straight
//! into the output instead of into a temporary string first.

use std::cell::Cell;
use std::{fmt, io};

use base64::display::Base64Display;
use base64::engine::general_purpose::STANDARD;
use base64::write::EncoderWriter;
use serde::ser::{SerializeMap as _, SerializeSeq as _};
use serde::{Serialize, Serializer};

use super::types::{Bundle, VerificationMaterial};
use crate::dsse::{Envelope, EnvelopeSignature};

/// `{mediaType, verificationMaterial, dsseEnvelope}`, the envelope's payload from the
/// second field.
pub(super) struct BundleOut<'a>(pub(super) &'a Bundle, pub(super) Payload<'a>);

impl Serialize for BundleOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let b = self.0;
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("mediaType", &b.media_type)?;
        m.serialize_entry("verificationMaterial", &MaterialOut(b))?;
        m.serialize_entry("dsseEnvelope", &EnvelopeOut(&b.envelope, &self.1))?;
        m.end()
    }
}

/// Where the envelope's payload comes from.
pub(super) enum Payload<'a> {
    /// Bytes in memory.
    Bytes(&'a [u8]),
    /// Written by a function, as it is encoded; its error, if any, is put in `failed`.
    Streamed {
        payload: &'a dyn Fn(&mut dyn io::Write) -> io::Result<()>,
        failed: &'a Cell<Option<io::Error>>,
    },
}

impl Serialize for Payload<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Payload::Bytes(b) => B64(b).serialize(s),
            Payload::Streamed { payload, failed } => s.collect_str(&StreamedB64 {
                payload: *payload,
                failed,
            }),
        }
    }
}

/// Standard, padded base64 of what `payload` writes, as a JSON string's contents.
struct StreamedB64<'a> {
    payload: &'a dyn Fn(&mut dyn io::Write) -> io::Result<()>,
    failed: &'a Cell<Option<io::Error>>,
}

impl fmt::Display for StreamedB64<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        /// The formatter as an `io::Write` of base64 text (always ASCII).
        struct ToFmt<'a, 'b> {
            f: &'a mut fmt::Formatter<'b>,
            broken: bool,
        }
        impl io::Write for ToFmt<'_, '_> {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                let text = std::str::from_utf8(buf).map_err(io::Error::other)?;
                // Once serde_json's writer failed, it must not be written to again (the
                // buffers in front of this one retry when they are dropped).
                if self.broken || self.f.write_str(text).is_err() {
                    self.broken = true;
                    return Err(io::Error::other("the bundle writer failed"));
                }
                Ok(buf.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut out = ToFmt { f, broken: false };
        let mut enc = EncoderWriter::new(&mut out, &STANDARD);
        let written = (self.payload)(&mut enc).and_then(|()| enc.finish().map(|_| ()));
        drop(enc);
        match written {
            Ok(()) => Ok(()),
            // serde_json's string writer holds the error of its own writer: report
            // that one through it.
            Err(_) if out.broken => Err(fmt::Error),
            // Any other error is not its writer's: report it beside (serde_json
            // would panic on a `fmt::Error` it did not cause), stop here.
            Err(e) => {
                self.failed.set(Some(e));
                Ok(())
            }
        }
    }
}

/// `{<material>, tlogEntries[, timestampVerificationData]}`.
struct MaterialOut<'a>(&'a Bundle);

impl Serialize for MaterialOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let b = self.0;
        let mut m = s.serialize_map(None)?;
        match &b.material {
            VerificationMaterial::PublicKey {
                hint,
                legacy_raw_bytes,
            } => m.serialize_entry(
                "publicKey",
                &PublicKeyOut {
                    hint: hint.as_deref(),
                    raw: legacy_raw_bytes.as_deref(),
                },
            )?,
            VerificationMaterial::X509CertificateChain(certs) => {
                m.serialize_entry("x509CertificateChain", &ChainOut(certs))?;
            }
            VerificationMaterial::Certificate(c) => {
                m.serialize_entry("certificate", &RawBytes(c))?;
            }
        }
        m.serialize_entry("tlogEntries", &b.tlog_entries)?;
        if let Some(t) = &b.timestamp_verification_data {
            m.serialize_entry("timestampVerificationData", t)?;
        }
        m.end()
    }
}

/// `{hint?, rawBytes?}`.
struct PublicKeyOut<'a> {
    hint: Option<&'a str>,
    raw: Option<&'a [u8]>,
}

impl Serialize for PublicKeyOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        if let Some(h) = self.hint {
            m.serialize_entry("hint", h)?;
        }
        if let Some(raw) = self.raw {
            m.serialize_entry("rawBytes", &B64(raw))?;
        }
        m.end()
    }
}

/// `{certificates: [{rawBytes}, …]}`.
struct ChainOut<'a>(&'a [Vec<u8>]);

impl Serialize for ChainOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Certs<'a>(&'a [Vec<u8>]);
        impl Serialize for Certs<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut seq = s.serialize_seq(Some(self.0.len()))?;
                for c in self.0 {
                    seq.serialize_element(&RawBytes(c))?;
                }
                seq.end()
            }
        }
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry("certificates", &Certs(self.0))?;
        m.end()
    }
}

/// `{rawBytes}`.
struct RawBytes<'a>(&'a [u8]);

impl Serialize for RawBytes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry("rawBytes", &B64(self.0))?;
        m.end()
    }
}

/// `{payload, payloadType, signatures: [{sig, keyid}, …]}`.
struct EnvelopeOut<'a>(&'a Envelope, &'a Payload<'a>);

impl Serialize for EnvelopeOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Sigs<'a>(&'a [EnvelopeSignature]);
        impl Serialize for Sigs<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut seq = s.serialize_seq(Some(self.0.len()))?;
                for sig in self.0 {
                    seq.serialize_element(&SignatureOut(sig))?;
                }
                seq.end()
            }
        }
        let e = self.0;
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("payload", self.1)?;
        m.serialize_entry("payloadType", &e.payload_type)?;
        m.serialize_entry("signatures", &Sigs(&e.signatures))?;
        m.end()
    }
}

/// `{sig, keyid}`; an absent `keyid` is written as `""`, as the reference writes it.
struct SignatureOut<'a>(&'a EnvelopeSignature);

impl Serialize for SignatureOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("sig", &B64(&self.0.sig))?;
        m.serialize_entry("keyid", self.0.keyid.as_deref().unwrap_or_default())?;
        m.end()
    }
}

/// Standard, padded base64 as a JSON string, encoded in small pieces as it is written.
struct B64<'a>(&'a [u8]);

impl Serialize for B64<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&Base64Display::new(self.0, &STANDARD))
    }
}
