//! Authentication: API tokens (random 256-bit secrets stored as SHA-256), argon2id
//! passwords, browser sessions with a per-session CSRF token. Hashing of any kind runs
//! on the blocking pool, never on async workers.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use axum::http::HeaderMap;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hallmark_store::{Account, MetaStore, TokenRecord, TokenScope};

use crate::authz::{Credential, Principal, Subject};
use crate::error::HubError;

/// API tokens start with this, so scanners and users can recognise them.
pub const TOKEN_PREFIX: &str = "hm_";
/// The session cookie.
pub const SESSION_COOKIE: &str = "hm_session";
/// Session lifetime.
pub const SESSION_SECONDS: i64 = 12 * 3600;

/// `n` random bytes, URL-safe base64 without padding.
///
/// # Errors
/// The system RNG failed.
pub fn random_b64(n: usize) -> Result<String, HubError> {
    let mut buf = vec![0u8; n];
    SystemRandom::new()
        .fill(&mut buf)
        .map_err(|_| HubError::Random)?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}

/// Runs CPU work on the blocking pool.
///
/// # Errors
/// The task panicked.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, HubError> {
    tokio::task::spawn_blocking(f).await.map_err(HubError::Task)
}

/// Hex SHA-256 of a secret (tokens, session ids), computed off the async workers.
///
/// # Errors
/// The blocking task failed.
pub async fn secret_hash(secret: String) -> Result<String, HubError> {
    blocking(move || hex::encode(hallmark_crypto::sha256(secret.as_bytes()))).await
}

/// The hub-wide setting holding the default lifetime of new tokens, in days.
pub const TOKEN_LIFETIME_SETTING: &str = "token_lifetime_days";

/// How long a new token lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenLifetime {
    /// The operator's default ([`TOKEN_LIFETIME_SETTING`]; none set: never expires).
    Default,
    /// This many days.
    Days(u32),
    /// Never expires.
    Never,
}

/// The operator's default token lifetime in days (`None`: tokens never expire).
///
/// # Errors
/// Storage failure, or a stored value that is not a number of days.
pub async fn default_token_days(meta: &dyn MetaStore) -> Result<Option<u32>, HubError> {
    match meta.setting(TOKEN_LIFETIME_SETTING).await? {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| {
            HubError::Store(hallmark_store::StoreError::Corrupt(format!(
                "setting {TOKEN_LIFETIME_SETTING} = {v:?} is not a number of days"
            )))
        }),
    }
}

/// Creates a token for `user_id` living the operator's default lifetime; returns the
/// secret (shown once) and its record.
///
/// # Errors
/// Storage failure.
pub async fn issue_token(
    meta: &dyn MetaStore,
    user_id: i64,
    label: &str,
    scope: TokenScope,
) -> Result<(String, TokenRecord), HubError> {
    issue_token_for(meta, user_id, label, scope, TokenLifetime::Default).await
}

/// [`issue_token`] with a chosen lifetime.
///
/// # Errors
/// Storage failure.
pub async fn issue_token_for(
    meta: &dyn MetaStore,
    user_id: i64,
    label: &str,
    scope: TokenScope,
    lifetime: TokenLifetime,
) -> Result<(String, TokenRecord), HubError> {
    let days = match lifetime {
        TokenLifetime::Default => default_token_days(meta).await?,
        TokenLifetime::Days(d) => Some(d),
        TokenLifetime::Never => None,
    };
    let expires_at = days.map(|d| crate::time::now().saturating_add(i64::from(d) * 86_400));
    let secret = format!("{TOKEN_PREFIX}{}", random_b64(32)?);
    let hash = secret_hash(secret.clone()).await?;
    let record = meta
        .create_token(user_id, label, scope, &hash, expires_at)
        .await?;
    Ok((secret, record))
}

/// Constant-time equality for secrets of public length.
pub use hallmark_crypto::ct_eq;

/// The bearer token of a request, if any.
#[must_use]
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get("authorization")?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// A cookie value by name.
#[must_use]
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The outcome of authenticating a request.
#[derive(Clone, Debug, Default)]
pub struct Authenticated {
    /// Who.
    pub subject: Subject,
    /// The session's CSRF token, for browser sessions.
    pub csrf: Option<String>,
    /// The session id hash (for logout).
    pub session_hash: Option<String>,
    /// A bearer token was presented and refused (answered 401 with this reason).
    pub rejected: Option<TokenRefusal>,
}

/// Why a presented bearer token is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefusal {
    /// Unknown, malformed or revoked.
    #[error("invalid or revoked token")]
    Invalid,
    /// Past its expiry (Unix seconds).
    #[error("token expired at {}: create a new one", crate::time::rfc3339(*.0))]
    Expired(i64),
    /// Its user was disabled by an operator.
    #[error("this token's account is disabled by the hub's operator")]
    Disabled,
}

fn refused(why: TokenRefusal) -> Authenticated {
    Authenticated {
        rejected: Some(why),
        ..Authenticated::default()
    }
}

async fn principal(
    meta: &dyn MetaStore,
    account: &Account,
    credential: Credential,
) -> Result<Principal, HubError> {
    let orgs = meta
        .memberships_of(account.id)
        .await?
        .into_iter()
        .map(|(org, role)| (org.id, role))
        .collect();
    Ok(Principal {
        id: account.id,
        name: account.name.clone(),
        admin: account.is_admin,
        credential,
        orgs,
    })
}

/// Resolves the request's credential: a bearer token first, then the session cookie.
///
/// # Errors
/// Storage failure.
pub async fn authenticate(
    meta: &dyn MetaStore,
    headers: &HeaderMap,
) -> Result<Authenticated, HubError> {
    if let Some(token) = bearer(headers) {
        if !token.starts_with(TOKEN_PREFIX) || token.len() > 200 {
            return Ok(refused(TokenRefusal::Invalid));
        }
        let hash = secret_hash(token.to_owned()).await?;
        return Ok(match meta.token_by_hash(&hash).await? {
            Some((_, account)) if account.is_disabled() => refused(TokenRefusal::Disabled),
            Some((record, _)) if record.expired_at(crate::time::now()) => {
                refused(TokenRefusal::Expired(record.expires_at.unwrap_or_default()))
            }
            Some((record, account)) => {
                let credential = match record.scope {
                    TokenScope::Read => Credential::ReadToken,
                    TokenScope::Write => Credential::WriteToken,
                };
                Authenticated {
                    subject: Subject {
                        principal: Some(principal(meta, &account, credential).await?),
                    },
                    ..Authenticated::default()
                }
            }
            None => refused(TokenRefusal::Invalid),
        });
    }
    if let Some(sid) = cookie(headers, SESSION_COOKIE) {
        if sid.len() > 100 {
            return Ok(Authenticated::default());
        }
        let hash = secret_hash(sid.to_owned()).await?;
        if let Some((session, account)) = meta.session(&hash, crate::time::now()).await? {
            return Ok(Authenticated {
                subject: Subject {
                    principal: Some(principal(meta, &account, Credential::Session).await?),
                },
                csrf: Some(session.csrf_token),
                session_hash: Some(hash),
                rejected: None,
            });
        }
    }
    Ok(Authenticated::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers() {
        let mut h = HeaderMap::new();
        h.insert("authorization", "Bearer hm_abc".parse().unwrap());
        h.insert("cookie", "a=1; hm_session=xyz; b=2".parse().unwrap());
        assert_eq!(bearer(&h), Some("hm_abc"));
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie(&h, "c"), None);
    }
}
