//! The hub's OAuth 2.0 authorization server (RFC 6749 authorization code + RFC 7636 PKCE,
//! S256 only), so a hub user can sign on their own machine with their hub identity:
//! `hallmark sign MODEL --trust-config hub-tc.json` or stock `model_signing sign sigstore`
//! run the browser (or out-of-band) flow against the hub's OIDC issuer, and get a
//! certificate for exactly the identity the hub uses when it signs on upload
//! (`{public-url}/{user}`, issuer `{public-url}`, audience `sigstore`).
//!
//! * `GET /oauth/authorize`: checks the request, then a page: consent (logged-in users,
//!   CSRF token of the session) or login + consent (password, through the login throttle).
//! * `POST /oauth/authorize`: the decision. Allow: a one-time code bound to the user, the
//!   client id, the redirect URI and the PKCE challenge, valid [`CODE_TTL`] ([`crate::oauthcodes`]); the browser is
//!   redirected to the loopback URI with `code` and `state`, or (out of band) shown the code.
//! * `POST /oauth/token`: the code (taken out of the store: single use), the same client id
//!   and redirect URI, and the PKCE verifier → the ID token (as `access_token` and
//!   `id_token`: sigstore-python reads the former, Go clients the latter).
//!
//! Redirect URIs are restricted to loopback (`http://localhost|127.0.0.1|[::1]:PORT/…`,
//! RFC 8252 §7.3) and `urn:ietf:wg:oauth:2.0:oob`; the only client is `sigstore` (the token
//! audience Fulcio expects). At most [`crate::oauthcodes::MAX_PENDING`] codes wait at once
//! ([`crate::oauthcodes::MAX_PER_USER`] per user); requests are bounded to [`MAX_FORM_BYTES`]. Codes and tokens are never logged.

use std::time::Instant;

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::Deserialize;
use serde_json::json;

use crate::access::{Auth, ClientIp};
use crate::auth::ct_eq;
use crate::login::{LoginRefusal, origin_ok, password_login};
use crate::oauthcodes::{CODE_TTL, Grant};
use crate::state::AppState;
use crate::ui::page::{Nav, message, render};

/// Largest authorize or token request body.
pub const MAX_FORM_BYTES: usize = 8 * 1024;
/// The only client: the audience Sigstore certificate authorities expect.
pub const CLIENT_ID: &str = "sigstore";
/// Redirect URI of the out-of-band flow (the code is shown to the user).
pub const OOB_REDIRECT: &str = "urn:ietf:wg:oauth:2.0:oob";

/// Routes of the authorization server.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/oauth/authorize", get(authorize_page).post(authorize))
        .route("/oauth/token", post(token))
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
}

/// The authorization request (query of GET, hidden fields of POST).
#[derive(Debug, Default, Deserialize)]
pub struct AuthorizeRequest {
    #[serde(default)]
    response_type: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    redirect_uri: String,
    #[serde(default)]
    code_challenge: String,
    #[serde(default)]
    code_challenge_method: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    scope: String,
}

/// Whether `uri` is a loopback redirect (RFC 8252 §7.3: any port) or the out-of-band URN.
#[must_use]
pub fn redirect_allowed(uri: &str) -> bool {
    if uri == OOB_REDIRECT {
        return true;
    }
    if uri.contains('#') || uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    ["http://localhost:", "http://127.0.0.1:", "http://[::1]:"]
        .iter()
        .any(|prefix| {
            uri.strip_prefix(prefix).is_some_and(|rest| {
                let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
                let after = &rest[port.len()..];
                !port.is_empty()
                    && port.len() <= 5
                    && (after.is_empty() || after.starts_with('/') || after.starts_with('?'))
            })
        })
}

/// A PKCE verifier or challenge: 43–128 unreserved characters (RFC 7636 §4.1).
fn pkce_ok(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

impl AuthorizeRequest {
    /// Why the request is refused (shown to the user, never redirected: the redirect URI
    /// may be the attacker's).
    fn refusal(&self, state: &AppState) -> Option<String> {
        if state.signer.method() != "sigstore" {
            return Some("this hub signs with a key; it has no OIDC issuer to log in to".into());
        }
        if self.client_id != CLIENT_ID {
            return Some(format!(
                "unknown client_id {:?} (only {CLIENT_ID:?})",
                trunc(&self.client_id)
            ));
        }
        if !redirect_allowed(&self.redirect_uri) {
            return Some(format!(
                "redirect_uri {:?} is not allowed: only loopback (http://localhost:PORT/…) or {OOB_REDIRECT}",
                trunc(&self.redirect_uri)
            ));
        }
        if self.response_type != "code" {
            return Some("response_type must be code".into());
        }
        if self.code_challenge_method != "S256" || !pkce_ok(&self.code_challenge) {
            return Some("PKCE is required: code_challenge (43–128 characters) with code_challenge_method=S256".into());
        }
        if self.state.len() > 512 || self.scope.len() > 512 {
            return Some("state or scope longer than 512 characters".into());
        }
        None
    }
}

fn trunc(s: &str) -> String {
    s.chars().take(100).collect()
}

#[derive(Template)]
#[template(path = "oauth_authorize.html")]
struct AuthorizePage<'a> {
    nav: Nav,
    req: &'a AuthorizeRequest,
    identity: String,
    redirect_host: String,
    logged_in: bool,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "oauth_code.html")]
struct CodePage {
    nav: Nav,
    code: String,
}

fn page(
    state: &AppState,
    auth: &Auth,
    req: &AuthorizeRequest,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    let user = auth.0.subject.principal.as_ref().map(|p| p.name.clone());
    let redirect_host = if req.redirect_uri == OOB_REDIRECT {
        "this page (out of band)".to_owned()
    } else {
        req.redirect_uri
            .split('/')
            .nth(2)
            .unwrap_or_default()
            .to_owned()
    };
    let mut r = render(&AuthorizePage {
        nav: Nav::of(auth),
        req,
        identity: state.signer.identity_of(user.as_deref().unwrap_or("<you>")),
        redirect_host,
        logged_in: user.is_some(),
        error,
    });
    *r.status_mut() = status;
    no_store(r)
}

/// A request that is refused outright (shown, never redirected).
fn refused(auth: &Auth, why: &str) -> Response {
    message(
        auth,
        StatusCode::BAD_REQUEST,
        "Sign-in request refused",
        why,
    )
}

/// `Cache-Control: no-store` on an answer carrying a code or token (RFC 6749 §5.1).
fn no_store(mut r: Response) -> Response {
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

async fn authorize_page(
    State(state): State<AppState>,
    auth: Auth,
    Query(req): Query<AuthorizeRequest>,
) -> Response {
    if let Some(why) = req.refusal(&state) {
        return refused(&auth, &why);
    }
    page(&state, &auth, &req, StatusCode::OK, None)
}

/// The authorize form: the request, the decision, and the session's CSRF token or a password.
#[derive(Debug, Deserialize)]
pub struct AuthorizeForm {
    #[serde(flatten)]
    req: AuthorizeRequest,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

fn redirect_with(uri: &str, params: &[(&str, &str)]) -> Response {
    let sep = if uri.contains('?') { '&' } else { '?' };
    let q: Vec<String> = params
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| {
            format!(
                "{k}={}",
                percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
            )
        })
        .collect();
    no_store(Redirect::to(&format!("{uri}{sep}{}", q.join("&"))).into_response())
}

async fn authorize(
    State(state): State<AppState>,
    auth: Auth,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<AuthorizeForm>,
) -> Response {
    let req = &f.req;
    if let Some(why) = req.refusal(&state) {
        return refused(&auth, &why);
    }
    if !origin_ok(&state, &headers) {
        return message(
            &auth,
            StatusCode::FORBIDDEN,
            "Forbidden",
            "cross-site sign-in refused",
        );
    }
    if f.decision != "allow" {
        if req.redirect_uri == OOB_REDIRECT {
            return message(
                &auth,
                StatusCode::OK,
                "Sign-in cancelled",
                "No token was issued.",
            );
        }
        return redirect_with(
            &req.redirect_uri,
            &[("error", "access_denied"), ("state", &req.state)],
        );
    }
    // Who consents: a password given on this page, else the session (with its CSRF token).
    let account = if f.username.is_empty() {
        let Some(p) = auth.0.subject.principal.as_ref() else {
            return page(
                &state,
                &auth,
                req,
                StatusCode::UNAUTHORIZED,
                Some("Log in first.".into()),
            );
        };
        let csrf_ok = auth
            .0
            .csrf
            .as_deref()
            .is_some_and(|c| ct_eq(c.as_bytes(), f.csrf.as_bytes()));
        if !csrf_ok {
            return message(
                &auth,
                StatusCode::FORBIDDEN,
                "Forbidden",
                "missing or wrong CSRF token; reload the page and try again",
            );
        }
        match state.meta.account(&p.name).await {
            Ok(Some(a)) => a,
            _ => {
                return message(
                    &auth,
                    StatusCode::UNAUTHORIZED,
                    "Error",
                    "your account is gone",
                );
            }
        }
    } else {
        match password_login(&state, ip, &f.username, f.password).await {
            Ok(a) => a,
            Err(LoginRefusal::Wrong) => {
                return page(
                    &state,
                    &auth,
                    req,
                    StatusCode::UNAUTHORIZED,
                    Some("Wrong user name or password.".into()),
                );
            }
            Err(LoginRefusal::Throttled(after) | LoginRefusal::Busy(after)) => {
                let mut r = page(
                    &state,
                    &auth,
                    req,
                    StatusCode::TOO_MANY_REQUESTS,
                    Some("Too many attempts; try again later.".into()),
                );
                r.headers_mut().insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(after.as_secs().max(1)),
                );
                return r;
            }
            Err(LoginRefusal::Internal(e)) => {
                return message(&auth, StatusCode::INTERNAL_SERVER_ERROR, "Error", &e);
            }
        }
    };
    if account.is_disabled() {
        return message(
            &auth,
            StatusCode::FORBIDDEN,
            "Forbidden",
            &format!("user {} is disabled", account.name),
        );
    }
    let grant = Grant {
        user: account.name.clone(),
        client_id: req.client_id.clone(),
        redirect_uri: req.redirect_uri.clone(),
        challenge: req.code_challenge.clone(),
        expires: Instant::now() + CODE_TTL,
    };
    let code = match state.oauth.issue(grant) {
        Ok(c) => c,
        Err(why) => {
            let mut r = message(&auth, StatusCode::SERVICE_UNAVAILABLE, "Busy", why);
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(CODE_TTL.as_secs()));
            return r;
        }
    };
    tracing::info!(user = ?account.name, redirect = ?trunc(&req.redirect_uri), "oauth: authorization code issued");
    if req.redirect_uri == OOB_REDIRECT {
        let r = render(&CodePage {
            nav: Nav::of(&auth),
            code,
        });
        return no_store(r);
    }
    redirect_with(&req.redirect_uri, &[("code", &code), ("state", &req.state)])
}

/// The token request (RFC 6749 §4.1.3).
#[derive(Debug, Default, Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    grant_type: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    redirect_uri: String,
    #[serde(default)]
    code_verifier: String,
    #[serde(default)]
    client_id: String,
}

fn token_error(status: StatusCode, error: &str, description: &str) -> Response {
    no_store(
        (
            status,
            axum::Json(json!({ "error": error, "error_description": description })),
        )
            .into_response(),
    )
}

/// The client id of HTTP Basic client authentication (`client_id:secret`; the secret of
/// the public client `sigstore` is empty and not checked).
fn basic_client_id(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, b64) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = STANDARD.decode(b64.trim()).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let id = text.split_once(':').map_or(text.as_str(), |(id, _)| id);
    Some(
        percent_encoding::percent_decode_str(id)
            .decode_utf8_lossy()
            .into_owned(),
    )
}

fn exp_of(jwt: &str) -> Option<u64> {
    let payload = URL_SAFE_NO_PAD.decode(jwt.split('.').nth(1)?).ok()?;
    serde_json::from_slice::<serde_json::Value>(&payload)
        .ok()?
        .get("exp")?
        .as_u64()
}

async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<TokenForm>,
) -> Response {
    let bad = |d: &str| token_error(StatusCode::BAD_REQUEST, "invalid_grant", d);
    if f.grant_type != "authorization_code" {
        return token_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be authorization_code",
        );
    }
    let client_id = basic_client_id(&headers).unwrap_or_else(|| f.client_id.clone());
    if client_id != CLIENT_ID {
        return token_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown client_id",
        );
    }
    // Taken out before any check: a code is spent by its first use, right or wrong.
    let Some(g) = state.oauth.take(&f.code) else {
        return bad("unknown, used or expired code");
    };
    if g.client_id != client_id || g.redirect_uri != f.redirect_uri {
        return bad("the code was issued to another client_id or redirect_uri");
    }
    let challenge = URL_SAFE_NO_PAD.encode(
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, f.code_verifier.as_bytes()).as_ref(),
    );
    if !pkce_ok(&f.code_verifier) || !ct_eq(challenge.as_bytes(), g.challenge.as_bytes()) {
        tracing::warn!(user = ?g.user, "oauth: code exchange with a wrong PKCE verifier");
        return bad("code_verifier does not match the code_challenge");
    }
    match state.meta.account(&g.user).await {
        Ok(Some(a)) if !a.is_disabled() => {}
        _ => return bad("the user is disabled or gone"),
    }
    let minted = match state.signer.identity_token(&g.user) {
        Some(Ok(t)) => t,
        Some(Err(e)) => {
            tracing::error!(user = ?g.user, "oauth: minting the token failed: {e}");
            return token_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "minting the token failed",
            );
        }
        None => {
            return token_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "this hub has no OIDC issuer",
            );
        }
    };
    tracing::info!(user = ?g.user, "oauth: identity token issued");
    let expires_in = exp_of(&minted).map_or(0, |exp| {
        exp.saturating_sub(crate::time::now().max(0).unsigned_abs())
    });
    let mut r = axum::Json(json!({
        "access_token": minted,
        "id_token": minted,
        "token_type": "Bearer",
        "expires_in": expires_in,
        "scope": "openid",
    }))
    .into_response();
    r.headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    no_store(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_and_oob_redirects() {
        for ok in [
            "http://localhost:8080/auth/callback",
            "http://127.0.0.1:1/",
            "http://[::1]:65535/cb?x=1",
            "http://localhost:9",
            OOB_REDIRECT,
        ] {
            assert!(redirect_allowed(ok), "{ok}");
        }
        for bad in [
            "https://evil.example/cb",
            "http://localhost.evil.example:80/",
            "http://localhost@evil.example:80/",
            "http://localhost:/x",
            "http://localhost:80#frag",
            "http://127.0.0.1:80evil/",
            "http://localhost:123456/",
            "javascript:alert(1)",
            "",
        ] {
            assert!(!redirect_allowed(bad), "{bad}");
        }
    }
}
