//! Validating ID tokens: ES256 signature from a published key, issuer, audience, time.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::error::OidcError;
use crate::issuer::Claims;

/// Validates tokens of one issuer for one audience against its JWKS.
#[derive(Clone)]
pub struct TokenValidator {
    issuer: String,
    audience: String,
    keys: JwkSet,
}

impl std::fmt::Debug for TokenValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenValidator")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct RawClaims {
    iss: String,
    sub: String,
    aud: serde_json::Value,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    email_verified: Option<serde_json::Value>,
    #[serde(default)]
    iat: Option<u64>,
    #[serde(default)]
    nbf: Option<u64>,
    exp: u64,
}

impl TokenValidator {
    /// A validator for tokens of `issuer` with audience `audience`, trusting the keys of
    /// a JWKS document.
    pub fn from_jwks_json(
        issuer: &str,
        audience: &str,
        jwks: &serde_json::Value,
    ) -> Result<Self, OidcError> {
        let keys: JwkSet = serde_json::from_value(jwks.clone())
            .map_err(|e| OidcError::Malformed(format!("JWKS: {e}")))?;
        Ok(Self {
            issuer: issuer.trim_end_matches('/').to_owned(),
            audience: audience.to_owned(),
            keys,
        })
    }

    /// Checks a token and returns its claims. Only ES256 is accepted.
    pub fn validate(&self, token: &str) -> Result<Claims, OidcError> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| OidcError::Malformed(e.to_string()))?;
        if header.alg != Algorithm::ES256 {
            return Err(OidcError::Malformed(format!(
                "algorithm {:?} is not accepted (ES256 only)",
                header.alg
            )));
        }
        let jwk = match &header.kid {
            Some(kid) => self.keys.find(kid),
            None if self.keys.keys.len() == 1 => self.keys.keys.first(),
            None => None,
        }
        .ok_or_else(|| OidcError::UnknownKey {
            kid: header.kid.clone(),
        })?;
        let key = DecodingKey::from_jwk(jwk)
            .map_err(|e| OidcError::Malformed(format!("published key: {e}")))?;
        let mut v = Validation::new(Algorithm::ES256);
        v.leeway = 5;
        v.validate_nbf = true;
        v.validate_aud = false; // checked below, to say what the audience was
        v.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
        let data =
            jsonwebtoken::decode::<RawClaims>(token, &key, &v).map_err(|e| match e.kind() {
                ErrorKind::InvalidSignature | ErrorKind::InvalidEcdsaKey => OidcError::BadSignature,
                ErrorKind::ExpiredSignature => OidcError::Expired,
                ErrorKind::ImmatureSignature => OidcError::NotYetValid,
                ErrorKind::MissingRequiredClaim(c) => {
                    OidcError::Malformed(format!("missing claim {c}"))
                }
                _ => OidcError::Malformed(e.to_string()),
            })?;
        let c = data.claims;
        if c.iss.trim_end_matches('/') != self.issuer {
            return Err(OidcError::WrongIssuer {
                found: c.iss,
                expected: self.issuer.clone(),
            });
        }
        let aud_ok = match &c.aud {
            serde_json::Value::String(a) => *a == self.audience,
            serde_json::Value::Array(list) => {
                list.iter().any(|a| a.as_str() == Some(&self.audience))
            }
            _ => false,
        };
        if !aud_ok {
            return Err(OidcError::WrongAudience {
                found: c.aud.to_string(),
                expected: self.audience.clone(),
            });
        }
        if c.sub.is_empty() {
            return Err(OidcError::MissingClaim("sub"));
        }
        let email_verified = matches!(c.email_verified, Some(serde_json::Value::Bool(true)))
            || matches!(&c.email_verified, Some(serde_json::Value::String(s)) if s == "true");
        Ok(Claims {
            iss: c.iss,
            sub: c.sub,
            aud: self.audience.clone(),
            email: c.email,
            email_verified,
            iat: c.iat.unwrap_or(0),
            nbf: c.nbf.unwrap_or(0),
            exp: c.exp,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::issuer::Issuer;
    use crate::keys::KeyRing;

    fn issuer(dir: &std::path::Path) -> Issuer {
        Issuer::new(
            "https://hub.example",
            KeyRing::load_or_create(&dir.join("keys"), Duration::from_secs(3600)).unwrap(),
        )
    }

    #[test]
    fn minted_tokens_validate() {
        let d = tempfile::tempdir().unwrap();
        let iss = issuer(d.path());
        let tok = iss
            .mint(
                "alice",
                Some("alice@example.com"),
                "sigstore",
                Duration::from_secs(60),
            )
            .unwrap();
        let v =
            TokenValidator::from_jwks_json("https://hub.example", "sigstore", &iss.jwks()).unwrap();
        let c = v.validate(&tok).unwrap();
        assert_eq!(c.sub, "alice");
        assert_eq!(c.email.as_deref(), Some("alice@example.com"));
        assert!(c.email_verified);
    }

    #[test]
    fn refusals_say_which_check_failed() {
        let d = tempfile::tempdir().unwrap();
        let iss = issuer(d.path());
        let v =
            TokenValidator::from_jwks_json("https://hub.example", "sigstore", &iss.jwks()).unwrap();
        let wrong_aud = iss
            .mint("alice", None, "other", Duration::from_secs(60))
            .unwrap();
        assert!(matches!(
            v.validate(&wrong_aud),
            Err(OidcError::WrongAudience { .. })
        ));
        let other = issuer(&d.path().join("other"));
        let foreign = other
            .mint("alice", None, "sigstore", Duration::from_secs(60))
            .unwrap();
        assert!(matches!(
            v.validate(&foreign),
            Err(OidcError::UnknownKey { .. })
        ));
        let v2 =
            TokenValidator::from_jwks_json("https://elsewhere.example", "sigstore", &iss.jwks())
                .unwrap();
        let tok = iss
            .mint("alice", None, "sigstore", Duration::from_secs(60))
            .unwrap();
        assert!(matches!(
            v2.validate(&tok),
            Err(OidcError::WrongIssuer { .. })
        ));
        let mut parts: Vec<String> = tok.split('.').map(str::to_owned).collect();
        parts[2] = parts[2].chars().rev().collect();
        assert!(matches!(
            v.validate(&parts.join(".")),
            Err(OidcError::BadSignature | OidcError::Malformed(_))
        ));
        assert!(matches!(
            v.validate("not.a.jwt"),
            Err(OidcError::Malformed(_))
        ));
    }

    #[test]
    fn expired_tokens_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let iss = issuer(d.path());
        let v =
            TokenValidator::from_jwks_json("https://hub.example", "sigstore", &iss.jwks()).unwrap();
        // Hand-build claims in the past with the issuer's own key.
        let key = jsonwebtoken::EncodingKey::from_ec_der(iss_key_der(&iss));
        let mut h = jsonwebtoken::Header::new(Algorithm::ES256);
        h.kid = Some(iss_kid(&iss));
        let claims = serde_json::json!({"iss": "https://hub.example", "sub": "a", "aud": "sigstore", "iat": 1, "nbf": 1, "exp": 2});
        let tok = jsonwebtoken::encode(&h, &claims, &key).unwrap();
        assert!(matches!(v.validate(&tok), Err(OidcError::Expired)));
    }

    #[test]
    fn rotation_keeps_old_keys_published_for_the_overlap() {
        let d = tempfile::tempdir().unwrap();
        let mut iss = issuer(d.path());
        let old = iss
            .mint("alice", None, "sigstore", Duration::from_secs(60))
            .unwrap();
        iss.keys_mut().rotate().unwrap();
        let v =
            TokenValidator::from_jwks_json("https://hub.example", "sigstore", &iss.jwks()).unwrap();
        v.validate(&old).unwrap();
        assert_eq!(iss.jwks()["keys"].as_array().unwrap().len(), 2);
        let reloaded =
            KeyRing::load_or_create(&d.path().join("keys"), Duration::from_secs(0)).unwrap();
        assert_eq!(
            reloaded.jwks()["keys"].as_array().unwrap().len(),
            1,
            "no overlap: only the newest key"
        );
        let mode = std::fs::metadata(
            std::fs::read_dir(d.path().join("keys"))
                .unwrap()
                .next()
                .unwrap()
                .unwrap()
                .path(),
        )
        .unwrap();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777,
            0o600
        );
    }

    fn iss_key_der(iss: &Issuer) -> &[u8] {
        iss_keys(iss).active().unwrap().pkcs8_der()
    }
    fn iss_kid(iss: &Issuer) -> String {
        iss_keys(iss).active().unwrap().kid.clone()
    }
    fn iss_keys(iss: &Issuer) -> &KeyRing {
        iss.keys()
    }
}
