//! Account pages of the UI: password login (argon2id), logout, the token page, and the
//! signature re-check button. Every state-changing form after login goes through the
//! [`Authorized`] guard (CSRF token, then authorization); the session cookie is
//! `HttpOnly; SameSite=Lax`, and the login form checks `Origin` against the hub's public URL.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use hallmark_store::TokenScope;
use serde::Deserialize;

use crate::access::{Auth, ClientIp, revision_for};
use std::time::Duration;

use crate::auth::{SESSION_COOKIE, SESSION_SECONDS, issue_token, random_b64, secret_hash};
use crate::login::{LoginRefusal, origin_ok, password_login};
use crate::state::AppState;
use crate::time::human;
use crate::ui::guard::{
    Authorized, CsrfForm, ManageableRepo, OwnSession, OwnTokens, VerifiableRepo,
};
use crate::ui::page::{Nav, message, render};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    nav: Nav,
    error: Option<String>,
}

pub(crate) async fn login_form(auth: Auth) -> Response {
    render(&LoginPage {
        nav: Nav::of(&auth),
        error: None,
    })
}

/// The login form.
#[derive(Debug, Deserialize)]
pub(crate) struct LoginForm {
    username: String,
    password: String,
}

fn login_page(auth: &Auth, status: StatusCode, error: &str) -> Response {
    let mut r = render(&LoginPage {
        nav: Nav::of(auth),
        error: Some(error.into()),
    });
    *r.status_mut() = status;
    r
}

/// A refusal that tells the client when to come back (`Retry-After`, whole seconds).
fn retry_later(auth: &Auth, status: StatusCode, after: Duration, error: &str) -> Response {
    let secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
    let mut r = login_page(auth, status, error);
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    r
}

/// Password login ([`password_login`]: rate-limited, behind the hashing gate), then a
/// session cookie.
pub(crate) async fn login(
    State(state): State<AppState>,
    auth: Auth,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    if !origin_ok(&state, &headers) {
        return message(
            &auth,
            StatusCode::FORBIDDEN,
            "Forbidden",
            "cross-site login refused",
        );
    }
    let user = match password_login(&state, ip, &f.username, f.password).await {
        Ok(user) => user,
        Err(LoginRefusal::Throttled(after)) => {
            return retry_later(
                &auth,
                StatusCode::TOO_MANY_REQUESTS,
                after,
                "Too many failed logins; try again later.",
            );
        }
        Err(LoginRefusal::Busy(after)) => {
            return retry_later(
                &auth,
                StatusCode::SERVICE_UNAVAILABLE,
                after,
                "The hub is busy; try again in a few seconds.",
            );
        }
        Err(LoginRefusal::Internal(e)) => {
            return message(&auth, StatusCode::INTERNAL_SERVER_ERROR, "Error", &e);
        }
        Err(LoginRefusal::Wrong) => {
            return login_page(
                &auth,
                StatusCode::UNAUTHORIZED,
                "Wrong user name or password.",
            );
        }
    };
    let (Ok(sid), Ok(csrf)) = (random_b64(32), random_b64(32)) else {
        return message(
            &auth,
            StatusCode::INTERNAL_SERVER_ERROR,
            "Error",
            "no randomness",
        );
    };
    let Ok(hash) = secret_hash(sid.clone()).await else {
        return message(
            &auth,
            StatusCode::INTERNAL_SERVER_ERROR,
            "Error",
            "hashing failed",
        );
    };
    if state
        .meta
        .create_session(&hash, user.id, &csrf, crate::time::now() + SESSION_SECONDS)
        .await
        .is_err()
    {
        return message(
            &auth,
            StatusCode::INTERNAL_SERVER_ERROR,
            "Error",
            "could not create a session",
        );
    }
    let secure = if state.config.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{SESSION_COOKIE}={sid}; Path=/; HttpOnly; SameSite=Lax; Max-Age={SESSION_SECONDS}{secure}"
    );
    let mut r = Redirect::to("/").into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// A form that only carries the CSRF token.
#[derive(Debug, Deserialize)]
pub(crate) struct CsrfOnly {
    csrf: String,
}

impl CsrfForm for CsrfOnly {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

pub(crate) async fn logout(
    State(state): State<AppState>,
    g: Authorized<OwnSession, CsrfOnly>,
) -> Response {
    if let Some(h) = &g.auth.0.session_hash {
        let _ = state.meta.delete_session(h).await;
    }
    let mut r = Redirect::to("/").into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("hm_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    r
}

struct TokenRow {
    id: i64,
    label: String,
    scope: &'static str,
    created: String,
    last_used: String,
    revoked: bool,
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    nav: Nav,
    new_token: Option<String>,
    tokens: Vec<TokenRow>,
}

async fn tokens_page(state: &AppState, auth: &Auth, new_token: Option<String>) -> Response {
    let Some(p) = auth
        .0
        .subject
        .principal
        .as_ref()
        .filter(|_| auth.0.csrf.is_some())
    else {
        return Redirect::to("/login").into_response();
    };
    let tokens = state.meta.tokens_of(p.id).await.unwrap_or_default();
    render(&TokensPage {
        nav: Nav::of(auth),
        new_token,
        tokens: tokens
            .into_iter()
            .map(|t| TokenRow {
                id: t.id,
                label: t.label,
                scope: t.scope.as_str(),
                created: human(t.created_at),
                last_used: t.last_used_at.map(human).unwrap_or_else(|| "never".into()),
                revoked: t.revoked_at.is_some(),
            })
            .collect(),
    })
}

pub(crate) async fn tokens(State(state): State<AppState>, auth: Auth) -> Response {
    tokens_page(&state, &auth, None).await
}

/// The new-token form.
#[derive(Debug, Deserialize)]
pub(crate) struct NewTokenForm {
    csrf: String,
    label: String,
    scope: String,
}

impl CsrfForm for NewTokenForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

pub(crate) async fn create_token(
    State(state): State<AppState>,
    g: Authorized<OwnTokens, NewTokenForm>,
) -> Response {
    let Authorized {
        auth,
        target: OwnTokens(p),
        form: f,
    } = g;
    let scope = if f.scope == "write" {
        TokenScope::Write
    } else {
        TokenScope::Read
    };
    let label: String = f
        .label
        .chars()
        .filter(|c| !c.is_control())
        .take(64)
        .collect();
    match issue_token(&*state.meta, p.id, &label, scope).await {
        Ok((secret, _)) => tokens_page(&state, &auth, Some(secret)).await,
        Err(e) => message(
            &auth,
            StatusCode::INTERNAL_SERVER_ERROR,
            "Error",
            &e.to_string(),
        ),
    }
}

pub(crate) async fn revoke_token(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    g: Authorized<OwnTokens, CsrfOnly>,
) -> Response {
    let _ = state.meta.revoke_token(g.target.0.id, id).await;
    Redirect::to("/settings/tokens").into_response()
}

/// The re-check form.
#[derive(Debug, Deserialize)]
pub(crate) struct RecheckForm {
    csrf: String,
    rev: String,
}

impl CsrfForm for RecheckForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

pub(crate) async fn recheck(
    State(state): State<AppState>,
    g: Authorized<VerifiableRepo, RecheckForm>,
) -> Response {
    let Authorized {
        auth,
        target: VerifiableRepo {
            owner, name, repo, ..
        },
        form: f,
    } = g;
    let result = async {
        let rev = revision_for(&state, &repo, &f.rev).await?;
        let st = crate::verify::check_revision(&state, &repo, &rev, true).await?;
        state
            .meta
            .set_signature_state(repo.id, &rev.commit, &st)
            .await?;
        Ok::<_, crate::error::ApiError>(rev.commit)
    }
    .await;
    match result {
        Ok(commit) => Redirect::to(&format!("/{owner}/{name}?rev={commit}")).into_response(),
        Err(e) => message(&auth, e.status, "Error", &e.message),
    }
}

/// The visibility form of the repo page.
#[derive(Debug, Deserialize)]
pub(crate) struct VisibilityForm {
    csrf: String,
    private: bool,
}

impl CsrfForm for VisibilityForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

pub(crate) async fn set_visibility(
    State(state): State<AppState>,
    g: Authorized<ManageableRepo, VisibilityForm>,
) -> Response {
    let ManageableRepo {
        owner, name, repo, ..
    } = g.target;
    let actor = g
        .auth
        .principal()
        .map(|p| p.name.clone())
        .unwrap_or_default();
    match crate::settings::set_visibility(&state, &actor, &repo, g.form.private).await {
        Ok(_) => Redirect::to(&format!("/{owner}/{name}")).into_response(),
        Err(e) => message(&g.auth, e.status, "Error", &e.message),
    }
}
