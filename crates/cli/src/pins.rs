//! Trust-on-first-use pins of `hallmark pull`: per repository (hub URL + owner/name), the
//! signing method, the trust config's SHA-256 (keyless) or the public key's fingerprint
//! (key-signed hubs), and the signer identity and issuer that the first verified pull saw.
//!
//! Stored as JSON in `$XDG_CONFIG_HOME/hallmark/pins.json` (else `~/.config/hallmark/…`),
//! replaced atomically (temporary file + rename, mode 0600) on every change.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde_json::{Map, Value, json};

use crate::util::{read_input, write_private_atomically};

/// What one repository is pinned to (every field optional: a key-signed pin has no
/// trust config, a keyless one no public key).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Pin {
    /// `sigstore` or `key`.
    pub(crate) method: String,
    /// `sha256:<hex>` of the trust config document (keyless).
    pub(crate) trust_config: Option<String>,
    /// `sha256:` fingerprint of the signing key (key-signed hubs).
    pub(crate) public_key: Option<String>,
    /// Certificate identity (SAN) of the signer (keyless).
    pub(crate) identity: Option<String>,
    /// OIDC issuer of the signer (keyless).
    pub(crate) issuer: Option<String>,
}

impl Pin {
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("method".into(), json!(self.method));
        for (k, v) in [
            ("trust_config_sha256", &self.trust_config),
            ("public_key", &self.public_key),
            ("identity", &self.identity),
            ("issuer", &self.issuer),
        ] {
            if let Some(v) = v {
                m.insert(k.into(), json!(v));
            }
        }
        Value::Object(m)
    }

    fn from_json(v: &Value) -> Self {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        Self {
            method: s("method").unwrap_or_default(),
            trust_config: s("trust_config_sha256"),
            public_key: s("public_key"),
            identity: s("identity"),
            issuer: s("issuer"),
        }
    }
}

/// The pins file, loaded.
pub(crate) struct Pins {
    path: PathBuf,
    repos: Map<String, Value>,
}

/// `$XDG_CONFIG_HOME/hallmark/pins.json`, else `$HOME/.config/hallmark/pins.json`.
fn default_path() -> anyhow::Result<PathBuf> {
    Ok(crate::util::config_dir("pins file")?.join("pins.json"))
}

/// The key a repository is pinned under: `{hub URL}/{owner}/{name}`.
pub(crate) fn repo_key(hub: &str, owner: &str, name: &str) -> String {
    format!("{}/{owner}/{name}", hub.trim_end_matches('/'))
}

impl Pins {
    /// Loads the user's pins file (an absent file holds no pins).
    pub(crate) fn load() -> anyhow::Result<Self> {
        Self::load_from(default_path()?)
    }

    fn load_from(path: PathBuf) -> anyhow::Result<Self> {
        if !path.exists() {
            return Ok(Self {
                path,
                repos: Map::new(),
            });
        }
        let bytes = read_input("pins file", &path)?;
        let doc: Value = serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not valid JSON", path.display()))?;
        let Some(repos) = doc.get("repos").and_then(Value::as_object) else {
            bail!("{} has no \"repos\" object", path.display());
        };
        Ok(Self {
            repos: repos.clone(),
            path,
        })
    }

    /// Where the pins live (named in refusals).
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The pin of `key`, if any.
    pub(crate) fn get(&self, key: &str) -> Option<Pin> {
        self.repos.get(key).map(Pin::from_json)
    }

    /// Records `pin` for `key` and rewrites the file atomically.
    pub(crate) fn set(&mut self, key: &str, pin: &Pin) -> anyhow::Result<()> {
        self.repos.insert(key.to_owned(), pin.to_json());
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let doc = json!({ "version": 1, "repos": self.repos });
        let mut text = serde_json::to_vec_pretty(&doc)?;
        text.push(b'\n');
        write_private_atomically(&self.path, &text)
    }
}

#[cfg(test)]
mod tests {
    use super::{Pin, Pins, repo_key};

    #[test]
    fn a_pin_survives_a_round_trip_and_others_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cfg/hallmark/pins.json");
        let mut pins = Pins::load_from(path.clone()).unwrap();
        assert_eq!(pins.get("x"), None);
        let a = Pin {
            method: "sigstore".into(),
            trust_config: Some("sha256:00".into()),
            public_key: None,
            identity: Some("https://hub/alice".into()),
            issuer: Some("https://hub".into()),
        };
        let key = repo_key("http://hub/", "acme", "demo");
        assert_eq!(key, "http://hub/acme/demo");
        pins.set(&key, &a).unwrap();
        let b = Pin {
            method: "key".into(),
            public_key: Some("sha256:11".into()),
            ..Pin::default()
        };
        pins.set("other", &b).unwrap();
        let again = Pins::load_from(path.clone()).unwrap();
        assert_eq!(again.get(&key), Some(a));
        assert_eq!(again.get("other"), Some(b));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "pins file is private: {mode:o}");
        }
    }

    #[test]
    fn a_damaged_pins_file_is_an_error_not_an_empty_set() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pins.json");
        std::fs::write(&path, "{not json").unwrap();
        let e = Pins::load_from(path).err().unwrap();
        assert!(e.to_string().contains("pins.json"), "{e}");
    }
}
