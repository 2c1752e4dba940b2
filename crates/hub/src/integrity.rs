//! Never serving bytes whose SHA-256 differs from the revision's record (issue 16 §2).
//!
//! * **Whole files** stream through [`hallmark_store::checked`]: hashed as they go out,
//!   the last chunk held back until the digest is known, so altered content ends in an
//!   aborted response (short `Content-Length` body, connection reset) instead of a clean
//!   200. A complete, matching stream (or a scrub pass) marks the blob verified; a blob
//!   verified since its last write is streamed without hashing it again (the cache the
//!   issue allows: "verify before serving from a cache of verified blobs").
//! * **Ranges** cannot be checked by hashing the range, so they are served only from
//!   blobs in [`hallmark_store::VerifiedBlobs`]: a bounded in-memory set of blobs
//!   verified since their last write, keyed by the object's stamp
//!   ([`hallmark_store::BlobStamp`]: inode, size, modification and status-change times;
//!   on object stores size, modification time, entity tag), so a rewrite of the stored
//!   object makes the entry stale. A range of a blob not in it first re-hashes the whole
//!   blob (on the blocking pool, at most [`hallmark_store::VERIFY_SLOTS`] at a time; a
//!   request waiting for a slot finds the blob verified by the one before it, so
//!   parallel range downloads of one file hash it once). Altered content refuses the
//!   range with 500 `StoredContentAltered`.
//! * **Racy stamps** (git's racy-clean rule): a write in the same tick of the storage's
//!   clock as the blob's last change keeps the stamp (same size, the modification time
//!   set back, the status-change time still in its tick: a few ms on Linux file systems
//!   without fine-grained timestamps, 1-2 s on others and on object stores). So a
//!   verification is remembered only if the blob's last change was at least
//!   [`hallmark_store::RACY_MARGIN`] (2 s) before the verification began; a blob written
//!   more recently is re-hashed at its next use. Damage below the file system keeps the
//!   stamp; the background scrubber ([`crate::scrub`]) re-hashes every blob and catches
//!   it.
//! * Either way a mismatch marks the revision `failed` naming the file (signer, issuer and
//!   log entry of the signature are kept), shows in the audit log, and logs a warning.

use axum::http::StatusCode;
use bytes::Bytes;
use futures_util::stream::{BoxStream, StreamExt};
use hallmark_store::{FileEntry, Repo, Revision, StoreError};

use crate::error::ApiError;
use crate::state::AppState;
use crate::verify::storage_failure;

/// Records that `file` of `rev` is stored altered: the revision becomes `failed` naming
/// the file, and a warning is logged. Storage errors while recording are logged too.
pub async fn record_altered(
    state: &AppState,
    repo: &Repo,
    rev: &Revision,
    file: &FileEntry,
    found: &str,
) {
    state.verified.forget(&file.sha256);
    let detail = format!(
        "stored content of {} altered (now sha256:{found})",
        file.path
    );
    record_failure(state, repo, rev, &file.path, detail).await;
}

/// Marks `rev` `failed` with `detail` about its file `path`, keeping signer, issuer and
/// log entry ([`storage_failure`]), and logs a warning. Storage errors while recording
/// are logged.
pub async fn record_failure(
    state: &AppState,
    repo: &Repo,
    rev: &Revision,
    path: &str,
    detail: String,
) {
    tracing::warn!(
        repo = %format_args!("{}/{}", repo.owner, repo.name),
        commit = %rev.commit,
        path = %path,
        detail = %detail,
        "stored content does not match the revision's record; revision marked failed"
    );
    let st = storage_failure(&rev.signature, state.signer.method(), detail);
    if let Err(e) = state
        .meta
        .set_signature_state(repo.id, &rev.commit, &st)
        .await
    {
        tracing::error!(commit = %rev.commit, error = %e, "could not record a failed revision");
    }
}

fn altered(file: &str) -> ApiError {
    ApiError {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        code: Some("StoredContentAltered"),
        message: format!(
            "the stored content of {file} does not match its recorded sha256; the revision is marked failed"
        ),
    }
}

/// Makes sure the blob of `file` is verified since its last write before a range of it
/// is served, re-hashing it whole if needed.
///
/// # Errors
/// 500 `StoredContentAltered` (the failure is recorded), or a storage error.
pub async fn ensure_verified(
    state: &AppState,
    repo: &Repo,
    rev: &Revision,
    file: &FileEntry,
) -> Result<(), ApiError> {
    let stamp = state.blobs.stamp(&file.sha256).await?;
    if state.verified.contains(&file.sha256, &stamp) {
        return Ok(());
    }
    let _slot = state.verified.slot().await;
    let stamp = state.blobs.stamp(&file.sha256).await?;
    if state.verified.contains(&file.sha256, &stamp) {
        return Ok(());
    }
    let found = state.blobs.rehash(&file.sha256).await?;
    if found == file.sha256 {
        state.verified.insert(&file.sha256, &stamp);
        return Ok(());
    }
    record_altered(state, repo, rev, file, &found).await;
    Err(altered(&file.path))
}

/// The whole blob of `file`, checked as it streams (see the module documentation).
///
/// # Errors
/// The blob is absent or storage fails before the first byte.
pub async fn whole_file(
    state: &AppState,
    repo: &Repo,
    rev: &Revision,
    file: &FileEntry,
) -> Result<BoxStream<'static, std::io::Result<Bytes>>, ApiError> {
    let stamp = state.blobs.stamp(&file.sha256).await?;
    let inner = state.blobs.get(&file.sha256, None).await?;
    if state.verified.contains(&file.sha256, &stamp) {
        return Ok(inner.map(|r| r.map_err(std::io::Error::other)).boxed());
    }
    let verified = {
        let (st, sha) = (state.clone(), file.sha256.clone());
        move || {
            st.verified.insert(&sha, &stamp);
        }
    };
    let checked = hallmark_store::checked_then(inner, &file.sha256, verified);
    let (st, repo, rev, entry) = (state.clone(), repo.clone(), rev.clone(), file.clone());
    let on_error = move |e: StoreError| {
        if let StoreError::Altered { found, .. } = &e {
            let (st, found) = (st.clone(), found.clone());
            let (repo, rev, entry) = (repo.clone(), rev.clone(), entry.clone());
            tokio::spawn(async move { record_altered(&st, &repo, &rev, &entry, &found).await });
        }
        std::io::Error::other(e)
    };
    Ok(checked.map(move |r| r.map_err(&on_error)).boxed())
}
