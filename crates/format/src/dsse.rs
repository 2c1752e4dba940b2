//! DSSE envelope and pre-authentication encoding (DSSE v1.0).

/// The only payload type OMS uses.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// A DSSE envelope with its payload already base64-decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    /// The exact payload bytes that were signed.
    pub payload: Vec<u8>,
    /// `payloadType`.
    pub payload_type: String,
    /// Signatures; OMS verifiers use only the first.
    pub signatures: Vec<EnvelopeSignature>,
}

/// One DSSE signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvelopeSignature {
    /// Raw signature bytes (DER-encoded ECDSA for OMS key and certificate methods).
    pub sig: Vec<u8>,
    /// `keyid`, if present and a string (never used for verification).
    pub keyid: Option<String>,
}

/// DSSE v1 PAE: `"DSSEv1" SP len(type) SP type SP len(payload) SP payload`.
#[must_use]
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + payload_type.len() + 32);
    write_pae_prefix(&mut out, payload_type, payload.len());
    out.extend_from_slice(payload);
    out
}

/// The PAE up to the payload: what precedes a payload of `payload_len` bytes, for a
/// payload that is hashed as it is written rather than held in memory.
#[must_use]
pub fn pae_prefix(payload_type: &str, payload_len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload_type.len() + 32);
    write_pae_prefix(&mut out, payload_type, payload_len);
    out
}

fn write_pae_prefix(out: &mut Vec<u8>, payload_type: &str, payload_len: usize) {
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_len.to_string().as_bytes());
    out.push(b' ');
}

/// The non-standard PAE that `model_signing` 0.2.0 signed: upper-case `DSSEV1` and the
/// payload written as Python's `repr(bytes)`. Only used to verify v0.2.0 bundles.
#[must_use]
pub fn compat_pae_v020(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEV1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(python_bytes_repr(payload).as_bytes());
    out
}

/// Python's `repr()` of a `bytes` object.
fn python_bytes_repr(b: &[u8]) -> String {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut s = String::with_capacity(b.len() + 3);
    s.push('b');
    s.push(quote);
    for &c in b {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'\t' => s.push_str("\\t"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            c if char::from(c) == quote => {
                s.push('\\');
                s.push(quote);
            }
            0x20..=0x7e => s.push(char::from(c)),
            c => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push(quote);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_dsse_spec_example() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
        assert_eq!(
            pae_prefix("http://example.com/HelloWorld", 11),
            b"DSSEv1 29 http://example.com/HelloWorld 11 ".to_vec()
        );
    }

    #[test]
    fn python_repr_escapes_like_cpython() {
        assert_eq!(python_bytes_repr(b"a'b\n\x00\\"), "b\"a'b\\n\\x00\\\\\"");
        assert_eq!(python_bytes_repr(b"a'b\""), "b'a\\'b\"'");
        assert_eq!(python_bytes_repr(b"{\n  \"x\": 1}"), "b'{\\n  \"x\": 1}'");
    }
}
