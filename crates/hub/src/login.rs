//! A password login check shared by the UI's login form and the OAuth authorization page:
//! rate-limited per client address and account name ([`LoginThrottle`]), the password
//! checked behind the hashing gate (a dummy check for unknown and passwordless accounts),
//! failures logged with the name and address, never the password.
//!
//! [`LoginThrottle`]: crate::throttle::LoginThrottle

use std::net::IpAddr;
use std::time::Duration;

use axum::http::{HeaderMap, header};
use hallmark_store::{Account, AccountKind};

use crate::error::HubError;
use crate::password::check_login;
use crate::state::AppState;

/// Whether a form post's `Origin` (if any) is the hub's own public URL: cross-site login
/// and consent posts are refused. Non-browser clients send no `Origin`.
#[must_use]
pub fn origin_ok(state: &AppState, headers: &HeaderMap) -> bool {
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None => true, // non-browser clients; SameSite cookies cover browsers
        Some(o) => {
            state.config.public_url.starts_with(o) && {
                let rest = &state.config.public_url[o.len()..];
                rest.is_empty() || rest.starts_with('/')
            }
        }
    }
}

/// Why a login was refused.
#[derive(Debug)]
pub enum LoginRefusal {
    /// Too many failures from this address or for this account: retry after.
    Throttled(Duration),
    /// The password gate is saturated: retry after a few seconds.
    Busy(Duration),
    /// Wrong name or password (which one is not said).
    Wrong,
    /// The check itself failed.
    Internal(String),
}

/// Checks `username` / `password` from client `ip`; the account on success.
///
/// # Errors
/// [`LoginRefusal`].
pub async fn password_login(
    state: &AppState,
    ip: Option<IpAddr>,
    username: &str,
    password: String,
) -> Result<Account, LoginRefusal> {
    let name: String = username.chars().take(64).collect();
    let client = ip.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    if let Err(t) = state.throttle.begin(ip, &name) {
        tracing::warn!(user = ?name, client, retry_after_s = t.retry_after.as_secs(), by_account = t.account, "login refused: too many failed attempts");
        return Err(LoginRefusal::Throttled(t.retry_after));
    }
    let (user, stored) = match state.meta.account(username).await {
        Ok(Some(u)) if u.kind == AccountKind::User => {
            let stored = state.meta.password_hash(u.id).await.ok().flatten();
            (Some(u), stored)
        }
        _ => (None, None),
    };
    let ok = match check_login(password, stored).await {
        Ok(ok) => ok,
        Err(e @ HubError::Busy { .. }) => {
            state.throttle.refund(ip, &name);
            tracing::warn!(user = ?name, client, "login refused: {e}");
            return Err(LoginRefusal::Busy(Duration::from_secs(5)));
        }
        Err(e) => return Err(LoginRefusal::Internal(e.to_string())),
    };
    let Some(user) = user.filter(|_| ok) else {
        tracing::warn!(user = ?name, client, "failed login");
        return Err(LoginRefusal::Wrong);
    };
    state.throttle.succeeded(ip, &name);
    tracing::info!(user = ?name, client, "login");
    Ok(user)
}
