//! Branches and tags as `huggingface_hub` manages them.
//!
//! ```text
//! GET    /api/models/{owner}/{name}/refs              list_repo_refs
//! POST   /api/models/{owner}/{name}/branch/{branch}   create_branch {startingPoint?}
//! DELETE /api/models/{owner}/{name}/branch/{branch}   delete_branch
//! POST   /api/models/{owner}/{name}/tag/{rev}         create_tag {tag, message?}
//! DELETE /api/models/{owner}/{name}/tag/{tag}         delete_tag
//! ```
//!
//! A ref only ever points at a revision the hub signed on commit. Tags are immutable: no
//! call moves one (a second `create_tag` with the name is 409); a branch moves only when a
//! signed revision is committed onto it, never through these calls. Creating or deleting
//! refs needs push rights on the repo (a write token); `main` cannot be deleted.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use hallmark_store::{RefEntry, RefKind};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::access::{Auth, repo_for, revision_for};
use crate::authz::Action;
use crate::error::{ApiError, ApiResult};
use crate::revspec::{MIN_SHORT_ID, is_short_commit_id};
use crate::state::AppState;

/// Longest branch or tag name.
pub const MAX_REF_NAME: usize = 128;

/// Why a branch or tag name is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefNameRefusal {
    /// Empty or longer than [`MAX_REF_NAME`].
    #[error("ref name must be 1 to {MAX_REF_NAME} characters, got {0}")]
    Length(usize),
    /// A character outside `A-Z a-z 0-9 . _ - /`.
    #[error("ref name {0:?} has a character outside A-Z a-z 0-9 . _ - /")]
    Character(String),
    /// A git-forbidden shape: `..`, `//`, leading `/` `-` `.`, trailing `/` `.` `.lock`, `refs/`.
    #[error("ref name {0:?} is not a valid git ref name")]
    Shape(String),
    /// All hex and at least as long as a short commit id: it would shadow commits.
    #[error("ref name {0:?} looks like a commit id (hex, {MIN_SHORT_ID} or more characters)")]
    LooksLikeCommit(String),
}

/// Checks a new branch or tag name.
///
/// # Errors
/// The [`RefNameRefusal`] that applies.
pub fn check_ref_name(name: &str) -> Result<(), RefNameRefusal> {
    if name.is_empty() || name.len() > MAX_REF_NAME {
        return Err(RefNameRefusal::Length(name.len()));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/'))
    {
        return Err(RefNameRefusal::Character(name.to_owned()));
    }
    let bad_shape = name.contains("..")
        || name.contains("//")
        || name.contains("/.")
        || name.starts_with(['/', '-', '.'])
        || name.ends_with(['/', '.'])
        || name.ends_with(".lock")
        || name.starts_with("refs/");
    if bad_shape {
        return Err(RefNameRefusal::Shape(name.to_owned()));
    }
    if is_short_commit_id(name) || (name.len() == 40 && name.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return Err(RefNameRefusal::LooksLikeCommit(name.to_owned()));
    }
    Ok(())
}

fn ref_json(r: &RefEntry) -> Value {
    let prefix = match r.kind {
        RefKind::Branch => "refs/heads/",
        RefKind::Tag => "refs/tags/",
    };
    json!({ "name": r.name, "ref": format!("{prefix}{}", r.name), "targetCommit": r.commit })
}

/// `GET /api/models/{owner}/{name}/refs`
///
/// # Errors
/// `RepoNotFound`.
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Path((owner, name)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let repo = repo_for(&state, &auth, &owner, &name, Action::ReadRepo).await?;
    let refs = state.meta.list_refs(repo.id).await?;
    let of =
        |k: RefKind| -> Vec<Value> { refs.iter().filter(|r| r.kind == k).map(ref_json).collect() };
    Ok(Json(json!({
        "branches": of(RefKind::Branch),
        "tags": of(RefKind::Tag),
        "converts": [],
        "pullRequests": [],
    })))
}

/// Body of `create_branch`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BranchBody {
    /// Revision the branch starts at (default: `main`).
    #[serde(default)]
    pub starting_point: Option<String>,
}

fn refused(e: &RefNameRefusal) -> ApiError {
    ApiError::bad_request(e.to_string())
}

async fn create(
    state: &AppState,
    auth: &Auth,
    (owner, name): (&str, &str),
    (ref_name, kind): (&str, RefKind),
    at: &str,
    message: Option<String>,
) -> ApiResult<Json<Value>> {
    auth.principal()?;
    let repo = repo_for(state, auth, owner, name, Action::PushRepo).await?;
    check_ref_name(ref_name).map_err(|e| refused(&e))?;
    let rev = revision_for(state, &repo, at).await?;
    let entry = RefEntry {
        name: ref_name.to_owned(),
        kind,
        commit: rev.commit,
        created_at: 0,
        message,
    };
    state.meta.create_ref(repo.id, &entry).await?;
    tracing::info!(repo = %repo.full_name(), kind = %kind, name = ref_name, commit = %entry.commit, "ref created");
    Ok(Json(ref_json(&entry)))
}

/// `POST /api/models/{owner}/{name}/branch/{*branch}`: a new branch at `startingPoint`.
///
/// # Errors
/// 400 bad name, 401/403/404, 404 `RevisionNotFound`, 409 when the name exists.
pub async fn create_branch(
    State(state): State<AppState>,
    auth: Auth,
    Path((owner, name, branch)): Path<(String, String, String)>,
    body: Option<Json<BranchBody>>,
) -> ApiResult<Json<Value>> {
    let at = body
        .and_then(|Json(b)| b.starting_point)
        .unwrap_or_else(|| "main".to_owned());
    let kind = (branch.as_str(), RefKind::Branch);
    create(&state, &auth, (&owner, &name), kind, &at, None).await
}

/// Body of `create_tag`.
#[derive(Debug, Deserialize)]
pub struct TagBody {
    /// The tag's name.
    pub tag: String,
    /// Its message.
    #[serde(default)]
    pub message: Option<String>,
}

/// Longest tag message.
pub const MAX_TAG_MESSAGE: usize = 4096;

/// `POST /api/models/{owner}/{name}/tag/{*rev}`: tags the revision `rev`.
///
/// # Errors
/// 400 bad name or message, 401/403/404, 404 `RevisionNotFound`, 409 when the name exists.
pub async fn create_tag(
    State(state): State<AppState>,
    auth: Auth,
    Path((owner, name, rev)): Path<(String, String, String)>,
    Json(body): Json<TagBody>,
) -> ApiResult<Json<Value>> {
    if body
        .message
        .as_ref()
        .is_some_and(|m| m.len() > MAX_TAG_MESSAGE)
    {
        return Err(ApiError::bad_request(format!(
            "tag message longer than {MAX_TAG_MESSAGE} bytes"
        )));
    }
    let kind = (body.tag.as_str(), RefKind::Tag);
    create(&state, &auth, (&owner, &name), kind, &rev, body.message).await
}

async fn delete(
    state: &AppState,
    auth: &Auth,
    (owner, name): (&str, &str),
    ref_name: &str,
    kind: RefKind,
) -> ApiResult<StatusCode> {
    auth.principal()?;
    let repo = repo_for(state, auth, owner, name, Action::PushRepo).await?;
    if kind == RefKind::Branch && ref_name == "main" {
        return Err(ApiError::forbidden("the main branch cannot be deleted"));
    }
    if !state.meta.delete_ref(repo.id, ref_name, kind).await? {
        return Err(ApiError::not_found(
            "RevisionNotFound",
            format!("{owner}/{name} has no {kind} named {ref_name}"),
        ));
    }
    tracing::info!(repo = %repo.full_name(), kind = %kind, name = ref_name, "ref deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/models/{owner}/{name}/branch/{*branch}`
///
/// # Errors
/// 401/403/404; 403 for `main`; 404 `RevisionNotFound` when there is no such branch.
pub async fn delete_branch(
    State(state): State<AppState>,
    auth: Auth,
    Path((owner, name, branch)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    delete(&state, &auth, (&owner, &name), &branch, RefKind::Branch).await
}

/// `DELETE /api/models/{owner}/{name}/tag/{*tag}`
///
/// # Errors
/// 401/403/404; 404 `RevisionNotFound` when there is no such tag.
pub async fn delete_tag(
    State(state): State<AppState>,
    auth: Auth,
    Path((owner, name, tag)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    delete(&state, &auth, (&owner, &name), &tag, RefKind::Tag).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["dev", "v1.0", "release/2026-12", "feature_x"] {
            assert_eq!(check_ref_name(ok), Ok(()), "{ok}");
        }
        assert_eq!(check_ref_name(""), Err(RefNameRefusal::Length(0)));
        assert!(matches!(
            check_ref_name(&"a".repeat(129)),
            Err(RefNameRefusal::Length(129))
        ));
        for bad in ["a b", "x<script>", "é"] {
            assert!(
                matches!(check_ref_name(bad), Err(RefNameRefusal::Character(_))),
                "{bad}"
            );
        }
        for bad in [
            "../x",
            "a//b",
            "/a",
            "-a",
            ".a",
            "a/",
            "a.",
            "a.lock",
            "refs/heads/x",
            "a/.b",
        ] {
            assert!(
                matches!(check_ref_name(bad), Err(RefNameRefusal::Shape(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            check_ref_name("deadbee"),
            Err(RefNameRefusal::LooksLikeCommit(_))
        ));
        assert_eq!(check_ref_name("dead"), Ok(()));
    }
}

/// Query of the git smart-HTTP discovery request.
#[derive(Debug, Default, Deserialize)]
pub struct GitQuery {
    /// `git-upload-pack` (clone, fetch) or `git-receive-pack` (push).
    #[serde(default)]
    pub service: Option<String>,
}

fn pkt_line(s: &str) -> String {
    format!("{:04x}{s}", s.len() + 4)
}

/// `GET /{owner}/{name}.git/info/refs` and `POST …/git-upload-pack`: the hub does not
/// speak git. A git client gets a smart-HTTP answer carrying an `ERR` line, which it
/// prints as `fatal: remote error: …`, pointing at `hf download` / `hf upload`; anything
/// else gets the same sentence as a 404. The answer is the same whether or not the repo
/// exists (it reveals nothing).
pub async fn git_clone(
    State(state): State<AppState>,
    Path((owner, name)): Path<(String, String)>,
    Query(q): Query<GitQuery>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let repo = format!("{owner}/{}", name.strip_suffix(".git").unwrap_or(&name));
    let ep = &state.config.public_url;
    let (service, msg) = if q.service.as_deref() == Some("git-receive-pack") {
        (
            "git-receive-pack",
            format!(
                "this hub does not accept git pushes; upload with: HF_ENDPOINT={ep} HF_HUB_DISABLE_XET=1 hf upload {repo} ./dir (every upload is signed)"
            ),
        )
    } else {
        (
            "git-upload-pack",
            format!(
                "this hub does not serve git clones; download with: HF_ENDPOINT={ep} hf download {repo} --local-dir {}",
                repo.rsplit('/').next().unwrap_or_default()
            ),
        )
    };
    if q.service.is_some() {
        let body = format!(
            "{}0000{}",
            pkt_line(&format!("# service={service}\n")),
            pkt_line(&format!("ERR {msg}\n"))
        );
        let ct = format!("application/x-{service}-advertisement");
        return (
            StatusCode::OK,
            [(axum::http::header::CONTENT_TYPE, ct)],
            body,
        )
            .into_response();
    }
    ApiError::new(StatusCode::NOT_FOUND, msg).into_response()
}
