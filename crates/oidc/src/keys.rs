//! ES256 signing keys on disk, rotated with overlap.
//!
//! Layout: `DIR/<created-unix-seconds>-<kid>.p8` (PKCS#8 DER, mode 0600). The newest key
//! signs; a key stays published until `overlap` after its successor was created, which
//! must exceed the longest token lifetime.

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use zeroize::Zeroizing;

use crate::error::OidcError;

/// One signing key.
pub struct SigningKey {
    /// RFC 7638 JWK thumbprint, used as `kid`.
    pub kid: String,
    /// When it was created (seconds since the Unix epoch).
    pub created: u64,
    pkcs8: Zeroizing<Vec<u8>>,
    x: String,
    y: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("created", &self.created)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    fn from_pkcs8(pkcs8: Zeroizing<Vec<u8>>, created: u64, path: &Path) -> Result<Self, OidcError> {
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8).map_err(|_| {
                OidcError::BadKey {
                    path: path.to_owned(),
                }
            })?;
        // Uncompressed point: 0x04 || X (32) || Y (32).
        let point = pair.public_key().as_ref();
        if point.len() != 65 {
            return Err(OidcError::BadKey {
                path: path.to_owned(),
            });
        }
        let x = URL_SAFE_NO_PAD.encode(&point[1..33]);
        let y = URL_SAFE_NO_PAD.encode(&point[33..65]);
        // RFC 7638: members in lexicographic order, no whitespace.
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA256,
            canonical.as_bytes(),
        ));
        Ok(Self {
            kid,
            created,
            pkcs8,
            x,
            y,
        })
    }

    /// PKCS#8 DER of the private key (for the JWT encoder).
    #[must_use]
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The public JWK.
    #[must_use]
    pub fn jwk(&self) -> serde_json::Value {
        json!({ "kty": "EC", "crv": "P-256", "x": self.x, "y": self.y, "kid": self.kid, "use": "sig", "alg": "ES256" })
    }
}

/// The issuer's keys.
#[derive(Debug)]
pub struct KeyRing {
    dir: PathBuf,
    keys: Vec<SigningKey>,
    overlap: Duration,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl KeyRing {
    /// Loads the keys in `dir`, creating the directory (mode 0700) and a first key if empty.
    /// `overlap` is how long a replaced key stays published.
    pub fn load_or_create(dir: &Path, overlap: Duration) -> Result<Self, OidcError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| OidcError::Io { path, source }
        };
        fs::create_dir_all(dir).map_err(io(dir))?;
        let _ = fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o700));
        let mut keys = Vec::new();
        for entry in fs::read_dir(dir).map_err(io(dir))? {
            let path = entry.map_err(io(dir))?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            let Some(stem) = name.strip_suffix(".p8") else {
                continue;
            };
            let created: u64 = stem
                .split('-')
                .next()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| OidcError::BadKey { path: path.clone() })?;
            let der = Zeroizing::new(fs::read(&path).map_err(io(&path))?);
            keys.push(SigningKey::from_pkcs8(der, created, &path)?);
        }
        keys.sort_by_key(|k| k.created);
        let mut ring = Self {
            dir: dir.to_owned(),
            keys,
            overlap,
        };
        if ring.keys.is_empty() {
            ring.rotate()?;
        }
        Ok(ring)
    }

    /// Creates a new signing key; the previous ones remain published for `overlap`.
    pub fn rotate(&mut self) -> Result<&SigningKey, OidcError> {
        let rng = SystemRandom::new();
        let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(OidcError::Crypto)?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, doc.as_ref())
            .map_err(OidcError::KeyRejected)?;
        let der = Zeroizing::new(
            pair.to_pkcs8v1()
                .map_err(OidcError::Crypto)?
                .as_ref()
                .to_vec(),
        );
        let created = now().max(self.keys.last().map_or(0, |k| k.created + 1));
        let tmp_path = self.dir.join(format!(".{created}.tmp"));
        let key = SigningKey::from_pkcs8(der, created, &tmp_path)?;
        let path = self.dir.join(format!("{created}-{}.p8", key.kid));
        let io = |p: &Path| {
            let p = p.to_owned();
            move |source| OidcError::Io { path: p, source }
        };
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp_path)
            .map_err(io(&tmp_path))?;
        f.write_all(key.pkcs8_der())
            .and_then(|()| f.sync_all())
            .map_err(io(&tmp_path))?;
        fs::rename(&tmp_path, &path).map_err(io(&path))?;
        self.keys.push(key);
        self.keys.last().ok_or(OidcError::EmptyKeyRing)
    }

    /// Rotates when the signing key is older than `max_age`.
    pub fn rotate_if_older_than(&mut self, max_age: Duration) -> Result<(), OidcError> {
        if self
            .active()
            .is_none_or(|k| now().saturating_sub(k.created) >= max_age.as_secs())
        {
            self.rotate()?;
        }
        Ok(())
    }

    /// The key that signs new tokens.
    #[must_use]
    pub fn active(&self) -> Option<&SigningKey> {
        self.keys.last()
    }

    /// Keys still published: the active one, and older ones whose successor is younger
    /// than the overlap.
    #[must_use]
    pub fn published(&self) -> Vec<&SigningKey> {
        let t = now();
        self.keys
            .iter()
            .enumerate()
            .filter(|(i, _)| match self.keys.get(i + 1) {
                None => true,
                Some(next) => t.saturating_sub(next.created) < self.overlap.as_secs(),
            })
            .map(|(_, k)| k)
            .collect()
    }

    /// The JWKS document.
    #[must_use]
    pub fn jwks(&self) -> serde_json::Value {
        json!({ "keys": self.published().iter().map(|k| k.jwk()).collect::<Vec<_>>() })
    }
}
