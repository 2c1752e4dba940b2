//! `POST /api/models/{owner}/{name}/preupload/{rev}`: how each file travels.
//!
//! Small text files (at most [`REGULAR_MAX`] bytes, no NUL in the first 512) go
//! `regular`: base64 inside the commit request. Everything else goes `lfs`: streamed to
//! the hub through the LFS batch API, hashed on arrival. Paths the hub never stores
//! because `model_signing` leaves them out of every signature (top-level `.gitattributes`,
//! `.gitignore`, `.github`, `.cache`, and `.git` at any depth) are answered
//! `shouldIgnore: true`, so the client leaves them out of the commit as `hallmark push`
//! skips them; any other refused path answers 422 naming the path and the rule, before
//! a byte is uploaded.

use axum::Json;
use axum::extract::{Path, Query, State};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::access::{Auth, repo_for};
use crate::authz::Action;
use crate::error::{ApiError, ApiResult, HubError, PathRefusal, Refusal};
use crate::names::check_file_path;
use crate::state::AppState;

/// Largest file sent `regular` (inside the commit request, base64).
pub const REGULAR_MAX: u64 = 1 << 20;
/// Most files per preupload request (the client sends 256).
pub const MAX_PREUPLOAD_FILES: usize = 1000;

/// Query of the preupload and commit endpoints.
#[derive(Debug, Default, Deserialize)]
pub struct CommitQuery {
    /// `1`: open a pull request (refused).
    #[serde(default)]
    pub create_pr: Option<String>,
}

impl CommitQuery {
    /// 400 for `create_pr`.
    ///
    /// # Errors
    /// A pull request was asked for.
    pub fn refuse_pr(&self) -> ApiResult<()> {
        match self.create_pr.as_deref() {
            None | Some("0" | "false" | "False" | "") => Ok(()),
            Some(_) => Err(ApiError::bad_request(
                "pull requests are not supported by this hub: commit to main without create_pr \
                 (every commit is signed with your identity and logged)",
            )),
        }
    }
}

/// Refuses commits to anything but `main`: 404 `RevisionNotFound` for an unknown
/// revision, 400 for another existing one.
///
/// # Errors
/// As described.
pub async fn main_only(state: &AppState, repo: &hallmark_store::Repo, rev: &str) -> ApiResult<()> {
    if rev == "main" {
        return Ok(());
    }
    if state.meta.resolve_ref(repo.id, rev).await?.is_some() {
        return Err(ApiError::bad_request(format!(
            "commits go to main only on this hub, not to {rev:?}"
        )));
    }
    Err(ApiError::not_found(
        "RevisionNotFound",
        format!("Invalid rev id: {rev}"),
    ))
}

/// One file of a preupload request.
#[derive(Debug, Deserialize)]
pub struct PreuploadFile {
    /// Path in the repo.
    pub path: String,
    /// Base64 of the first 512 bytes.
    #[serde(default)]
    pub sample: String,
    /// Size in bytes.
    pub size: u64,
}

/// Body of a preupload request.
#[derive(Debug, Deserialize)]
pub struct Preupload {
    /// The files.
    pub files: Vec<PreuploadFile>,
}

/// Whether the hub leaves `path` out silently (as `hallmark push` does) rather than
/// refusing it: `Ok(false)` stores it, `Ok(true)` ignores it.
///
/// # Errors
/// The refusal of any other unacceptable path.
pub fn ignored(path: &str) -> Result<bool, HubError> {
    match check_file_path(path) {
        Ok(_) => Ok(false),
        Err(HubError::Refused(Refusal::FilePath {
            why: PathRefusal::Unsigned | PathRefusal::DownloadCache | PathRefusal::GitMetadata,
            ..
        })) => Ok(true),
        Err(e) => Err(e),
    }
}

fn mode(f: &PreuploadFile) -> &'static str {
    let sample = STANDARD.decode(&f.sample).unwrap_or_default();
    if f.size == 0 || (f.size <= REGULAR_MAX && !sample.contains(&0)) {
        "regular"
    } else {
        "lfs"
    }
}

/// `POST /api/models/{owner}/{name}/preupload/{*rev}`
///
/// # Errors
/// 401/403/404 before anything else, 400 for `create_pr` or another branch, 422 for a
/// refused path, 413 for too many files in one request.
pub async fn preupload(
    State(state): State<AppState>,
    auth: Auth,
    Path((owner, name, rev)): Path<(String, String, String)>,
    Query(q): Query<CommitQuery>,
    Json(body): Json<Preupload>,
) -> ApiResult<Json<Value>> {
    let repo = repo_for(&state, &auth, &owner, &name, Action::PushRepo).await?;
    q.refuse_pr()?;
    main_only(&state, &repo, &rev).await?;
    if body.files.len() > MAX_PREUPLOAD_FILES {
        return Err(ApiError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            format!("at most {MAX_PREUPLOAD_FILES} files per preupload request"),
        ));
    }
    let mut out = Vec::with_capacity(body.files.len());
    for f in &body.files {
        let skip = ignored(&f.path)?;
        out.push(json!({ "path": f.path, "uploadMode": mode(f), "shouldIgnore": skip }));
    }
    Ok(Json(json!({ "files": out, "commitOid": repo.head })))
}
