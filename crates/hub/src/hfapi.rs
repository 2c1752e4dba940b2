//! Hugging Face–compatible read API (`huggingface_hub` works against it with
//! `HF_ENDPOINT`), plus the hub's own signature fields under `hallmark`.
//!
//! ```text
//! GET  /api/models?search=&author=&limit=
//! GET  /api/models/{owner}/{name}                      repo info at main
//! GET  /api/models/{owner}/{name}/revision/{rev}       repo info at a revision
//! GET  /api/models/{owner}/{name}/tree/{rev}[/{path}]  ?recursive=true, Link pagination
//! POST /api/models/{owner}/{name}/verify/{rev}         ?rehash=true: re-check the signature
//! GET  /api/whoami-v2
//! GET  /api/signing-key.pem                            the hub's public key (key method)
//! GET  /api/audit                                      signing events visible to the caller
//! ```

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hallmark_store::{FileEntry, Repo, RepoQuery, Revision};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::access::{Auth, repo_for, repo_resource, revision_for};
use crate::authz::{Action, Resource};
use crate::error::{ApiError, ApiResult};
use crate::names::url_path;
use crate::signer::served_files;
use crate::state::AppState;
use crate::time::rfc3339;

/// Size of a Git LFS pointer file, reported for compatibility.
const POINTER_SIZE: u64 = 134;
/// Tree entries per page.
const TREE_PAGE: usize = 1000;

/// `hallmark.signature` of a revision: status plus everything a verifier needs.
#[must_use]
pub fn signature_json(state: &AppState, repo: &Repo, rev: &Revision) -> Value {
    let s = &rev.signature;
    json!({
        "status": crate::incident::apply::status(rev),
        "incident": rev.revoked.as_ref().map(crate::incident::apply::revocation_json),
        "method": s.method,
        "identity": s.identity,
        "issuer": s.issuer,
        "log_index": s.log_index,
        "trust_config_url": state.signer.trust_config_url(),
        "public_key_url": state.signer.public_key_pem().map(|_| format!("{}/api/signing-key.pem", state.config.public_url)),
        "checked_at": s.checked_at.map(rfc3339),
        "detail": s.detail,
        "identity_changed_from": rev.identity_changed_from,
        "verify_command": verify_command(state, repo, rev),
    })
}

/// The shell commands that verify a revision downloaded with `hf download --local-dir
/// {name}` using the reference CLI (`.cache/` is where `huggingface_hub` keeps its
/// download metadata inside the directory).
#[must_use]
pub fn verify_command(state: &AppState, repo: &Repo, rev: &Revision) -> String {
    let base = &state.config.public_url;
    let dir = repo.name.clone();
    // A keyless hub's revisions are verified with the Sigstore command even when the
    // recorded state lacks the signer (a signature that failed to authenticate): the
    // identity expected is then the uploader's.
    match state.signer.trust_config_url() {
        Some(tc) => {
            let id = rev
                .signature
                .identity
                .clone()
                .unwrap_or_else(|| state.signer.identity_of(&rev.uploader));
            let iss = rev
                .signature
                .issuer
                .clone()
                .unwrap_or_else(|| state.signer.issuer());
            format!(
                "curl -so trust_config.json {tc} && model_signing verify sigstore {dir} --signature {dir}/model.sig --trust_config trust_config.json --identity {id} --identity_provider {iss} --ignore-paths {dir}/.cache"
            )
        }
        None => format!(
            "curl -so hub.pub {base}/api/signing-key.pem && model_signing verify key {dir} --signature {dir}/model.sig --public_key hub.pub --ignore-paths {dir}/.cache"
        ),
    }
}

fn sibling(f: &FileEntry) -> Value {
    json!({
        "rfilename": f.path, "size": f.size, "blobId": f.sha256,
        "lfs": { "sha256": f.sha256, "size": f.size, "pointerSize": POINTER_SIZE },
    })
}

/// A file as the tree and paths-info endpoints list it.
#[must_use]
pub fn tree_file(f: &FileEntry) -> Value {
    json!({
        "type": "file", "oid": f.sha256, "size": f.size, "path": f.path,
        "lfs": { "oid": f.sha256, "size": f.size, "pointerSize": POINTER_SIZE },
    })
}

async fn info(state: &AppState, repo: &Repo, rev: Option<&Revision>) -> ApiResult<Value> {
    let files = match rev {
        Some(r) => served_files(state.meta.revision_files(repo.id, &r.commit).await?),
        None => Vec::new(),
    };
    let mut warnings = Vec::new();
    if let Some(prev) = rev.and_then(|r| r.identity_changed_from.as_ref()) {
        warnings.push(format!(
            "the signer identity changed: previous revision signed by {prev}, this one by {}",
            rev.and_then(|r| r.signature.identity.clone())
                .unwrap_or_default()
        ));
    }
    let scan = match rev {
        Some(r) => Some(crate::scan::scan_json(
            r,
            &state.meta.scan_findings(repo.id, &r.commit).await?,
        )),
        None => None,
    };
    let card = match rev {
        Some(r) => crate::card::for_revision(state, repo, r).await,
        None => None,
    };
    let card_data = card.as_ref().and_then(|c| c.data.clone());
    let field = |k: &str| card_data.as_ref().and_then(|d| d.get(k).cloned());
    let claims = match rev {
        Some(r) => {
            crate::claims::claims_json(state, repo, &state.meta.claims(repo.id, &r.commit).await?)
        }
        None => json!([]),
    };
    let full = repo.full_name();
    Ok(json!({
        "_id": repo.id.to_string(),
        "id": full,
        "modelId": full,
        "author": repo.owner,
        "sha": rev.map(|r| r.commit.clone()),
        "lastModified": rfc3339(rev.map_or(repo.updated_at, |r| r.created_at)),
        "createdAt": rfc3339(repo.created_at),
        "private": repo.private,
        "gated": false,
        "disabled": false,
        "downloads": 0,
        "likes": 0,
        "tags": card_data.as_ref().map(crate::card::tags).unwrap_or_default(),
        "cardData": card_data,
        "pipeline_tag": field("pipeline_tag"),
        "library_name": field("library_name"),
        "siblings": files.iter().map(sibling).collect::<Vec<_>>(),
        "usedStorage": files.iter().map(|f| f.size).sum::<u64>(),
        "hallmark": {
            "signature": rev.map(|r| signature_json(state, repo, r)),
            "uploader": rev.map(|r| r.uploader.clone()),
            "scan": scan,
            "claims": claims,
            "warnings": warnings,
            "card_error": card.and_then(|c| c.error.as_ref().map(ToString::to_string)),
        },
    }))
}

/// `GET /api/models/{owner}/{name}`
///
/// # Errors
/// `RepoNotFound`.
pub async fn repo_info(
    State(state): State<AppState>,
    auth: Auth,
    Path((owner, name)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let repo = repo_for(&state, &auth, &owner, &name, Action::ReadRepo).await?;
    let rev = match &repo.head {
        Some(h) => state.meta.revision(repo.id, h).await?,
        None => None,
    };
    Ok(Json(info(&state, &repo, rev.as_ref()).await?))
}

/// `GET /api/models/{owner}/{name}/revision/{*rev}`
///
/// # Errors
/// `RepoNotFound`, `RevisionNotFound`.
pub async fn revision_info(
    State(state): State<AppState>,
    auth: Auth,
    Path((owner, name, rev)): Path<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    let repo = repo_for(&state, &auth, &owner, &name, Action::ReadRepo).await?;
    let rev = revision_for(&state, &repo, &rev).await?;
    Ok(Json(info(&state, &repo, Some(&rev)).await?))
}

/// Query of the tree endpoint.
#[derive(Debug, Default, Deserialize)]
pub struct TreeQuery {
    /// List subdirectories too.
    #[serde(default)]
    pub recursive: Option<String>,
    /// Pagination cursor (an offset).
    #[serde(default)]
    pub cursor: Option<usize>,
}

/// `GET /api/models/{owner}/{name}/tree/{rev}[/{*path}]`
///
/// # Errors
/// `RepoNotFound`, `RevisionNotFound`, `EntryNotFound`.
pub async fn tree(
    State(state): State<AppState>,
    auth: Auth,
    Path(params): Path<Vec<(String, String)>>,
    Query(q): Query<TreeQuery>,
) -> ApiResult<Response> {
    let get = |k: &str| {
        params
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let (owner, name, rev_s, dir) = (get("owner"), get("name"), get("rev"), get("path"));
    let dir = dir.trim_matches('/').to_owned();
    let repo = repo_for(&state, &auth, &owner, &name, Action::ReadRepo).await?;
    let rev = revision_for(&state, &repo, &rev_s).await?;
    let files = served_files(state.meta.revision_files(repo.id, &rev.commit).await?);
    let recursive = q
        .recursive
        .as_deref()
        .is_some_and(|v| v == "true" || v == "1" || v == "True");
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    let mut entries: Vec<Value> = Vec::new();
    let mut dirs = BTreeSet::new();
    for f in files.iter().filter(|f| f.path.starts_with(&prefix)) {
        let rest = &f.path[prefix.len()..];
        let mut parts: Vec<&str> = rest.split('/').collect();
        parts.pop();
        let depth_dirs = if recursive {
            parts.len()
        } else {
            parts.len().min(1)
        };
        for i in 1..=depth_dirs {
            dirs.insert(format!("{prefix}{}", parts[..i].join("/")));
        }
        if recursive || !rest.contains('/') {
            entries.push(tree_file(f));
        }
    }
    if entries.is_empty() && dirs.is_empty() && !dir.is_empty() {
        return Err(ApiError::not_found(
            "EntryNotFound",
            format!("{dir} does not exist at {}", rev.commit),
        ));
    }
    let mut all: Vec<Value> = dirs
        .into_iter()
        .map(|d| json!({ "type": "directory", "oid": "", "size": 0, "path": d }))
        .collect();
    all.extend(entries);
    let start = q.cursor.unwrap_or(0).min(all.len());
    let end = (start + TREE_PAGE).min(all.len());
    let page: Vec<Value> = all[start..end].to_vec();
    let mut resp = Json(page).into_response();
    if end < all.len() {
        let path_part = if dir.is_empty() {
            String::new()
        } else {
            format!("/{}", url_path(&dir))
        };
        let next = format!(
            "<{}/api/models/{}/tree/{}{path_part}?recursive={recursive}&cursor={end}>; rel=\"next\"",
            state.config.public_url,
            url_path(&repo.full_name()),
            rev.commit
        );
        if let Ok(v) = HeaderValue::from_str(&next) {
            resp.headers_mut().insert(header::LINK, v);
        }
    }
    Ok(resp)
}

/// Query of the listing endpoint.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    /// Substring of `owner/name`.
    pub search: Option<String>,
    /// Owner.
    pub author: Option<String>,
    /// Page size.
    pub limit: Option<u32>,
}

/// `GET /api/models`
///
/// # Errors
/// Storage failure.
pub async fn list_models(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    let p = auth.0.subject.principal.as_ref();
    let repos = state
        .meta
        .list_repos(&RepoQuery {
            search: q.search,
            owner: q.author,
            viewer: p.map(|p| p.id),
            viewer_is_admin: p.is_some_and(|p| p.admin),
            limit: q.limit.unwrap_or(100).min(1000),
            offset: 0,
        })
        .await?;
    let mut out: Vec<Value> = Vec::new();
    for r in repos
        .iter()
        .filter(|r| auth.can(Action::ReadRepo, &repo_resource(r)))
    {
        out.push(json!({
            "_id": r.id.to_string(), "id": r.full_name(), "modelId": r.full_name(), "author": r.owner,
            "sha": r.head, "private": r.private, "lastModified": rfc3339(r.updated_at),
            "createdAt": rfc3339(r.created_at), "downloads": 0, "likes": 0,
            "tags": crate::card::head_tags(&state, r).await,
        }));
    }
    Ok(Json(Value::Array(out)))
}

/// `GET /api/whoami-v2`
///
/// # Errors
/// 401 without a valid token.
pub async fn whoami(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    let p = auth.principal()?;
    let acct = state
        .meta
        .account_by_id(p.id)
        .await?
        .ok_or_else(|| ApiError::unauthorized(None, "unknown user"))?;
    let orgs: Vec<Value> = state
        .meta
        .memberships_of(p.id)
        .await?
        .into_iter()
        .map(|(o, r)| json!({ "type": "org", "name": o.name, "roleInOrg": r }))
        .collect();
    let role = match p.credential {
        crate::authz::Credential::ReadToken => "read",
        _ => "write",
    };
    Ok(Json(json!({
        "type": "user", "id": p.id.to_string(), "name": p.name, "fullname": p.name, "email": acct.email,
        "isAdmin": p.admin, "orgs": orgs,
        "auth": { "type": "access_token", "accessToken": { "displayName": "token", "role": role } },
    })))
}

/// Query of the verify endpoint.
#[derive(Debug, Default, Deserialize)]
pub struct VerifyQuery {
    /// Re-hash every stored blob too.
    #[serde(default)]
    pub rehash: Option<bool>,
}

/// `POST /api/models/{owner}/{name}/verify/{rev}`: re-checks and records the signature status.
///
/// # Errors
/// 401/403/404.
pub async fn verify_now(
    State(state): State<AppState>,
    auth: Auth,
    Path((owner, name, rev)): Path<(String, String, String)>,
    Query(q): Query<VerifyQuery>,
) -> ApiResult<Json<Value>> {
    auth.principal()?;
    let repo = repo_for(&state, &auth, &owner, &name, Action::VerifyRevision).await?;
    let mut rev = revision_for(&state, &repo, &rev).await?;
    let st = crate::verify::check_revision(&state, &repo, &rev, q.rehash.unwrap_or(false)).await?;
    state
        .meta
        .set_signature_state(repo.id, &rev.commit, &st)
        .await?;
    rev.signature = st;
    Ok(Json(
        json!({ "commit": rev.commit, "signature": signature_json(&state, &repo, &rev) }),
    ))
}

/// `GET /api/signing-key.pem`
///
/// # Errors
/// 404 when the hub signs keylessly.
pub async fn signing_key(State(state): State<AppState>) -> ApiResult<Response> {
    let pem = state.signer.public_key_pem().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "this hub signs keylessly; see trust_config_url",
        )
    })?;
    let mut h = HeaderMap::new();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-pem-file"),
    );
    Ok((h, pem).into_response())
}

/// Signing events the caller may see, newest first.
///
/// # Errors
/// Storage failure.
pub async fn audit_events(
    state: &AppState,
    auth: &Auth,
    limit: u32,
) -> ApiResult<Vec<hallmark_store::SigningEvent>> {
    let events = state.meta.signing_events(limit).await?;
    Ok(events
        .into_iter()
        .filter(|e| {
            auth.can(
                Action::ReadRepo,
                &Resource::Repo {
                    owner_id: e.owner_id,
                    private: e.private,
                },
            )
        })
        .collect())
}

/// `GET /api/audit`
///
/// # Errors
/// Storage failure.
pub async fn audit(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    let events = audit_events(&state, &auth, 500).await?;
    Ok(Json(json!(events.iter().map(|e| json!({
        "repo": e.repo, "commit": e.commit, "uploader": e.uploader, "time": rfc3339(e.created_at),
        "status": e.signature.status, "identity": e.signature.identity, "issuer": e.signature.issuer,
        "log_index": e.signature.log_index, "detail": e.signature.detail,
    })).collect::<Vec<_>>())))
}
