//! Repo settings: visibility, changed by the repo's owners and maintainers.
//!
//! ```text
//! PUT /api/models/{owner}/{name}/settings   {"private": bool} → {"id", "private"}
//! ```
//!
//! The route and body are those `huggingface_hub`'s `update_repo_settings(private=…)`
//! sends. Other settings it knows (`gated`, `xetEnabled`, …) are refused with 422 (the
//! hub has none of them). The UI's repo page posts the same change through a CSRF-checked
//! form ([`crate::ui`]).

use axum::Json;
use axum::extract::{Path, State};
use hallmark_store::Repo;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::access::{Auth, repo_for};
use crate::authz::Action;
use crate::error::ApiResult;
use crate::state::AppState;

/// Body of `PUT …/settings`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepoSettings {
    /// The new visibility (absent: unchanged).
    #[serde(default)]
    pub private: Option<bool>,
}

/// Makes `repo` private or public; the caller must already be authorized
/// ([`Action::ManageRepo`]). Returns whether anything changed.
///
/// # Errors
/// Storage failure.
pub async fn set_visibility(state: &AppState, repo: &Repo, private: bool) -> ApiResult<bool> {
    if repo.private == private {
        return Ok(false);
    }
    state.meta.set_repo_private(repo.id, private).await?;
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
    let private = match body.private {
        Some(p) => {
            set_visibility(&state, &repo, p).await?;
            p
        }
        None => repo.private,
    };
    Ok(Json(json!({ "id": repo.full_name(), "private": private })))
}
