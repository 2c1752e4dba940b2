//! The Git LFS batch API as `huggingface_hub` uploads through it (basic transfer, and
//! multipart for large objects), with the hub itself as the object store.
//!
//! The client sends object bytes without its token (on huggingface.co they go to
//! presigned storage URLs), so each `href` carries a **ticket**: the id of the caller's
//! staging upload session on the repo, `lfs-` + HMAC-SHA256(per-hub random key,
//! "repo id/user id"). The batch call (authenticated, push rights) opens that session;
//! an object PUT to a ticket URL is stored only if its bytes hash to the announced oid
//! and number exactly the announced size, then recorded in the session as
//! `.git/lfs/objects/{oid}` (a path the naming rules refuse, so the session can never be
//! committed as a revision itself). Commits ([`super::commit`]) accept an `lfsFile` only
//! for an object recorded there or already in the repo's head. Sessions are swept a day
//! after they were opened, like every upload session.
//!
//! Multipart: objects over [`MULTIPART_CHUNK`] get one part URL per chunk
//! (`header.chunk_size` + `"1"`, `"2"`, …); each part is stored as a blob (its SHA-256 is
//! the `ETag` the client echoes), and the completion POST streams the parts, in order,
//! into the object, checked against the oid. At most [`MAX_PARTS`] parts: larger objects
//! get larger chunks.

use std::collections::HashMap;

use aws_lc_rs::hmac;
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::StreamExt;
use hallmark_store::{FileEntry, Repo, Upload};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::access::{Auth, repo_for};
use crate::authz::Action;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Part size of multipart uploads (objects up to this size go in one PUT).
pub const MULTIPART_CHUNK: u64 = 16 << 20;
/// Most parts of one object.
pub const MAX_PARTS: u64 = 10_000;
/// Most objects in one batch request (the client sends 256 at most).
pub const MAX_BATCH_OBJECTS: usize = 1000;
/// Where a staging session records a received object.
pub const OBJECT_PREFIX: &str = ".git/lfs/objects/";
/// Where it records a received part (`{oid}/{n}`).
pub const PART_PREFIX: &str = ".git/lfs/parts/";
/// The hub setting holding the ticket key (URL-safe base64 of 32 random bytes).
pub const TICKET_KEY_SETTING: &str = "hf_lfs_ticket_key";
const LFS_JSON: &str = "application/vnd.git-lfs+json";

async fn ticket_key(state: &AppState) -> ApiResult<hmac::Key> {
    let stored = match state.meta.setting(TICKET_KEY_SETTING).await? {
        Some(k) => k,
        None => {
            let k = crate::auth::random_b64(32)?;
            state.meta.set_setting(TICKET_KEY_SETTING, Some(&k)).await?;
            // Two replicas creating it at once: both continue with the one that stayed.
            state.meta.setting(TICKET_KEY_SETTING).await?.unwrap_or(k)
        }
    };
    let raw = URL_SAFE_NO_PAD
        .decode(stored.as_bytes())
        .map_err(|_| ApiError::internal("bad LFS ticket key setting"))?;
    Ok(hmac::Key::new(hmac::HMAC_SHA256, &raw))
}

/// The ticket (staging session id) of `user_id` on `repo`, the session opened if needed.
///
/// # Errors
/// Storage failure.
pub async fn staging_session(state: &AppState, repo: &Repo, user_id: i64) -> ApiResult<String> {
    let key = ticket_key(state).await?;
    let tag = hmac::sign(&key, format!("{}/{user_id}", repo.id).as_bytes());
    let id = format!("lfs-{}", URL_SAFE_NO_PAD.encode(&tag.as_ref()[..24]));
    if state.meta.upload(&id).await?.is_none() {
        match state.meta.create_upload(&id, repo.id, user_id).await {
            Ok(_) | Err(hallmark_store::StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(id)
}

/// The objects (oid → size) received in a staging session.
///
/// # Errors
/// Storage failure.
pub async fn received(state: &AppState, ticket: &str) -> ApiResult<HashMap<String, u64>> {
    Ok(state
        .meta
        .upload_files(ticket)
        .await?
        .into_iter()
        .filter_map(|f| {
            f.path
                .strip_prefix(OBJECT_PREFIX)
                .map(|oid| (oid.to_owned(), f.size))
        })
        .collect())
}

/// The objects (oid → size) of the repo's head revision.
///
/// # Errors
/// Storage failure.
pub async fn in_head(state: &AppState, repo: &Repo) -> ApiResult<HashMap<String, u64>> {
    Ok(match &repo.head {
        Some(h) => state
            .meta
            .revision_files(repo.id, h)
            .await?
            .into_iter()
            .map(|f| (f.sha256, f.size))
            .collect(),
        None => HashMap::new(),
    })
}

/// Whether `s` is a lower-case hex SHA-256.
#[must_use]
pub fn is_oid(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The part size of an object of `size` bytes: [`MULTIPART_CHUNK`], or larger (whole
/// MiB) so that it has at most [`MAX_PARTS`] parts.
#[must_use]
pub fn chunk_size(size: u64) -> u64 {
    let min = size.div_ceil(MAX_PARTS).div_ceil(1 << 20) << 20;
    MULTIPART_CHUNK.max(min)
}

/// One object of a batch request.
#[derive(Debug, Deserialize)]
pub struct BatchObject {
    /// SHA-256, lower-case hex.
    pub oid: String,
    /// Bytes.
    pub size: u64,
}

/// A ref in a batch request.
#[derive(Debug, Deserialize)]
pub struct BatchRef {
    /// `main` or `refs/heads/main`.
    pub name: String,
}

/// Body of a batch request.
#[derive(Debug, Deserialize)]
pub struct Batch {
    /// `upload` (downloads go through `resolve`).
    pub operation: String,
    /// Transfer adapters the client offers.
    #[serde(default)]
    pub transfers: Vec<String>,
    /// The objects.
    pub objects: Vec<BatchObject>,
    /// `sha256`.
    #[serde(default)]
    pub hash_algo: Option<String>,
    /// The branch the objects are for.
    #[serde(default, rename = "ref")]
    pub reference: Option<BatchRef>,
}

fn lfs_json(status: StatusCode, body: &Value) -> Response {
    let mut r = (status, Json(body)).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(LFS_JSON));
    r
}

fn object_error(o: &BatchObject, code: u16, message: String) -> Value {
    json!({ "oid": o.oid, "size": o.size, "error": { "code": code, "message": message } })
}

/// `POST /{owner}/{name}.git/info/lfs/objects/batch`
///
/// # Errors
/// 401/403/404 before the body is used; 400 for a download or another hash; 413 for
/// too many objects. Per-object errors (bad oid, over the file size limit) are in the
/// answer, as the LFS protocol has them.
pub async fn batch(
    State(state): State<AppState>,
    auth: Auth,
    Path((owner, name_git)): Path<(String, String)>,
    Json(body): Json<Batch>,
) -> ApiResult<Response> {
    let Some(name) = name_git.strip_suffix(".git") else {
        return Err(ApiError::not_found(
            "RepoNotFound",
            format!("no LFS endpoint at {owner}/{name_git}"),
        ));
    };
    let repo = repo_for(&state, &auth, &owner, name, Action::PushRepo).await?;
    let user_id = auth.principal()?.id;
    if body.operation != "upload" {
        return Err(ApiError::bad_request(
            "this LFS endpoint takes uploads only: download files with hf_hub_download (…/resolve/{rev}/{path})",
        ));
    }
    if body.hash_algo.as_deref().is_some_and(|h| h != "sha256") {
        return Err(ApiError::bad_request("hash_algo must be sha256"));
    }
    if let Some(r) = &body.reference {
        let branch = r.name.strip_prefix("refs/heads/").unwrap_or(&r.name);
        super::preupload::main_only(&state, &repo, branch).await?;
    }
    if body.objects.len() > MAX_BATCH_OBJECTS {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("at most {MAX_BATCH_OBJECTS} objects per batch request"),
        ));
    }
    let ticket = staging_session(&state, &repo, user_id).await?;
    let mut present = in_head(&state, &repo).await?;
    present.extend(received(&state, &ticket).await?);
    let multipart = body.transfers.iter().any(|t| t == "multipart");
    let (base, max) = (&state.config.public_url, state.config.max_file_size);
    let mut used_multipart = false;
    let objects: Vec<Value> = body
        .objects
        .iter()
        .map(|o| {
            if !is_oid(&o.oid) {
                return object_error(o, 422, format!("oid {:?} is not a lower-case hex SHA-256", o.oid));
            }
            if o.size > max {
                return object_error(o, 413, format!("{} bytes: files are limited to {max} bytes", o.size));
            }
            if present.get(&o.oid) == Some(&o.size) {
                return json!({ "oid": o.oid, "size": o.size });
            }
            let href = format!("{base}/api/lfs/{ticket}/{}/{}", o.oid, o.size);
            let chunk = chunk_size(o.size);
            let upload = if multipart && o.size > chunk {
                used_multipart = true;
                let mut h = serde_json::Map::new();
                h.insert("chunk_size".into(), json!(chunk.to_string()));
                for n in 1..=o.size.div_ceil(chunk) {
                    h.insert(n.to_string(), json!(format!("{href}/{n}")));
                }
                json!({ "href": href, "header": h, "expires_in": 86_400 })
            } else {
                json!({ "href": href, "expires_in": 86_400 })
            };
            json!({
                "oid": o.oid, "size": o.size, "authenticated": true,
                "actions": {
                    "upload": upload,
                    "verify": { "href": format!("{base}/api/models/{}/lfs-verify", repo.full_name()) },
                },
            })
        })
        .collect();
    let transfer = if used_multipart { "multipart" } else { "basic" };
    Ok(lfs_json(
        StatusCode::OK,
        &json!({ "transfer": transfer, "objects": objects, "hash_algo": "sha256" }),
    ))
}

/// The staging session a ticket names, with the object's oid and size checked.
async fn ticketed(state: &AppState, ticket: &str, oid: &str, size: u64) -> ApiResult<Upload> {
    if !is_oid(oid) {
        return Err(ApiError::bad_request(format!(
            "oid {oid:?} is not a lower-case hex SHA-256"
        )));
    }
    let max = state.config.max_file_size;
    if size > max {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("files are limited to {max} bytes"),
        ));
    }
    match state.meta.upload(ticket).await? {
        Some(u) if ticket.starts_with("lfs-") => Ok(u),
        _ => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown or expired LFS upload ticket: ask the batch API again",
        )),
    }
}

/// Streams `body` into a new blob of exactly `len` bytes; `oid` (if given) must match.
async fn store_exactly(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    len: u64,
    oid: Option<&str>,
) -> ApiResult<hallmark_store::StoredBlob> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n != len) {
        return Err(ApiError::bad_request(format!(
            "Content-Length {} differs from the announced {len} bytes",
            declared.unwrap_or_default()
        )));
    }
    let mut writer = state.blobs.writer(len)?;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::bad_request(format!("upload interrupted: {e}")))?;
        writer.write(&chunk).await?;
    }
    if writer.size() != len {
        return Err(ApiError::bad_request(format!(
            "received {} bytes, the batch announced {len}",
            writer.size()
        )));
    }
    Ok(writer.finish(oid).await?)
}

async fn record(
    state: &AppState,
    ticket: &str,
    path: String,
    blob: &hallmark_store::StoredBlob,
) -> ApiResult<()> {
    let entry = FileEntry {
        path,
        sha256: blob.sha256.clone(),
        size: blob.size,
    };
    Ok(state.meta.add_upload_file(ticket, &entry).await?)
}

/// `PUT /api/lfs/{ticket}/{oid}/{size}`: an object, in one request.
///
/// # Errors
/// 404 for an unknown ticket, 400 when the bytes do not hash to the oid or are not the
/// announced size, 413 over the limit.
pub async fn put_object(
    State(state): State<AppState>,
    Path((ticket, oid, size)): Path<(String, String, u64)>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<StatusCode> {
    ticketed(&state, &ticket, &oid, size).await?;
    let blob = store_exactly(&state, &headers, body, size, Some(&oid)).await?;
    record(&state, &ticket, format!("{OBJECT_PREFIX}{oid}"), &blob).await?;
    Ok(StatusCode::OK)
}

/// `PUT /api/lfs/{ticket}/{oid}/{size}/{part}`: part `part` (from 1) of a multipart object.
///
/// # Errors
/// As [`put_object`]; 400 for a part number out of range or a part of the wrong size.
pub async fn put_part(
    State(state): State<AppState>,
    Path((ticket, oid, size, part)): Path<(String, String, u64, u64)>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    ticketed(&state, &ticket, &oid, size).await?;
    let chunk = chunk_size(size);
    let parts = size.div_ceil(chunk);
    if part == 0 || part > parts {
        return Err(ApiError::bad_request(format!(
            "part {part} out of range: this object has parts 1 to {parts}"
        )));
    }
    let len = chunk.min(size - (part - 1) * chunk);
    let blob = store_exactly(&state, &headers, body, len, None).await?;
    record(&state, &ticket, format!("{PART_PREFIX}{oid}/{part}"), &blob).await?;
    let mut r = StatusCode::OK.into_response();
    if let Ok(v) = HeaderValue::from_str(&blob.sha256) {
        r.headers_mut().insert(header::ETAG, v);
    }
    Ok(r)
}

/// One part of a completion request.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompletedPart {
    /// From 1.
    pub part_number: u64,
    /// The `ETag` the part's PUT answered.
    pub etag: String,
}

/// Body of a completion request.
#[derive(Debug, Deserialize)]
pub struct Completion {
    /// The object's oid.
    pub oid: String,
    /// Every part, in order.
    pub parts: Vec<CompletedPart>,
}

/// `POST /api/lfs/{ticket}/{oid}/{size}`: assembles a multipart object from its parts.
///
/// # Errors
/// 404 for an unknown ticket; 400 for a missing part, an etag that is not the part's,
/// or parts that do not hash to the oid.
pub async fn complete(
    State(state): State<AppState>,
    Path((ticket, oid, size)): Path<(String, String, u64)>,
    Json(body): Json<Completion>,
) -> ApiResult<StatusCode> {
    ticketed(&state, &ticket, &oid, size).await?;
    if body.oid != oid {
        return Err(ApiError::bad_request(format!(
            "completion names oid {} but the URL {oid}",
            body.oid
        )));
    }
    let parts = size.div_ceil(chunk_size(size));
    if body.parts.len() as u64 != parts {
        return Err(ApiError::bad_request(format!(
            "{} parts listed, the object has {parts}",
            body.parts.len()
        )));
    }
    let prefix = format!("{PART_PREFIX}{oid}/");
    let got: HashMap<u64, String> = state
        .meta
        .upload_files(&ticket)
        .await?
        .into_iter()
        .filter_map(|f| Some((f.path.strip_prefix(&prefix)?.parse().ok()?, f.sha256)))
        .collect();
    let mut writer = state.blobs.writer(size)?;
    for (i, p) in body.parts.iter().enumerate() {
        let n = i as u64 + 1;
        let etag = p.etag.trim_matches('"');
        match got.get(&n) {
            Some(sha) if p.part_number == n && sha == etag => {
                let mut stream = state.blobs.get(sha, None).await?;
                while let Some(chunk) = stream.next().await {
                    writer.write(&chunk?).await?;
                }
            }
            _ => {
                return Err(ApiError::bad_request(format!(
                    "part {n} of {oid} was not uploaded with etag {etag:?}"
                )));
            }
        }
    }
    if writer.size() != size {
        return Err(ApiError::bad_request(format!(
            "the parts hold {} bytes, the batch announced {size}",
            writer.size()
        )));
    }
    let blob = writer.finish(Some(&oid)).await?;
    record(&state, &ticket, format!("{OBJECT_PREFIX}{oid}"), &blob).await?;
    Ok(StatusCode::OK)
}

/// Body of the verify action.
#[derive(Debug, Deserialize)]
pub struct VerifyObject {
    /// The oid.
    pub oid: String,
    /// Its size.
    pub size: u64,
}

/// `POST /api/models/{owner}/{name}/lfs-verify`: whether the caller's upload of an
/// object arrived whole (hashed to its oid, of its size).
///
/// # Errors
/// 401/403/404 as for pushes; 422 when the object was not received.
pub async fn verify(
    State(state): State<AppState>,
    auth: Auth,
    Path((owner, name)): Path<(String, String)>,
    Json(body): Json<VerifyObject>,
) -> ApiResult<Json<Value>> {
    let repo = repo_for(&state, &auth, &owner, &name, Action::PushRepo).await?;
    let ticket = staging_session(&state, &repo, auth.principal()?.id).await?;
    match received(&state, &ticket).await?.get(&body.oid) {
        Some(&n) if n == body.size => Ok(Json(json!({ "oid": body.oid, "size": n }))),
        _ => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "LFS object {} ({} bytes) was not received by {}",
                body.oid,
                body.size,
                repo.full_name()
            ),
        )),
    }
}
