//! Repo management as `huggingface_hub` calls it: `create_repo` (`hf repos create`),
//! `delete_repo`, `move_repo` (refused: the hub keeps a repo's name, which its signed
//! statements name) and the README front-matter check `upload_folder` makes first.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::access::{Auth, check_publish, repo_for};
use crate::admin::Operator;
use crate::authz::Action;
use crate::card::{parse_front_matter, split_front_matter};
use crate::error::{ApiError, ApiResult};
use crate::names::check_repo_name;
use crate::state::AppState;

/// Body of `POST /api/repos/create` and `DELETE /api/repos/delete`.
#[derive(Debug, Deserialize)]
pub struct RepoRequest {
    /// The repo's name (without the namespace).
    pub name: String,
    /// The namespace (`None`: the caller's own).
    #[serde(default)]
    pub organization: Option<String>,
    /// `model` (or absent); the hub has no datasets, spaces or kernels.
    #[serde(default, rename = "type")]
    pub repo_type: Option<String>,
    /// `public` or `private` (newer clients).
    #[serde(default)]
    pub visibility: Option<String>,
    /// Older clients' visibility flag.
    #[serde(default)]
    pub private: Option<bool>,
}

/// Refuses repo types other than models with 400 naming the type.
///
/// # Errors
/// A dataset, space or kernel.
pub fn models_only(repo_type: Option<&str>) -> ApiResult<()> {
    match repo_type {
        None | Some("model") => Ok(()),
        Some(t) => Err(ApiError::bad_request(format!(
            "repo type {t:?} is not supported: this hub holds models only"
        ))),
    }
}

impl RepoRequest {
    /// `(owner, name)`: the namespace defaults to the caller.
    fn target<'a>(&'a self, auth: &'a Auth) -> ApiResult<(&'a str, &'a str)> {
        models_only(self.repo_type.as_deref())?;
        let owner = match &self.organization {
            Some(o) => o.as_str(),
            None => auth.principal()?.name.as_str(),
        };
        Ok((owner, self.name.as_str()))
    }

    fn wants_private(&self) -> ApiResult<bool> {
        match (self.visibility.as_deref(), self.private) {
            (Some("private"), None | Some(true)) => Ok(true),
            (Some("public"), None | Some(false)) | (None, Some(false) | None) => Ok(false),
            (None, Some(true)) => Ok(true),
            (Some(v @ ("private" | "public")), Some(_)) => Err(ApiError::bad_request(format!(
                "`private` and `visibility` ({v}) disagree: send one of them"
            ))),
            (Some(v), _) => Err(ApiError::bad_request(format!(
                "visibility {v:?} is not supported: use public or private"
            ))),
        }
    }
}

/// `POST /api/repos/create`: an empty repo (its first revision comes with the first
/// commit). 409 when it exists, which `create_repo(exist_ok=True)` accepts.
///
/// # Errors
/// 401/403 without the right to publish in the namespace, 400 for a bad name, 409.
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Json(body): Json<RepoRequest>,
) -> ApiResult<Response> {
    let (owner, name) = body.target(&auth)?;
    let private = body.wants_private()?;
    let (owner_id, _) = check_publish(&state, &auth, owner).await?;
    check_repo_name(name)?;
    let repo = match state.meta.create_repo(owner_id, name, private).await {
        Ok(r) => r,
        Err(hallmark_store::StoreError::Conflict(_)) => {
            // The client's `exist_ok=True` reads `url` from this answer too.
            let msg = format!("You already created this model repo: {owner}/{name}");
            let mut r = ApiError::conflict(msg.clone()).into_response();
            *r.body_mut() = axum::body::Body::from(
                json!({ "error": msg, "url": format!("{}/{owner}/{name}", state.config.public_url) })
                    .to_string(),
            );
            return Ok(r);
        }
        Err(e) => return Err(e.into()),
    };
    let full = repo.full_name();
    Ok(Json(json!({
        "url": format!("{}/{full}", state.config.public_url),
        "name": full,
        "id": repo.id.to_string(),
        "private": repo.private,
    }))
    .into_response())
}

/// `DELETE /api/repos/delete`: the repo, its revisions and refs (blobs go to the blob GC;
/// its transparency-log entries stay, the log is append-only). Owners only; recorded in
/// the operator audit log as `repo.delete` with the caller as actor.
///
/// # Errors
/// 401/404 `RepoNotFound` for a repo the caller cannot see, 403 for non-owners.
pub async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    Json(body): Json<RepoRequest>,
) -> ApiResult<Json<Value>> {
    let (owner, name) = body.target(&auth)?;
    let repo = repo_for(&state, &auth, owner, name, Action::DeleteRepo).await?;
    let actor = auth.principal()?.name.clone();
    Operator::new(&*state.meta, &actor)
        .delete_repo(&repo.owner, &repo.name)
        .await?;
    Ok(Json(json!({ "deleted": repo.full_name() })))
}

/// `POST /api/repos/move`: refused with 501. A revision's signed statement names its
/// repo and the verify command the hub publishes names the uploader's identity; renaming
/// would need a re-signed history the hub does not make.
///
/// # Errors
/// Always.
pub async fn move_repo(auth: Auth) -> ApiResult<Json<Value>> {
    auth.principal()?;
    Err(ApiError::new(
        StatusCode::NOT_IMPLEMENTED,
        "moving or renaming repos is not supported by this hub (signatures name the repo): \
         create the new repo and upload to it, then delete the old one",
    ))
}

/// Body of `POST /api/validate-yaml`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidateYaml {
    /// The README.md text.
    pub content: String,
    /// `model` (absent: model).
    #[serde(default)]
    pub repo_type: Option<String>,
}

/// `POST /api/validate-yaml`: checks that a model card's front matter (between the
/// leading `---` lines) is a YAML mapping. 400 with `errors[{message}]` (the client
/// shows "Invalid metadata in README.md" with them), otherwise 200 with `warnings` (empty
/// metadata is a warning, as on huggingface.co).
///
/// # Errors
/// 400 for invalid front matter or another repo type.
pub async fn validate_yaml(Json(body): Json<ValidateYaml>) -> ApiResult<(StatusCode, Json<Value>)> {
    models_only(body.repo_type.as_deref())?;
    Ok(match split_front_matter(&body.content).0 {
        None => (
            StatusCode::OK,
            Json(
                json!({ "errors": [], "warnings": [{ "message": "empty or missing yaml metadata in repo card" }] }),
            ),
        ),
        // The card parser, with its budget on events, depth and aliases: this endpoint takes
        // anyone's YAML, so it must not expand an alias bomb either.
        Some(yaml) => match parse_front_matter(yaml) {
            Ok(_) => (
                StatusCode::OK,
                Json(json!({ "errors": [], "warnings": [] })),
            ),
            Err(e) => invalid(&e.to_string()),
        },
    })
}

fn invalid(message: &str) -> (StatusCode, Json<Value>) {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": message, "errors": [{ "message": message }] })),
    )
}
