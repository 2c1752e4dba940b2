//! The operator's HTTP API: the actions of `hallmark hub admin …` ([`crate::admin`]) for
//! hub administrators, each recorded in the operator audit log under the caller's name.
//!
//! Every route needs a bearer **write** token of an administrator (an account made with
//! `hub admin user add --admin` or granted with `hub admin user grant-admin`): 401
//! without a valid token, 403 for anyone else and for browser sessions (no CSRF surface).
//!
//! ```text
//! GET    /api/admin/users                          every user (name, admin, disabled)
//! POST   /api/admin/users                          {"name","email"?,"password"?,"admin"?}
//! POST   /api/admin/users/{name}/disable           tokens, sessions, signing stop at once
//! POST   /api/admin/users/{name}/enable
//! PUT    /api/admin/users/{name}/admin             {"admin": bool}
//! PUT    /api/admin/users/{name}/password          {"password"}; ends their sessions
//! DELETE /api/admin/users/{name}/sessions          ends every session
//! POST   /api/admin/users/{name}/tokens            {"scope","label"?,"expires_in_days"?,"never_expires"?}
//! DELETE /api/admin/users/{name}/tokens/{id}
//! PUT    /api/admin/settings/token-lifetime        {"days": N | null}
//! DELETE /api/admin/repos/{owner}/{name}           revisions, refs, uploads
//! POST   /api/admin/rescan                         {"repo"?: "owner/name", "all"?: bool, "force"?: bool}
//! GET    /api/admin/audit?limit=N                  the operator audit log, newest first
//! ```

use axum::Json;
use axum::Router;
use axum::extract::{FromRequestParts, Path, Query};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::{delete, get, post, put};
use hallmark_store::{Account, TokenScope};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::access::Auth;
use crate::admin::{NewToken, Operator};
use crate::auth::TokenLifetime;
use crate::authz::{Action, Credential, Resource};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::time::rfc3339;

/// The admin routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/admin/users", get(list_users).post(add_user))
        .route("/api/admin/users/{name}/disable", post(disable))
        .route("/api/admin/users/{name}/enable", post(enable))
        .route("/api/admin/users/{name}/admin", put(set_admin))
        .route("/api/admin/users/{name}/password", put(password))
        .route("/api/admin/users/{name}/sessions", delete(end_sessions))
        .route("/api/admin/users/{name}/tokens", post(new_token))
        .route("/api/admin/users/{name}/tokens/{id}", delete(revoke_token))
        .route("/api/admin/settings/token-lifetime", put(token_lifetime))
        .route("/api/admin/repos/{owner}/{name}", delete(delete_repo))
        .route("/api/admin/rescan", post(rescan))
        .route("/api/admin/audit", get(audit))
}

/// A request of an administrator holding a write token: the [`Operator`] acting for them.
pub(crate) struct Admin {
    pub(crate) state: AppState,
    pub(crate) actor: String,
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let auth = Auth::from_request_parts(parts, state).await?;
        let p = auth.principal()?;
        if p.credential == Credential::Session {
            return Err(ApiError::forbidden(
                "the admin API takes bearer tokens only, not browser sessions",
            ));
        }
        if !auth.can(Action::Administer, &Resource::Hub) {
            return Err(ApiError::forbidden(
                "the admin API needs a write token of a hub administrator",
            ));
        }
        Ok(Self {
            state: state.clone(),
            actor: p.name.clone(),
        })
    }
}

impl Admin {
    pub(crate) fn op(&self) -> Operator<'_> {
        Operator::new(&*self.state.meta, &self.actor)
    }
}

fn user_json(a: &Account) -> Value {
    json!({
        "name": a.name, "email": a.email, "admin": a.is_admin,
        "created": rfc3339(a.created_at), "disabled": a.disabled_at.map(rfc3339),
    })
}

fn done() -> Json<Value> {
    Json(json!({ "ok": true }))
}

async fn list_users(admin: Admin) -> ApiResult<Json<Value>> {
    let users = admin.op().list_users().await?;
    Ok(Json(json!(users.iter().map(user_json).collect::<Vec<_>>())))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddUser {
    name: String,
    email: Option<String>,
    password: Option<String>,
    #[serde(default)]
    admin: bool,
}

async fn add_user(admin: Admin, Json(b): Json<AddUser>) -> ApiResult<(StatusCode, Json<Value>)> {
    let a = admin
        .op()
        .add_user(&b.name, b.email.as_deref(), b.password, b.admin)
        .await?;
    Ok((StatusCode::CREATED, Json(user_json(&a))))
}

async fn disable(admin: Admin, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    admin.op().set_disabled(&name, true).await?;
    Ok(done())
}

async fn enable(admin: Admin, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    admin.op().set_disabled(&name, false).await?;
    Ok(done())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdminFlag {
    admin: bool,
}

async fn set_admin(
    admin: Admin,
    Path(name): Path<String>,
    Json(b): Json<AdminFlag>,
) -> ApiResult<Json<Value>> {
    admin.op().set_admin(&name, b.admin).await?;
    Ok(done())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Password {
    password: String,
}

async fn password(
    admin: Admin,
    Path(name): Path<String>,
    Json(b): Json<Password>,
) -> ApiResult<Json<Value>> {
    admin.op().reset_password(&name, b.password).await?;
    Ok(done())
}

async fn end_sessions(admin: Admin, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    let n = admin.op().revoke_sessions(&name).await?;
    Ok(Json(json!({ "ended": n })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenBody {
    scope: TokenScopeArg,
    label: Option<String>,
    expires_in_days: Option<u32>,
    #[serde(default)]
    never_expires: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum TokenScopeArg {
    Read,
    Write,
}

async fn new_token(
    admin: Admin,
    Path(name): Path<String>,
    Json(b): Json<TokenBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let lifetime = match (b.expires_in_days, b.never_expires) {
        (Some(_), true) => {
            return Err(ApiError::bad_request(
                "give expires_in_days or never_expires, not both",
            ));
        }
        (Some(d), false) => TokenLifetime::Days(d),
        (None, true) => TokenLifetime::Never,
        (None, false) => TokenLifetime::Default,
    };
    let scope = match b.scope {
        TokenScopeArg::Read => TokenScope::Read,
        TokenScopeArg::Write => TokenScope::Write,
    };
    let (token, id, expires) = admin
        .op()
        .new_token(&NewToken {
            user: &name,
            scope,
            label: b.label.as_deref().unwrap_or("admin"),
            lifetime,
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "token": token, "expires": expires.map(rfc3339) })),
    ))
}

async fn revoke_token(
    admin: Admin,
    Path((name, id)): Path<(String, i64)>,
) -> ApiResult<Json<Value>> {
    admin.op().revoke_token(&name, id).await?;
    Ok(done())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Lifetime {
    days: Option<u32>,
}

async fn token_lifetime(admin: Admin, Json(b): Json<Lifetime>) -> ApiResult<Json<Value>> {
    admin.op().set_default_token_days(b.days).await?;
    Ok(done())
}

async fn delete_repo(
    admin: Admin,
    Path((owner, name)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let repo = admin.op().delete_repo(&owner, &name).await?;
    Ok(Json(json!({ "deleted": repo.full_name() })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Rescan {
    repo: Option<String>,
    #[serde(default)]
    all: bool,
    #[serde(default)]
    force: bool,
}

async fn rescan(admin: Admin, Json(b): Json<Rescan>) -> ApiResult<(StatusCode, Json<Value>)> {
    if b.all == b.repo.is_some() {
        return Err(ApiError::bad_request(
            "give \"repo\": \"owner/name\" or \"all\": true",
        ));
    }
    crate::rescan::for_api(&admin.state, &admin.actor, b.repo.as_deref(), b.force).await
}

#[derive(Deserialize)]
struct Limit {
    limit: Option<u32>,
}

async fn audit(admin: Admin, Query(q): Query<Limit>) -> ApiResult<Json<Value>> {
    let events = admin.op().events(q.limit.unwrap_or(100).min(1000)).await?;
    Ok(Json(json!(
        events
            .iter()
            .map(|e| json!({
                "time": rfc3339(e.at), "actor": e.actor, "action": e.action,
                "target": e.target, "detail": e.detail,
            }))
            .collect::<Vec<_>>()
    )))
}
