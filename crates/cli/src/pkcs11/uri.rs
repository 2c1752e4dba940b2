//! RFC 7512 PKCS#11 URIs as model_signing 1.1.1 reads them (`_signing/pkcs11uri.py`):
//! `pkcs11:` then path attributes split on `;` and query attributes split on `&`, each
//! `name=value` split at the first `=`, values percent-decoded to bytes, duplicates
//! refused. Used: `token`, `manufacturer`, `model`, `serial`, `slot-id` (which token),
//! `object`, `id` (which key), `pin-value` / `pin-source`, `module-path` / `module-name`.
//!
//! Parsing is bounded (a URI over [`MAX_URI_BYTES`] or with more than
//! [`MAX_ATTRIBUTES`] attributes is refused before anything is decoded) and total: any
//! string gives a [`Pkcs11Uri`] or a [`UriError`], never a panic. The PIN is never shown:
//! not in `Debug`, not in errors.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

/// Longest URI accepted.
pub(crate) const MAX_URI_BYTES: usize = 4096;
/// Most attributes (path and query together) accepted.
pub(crate) const MAX_ATTRIBUTES: usize = 32;
/// Largest `pin-source` file read.
const MAX_PIN_BYTES: u64 = 1024;

/// Why a PKCS#11 URI is refused. Messages name the attribute, never a PIN.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum UriError {
    /// The text does not start with `pkcs11:`.
    #[error("a PKCS#11 URI starts with 'pkcs11:'")]
    Scheme,
    /// Longer than [`MAX_URI_BYTES`].
    #[error("the PKCS#11 URI is {0} bytes; at most {MAX_URI_BYTES} are accepted")]
    TooLong(usize),
    /// More than [`MAX_ATTRIBUTES`] attributes.
    #[error("the PKCS#11 URI has more than {MAX_ATTRIBUTES} attributes")]
    TooManyAttributes,
    /// A part without `=`.
    #[error("malformed {part} attribute #{index} in the PKCS#11 URI (expected name=value)")]
    Malformed {
        /// `path` or `query`.
        part: &'static str,
        /// 1-based position.
        index: usize,
    },
    /// The same attribute twice.
    #[error("duplicate attribute '{0}' in the PKCS#11 URI")]
    Duplicate(String),
    /// A `%` not followed by two hex digits.
    #[error("attribute '{0}' of the PKCS#11 URI has an invalid percent-encoding")]
    Percent(String),
    /// An attribute value that is not what RFC 7512 allows.
    #[error("attribute '{name}' of the PKCS#11 URI: {reason}")]
    Invalid {
        /// The attribute.
        name: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// Both `pin-value` and `pin-source`.
    #[error("the PKCS#11 URI must not contain both pin-value and pin-source")]
    PinValueAndSource,
    /// Neither `object` nor `id`: no key is named.
    #[error("the PKCS#11 URI names no key: add object=LABEL and/or id=%XX..")]
    NoObject,
    /// The `pin-source` file cannot be read.
    #[error("cannot read the PIN from pin-source {path}: {reason}")]
    PinSource {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

/// A parsed PKCS#11 URI. `Debug` shows every attribute except the PIN.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct Pkcs11Uri {
    path: BTreeMap<String, Vec<u8>>,
    query: BTreeMap<String, Vec<u8>>,
}

impl fmt::Debug for Pkcs11Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |m: &BTreeMap<String, Vec<u8>>| -> Vec<String> {
            m.iter()
                .map(|(k, v)| match k.as_str() {
                    "pin-value" => format!("{k}=<redacted>"),
                    _ => format!("{k}={}", String::from_utf8_lossy(v)),
                })
                .collect()
        };
        f.debug_struct("Pkcs11Uri")
            .field("path", &show(&self.path))
            .field("query", &show(&self.query))
            .finish()
    }
}

fn percent_decode(name: &str, value: &str) -> Result<Vec<u8>, UriError> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| UriError::Percent(name.to_owned()))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

impl Pkcs11Uri {
    /// Parses and validates a URI (model_signing's rules, plus: every `%` must start a
    /// valid escape, `slot-id` must be a decimal number).
    pub(crate) fn parse(text: &str) -> Result<Self, UriError> {
        if text.len() > MAX_URI_BYTES {
            return Err(UriError::TooLong(text.len()));
        }
        let rest = text.strip_prefix("pkcs11:").ok_or(UriError::Scheme)?;
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        let count = path.matches(';').count() + query.map_or(0, |q| q.matches('&').count() + 1);
        if count >= MAX_ATTRIBUTES {
            return Err(UriError::TooManyAttributes);
        }
        let mut uri = Self::default();
        if !path.is_empty() {
            for (i, part) in path.split(';').enumerate() {
                add(&mut uri.path, "path", i, part)?;
            }
        }
        if let Some(q) = query {
            for (i, part) in q.split('&').enumerate() {
                add(&mut uri.query, "query", i, part)?;
            }
        }
        uri.validate()?;
        Ok(uri)
    }

    fn validate(&self) -> Result<(), UriError> {
        if let Some(v) = self.path.get("slot-id")
            && (v.is_empty() || !v.iter().all(u8::is_ascii_digit) || self.slot_id().is_none())
        {
            return Err(UriError::Invalid {
                name: "slot-id",
                reason: "must be a decimal number below 2^64",
            });
        }
        if let Some(v) = self.path.get("library-version") {
            let text = String::from_utf8_lossy(v);
            let mut parts = text.split('.');
            let ok = parts.clone().count() <= 2
                && parts.all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
            if !ok {
                return Err(UriError::Invalid {
                    name: "library-version",
                    reason: "must be M or M.N",
                });
            }
        }
        if let Some(v) = self.path.get("type")
            && !matches!(
                v.as_slice(),
                b"" | b"public" | b"private" | b"cert" | b"secret-key" | b"data"
            )
        {
            return Err(UriError::Invalid {
                name: "type",
                reason: "must be public, private, cert, secret-key or data",
            });
        }
        if self.query.contains_key("pin-value") && self.query.contains_key("pin-source") {
            return Err(UriError::PinValueAndSource);
        }
        if let Some(p) = self.module_path()
            && !p.is_absolute()
        {
            return Err(UriError::Invalid {
                name: "module-path",
                reason: "must be an absolute path",
            });
        }
        if self.object().is_none() && self.id().is_none() {
            return Err(UriError::NoObject);
        }
        Ok(())
    }

    fn text(map: &BTreeMap<String, Vec<u8>>, name: &str) -> Option<String> {
        map.get(name)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }

    /// `token`: the token label.
    pub(crate) fn token(&self) -> Option<String> {
        Self::text(&self.path, "token")
    }

    /// `manufacturer`, `model`, `serial`: further token filters.
    pub(crate) fn token_filters(&self) -> Vec<(&'static str, String)> {
        ["manufacturer", "model", "serial"]
            .into_iter()
            .filter_map(|k| Self::text(&self.path, k).map(|v| (k, v)))
            .collect()
    }

    /// `slot-id`.
    pub(crate) fn slot_id(&self) -> Option<u64> {
        Self::text(&self.path, "slot-id").and_then(|v| v.parse().ok())
    }

    /// `object`: the key's `CKA_LABEL`.
    pub(crate) fn object(&self) -> Option<&[u8]> {
        self.path.get("object").map(Vec::as_slice)
    }

    /// `id`: the key's `CKA_ID`.
    pub(crate) fn id(&self) -> Option<&[u8]> {
        self.path.get("id").map(Vec::as_slice)
    }

    /// `module-path`.
    pub(crate) fn module_path(&self) -> Option<PathBuf> {
        Self::text(&self.query, "module-path").map(PathBuf::from)
    }

    /// `module-name`.
    pub(crate) fn module_name(&self) -> Option<String> {
        Self::text(&self.query, "module-name")
    }

    /// The key the URI names, for messages: `label 'k' and id 0a0b`.
    pub(crate) fn object_description(&self) -> String {
        let label = self
            .object()
            .map(|l| format!("label '{}'", String::from_utf8_lossy(l)));
        let id = self.id().map(|i| format!("id {}", hex::encode(i)));
        [label, id]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" and ")
    }

    /// The PIN: `pin-value`, or the contents of the `pin-source` file (a `file:` URI or
    /// an absolute path), read verbatim like the reference does: a trailing newline is
    /// part of the PIN. `None` when the URI carries no PIN.
    pub(crate) fn pin(&self) -> Result<Option<Pin>, UriError> {
        if let Some(v) = self.query.get("pin-value") {
            return Ok(Some(Pin::new(v.clone(), None)));
        }
        let Some(source) = Self::text(&self.query, "pin-source") else {
            return Ok(None);
        };
        let path = pin_source_path(&source)?;
        let refuse = |reason: String| UriError::PinSource {
            path: path.display().to_string(),
            reason,
        };
        let file = std::fs::File::open(&path).map_err(|e| refuse(e.to_string()))?;
        let mut bytes = Zeroizing::new(Vec::new());
        std::io::Read::read_to_end(
            &mut std::io::Read::take(file, MAX_PIN_BYTES + 1),
            &mut bytes,
        )
        .map_err(|e| refuse(e.to_string()))?;
        if bytes.len() as u64 > MAX_PIN_BYTES {
            return Err(refuse(format!("larger than {MAX_PIN_BYTES} bytes")));
        }
        Ok(Some(Pin::new(bytes.to_vec(), Some(path))))
    }
}

/// The file a `pin-source` names: `file:/abs`, `file:///abs` or `/abs`.
fn pin_source_path(source: &str) -> Result<PathBuf, UriError> {
    let path = if let Some(rest) = source.strip_prefix("file:") {
        rest.strip_prefix("//").map_or(rest, |r| {
            // file://HOST/path: only an empty host or localhost.
            r.strip_prefix("localhost").unwrap_or(r)
        })
    } else if source.contains(':') && !source.starts_with('/') {
        return Err(UriError::Invalid {
            name: "pin-source",
            reason: "only file: URIs and absolute paths are supported",
        });
    } else {
        source
    };
    if !Path::new(path).is_absolute() {
        return Err(UriError::Invalid {
            name: "pin-source",
            reason: "must be an absolute path",
        });
    }
    Ok(PathBuf::from(path))
}

/// A PIN: zeroed when dropped, never printed.
pub(crate) struct Pin {
    bytes: Zeroizing<Vec<u8>>,
    /// The file it came from (pin-source), for hints.
    pub(crate) source: Option<PathBuf>,
}

impl Pin {
    fn new(bytes: Vec<u8>, source: Option<PathBuf>) -> Self {
        Self {
            bytes: Zeroizing::new(bytes),
            source,
        }
    }

    /// The PIN bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(<redacted>)")
    }
}

fn add(
    map: &mut BTreeMap<String, Vec<u8>>,
    part: &'static str,
    index: usize,
    text: &str,
) -> Result<(), UriError> {
    let (name, value) = text.split_once('=').ok_or(UriError::Malformed {
        part,
        index: index + 1,
    })?;
    if map.contains_key(name) {
        return Err(UriError::Duplicate(name.to_owned()));
    }
    let value = percent_decode(name, value)?;
    map.insert(name.to_owned(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOFTHSM: &str = "pkcs11:token=hallmark;object=mykey?pin-value=1234&module-path=/usr/lib/softhsm/libsofthsm2.so";

    #[test]
    fn reference_style_uris_parse() {
        let u = Pkcs11Uri::parse(SOFTHSM).unwrap();
        assert_eq!(u.token().as_deref(), Some("hallmark"));
        assert_eq!(u.object(), Some(&b"mykey"[..]));
        assert_eq!(
            u.module_path().unwrap(),
            Path::new("/usr/lib/softhsm/libsofthsm2.so")
        );
        assert_eq!(u.pin().unwrap().unwrap().bytes(), b"1234");
        let u = Pkcs11Uri::parse(
            "pkcs11:token=my%20token;id=%0A%0b;slot-id=7;library-version=2.40;type=private\
             ?module-name=softhsm2",
        )
        .unwrap();
        assert_eq!(u.token().as_deref(), Some("my token"));
        assert_eq!(u.id(), Some(&[0x0a, 0x0b][..]));
        assert_eq!(u.slot_id(), Some(7));
        assert_eq!(u.module_name().as_deref(), Some("softhsm2"));
        assert!(u.pin().unwrap().is_none());
        assert_eq!(u.object_description(), "id 0a0b");
    }

    #[test]
    fn refusals_are_named() {
        let cases: &[(&str, UriError)] = &[
            ("token=x;object=k", UriError::Scheme),
            (
                "pkcs11:token=x;objectk",
                UriError::Malformed {
                    part: "path",
                    index: 2,
                },
            ),
            (
                "pkcs11:object=k?pin-value",
                UriError::Malformed {
                    part: "query",
                    index: 1,
                },
            ),
            (
                "pkcs11:object=a;object=b",
                UriError::Duplicate("object".into()),
            ),
            ("pkcs11:object=%4", UriError::Percent("object".into())),
            ("pkcs11:object=%zz", UriError::Percent("object".into())),
            (
                "pkcs11:object=k;slot-id=x1",
                UriError::Invalid {
                    name: "slot-id",
                    reason: "must be a decimal number below 2^64",
                },
            ),
            (
                "pkcs11:object=k;slot-id=99999999999999999999",
                UriError::Invalid {
                    name: "slot-id",
                    reason: "must be a decimal number below 2^64",
                },
            ),
            (
                "pkcs11:object=k;library-version=1.2.3",
                UriError::Invalid {
                    name: "library-version",
                    reason: "must be M or M.N",
                },
            ),
            (
                "pkcs11:object=k;type=key",
                UriError::Invalid {
                    name: "type",
                    reason: "must be public, private, cert, secret-key or data",
                },
            ),
            (
                "pkcs11:object=k?pin-value=1&pin-source=/p",
                UriError::PinValueAndSource,
            ),
            (
                "pkcs11:object=k?module-path=lib.so",
                UriError::Invalid {
                    name: "module-path",
                    reason: "must be an absolute path",
                },
            ),
            ("pkcs11:token=t", UriError::NoObject),
            ("pkcs11:", UriError::NoObject),
        ];
        for (text, want) in cases {
            assert_eq!(Pkcs11Uri::parse(text).as_ref(), Err(want), "{text}");
        }
        let long = format!("pkcs11:object={}", "a".repeat(MAX_URI_BYTES));
        assert_eq!(Pkcs11Uri::parse(&long), Err(UriError::TooLong(long.len())));
        let many = format!("pkcs11:object=k{}", ";a=b".repeat(MAX_ATTRIBUTES));
        assert_eq!(Pkcs11Uri::parse(&many), Err(UriError::TooManyAttributes));
    }

    #[test]
    fn the_pin_is_never_shown() {
        let secret = "s3cr3t-PIN";
        let text = format!("pkcs11:token=t;object=k?pin-value={secret}&module-path=/m.so");
        let u = Pkcs11Uri::parse(&text).unwrap();
        let debug = format!("{u:?} {:?}", u.pin().unwrap());
        assert!(!debug.contains(secret), "{debug}");
        assert!(
            debug.contains("object=k") && debug.contains("<redacted>"),
            "{debug}"
        );
        // Errors of URIs that carry a PIN do not quote it either.
        for bad in [
            format!("pkcs11:token=t?pin-value={secret}"),
            format!("pkcs11:object=k?pin-value={secret}&pin-source=/x"),
            format!("pkcs11:object=k?pin-value={secret}%z"),
            format!("pkcs11:object=k;object=j?pin-value={secret}"),
        ] {
            let e = Pkcs11Uri::parse(&bad).unwrap_err();
            assert!(!format!("{e} {e:?}").contains(secret), "{e}");
        }
    }

    #[test]
    fn pin_source_is_read_verbatim() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pin");
        std::fs::write(&file, "1234\n").unwrap();
        for form in [
            file.display().to_string(),
            format!("file:{}", file.display()),
            format!("file://{}", file.display()),
        ] {
            let u = Pkcs11Uri::parse(&format!("pkcs11:object=k?pin-source={form}")).unwrap();
            let pin = u.pin().unwrap().unwrap();
            assert_eq!(pin.bytes(), b"1234\n", "{form}");
            assert_eq!(pin.source.as_deref(), Some(file.as_path()));
        }
        let u = Pkcs11Uri::parse("pkcs11:object=k?pin-source=relative/pin").unwrap();
        assert!(matches!(
            u.pin(),
            Err(UriError::Invalid {
                name: "pin-source",
                ..
            })
        ));
        let u = Pkcs11Uri::parse("pkcs11:object=k?pin-source=https://x/pin").unwrap();
        assert!(matches!(
            u.pin(),
            Err(UriError::Invalid {
                name: "pin-source",
                ..
            })
        ));
        let u = Pkcs11Uri::parse("pkcs11:object=k?pin-source=/nonexistent/pin").unwrap();
        assert!(matches!(u.pin(), Err(UriError::PinSource { .. })));
        std::fs::write(&file, vec![b'1'; 2000]).unwrap();
        let u =
            Pkcs11Uri::parse(&format!("pkcs11:object=k?pin-source={}", file.display())).unwrap();
        assert!(matches!(u.pin(), Err(UriError::PinSource { .. })));
    }

    /// Fuzz-style: arbitrary strings built from URI-ish pieces never panic, and every
    /// accepted URI names a key. Deterministic and bounded (4000 inputs).
    #[test]
    fn arbitrary_input_never_panics() {
        const PIECES: &[&str] = &[
            "pkcs11:",
            "token",
            "object",
            "id",
            "slot-id",
            "type",
            "pin-value",
            "pin-source",
            "module-path",
            "library-version",
            "=",
            ";",
            "&",
            "?",
            "%",
            "%4",
            "%41",
            "%zz",
            "/",
            "1",
            "private",
            "é",
            "\0",
            "file:",
            "2.40",
            "x",
        ];
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..4000 {
            let mut s = String::new();
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let n = (state % 24) as usize;
            let mut r = state;
            if r & 1 == 0 {
                s.push_str("pkcs11:");
            }
            for _ in 0..n {
                r = r.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                s.push_str(PIECES[(r >> 33) as usize % PIECES.len()]);
            }
            if let Ok(u) = Pkcs11Uri::parse(&s) {
                assert!(u.object().is_some() || u.id().is_some(), "{s}");
            }
        }
    }
}
