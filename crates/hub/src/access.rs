//! Request authentication (an extractor) and repo/revision lookup with the
//! authorization decision applied, mapped to the status codes `huggingface_hub` expects.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use hallmark_store::{AccountKind, Repo, Revision};

use crate::auth::{Authenticated, authenticate};
use crate::authz::{Action, Principal, Resource, can};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The authenticated caller of a request.
#[derive(Debug)]
pub struct Auth(pub Authenticated);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let a = authenticate(&*state.meta, &parts.headers).await?;
        if let Some(why) = a.rejected {
            return Err(ApiError::unauthorized(None, why.to_string()));
        }
        Ok(Self(a))
    }
}

impl Auth {
    /// The principal, or 401.
    ///
    /// # Errors
    /// Anonymous request.
    pub fn principal(&self) -> ApiResult<&Principal> {
        self.0
            .subject
            .principal
            .as_ref()
            .ok_or_else(|| ApiError::unauthorized(None, "authentication required: pass a token"))
    }

    /// Whether the action is allowed.
    #[must_use]
    pub fn can(&self, action: Action, resource: &Resource) -> bool {
        can(&self.0.subject, action, resource)
    }
}

/// The resource a repo is.
#[must_use]
pub fn repo_resource(repo: &Repo) -> Resource {
    Resource::Repo {
        owner_id: repo.owner_id,
        private: repo.private,
    }
}

fn repo_not_found(auth: &Auth, owner: &str, name: &str) -> ApiError {
    let msg = format!(
        "Repository Not Found for url: {owner}/{name}. Make sure it exists and that you have access (pass a token for private repos)."
    );
    if auth.0.subject.principal.is_none() {
        ApiError::unauthorized(Some("RepoNotFound"), msg)
    } else {
        ApiError::not_found("RepoNotFound", msg)
    }
}

/// Loads a repo the caller may read, and checks `action` on it. Invisible repos are
/// "not found" (401 for anonymous callers, as the HF hub); visible ones the caller may
/// not change are 403.
///
/// # Errors
/// As described.
pub async fn repo_for(
    state: &AppState,
    auth: &Auth,
    owner: &str,
    name: &str,
    action: Action,
) -> ApiResult<Repo> {
    let Some(repo) = state.meta.repo(owner, name).await? else {
        return Err(repo_not_found(auth, owner, name));
    };
    let res = repo_resource(&repo);
    if !auth.can(Action::ReadRepo, &res) {
        return Err(repo_not_found(auth, owner, name));
    }
    if action != Action::ReadRepo && !auth.can(action, &res) {
        auth.principal()?;
        return Err(ApiError::forbidden(format!(
            "you may not {action:?} {owner}/{name}"
        )));
    }
    Ok(repo)
}

/// Whether the caller may publish into namespace `owner` (existing repo or new one).
///
/// # Errors
/// 404 for an unknown namespace, 401/403 when not allowed.
pub async fn check_publish(
    state: &AppState,
    auth: &Auth,
    owner: &str,
) -> ApiResult<(i64, AccountKind)> {
    auth.principal()?;
    let Some(acct) = state.meta.account(owner).await? else {
        return Err(ApiError::not_found(
            "RepoNotFound",
            format!("no user or organisation named {owner}"),
        ));
    };
    let ns = Resource::Namespace {
        id: acct.id,
        kind: acct.kind,
    };
    if !auth.can(Action::CreateRepo, &ns) {
        return Err(ApiError::forbidden(format!(
            "you may not publish in {owner}: publishing needs the maintainer or owner role (and a write token)"
        )));
    }
    Ok((acct.id, acct.kind))
}

pub use crate::revspec::is_commit_id;

/// Resolves a branch, tag, full or short commit id to a revision ([`crate::revspec`]).
///
/// # Errors
/// 404 `RevisionNotFound`; 400 for an ambiguous short commit id.
pub async fn revision_for(state: &AppState, repo: &Repo, rev: &str) -> ApiResult<Revision> {
    let commit = crate::revspec::resolve_commit(state, repo, rev).await?;
    state
        .meta
        .revision(repo.id, &commit)
        .await?
        .ok_or_else(|| ApiError {
            status: StatusCode::NOT_FOUND,
            code: Some("RevisionNotFound"),
            message: format!("Invalid rev id: {rev}"),
        })
}

/// The client's address: the socket peer, or with [`crate::HubConfig::trusted_proxy_header`]
/// set (the hub behind a reverse proxy), the last address in that header (the one the
/// proxy appended). `None` when neither is known (in-process tests).
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let forwarded = state
            .config
            .trusted_proxy_header
            .as_deref()
            .and_then(|h| parts.headers.get_all(h).iter().next_back())
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse::<IpAddr>().ok());
        Ok(Self(forwarded.or(peer)))
    }
}
