//! The upload API: open a session, stream files (hashed while stored), commit a
//! signed, immutable revision.
//!
//! ```text
//! POST   /api/models/{owner}/{name}/uploads                    {"private"?, "files"?, "path_bytes"?} → {"upload_id", "parent", "private"}
//! PUT    /api/models/{owner}/{name}/uploads/{id}/files/{path}  raw bytes [X-Content-Sha256] → {"path","sha256","size"}
//! POST   /api/models/{owner}/{name}/uploads/{id}/commit        {"summary"} → {"commit", "signature", …}
//! DELETE /api/models/{owner}/{name}/uploads/{id}
//! ```
//!
//! File paths are checked before any byte is read (`names::check_file_path`) and together
//! at commit (`names::check_revision_paths`); a refused path answers 422 naming the path
//! and the rule, so every stored file is covered by the revision's signature.
//!
//! `private`, when given, is the visibility the push expects: a new repo is created with
//! it, an existing repo of the other visibility answers 409 (nothing is uploaded; change
//! it with `PUT …/settings`). `files` and `path_bytes` (the revision's file count and the
//! bytes of its paths) let the hub refuse a revision too large to sign (413, see
//! [`crate::limits`]) before any blob is sent; the commit checks again. The file answer
//! does not say whether the content was already stored (that would tell anyone whether
//! given bytes exist anywhere on the hub, other owners' private repos included).
//!
//! A commit first claims the repo (compare-and-set on `main`, see
//! [`hallmark_store::MetaStore::claim_commit`]): of concurrent pushes built on the same
//! parent, one is signed and logged; the others get 409 before they write a log entry.
//!
//! Authorization happens before any byte is read. A revision becomes visible only in
//! the commit's single transaction; a crash before it leaves the repo unchanged (the
//! session can be retried or is swept after a day).

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use futures_util::StreamExt;
use hallmark_store::{FileEntry, NewRevision, Repo, SigStatus, Upload};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::access::{Auth, check_publish, repo_for};
use crate::auth::random_b64;
use crate::authz::Action;
use crate::error::{ApiError, ApiResult};
use crate::names::{SIGNATURE_FILE, check_file_path, check_repo_name, check_revision_paths};
use crate::signer::{commit_id, revision_manifest};
use crate::state::AppState;
use crate::verify::verify_bundle;

/// Body of `POST …/uploads`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenUpload {
    /// The visibility the push expects: a new repo gets it, an existing repo of the other
    /// visibility is refused (409). Absent: new repos are public, existing ones keep
    /// theirs.
    #[serde(default)]
    pub private: Option<bool>,
    /// How many files the revision will hold, when the client knows.
    #[serde(default)]
    pub files: Option<u64>,
    /// The bytes of those files' paths (UTF-8, as JSON strings without quotes).
    #[serde(default)]
    pub path_bytes: Option<u64>,
}

/// How long a commit's claim on its repo lasts (signing and logging take far less; a
/// hub that dies meanwhile blocks pushes to the repo at most this long).
pub const CLAIM_SECONDS: i64 = 300;

fn too_large(e: crate::limits::TooLarge) -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, e.to_string())
}

/// Body of `POST …/commit`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommitBody {
    /// Commit message.
    #[serde(default)]
    pub summary: String,
}

/// `POST /api/models/{owner}/{name}/uploads`
///
/// # Errors
/// 401/403 before anything is stored; 400 for a bad repo name.
pub async fn open(
    State(state): State<AppState>,
    auth: Auth,
    Path((owner, name)): Path<(String, String)>,
    body: Option<Json<OpenUpload>>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (owner_id, _) = check_publish(&state, &auth, &owner).await?;
    let user_id = auth.principal()?.id;
    let body = body.map(|b| b.0).unwrap_or_default();
    if let Some(files) = body.files {
        crate::limits::check(
            &state.config.revision_limits,
            files,
            body.path_bytes.unwrap_or(0),
        )
        .map_err(too_large)?;
    }
    let repo = match state.meta.repo(&owner, &name).await? {
        Some(_) => repo_for(&state, &auth, &owner, &name, Action::PushRepo).await?,
        None => {
            check_repo_name(&name)?;
            let private = body.private.unwrap_or(false);
            match state.meta.create_repo(owner_id, &name, private).await {
                Ok(r) => r,
                // Created concurrently by another upload: use it.
                Err(hallmark_store::StoreError::Conflict(_)) => {
                    repo_for(&state, &auth, &owner, &name, Action::PushRepo).await?
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    if let Some(wanted) = body.private
        && wanted != repo.private
    {
        let (is, asked) = if repo.private {
            ("private", "public")
        } else {
            ("public", "private")
        };
        return Err(ApiError::conflict(format!(
            "{} is {is} and this push asked for a {asked} repo; nothing was uploaded. Change \
             its visibility first (PUT /api/models/{}/settings {{\"private\": {wanted}}}, or \
             the repo's page), then push again",
            repo.full_name(),
            repo.full_name()
        )));
    }
    let id = random_b64(18)?;
    state.meta.create_upload(&id, repo.id, user_id).await?;
    Ok((
        StatusCode::CREATED,
        Json(
            json!({ "upload_id": id, "repo": repo.full_name(), "parent": repo.head, "private": repo.private }),
        ),
    ))
}

async fn session(
    state: &AppState,
    auth: &Auth,
    owner: &str,
    name: &str,
    id: &str,
) -> ApiResult<(Repo, Upload)> {
    let repo = repo_for(state, auth, owner, name, Action::PushRepo).await?;
    let user_id = auth.principal()?.id;
    match state.meta.upload(id).await? {
        Some(u) if u.repo_id == repo.id && u.user_id == user_id => Ok((repo, u)),
        _ => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no open upload {id} of yours in {owner}/{name}"),
        )),
    }
}

fn announced_digest(headers: &HeaderMap) -> ApiResult<Option<String>> {
    let Some(v) = headers.get("x-content-sha256") else {
        return Ok(None);
    };
    let s = v.to_str().unwrap_or_default().trim().to_ascii_lowercase();
    if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(Some(s))
    } else {
        Err(ApiError::bad_request(
            "X-Content-Sha256 must be 64 hex digits",
        ))
    }
}

/// `PUT /api/models/{owner}/{name}/uploads/{id}/files/{*path}`: streams the body into
/// the blob store, hashing it on the way.
///
/// # Errors
/// 422 for a refused path, 400 for a digest mismatch, 413 over the size limit.
pub async fn put_file(
    State(state): State<AppState>,
    auth: Auth,
    Path((owner, name, id, path)): Path<(String, String, String, String)>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Value>> {
    let (_, upload) = session(&state, &auth, &owner, &name, &id).await?;
    // `model.sig` itself is the publisher's signature: kept as a claim, not a model file.
    let path = if path == SIGNATURE_FILE {
        path
    } else {
        check_file_path(&path)?.to_owned()
    };
    let announced = announced_digest(&headers)?;
    let max = state.config.max_file_size;
    let declared = headers
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max) {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("files are limited to {max} bytes"),
        ));
    }
    let mut writer = state.blobs.writer(max)?;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::bad_request(format!("upload interrupted: {e}")))?;
        writer.write(&chunk).await?;
    }
    if declared.is_some_and(|n| n != writer.size()) {
        return Err(ApiError::bad_request("body shorter than Content-Length"));
    }
    let blob = writer.finish(announced.as_deref()).await?;
    let entry = FileEntry {
        path,
        sha256: blob.sha256.clone(),
        size: blob.size,
    };
    state.meta.add_upload_file(&upload.id, &entry).await?;
    Ok(Json(json!({
        "path": entry.path, "sha256": entry.sha256, "size": entry.size
    })))
}

/// `DELETE /api/models/{owner}/{name}/uploads/{id}`
///
/// # Errors
/// 404 for an unknown session.
pub async fn abort(
    State(state): State<AppState>,
    auth: Auth,
    Path((owner, name, id)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let (_, upload) = session(&state, &auth, &owner, &name, &id).await?;
    state.meta.delete_upload(&upload.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn same_content(a: &[FileEntry], b: &[FileEntry]) -> bool {
    let strip = |v: &[FileEntry]| -> Vec<(String, String, u64)> {
        let mut x: Vec<_> = v
            .iter()
            .filter(|f| f.path != SIGNATURE_FILE)
            .map(|f| (f.path.clone(), f.sha256.clone(), f.size))
            .collect();
        x.sort();
        x
    };
    strip(a) == strip(b)
}

/// `POST /api/models/{owner}/{name}/uploads/{id}/commit`: signs the revision's manifest
/// (computed from the digests taken during upload), stores `model.sig`, verifies it and
/// records the revision atomically.
///
/// # Errors
/// 422 (and the session closed) when two paths conflict, 400 for an empty upload, 409
/// when `main` moved meanwhile (retry).
pub async fn commit(
    State(state): State<AppState>,
    auth: Auth,
    Path((owner, name, id)): Path<(String, String, String)>,
    body: Option<Json<CommitBody>>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (repo, upload) = session(&state, &auth, &owner, &name, &id).await?;
    let files = state.meta.upload_files(&upload.id).await?;
    let summary = body.map(|b| b.0.summary).unwrap_or_default();
    commit_files(&state, &repo, &upload, files, summary).await
}

/// Commits `files` (a whole revision, every blob already stored) as the revision of
/// `upload`, an open session on `repo`: path checks, the unchanged case, limits, scan,
/// claim, signing with the uploader's identity, verification and the atomic record.
/// The one commit path of every upload API (this one and [`crate::hfwrite`]'s commit
/// endpoint). On a refusal the session is closed and nothing is signed or logged.
///
/// # Errors
/// As [`commit`].
pub(crate) async fn commit_files(
    state: &AppState,
    repo: &Repo,
    upload: &Upload,
    files: Vec<FileEntry>,
    summary: String,
) -> ApiResult<(StatusCode, Json<Value>)> {
    if let Err(e) = check_revision_paths(files.iter().map(|f| f.path.as_str())) {
        // The API cannot take a file back out of a session: close it, nothing is recorded.
        state.meta.delete_upload(&upload.id).await?;
        return Err(e.into());
    }
    if let Some(head) = &repo.head {
        let current = state.meta.revision_files(repo.id, head).await?;
        if same_content(&files, &current) {
            state.meta.delete_upload(&upload.id).await?;
            let rev = state.meta.revision(repo.id, head).await?;
            return Ok((
                StatusCode::OK,
                Json(json!({
                    "commit": head, "unchanged": true,
                    "signature": rev.map(|r| crate::hfapi::signature_json(state, repo, &r)),
                })),
            ));
        }
    }
    let manifest = revision_manifest(&repo.name, &files)?;
    if manifest.resources.is_empty() {
        return Err(ApiError::bad_request(
            "nothing to sign: upload at least one model file",
        ));
    }
    let path_bytes = files
        .iter()
        .map(|f| crate::limits::json_path_bytes(&f.path))
        .sum();
    crate::limits::check(
        &state.config.revision_limits,
        files.len() as u64,
        path_bytes,
    )
    .map_err(too_large)?;
    // Scanned before anything is signed or logged: an owner's refusal stores nothing.
    let scan = state.scanner.scan(&state.blobs, &files).await;
    let refuse_from = state.meta.scan_refusal(repo.owner_id).await?;
    if let Err(e) = crate::scan::check_refusal(repo, refuse_from, &scan) {
        state.meta.delete_upload(&upload.id).await?;
        return Err(e.into());
    }
    // A publisher's model.sig must sign exactly these files: checked before anything is
    // signed or logged, refused with 422 (and the session closed) otherwise.
    let publisher = match crate::claims::check_publisher(state, repo, &files, &manifest).await {
        Ok(p) => p,
        Err(e) => {
            state.meta.delete_upload(&upload.id).await?;
            return Err(e);
        }
    };
    // Only one push per repo is signed at a time, and only on main's current head: a push
    // that would lose at commit is refused here, before it writes a log entry.
    let now = crate::time::now();
    state
        .meta
        .claim_commit(
            repo.id,
            &upload.id,
            repo.head.as_deref(),
            now,
            now + CLAIM_SECONDS,
        )
        .await?;
    let checks = Checks { scan, publisher };
    let done = sign_and_record(state, repo, upload, files, &manifest, summary, checks).await;
    if done.is_err() {
        let _ = state.meta.release_commit(repo.id, &upload.id).await;
    }
    done
}

/// What the hub checked before signing: the scan, the publisher's signature.
struct Checks {
    scan: hallmark_store::ScanResult,
    publisher: Option<crate::claims::PublisherSignature>,
}

/// Signs a claimed upload's revision, verifies the bundle and records the revision
/// (which ends the claim) with its claims.
async fn sign_and_record(
    state: &AppState,
    repo: &Repo,
    upload: &Upload,
    mut files: Vec<FileEntry>,
    manifest: &hallmark_format::Manifest,
    summary: String,
    checks: Checks,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let Checks { scan, publisher } = checks;
    let uploader = state
        .meta
        .account_by_id(upload.user_id)
        .await?
        .ok_or_else(|| ApiError::internal("uploader vanished"))?;
    let signed = state.signer.sign_revision(&uploader, manifest).await?;
    let sig_blob = state
        .blobs
        .put_bytes(signed.bundle_json.clone().into())
        .await?;
    files.retain(|f| f.path != SIGNATURE_FILE);
    let model_files = files.len();
    let mut claims = Vec::with_capacity(3);
    if let Some(p) = publisher {
        claims.push(crate::claims::publisher_claim(state, p, model_files).await?);
    }
    claims.push(crate::claims::hub_signature(
        &signed,
        &sig_blob.sha256,
        model_files,
    ));
    files.push(FileEntry {
        path: SIGNATURE_FILE.into(),
        sha256: sig_blob.sha256,
        size: sig_blob.size,
    });
    let (parent, listing) = (repo.head.clone(), files.clone());
    let commit = crate::auth::blocking(move || commit_id(parent.as_deref(), &listing)).await?;
    // Verify what we just made, exactly as a re-check would.
    let signer = std::sync::Arc::clone(&state.signer);
    let (bundle, name2, files2, ident) = (
        signed.bundle_json,
        repo.name.clone(),
        files.clone(),
        signed.identity.clone(),
    );
    let mut sig_state =
        crate::auth::blocking(move || verify_bundle(&*signer, &bundle, &name2, &files2, &ident))
            .await?;
    if sig_state.status == SigStatus::Verified {
        sig_state.log_index = signed.log_index.and_then(|i| i64::try_from(i).ok());
    }
    let identity_changed_from = match &repo.head {
        Some(h) => state
            .meta
            .revision(repo.id, h)
            .await?
            .and_then(|prev| prev.signature.identity)
            .filter(|prev| sig_state.identity.as_ref().is_some_and(|now| now != prev)),
        None => None,
    };
    claims.push(crate::claims::scan_claim(state, repo, &commit, manifest, &scan).await?);
    let rev = state
        .meta
        .commit_revision(
            &NewRevision {
                repo_id: repo.id,
                commit,
                parent: repo.head.clone(),
                uploader_id: uploader.id,
                summary,
                files,
                signature: sig_state,
                identity_changed_from,
                upload_id: Some(upload.id.clone()),
                scan: Some(scan),
                claims,
            },
            crate::time::now(),
        )
        .await?;
    // A push matching an open incident (the revoked identity) is revoked as recorded.
    let rev = match crate::incident::apply::rematch(state).await? {
        0 => rev,
        _ => state
            .meta
            .revision(repo.id, &rev.commit)
            .await?
            .unwrap_or(rev),
    };
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "commit": rev.commit,
            "url": format!("{}/{}/{}", state.config.public_url, repo.owner, repo.name),
            "files": rev.file_count,
            "signature": crate::hfapi::signature_json(state, repo, &rev),
        })),
    ))
}
