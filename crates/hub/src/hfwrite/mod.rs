//! The Hugging Face write API (issue 17): `huggingface_hub` (the newest release, with
//! `HF_HUB_DISABLE_XET=1`) and the `hf` CLI create, upload to, change and delete repos
//! on the hub as they do on huggingface.co, and every commit they make becomes a
//! revision signed exactly as `hallmark push` signs it.
//!
//! ```text
//! POST   /api/repos/create                               {name, organization?, visibility?|private?, type?}
//! DELETE /api/repos/delete                               {name, organization?, type?}
//! POST   /api/repos/move                                 501: not supported
//! POST   /api/validate-yaml                              {content, repoType}
//! POST   /api/models/{owner}/{name}/preupload/{rev}      {files[{path, sample, size}]} → uploadMode, shouldIgnore
//! POST   /{owner}/{name}.git/info/lfs/objects/batch      git-lfs batch: basic (PUT) or multipart (parts + completion)
//! PUT    /api/lfs/{ticket}/{oid}/{size}                  an LFS object (basic transfer)
//! PUT    /api/lfs/{ticket}/{oid}/{size}/{part}           one part of a multipart object
//! POST   /api/lfs/{ticket}/{oid}/{size}                  multipart completion {oid, parts[{partNumber, etag}]}
//! POST   /api/models/{owner}/{name}/lfs-verify           {oid, size}: the verify action
//! POST   /api/models/{owner}/{name}/commit/{rev}         NDJSON: header, file, lfsFile, deletedFile, deletedFolder
//! ```
//!
//! * **One commit path**: the commit endpoint ([`commit`]) turns the NDJSON operations
//!   into the full file list of the new revision (the head's files with the operations
//!   applied) and hands it to the upload API's commit ([`crate::upload`]): the same path
//!   checks, revision limits, scan, claim on `main`, signature with the uploader's
//!   identity, transparency-log entry and atomic record as `hallmark push`. Everything
//!   the request could refuse (malformed NDJSON, a wrong `parentCommit`, a refused path,
//!   an LFS object never uploaded, too many files) is refused before the claim, so
//!   nothing is signed, logged or recorded.
//! * **LFS objects belong to their uploader**: blobs are content-addressed and shared by
//!   the whole hub, so an `lfsFile` line may only name an object the caller uploaded to
//!   this repo (through the batch API, hashed by the hub on arrival) or one the repo's
//!   head already holds; otherwise anyone knowing a digest could commit, then download,
//!   another owner's private file. The batch API answers "already present" on the same
//!   rule, never on the blob store's content.
//! * **Upload URLs are capabilities**: the client sends the object bytes without its
//!   token (they go to presigned storage URLs on huggingface.co), so the upload `href`s
//!   carry a ticket: the id of an upload session of this user on this repo, an HMAC of
//!   (repo, user) under a per-hub random key ([`lfs`]). Possession of the ticket lets
//!   one store bytes for that session (bounded by the announced size, checked against
//!   the announced SHA-256), never commit them: the commit needs the user's token.
//! * Only `main` takes commits (branches and tags are created from signed revisions);
//!   `create_pr` is refused with 400 (the hub has no pull requests).

pub mod commit;
pub mod lfs;
pub mod preupload;
pub mod repos;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, post, put};

use crate::state::AppState;

/// The routes of the write API.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/repos/create", post(repos::create))
        .route("/api/repos/delete", delete(repos::delete))
        .route("/api/repos/move", post(repos::move_repo))
        .route("/api/validate-yaml", post(repos::validate_yaml))
        .route(
            "/api/models/{owner}/{name}/preupload/{*rev}",
            post(preupload::preupload),
        )
        .route(
            "/api/models/{owner}/{name}/commit/{*rev}",
            post(commit::commit).layer(DefaultBodyLimit::disable()),
        )
        .route("/api/models/{owner}/{name}/lfs-verify", post(lfs::verify))
        .route("/{owner}/{name}/info/lfs/objects/batch", post(lfs::batch))
        .route(
            "/api/lfs/{ticket}/{oid}/{size}",
            put(lfs::put_object)
                .layer(DefaultBodyLimit::disable())
                .post(lfs::complete),
        )
        .route(
            "/api/lfs/{ticket}/{oid}/{size}/{part}",
            put(lfs::put_part).layer(DefaultBodyLimit::disable()),
        )
}
