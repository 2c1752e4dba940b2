//! Repo settings: visibility, changed by the repo's owners and maintainers.
//!
//! ```text
//! PUT /api/models/{owner}/{name}/settings   {"private": bool} | {"visibility": "public"|"private"} → {"id", "private"}
//! ```
//!
//! The route and bodies are those `huggingface_hub`'s `update_repo_settings(private=…)`
//! sends (`private` in older releases, `visibility` in newer ones). Other settings it
//! knows (`gated`, `xetEnabled`, …) are refused with 422 (the hub has none of them). The UI's repo page posts the same change through a CSRF-checked
//! form ([`crate::ui`]).

use axum::Json;
use axum::extract::{Path, State};
use hallmark_store::Repo;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::access::{Auth, repo_for};
use crate::authz::Action;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Body of `PUT …/settings`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepoSettings {
    /// The new visibility (absent: unchanged).
    #[serde(default)]
    pub private: Option<bool>,
    /// The new visibility as newer `huggingface_hub` releases send it.
    #[serde(default)]
    pub visibility: Option<Visibility>,
}

/// `visibility` values (`protected` is for Spaces, which the hub does not have).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Anyone may read.
    Public,
    /// Members only.
    Private,
}

/// Makes `repo` private or public for `actor`, who must already be authorized
/// ([`Action::ManageRepo`]), and records the change in the operator audit log
/// (`repo.visibility`). Returns whether anything changed.
///
/// # Errors
/// Storage failure.
pub async fn set_visibility(
    state: &AppState,
    actor: &str,
    repo: &Repo,
    private: bool,
) -> ApiResult<bool> {
    if repo.private == private {
        return Ok(false);
    }
    state.meta.set_repo_private(repo.id, private).await?;
    let detail = if private {
        "public -> private"
    } else {
        "private -> public"
    };
    state
        .meta
        .record_admin_event(actor, "repo.visibility", &repo.full_name(), detail)
        .await?;
    Ok(true)
}

/// `PUT /api/models/{owner}/{name}/settings`
///
/// # Errors
/// 401/404 for a repo the caller cannot see, 403 for one they may not manage.
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Path((owner, name)): Path<(String, String)>,
    Json(body): Json<RepoSettings>,
) -> ApiResult<Json<Value>> {
    let repo = repo_for(&state, &auth, &owner, &name, Action::ManageRepo).await?;
    let wanted = match (body.private, body.visibility) {
        (Some(p), Some(v)) if p != (v == Visibility::Private) => {
            return Err(ApiError::bad_request(
                "`private` and `visibility` disagree: send one of them",
            ));
        }
        (Some(p), _) => Some(p),
        (None, v) => v.map(|v| v == Visibility::Private),
    };
    let private = match wanted {
        Some(p) => {
            set_visibility(&state, &auth.principal()?.name, &repo, p).await?;
            p
        }
        None => repo.private,
    };
    Ok(Json(json!({ "id": repo.full_name(), "private": private })))
}
