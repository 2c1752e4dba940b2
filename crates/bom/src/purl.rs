//! Package URLs (purl-spec) for models and datasets, so that GUAC and other graph tools
//! can join a BOM, a provenance statement and a signature on the same identifiers.
//!
//! Hub artifacts use the registered `huggingface` type
//! (`pkg:huggingface/<org>/<name>@<revision>`); local artifacts without a published
//! identifier get `pkg:generic/<name>@<root digest>?checksum=sha256:<root digest>`.

use crate::error::BomError;

/// Percent-encodes a purl path segment or version (RFC 3986 unreserved characters kept).
#[must_use]
pub fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `pkg:generic/<name>@<version>?checksum=sha256:<root>`; the version defaults to the
/// root digest, which makes the identifier immutable.
#[must_use]
pub fn generic(name: &str, version: Option<&str>, root_sha256: &str) -> String {
    format!(
        "pkg:generic/{}@{}?checksum=sha256:{root_sha256}",
        encode_segment(name),
        encode_segment(version.unwrap_or(root_sha256))
    )
}

/// `pkg:huggingface/<org>/<name>@<revision>` for a hub repository `org/name`.
///
/// # Errors
/// [`BomError::Purl`] when `repo` is not `org/name`.
pub fn huggingface(repo: &str, revision: &str) -> Result<String, BomError> {
    let Some((org, name)) = repo.split_once('/') else {
        return Err(BomError::Purl {
            purl: repo.to_owned(),
            reason: "a hub repository is written org/name",
        });
    };
    if org.is_empty() || name.is_empty() || name.contains('/') {
        return Err(BomError::Purl {
            purl: repo.to_owned(),
            reason: "a hub repository is written org/name",
        });
    }
    Ok(format!(
        "pkg:huggingface/{}/{}@{}",
        encode_segment(org),
        encode_segment(name),
        encode_segment(revision)
    ))
}

/// Checks the shape of a user-supplied purl: `pkg:<type>/<name>…`, no whitespace.
///
/// # Errors
/// [`BomError::Purl`] naming the problem.
pub fn validate(purl: &str) -> Result<(), BomError> {
    let bad = |reason| {
        Err(BomError::Purl {
            purl: purl.to_owned(),
            reason,
        })
    };
    let Some(rest) = purl.strip_prefix("pkg:") else {
        return bad("must start with pkg:");
    };
    if purl.chars().any(char::is_whitespace) {
        return bad("must not contain whitespace");
    }
    let Some((ty, path)) = rest.trim_start_matches('/').split_once('/') else {
        return bad("must be pkg:<type>/<name>");
    };
    if ty.is_empty()
        || !ty
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'-'))
    {
        return bad("the type must be letters, digits, '.', '+' or '-'");
    }
    let name_part = path.split(['@', '?', '#']).next().unwrap_or_default();
    if name_part.trim_matches('/').is_empty() {
        return bad("the name is empty");
    }
    Ok(())
}

/// The purl without qualifiers and subpath (`pkg:t/ns/name@v`), for comparisons.
#[must_use]
pub fn without_qualifiers(purl: &str) -> &str {
    purl.split(['?', '#']).next().unwrap_or(purl)
}

/// The value of qualifier `key` (percent-decoded), when the purl has it.
#[must_use]
pub fn qualifier(purl: &str, key: &str) -> Option<String> {
    let query = purl.split('#').next()?.split_once('?')?.1;
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| percent_decode(v))
    })
}

/// `%XX` escapes decoded (invalid escapes and non-UTF-8 results are kept as written).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (b[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_owned())
}

/// `pkg:huggingface/<org>/<name>@<revision>?repository_url=<hub>` for a repository of a
/// hub other than huggingface.co.
///
/// # Errors
/// [`BomError::Purl`] when `repo` is not `org/name`.
pub fn huggingface_at(repo: &str, revision: &str, hub: &str) -> Result<String, BomError> {
    Ok(format!(
        "{}?repository_url={}",
        huggingface(repo, revision)?,
        encode_qualifier(hub)
    ))
}

/// Percent-encodes a qualifier value (`:` and `/` kept, as purl-spec allows).
fn encode_qualifier(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~' | b':' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generic_purls_pin_the_digest() {
        let p = generic("my model", None, "ab12");
        assert_eq!(p, "pkg:generic/my%20model@ab12?checksum=sha256:ab12");
        validate(&p).unwrap();
        assert_eq!(without_qualifiers(&p), "pkg:generic/my%20model@ab12");
    }

    #[test]
    fn huggingface_purls() {
        assert_eq!(
            huggingface("acme/sentiment", "9f2c").unwrap(),
            "pkg:huggingface/acme/sentiment@9f2c"
        );
        assert!(huggingface("sentiment", "9f2c").is_err());
        let at = huggingface_at("acme/s", "9f2c", "https://hub.example:8443/x y").unwrap();
        assert_eq!(
            at,
            "pkg:huggingface/acme/s@9f2c?repository_url=https://hub.example:8443/x%20y"
        );
        validate(&at).unwrap();
        assert_eq!(
            qualifier(&at, "repository_url").as_deref(),
            Some("https://hub.example:8443/x y")
        );
        assert_eq!(qualifier(&at, "checksum"), None);
        assert_eq!(qualifier("pkg:generic/a@1", "x"), None);
    }

    #[test]
    fn malformed_purls_are_refused() {
        for p in [
            "generic/x",
            "pkg:",
            "pkg:generic",
            "pkg:gen eric/x",
            "pkg:t/@1",
        ] {
            assert!(validate(p).is_err(), "{p}");
        }
    }
}
