//! Trust roots: ClientTrustConfig, bare `trusted_root.json`, and the built-in public-good snapshot.

use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};
use sigstore_verify::Verifier;
use sigstore_verify::trust_root::TrustedRoot as InnerRoot;

use crate::{SigstoreError, TrustRootRefusal};

/// Media type of a Sigstore ClientTrustConfig (what `model_signing --trust_config` takes).
pub const CLIENT_TRUST_CONFIG_MEDIA_TYPE: &str =
    "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json";
/// Media type of a Sigstore trusted root accepted here (the one sigstore-python 4.5 accepts).
pub const TRUSTED_ROOT_MEDIA_TYPE: &str =
    "application/vnd.dev.sigstore.trustedroot+json;version=0.1";

/// Date the built-in public-good trust root snapshot was taken (UTC, `YYYY-MM-DD`).
///
/// The snapshot is the `trusted_root.json` bundled with sigstore-python 4.5.1; its newest key
/// (the Rekor v2 shard `log2025-1.rekor.sigstore.dev`) became valid on 2025-09-23. Bundles
/// signed after a later key rotation need a newer trust root (`--trust-config`).
pub const PUBLIC_GOOD_SNAPSHOT_DATE: &str = "2026-11-25";

/// Where the built-in public-good snapshot comes from.
pub const PUBLIC_GOOD_SNAPSHOT_SOURCE: &str =
    "trusted_root.json bundled with sigstore-python 4.5.1 (newest key valid from 2025-09-23)";

/// The Sigstore public-good ClientTrustConfig compiled in: the `trusted_root.json` and
/// `signing_config.v0.2.json` bundled with sigstore-python 4.5.1 for
/// `tuf-repo-cdn.sigstore.dev` (the signing config names Fulcio, `oauth2.sigstore.dev`,
/// Rekor v1 and the timestamp authority).
pub const PUBLIC_GOOD_TRUST_CONFIG_JSON: &str = include_str!("public_good_trust_config.json");

/// The Sigstore staging ClientTrustConfig compiled in (`model_signing --use_staging`): the
/// files bundled with sigstore-python 4.5.1 for `tuf-repo-cdn.sigstage.dev` (Rekor v2 shards
/// `log2025-alpha1..3` next to Rekor v1, a timestamp authority). For tests, not production.
pub const STAGING_TRUST_CONFIG_JSON: &str = include_str!("staging_trust_config.json");

/// Largest trust root document accepted, in bytes.
const MAX_TRUST_ROOT_BYTES: usize = 16 * 1024 * 1024;

/// A Sigstore trusted root: the Fulcio CAs, CT logs, Rekor logs and timestamp authorities
/// whose signatures are believed. Validated when loaded.
pub struct TrustedRoot {
    state: State,
    description: String,
}

enum State {
    Ready(Box<Verifier>),
    /// Only reachable if the compiled-in snapshot failed to load (a build defect, caught by tests).
    Broken(Arc<SigstoreError>),
}

impl fmt::Debug for TrustedRoot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrustedRoot")
            .field("description", &self.description)
            .field("usable", &matches!(self.state, State::Ready(_)))
            .finish()
    }
}

impl TrustedRoot {
    /// Load the `trustedRoot` of a Sigstore ClientTrustConfig
    /// (`application/vnd.dev.sigstore.clienttrustconfig.v0.1+json`), the file
    /// `model_signing verify sigstore --trust_config` takes. Keys may be camelCase (proto3 JSON)
    /// or snake_case. The `signingConfig` part is not needed for verification and is ignored.
    pub fn from_client_trust_config_json(bytes: &[u8]) -> Result<Self, SigstoreError> {
        let doc = camel_case_keys(parse_json(bytes, "trust config")?);
        let Value::Object(mut map) = doc else {
            return Err(SigstoreError::TrustRoot(TrustRootRefusal::ConfigNotObject));
        };
        check_media_type(&map, CLIENT_TRUST_CONFIG_MEDIA_TYPE, "trust config")?;
        let root = map
            .remove("trustedRoot")
            .ok_or(SigstoreError::TrustRoot(TrustRootRefusal::NoTrustedRoot))?;
        Self::from_value(root, "trust config")
    }

    /// Load a bare Sigstore trusted root (`trusted_root.json`,
    /// `application/vnd.dev.sigstore.trustedroot+json;version=0.1`).
    pub fn from_trusted_root_json(bytes: &[u8]) -> Result<Self, SigstoreError> {
        let doc = parse_json(bytes, "trusted root")?;
        Self::from_value(doc, "trusted root")
    }

    /// The Sigstore public-good trusted root, as a snapshot compiled into the binary
    /// (taken on [`PUBLIC_GOOD_SNAPSHOT_DATE`]; see [`PUBLIC_GOOD_SNAPSHOT_SOURCE`]).
    pub fn public_good() -> Self {
        Self::built_in(PUBLIC_GOOD_TRUST_CONFIG_JSON, "public-good")
    }

    /// The Sigstore staging trusted root compiled into the binary (same snapshot).
    pub fn staging() -> Self {
        Self::built_in(STAGING_TRUST_CONFIG_JSON, "staging")
    }

    fn built_in(json: &str, name: &str) -> Self {
        match Self::from_client_trust_config_json(json.as_bytes()) {
            Ok(mut root) => {
                root.description = format!(
                    "built-in Sigstore {name} trust root (snapshot {PUBLIC_GOOD_SNAPSHOT_DATE})"
                );
                root
            }
            Err(e) => Self {
                state: State::Broken(Arc::new(e)),
                description: format!("built-in Sigstore {name} trust root (unusable)"),
            },
        }
    }

    /// A short description of where this trust root came from.
    pub fn description(&self) -> &str {
        &self.description
    }

    pub(crate) fn verifier(&self) -> Result<&Verifier, SigstoreError> {
        match &self.state {
            State::Ready(v) => Ok(v),
            State::Broken(e) => Err(SigstoreError::TrustRoot(TrustRootRefusal::BuiltIn(
                Arc::clone(e),
            ))),
        }
    }

    fn from_value(doc: Value, what: &'static str) -> Result<Self, SigstoreError> {
        let doc = camel_case_keys(doc);
        let Value::Object(map) = &doc else {
            return Err(SigstoreError::TrustRoot(TrustRootRefusal::RootNotObject {
                what,
            }));
        };
        check_media_type(map, TRUSTED_ROOT_MEDIA_TYPE, "trusted root")?;
        let inner: InnerRoot = serde_json::from_value(doc).map_err(|source| {
            SigstoreError::TrustRoot(TrustRootRefusal::Invalid { what, source })
        })?;
        let description = format!(
            "{what} with {} certificate authorit{}, {} CT log(s), {} transparency log(s), {} timestamp authorit{}",
            inner.certificate_authorities.len(),
            plural_y(inner.certificate_authorities.len()),
            inner.ctlogs.len(),
            inner.tlogs.len(),
            inner.timestamp_authorities.len(),
            plural_y(inner.timestamp_authorities.len()),
        );
        if inner.certificate_authorities.is_empty() {
            return Err(SigstoreError::TrustRoot(
                TrustRootRefusal::NoCertificateAuthorities { what },
            ));
        }
        if inner.tlogs.is_empty() {
            return Err(SigstoreError::TrustRoot(
                TrustRootRefusal::NoTransparencyLogs { what },
            ));
        }
        let verifier = Verifier::new(&inner).map_err(|e| {
            SigstoreError::TrustRoot(TrustRootRefusal::Unusable {
                what,
                source: Box::new(e),
            })
        })?;
        Ok(Self {
            state: State::Ready(Box::new(verifier)),
            description,
        })
    }
}

fn plural_y(n: usize) -> &'static str {
    if n == 1 { "y" } else { "ies" }
}

fn parse_json(bytes: &[u8], what: &'static str) -> Result<Value, SigstoreError> {
    if bytes.len() > MAX_TRUST_ROOT_BYTES {
        return Err(SigstoreError::TrustRoot(TrustRootRefusal::TooLarge {
            what,
            size: bytes.len(),
            limit: MAX_TRUST_ROOT_BYTES,
        }));
    }
    serde_json::from_slice(bytes)
        .map_err(|source| SigstoreError::TrustRoot(TrustRootRefusal::Json { what, source }))
}

fn check_media_type(
    map: &Map<String, Value>,
    expected: &'static str,
    what: &'static str,
) -> Result<(), SigstoreError> {
    let found = map
        .get("mediaType")
        .or_else(|| map.get("media_type"))
        .and_then(Value::as_str);
    match found {
        Some(m) if m == expected => Ok(()),
        Some(m) => Err(SigstoreError::TrustRoot(TrustRootRefusal::MediaType {
            what,
            found: m.to_owned(),
            expected,
        })),
        None => Err(SigstoreError::TrustRoot(TrustRootRefusal::NoMediaType {
            what,
            expected,
        })),
    }
}

/// Rewrite snake_case object keys as lowerCamelCase (proto3 JSON accepts both spellings).
fn camel_case_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (to_camel(&k), camel_case_keys(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(camel_case_keys).collect()),
        other => other,
    }
}

fn to_camel(key: &str) -> String {
    if !key.contains('_') {
        return key.to_owned();
    }
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_good_snapshot_loads() {
        let root = TrustedRoot::public_good();
        assert!(root.verifier().is_ok(), "{root:?}");
        let root = TrustedRoot::staging();
        assert!(root.verifier().is_ok(), "{root:?}");
        assert!(root.description().contains("staging"), "{root:?}");
    }

    #[test]
    fn snake_case_keys_become_camel_case() {
        assert_eq!(to_camel("trusted_root"), "trustedRoot");
        assert_eq!(to_camel("valid_for"), "validFor");
        assert_eq!(to_camel("mediaType"), "mediaType");
    }

    #[test]
    fn rejects_wrong_media_type() {
        let err = TrustedRoot::from_trusted_root_json(br#"{"mediaType":"x"}"#)
            .expect_err("wrong media type");
        assert!(err.to_string().contains("expected"), "{err}");
    }
}
