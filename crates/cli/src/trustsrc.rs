//! Which Sigstore instance a keyless command talks to, as model_signing chooses it:
//! `--use_staging` (Sigstore's staging instance) beats `--trust_config FILE` (any
//! ClientTrustConfig), and without either the Sigstore public-good instance is used.
//!
//! The public-good and staging ClientTrustConfigs (trusted root + signing config) are
//! compiled in. A newer one is picked up from `$XDG_CONFIG_HOME/hallmark/trust/production.json`
//! (or `staging.json`; else under `~/.config`) when that file exists: the refresh path for
//! key rotations between releases, used by signing and verification alike.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use hallmark_sigstore::TrustedRoot;

use crate::util::{config_dir, read_input};

/// The instance a command uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TrustSource {
    /// A ClientTrustConfig file.
    File(PathBuf),
    /// Sigstore public good.
    Production,
    /// Sigstore staging.
    Staging,
}

/// A ClientTrustConfig, as bytes, and where it came from (for messages).
#[derive(Debug)]
pub(crate) struct TrustConfigDoc {
    pub(crate) bytes: Vec<u8>,
    pub(crate) origin: String,
    /// Whether the bytes are the copy compiled into this binary.
    pub(crate) built_in: bool,
}

impl TrustSource {
    /// model_signing's precedence: `--use_staging`, then `--trust_config`, then public good.
    pub(crate) fn from_flags(trust_config: Option<&Path>, use_staging: bool) -> Self {
        match (use_staging, trust_config) {
            (true, _) => Self::Staging,
            (false, Some(p)) => Self::File(p.to_path_buf()),
            (false, None) => Self::Production,
        }
    }

    /// The file that replaces the compiled-in config, if this source has one.
    fn refresh_path(&self) -> Option<PathBuf> {
        let name = match self {
            Self::File(_) => return None,
            Self::Production => "production.json",
            Self::Staging => "staging.json",
        };
        config_dir("refreshed trust config")
            .ok()
            .map(|d| d.join("trust").join(name))
    }

    /// The ClientTrustConfig this source names.
    pub(crate) fn load(&self) -> anyhow::Result<TrustConfigDoc> {
        if let Self::File(p) = self {
            return Ok(TrustConfigDoc {
                bytes: read_input("trust config", p)?,
                origin: format!("trust config {}", p.display()),
                built_in: false,
            });
        }
        if let Some(p) = self.refresh_path().filter(|p| p.exists()) {
            return Ok(TrustConfigDoc {
                bytes: read_input("refreshed trust config", &p)?,
                origin: format!("refreshed trust config {}", p.display()),
                built_in: false,
            });
        }
        let (json, origin) = match self {
            Self::Staging => (
                hallmark_sigstore::STAGING_TRUST_CONFIG_JSON,
                "built-in Sigstore staging trust config",
            ),
            _ => (
                hallmark_sigstore::PUBLIC_GOOD_TRUST_CONFIG_JSON,
                "built-in Sigstore public-good trust config",
            ),
        };
        Ok(TrustConfigDoc {
            bytes: json.as_bytes().to_vec(),
            origin: origin.to_owned(),
            built_in: true,
        })
    }

    /// The trusted root for verification.
    pub(crate) fn trusted_root(&self) -> anyhow::Result<TrustedRoot> {
        let doc = self.load()?;
        if doc.built_in {
            return Ok(match self {
                Self::Staging => TrustedRoot::staging(),
                _ => TrustedRoot::public_good(),
            });
        }
        TrustedRoot::from_client_trust_config_json(&doc.bytes).with_context(|| doc.origin.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staging_beats_a_trust_config_like_model_signing() {
        let f = Path::new("tc.json");
        assert_eq!(TrustSource::from_flags(Some(f), true), TrustSource::Staging);
        assert_eq!(
            TrustSource::from_flags(Some(f), false),
            TrustSource::File(f.to_path_buf())
        );
        assert_eq!(
            TrustSource::from_flags(None, false),
            TrustSource::Production
        );
    }

    #[test]
    fn built_in_configs_name_a_signing_config() {
        for s in [TrustSource::Production, TrustSource::Staging] {
            let v: serde_json::Value = serde_json::from_str(match s {
                TrustSource::Staging => hallmark_sigstore::STAGING_TRUST_CONFIG_JSON,
                _ => hallmark_sigstore::PUBLIC_GOOD_TRUST_CONFIG_JSON,
            })
            .unwrap_or_default();
            assert!(
                v.pointer("/signingConfig/oidcUrls/0/url").is_some(),
                "{s:?}"
            );
        }
    }
}
