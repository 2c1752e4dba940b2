//! Lenient PEM reading (text before, between and after blocks is ignored)
//! and OpenSSL-identical PEM writing.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use crate::error::CryptoError;

/// One decoded PEM block.
pub(crate) struct PemBlock {
    /// The label after `-----BEGIN `, e.g. `PRIVATE KEY`.
    pub(crate) label: String,
    /// RFC 1421 style headers (`Proc-Type: 4,ENCRYPTED`), if any.
    pub(crate) headers: Vec<String>,
    /// Decoded DER bytes, wiped on drop (blocks may hold private keys).
    pub(crate) der: Zeroizing<Vec<u8>>,
}

const BEGIN: &[u8] = b"-----BEGIN ";
const DASHES: &[u8] = b"-----";

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Returns every PEM block found in `input`, in order. Text outside the
/// blocks (such as GnuTLS `certtool` key dumps) is skipped.
pub(crate) fn parse_blocks(input: &[u8], source: &str) -> Result<Vec<PemBlock>, CryptoError> {
    let mut blocks = Vec::new();
    let mut rest = input;
    while let Some(start) = find(rest, BEGIN) {
        let after_begin = rest.get(start + BEGIN.len()..).unwrap_or_default();
        let Some(label_end) = find(after_begin, DASHES) else {
            break;
        };
        let label_bytes = after_begin.get(..label_end).unwrap_or_default();
        let label = String::from_utf8_lossy(label_bytes).trim().to_owned();
        let body_and_more = after_begin
            .get(label_end + DASHES.len()..)
            .unwrap_or_default();
        let end_marker = format!("-----END {label}-----");
        let Some(end) = find(body_and_more, end_marker.as_bytes()) else {
            return Err(CryptoError::PemMissingEnd {
                source_name: source.to_owned(),
                label,
            });
        };
        let body = body_and_more.get(..end).unwrap_or_default();
        let (headers, b64) = split_headers(body);
        let der = STANDARD.decode(&b64).map_err(|e| CryptoError::PemBase64 {
            source_name: source.to_owned(),
            label: label.clone(),
            source: e,
        })?;
        blocks.push(PemBlock {
            label,
            headers,
            der: Zeroizing::new(der),
        });
        rest = body_and_more
            .get(end + end_marker.len()..)
            .unwrap_or_default();
    }
    Ok(blocks)
}

/// Splits a PEM body into header lines (those containing ':') and the
/// base64 text with all whitespace removed.
fn split_headers(body: &[u8]) -> (Vec<String>, Zeroizing<Vec<u8>>) {
    let mut headers = Vec::new();
    let mut b64 = Zeroizing::new(Vec::with_capacity(body.len()));
    for line in body.split(|&b| b == b'\n') {
        if line.contains(&b':') {
            headers.push(String::from_utf8_lossy(line).trim().to_owned());
            continue;
        }
        b64.extend(line.iter().copied().filter(|b| !b.is_ascii_whitespace()));
    }
    (headers, b64)
}

/// Encodes `der` as PEM exactly like OpenSSL's `PEM_write_bio`: 64-column
/// base64 lines, LF line ends, trailing LF.
pub(crate) fn encode(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = String::with_capacity(b64.len() + b64.len() / 64 + 2 * label.len() + 40);
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    let mut line = String::with_capacity(65);
    for ch in b64.chars() {
        line.push(ch);
        if line.len() == 64 {
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
    }
    if !line.is_empty() {
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_with_leading_text() {
        let der: Vec<u8> = (0u8..=200).collect();
        let pem = encode("PUBLIC KEY", &der);
        let text = format!("Public Key Info:\n\tstuff: a\n\n{pem}trailing\n");
        let blocks = parse_blocks(text.as_bytes(), "test").unwrap();
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].label, "PUBLIC KEY");
        assert!(blocks[0].headers.is_empty());
        assert_eq!(&blocks[0].der[..], &der[..]);
        for line in pem.lines() {
            assert!(line.len() <= 64);
        }
    }

    #[test]
    fn missing_end_is_error() {
        let err = parse_blocks(b"-----BEGIN X-----\nAAAA\n", "f.pem")
            .err()
            .unwrap();
        assert!(
            matches!(&err, CryptoError::PemMissingEnd { source_name, label }
                if source_name == "f.pem" && label == "X"),
            "{err}"
        );
    }

    #[test]
    fn headers_are_collected() {
        let text = "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END EC PRIVATE KEY-----\n";
        let blocks = parse_blocks(text.as_bytes(), "t").unwrap();
        assert_eq!(blocks[0].headers.len(), 2);
        assert_eq!(&blocks[0].der[..], &[0, 0, 0]);
    }
}
