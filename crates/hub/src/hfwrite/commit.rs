//! `POST /api/models/{owner}/{name}/commit/{rev}`: a commit as NDJSON, one operation per
//! line after a header line, signed and recorded through the upload API's commit path.
//!
//! ```text
//! {"key": "header", "value": {"summary", "description", "parentCommit"?}}
//! {"key": "file", "value": {"path", "content" (base64), "encoding": "base64"}}
//! {"key": "lfsFile", "value": {"path", "algo": "sha256", "oid", "size"?}}
//! {"key": "deletedFile", "value": {"path"}}
//! {"key": "deletedFolder", "value": {"path"}}
//! ```
//!
//! Answer: `{"success", "commitOid", "commitUrl", "pullRequestUrl": null, "hallmark":
//! {"signature"…}}`. Bounds, checked while the body streams in: a line is at most
//! [`MAX_LINE_BYTES`] (a `regular` file of [`super::preupload::REGULAR_MAX`] bytes in
//! base64 fits), the body at most [`MAX_BODY_BYTES`], the operations at most twice the
//! revision file limit; memory holds one line and the operation list. Refusals, all
//! before anything is claimed, signed or logged: 400 malformed NDJSON (naming the line),
//! 412 a `parentCommit` that is not the head of `main`, 422 a refused path or an LFS
//! object the caller never uploaded, 404 `EntryNotFound` deleting what is not there, 413
//! over a bound or the revision limits.

use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures_util::StreamExt;
use hallmark_store::{FileEntry, Repo};
use serde::Deserialize;
use serde_json::{Value, json};

use super::lfs::{in_head, is_oid, received, staging_session};
use super::preupload::{CommitQuery, main_only};
use crate::access::{Auth, repo_for};
use crate::authz::Action;
use crate::error::{ApiError, ApiResult};
use crate::names::{SIGNATURE_FILE, check_file_path};
use crate::state::AppState;

/// Longest NDJSON line.
pub const MAX_LINE_BYTES: usize = 2 << 20;
/// Largest commit request body.
pub const MAX_BODY_BYTES: u64 = 256 << 20;

/// The header line's value.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Header {
    /// Commit title.
    #[serde(default)]
    pub summary: String,
    /// Commit body.
    #[serde(default)]
    pub description: String,
    /// The head the client built on.
    #[serde(default)]
    pub parent_commit: Option<String>,
}

/// A file line's value.
#[derive(Debug, Deserialize)]
pub struct FileOp {
    /// Path in the repo.
    pub path: String,
    /// The bytes, base64.
    pub content: String,
    /// `base64`.
    #[serde(default)]
    pub encoding: Option<String>,
}

/// An lfsFile line's value.
#[derive(Debug, Deserialize)]
pub struct LfsOp {
    /// Path in the repo.
    pub path: String,
    /// `sha256`.
    #[serde(default)]
    pub algo: Option<String>,
    /// The object's SHA-256.
    pub oid: String,
    /// Its size (absent in copies).
    #[serde(default)]
    pub size: Option<u64>,
}

/// A deletedFile / deletedFolder line's value.
#[derive(Debug, Deserialize)]
pub struct PathOp {
    /// Path in the repo.
    pub path: String,
}

/// One NDJSON line.
#[derive(Debug, Deserialize)]
#[serde(tag = "key", content = "value")]
enum Line {
    #[serde(rename = "header")]
    Header(Header),
    #[serde(rename = "file")]
    File(FileOp),
    #[serde(rename = "lfsFile")]
    Lfs(LfsOp),
    #[serde(rename = "deletedFile")]
    DeletedFile(PathOp),
    #[serde(rename = "deletedFolder")]
    DeletedFolder(PathOp),
}

/// An operation, its content stored.
#[derive(Debug)]
enum Op {
    /// Add or replace `path` with a stored blob.
    Put(FileEntry),
    /// Add or replace `path` with an LFS object (size from the upload record).
    Lfs {
        path: String,
        oid: String,
        size: Option<u64>,
    },
    /// Delete a file.
    Delete(String),
    /// Delete every file under a folder.
    DeleteFolder(String),
}

fn too_large(what: String) -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, what)
}

fn malformed(n: usize, what: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!("malformed commit (NDJSON line {n}): {what}"))
}

/// Reads the NDJSON body line by line within the bounds; regular files' bytes are
/// stored as blobs as their lines arrive (unreferenced until a revision names them).
async fn parse(
    state: &AppState,
    repo: &Repo,
    body: Body,
    max_ops: usize,
) -> ApiResult<(Header, Vec<Op>)> {
    let mut stream = body.into_data_stream();
    let (mut buf, mut total, mut n) = (Vec::<u8>::new(), 0u64, 0usize);
    let (mut header, mut ops) = (None, Vec::new());
    let mut done = false;
    while !done {
        let chunk = match stream.next().await {
            Some(c) => c.map_err(|e| ApiError::bad_request(format!("commit interrupted: {e}")))?,
            None => {
                done = true;
                bytes::Bytes::new()
            }
        };
        total += chunk.len() as u64;
        if total > MAX_BODY_BYTES {
            return Err(too_large(format!(
                "commit requests are limited to {MAX_BODY_BYTES} bytes"
            )));
        }
        buf.extend_from_slice(&chunk);
        let mut start = 0;
        while let Some(end) = buf[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map(|i| start + i)
        {
            n += 1;
            take_line(
                state,
                repo,
                &buf[start..end],
                n,
                &mut header,
                &mut ops,
                max_ops,
            )
            .await?;
            start = end + 1;
        }
        buf.drain(..start);
        if buf.len() > MAX_LINE_BYTES {
            return Err(too_large(format!(
                "NDJSON line {} is longer than {MAX_LINE_BYTES} bytes (files over {} bytes go through LFS)",
                n + 1,
                super::preupload::REGULAR_MAX
            )));
        }
    }
    if !buf.is_empty() {
        n += 1;
        let rest = std::mem::take(&mut buf);
        take_line(state, repo, &rest, n, &mut header, &mut ops, max_ops).await?;
    }
    let header = header.ok_or_else(|| malformed(1, "no header line (key \"header\")"))?;
    Ok((header, ops))
}

async fn take_line(
    state: &AppState,
    repo: &Repo,
    raw: &[u8],
    n: usize,
    header: &mut Option<Header>,
    ops: &mut Vec<Op>,
    max_ops: usize,
) -> ApiResult<()> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let line: Line = serde_json::from_slice(raw).map_err(|e| malformed(n, e))?;
    let op = match (line, header.is_some()) {
        (Line::Header(h), false) => {
            // Checked before any operation is read (and any file stored).
            check_parent(&h, repo)?;
            *header = Some(h);
            return Ok(());
        }
        (Line::Header(_), true) => return Err(malformed(n, "a second header line")),
        (_, false) => return Err(malformed(n, "the first line must be the header")),
        (Line::File(f), true) => {
            if f.encoding.as_deref().is_some_and(|e| e != "base64") {
                return Err(malformed(n, "file content must be base64"));
            }
            check_file_path(&f.path)?;
            let bytes = STANDARD
                .decode(f.content.as_bytes())
                .map_err(|e| malformed(n, format!("content of {}: {e}", f.path)))?;
            let blob = state.blobs.put_bytes(bytes.into()).await?;
            Op::Put(FileEntry {
                path: f.path,
                sha256: blob.sha256,
                size: blob.size,
            })
        }
        (Line::Lfs(l), true) => {
            if l.algo.as_deref().is_some_and(|a| a != "sha256") || !is_oid(&l.oid) {
                return Err(malformed(
                    n,
                    format!("{}: oid must be a lower-case hex SHA-256", l.path),
                ));
            }
            check_file_path(&l.path)?;
            Op::Lfs {
                path: l.path,
                oid: l.oid,
                size: l.size,
            }
        }
        (Line::DeletedFile(p), true) => Op::Delete(p.path),
        (Line::DeletedFolder(p), true) => Op::DeleteFolder(p.path.trim_matches('/').to_owned()),
    };
    if ops.len() >= max_ops {
        return Err(too_large(format!(
            "a commit holds at most {max_ops} operations"
        )));
    }
    ops.push(op);
    Ok(())
}

fn entry_not_found(path: &str, repo: &Repo) -> ApiError {
    ApiError::not_found(
        "EntryNotFound",
        format!(
            "{path} does not exist in {} at {}",
            repo.full_name(),
            repo.head.as_deref().unwrap_or("(no revision yet)")
        ),
    )
}

/// The new revision's files: the head's (without the hub's `model.sig`) with `ops`
/// applied in order. An `lfsFile` must name an object in `allowed` (oid → size).
fn apply(
    repo: &Repo,
    head: Vec<FileEntry>,
    ops: Vec<Op>,
    allowed: &HashMap<String, u64>,
) -> ApiResult<Vec<FileEntry>> {
    let mut files: BTreeMap<String, FileEntry> = head
        .into_iter()
        .filter(|f| f.path != SIGNATURE_FILE)
        .map(|f| (f.path.clone(), f))
        .collect();
    for op in ops {
        match op {
            Op::Put(f) => {
                files.insert(f.path.clone(), f);
            }
            Op::Lfs { path, oid, size } => {
                let Some(&have) = allowed.get(&oid) else {
                    return Err(ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        format!(
                            "LFS object {oid} for {path} was never uploaded to {}: upload it through the LFS batch API first; nothing was committed",
                            repo.full_name()
                        ),
                    ));
                };
                if size.is_some_and(|s| s != have) {
                    return Err(ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        format!(
                            "LFS object {oid} for {path} has {have} bytes, not {}",
                            size.unwrap_or_default()
                        ),
                    ));
                }
                files.insert(
                    path.clone(),
                    FileEntry {
                        path,
                        sha256: oid,
                        size: have,
                    },
                );
            }
            Op::Delete(path) => {
                if files.remove(&path).is_none() {
                    return Err(entry_not_found(&path, repo));
                }
            }
            Op::DeleteFolder(dir) => {
                let prefix = format!("{dir}/");
                let before = files.len();
                files.retain(|p, _| !p.starts_with(&prefix));
                if files.len() == before {
                    return Err(entry_not_found(&dir, repo));
                }
            }
        }
    }
    Ok(files.into_values().collect())
}

/// Whether `given` names `head` (the full id, or an unambiguous prefix of at least 7).
fn same_commit(given: &str, head: Option<&str>) -> bool {
    let g = given.to_ascii_lowercase();
    head.is_some_and(|h| g.len() >= 7 && h.starts_with(&g))
}

/// 412 when the header's `parentCommit` is not the head of `main`.
fn check_parent(h: &Header, repo: &Repo) -> ApiResult<()> {
    match &h.parent_commit {
        Some(p) if !same_commit(p, repo.head.as_deref()) => Err(ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            format!(
                "parent commit {p} is not the head of main ({}): someone committed meanwhile; fetch and retry. Nothing was committed",
                repo.head.as_deref().unwrap_or("no revision yet")
            ),
        )),
        _ => Ok(()),
    }
}

/// `POST /api/models/{owner}/{name}/commit/{*rev}`
///
/// # Errors
/// See the module documentation.
pub async fn commit(
    State(state): State<AppState>,
    auth: Auth,
    Path((owner, name, rev)): Path<(String, String, String)>,
    Query(q): Query<CommitQuery>,
    body: Body,
) -> ApiResult<Json<Value>> {
    let repo = repo_for(&state, &auth, &owner, &name, Action::PushRepo).await?;
    let user_id = auth.principal()?.id;
    q.refuse_pr()?;
    main_only(&state, &repo, &rev).await?;
    let max_ops = state.config.revision_limits.max_files.saturating_mul(2);
    let (header, ops) = parse(&state, &repo, body, max_ops).await?;
    let mut allowed = in_head(&state, &repo).await?;
    if ops.iter().any(|o| matches!(o, Op::Lfs { .. })) {
        let ticket = staging_session(&state, &repo, user_id).await?;
        allowed.extend(received(&state, &ticket).await?);
    }
    let head = match &repo.head {
        Some(h) => state.meta.revision_files(repo.id, h).await?,
        None => Vec::new(),
    };
    let files = apply(&repo, head, ops, &allowed)?;
    let summary = if header.description.trim().is_empty() {
        header.summary
    } else {
        format!("{}\n\n{}", header.summary, header.description)
    };
    let id = crate::auth::random_b64(18)?;
    let upload = state.meta.create_upload(&id, repo.id, user_id).await?;
    let done = crate::upload::commit_files(&state, &repo, &upload, files, summary).await;
    let (_, Json(out)) = match done {
        Ok(r) => r,
        Err(e) => {
            let _ = state.meta.delete_upload(&id).await;
            return Err(e);
        }
    };
    let commit = out["commit"].as_str().unwrap_or_default().to_owned();
    Ok(Json(json!({
        "success": true,
        "commitOid": commit,
        "commitUrl": format!("{}/{}/commit/{commit}", state.config.public_url, repo.full_name()),
        "pullRequestUrl": null,
        "hookOutput": "",
        "hallmark": { "signature": out["signature"], "unchanged": out.get("unchanged").is_some() },
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_commit_matches_full_ids_and_long_prefixes() {
        let h = Some("0123456789abcdef0123456789abcdef01234567");
        assert!(same_commit("0123456789abcdef0123456789abcdef01234567", h));
        assert!(same_commit("0123456", h));
        assert!(same_commit("0123456789ABCDEF", h));
        assert!(!same_commit("012345", h));
        assert!(!same_commit("1123456", h));
        assert!(!same_commit("0123456", None));
    }
}
