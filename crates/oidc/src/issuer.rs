//! The issuer: discovery document, JWKS and ID tokens.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::OidcError;
use crate::keys::KeyRing;

/// ID-token claims.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer URL.
    pub iss: String,
    /// Subject (stable user id).
    pub sub: String,
    /// Audience.
    pub aud: String,
    /// E-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Whether the e-mail address was verified by the issuer.
    #[serde(default)]
    pub email_verified: bool,
    /// Issued at (seconds since the epoch).
    pub iat: u64,
    /// Not before.
    pub nbf: u64,
    /// Expiry.
    pub exp: u64,
}

/// An OpenID Connect issuer at `url` signing with a [`KeyRing`].
#[derive(Debug)]
pub struct Issuer {
    url: String,
    keys: KeyRing,
}

impl Issuer {
    /// An issuer whose `iss` is `url` (no trailing slash).
    #[must_use]
    pub fn new(url: &str, keys: KeyRing) -> Self {
        Self {
            url: url.trim_end_matches('/').to_owned(),
            keys,
        }
    }

    /// The issuer URL.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The key ring.
    #[must_use]
    pub fn keys(&self) -> &KeyRing {
        &self.keys
    }

    /// The key ring (for rotation).
    pub fn keys_mut(&mut self) -> &mut KeyRing {
        &mut self.keys
    }

    /// `/.well-known/openid-configuration`. The authorization-code endpoints
    /// (`/oauth/authorize`, `/oauth/token`, PKCE S256) are served by the hub, which
    /// authenticates its users; a bare instance mints tokens only for its operator.
    #[must_use]
    pub fn discovery_document(&self) -> serde_json::Value {
        json!({
            "issuer": self.url,
            "jwks_uri": format!("{}/jwks", self.url),
            "authorization_endpoint": format!("{}/oauth/authorize", self.url),
            "token_endpoint": format!("{}/oauth/token", self.url),
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "none"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"],
            "scopes_supported": ["openid", "email"],
            "claims_supported": ["iss", "sub", "aud", "email", "email_verified", "iat", "nbf", "exp"],
        })
    }

    /// The JWKS (`/jwks`).
    #[must_use]
    pub fn jwks(&self) -> serde_json::Value {
        self.keys.jwks()
    }

    /// Mints an ID token for an authenticated principal.
    pub fn mint(
        &self,
        subject: &str,
        email: Option<&str>,
        audience: &str,
        lifetime: Duration,
    ) -> Result<String, OidcError> {
        if subject.is_empty() {
            return Err(OidcError::MissingClaim("sub"));
        }
        let key = self.keys.active().ok_or(OidcError::EmptyKeyRing)?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let claims = Claims {
            iss: self.url.clone(),
            sub: subject.to_owned(),
            aud: audience.to_owned(),
            email: email.map(str::to_owned),
            email_verified: email.is_some(),
            iat: now,
            nbf: now,
            exp: now + lifetime.as_secs(),
        };
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(key.kid.clone());
        let enc = EncodingKey::from_ec_der(key.pkcs8_der());
        jsonwebtoken::encode(&header, &claims, &enc).map_err(OidcError::Sign)
    }
}
