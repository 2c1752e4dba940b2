//! HTTP read API (axum): C2SP tlog-tiles static resources and Rekor v1-style JSON.
//!
//! | route | answer |
//! |---|---|
//! | `GET /checkpoint` | the latest signed checkpoint (`text/plain`, not cached) |
//! | `GET /tile/{L}/{N}[.p/{W}]`, `GET /tile/entries/{N}[.p/{W}]` | tile / bundle bytes (immutable) |
//! | `GET /api/v1/log` | `{rootHash, treeSize, signedTreeHead, treeID}` |
//! | `GET /api/v1/log/proof?firstSize=&lastSize=` | `{rootHash, hashes}` (hex, consistency proof) |
//! | `GET /api/v1/log/entries/{uuid}` | Rekor `LogEntry` with inclusion proof and SET |
//! | `GET /api/v1/log/entries?logIndex=N` | the same, by index |
//!
//! Storage reads run on tokio's blocking pool.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;

use crate::error::Error;
use crate::layout::CHECKPOINT_KEY;
use crate::merkle::Hash;
use crate::note::LogKey;
use crate::reader::LogReader;
use crate::rekor::parse_uuid;
use crate::tile::{TileFetch, TilePath, fetch_tile, truncate_to_width};

/// Shared state of the read API.
pub struct ApiState {
    /// Tile source (the same store the sequencer writes).
    pub fetch: Arc<dyn TileFetch>,
    /// Verified view of the log.
    pub reader: LogReader,
    /// Signs SETs on entry reads; without it entries carry no SET.
    pub key: Option<Arc<LogKey>>,
}

impl std::fmt::Debug for ApiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiState")
            .field("reader", &self.reader)
            .finish_non_exhaustive()
    }
}

/// The read API's routes.
pub fn router(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/checkpoint", get(checkpoint))
        .route("/tile/{*path}", get(tile))
        .route("/api/v1/log", get(log_info))
        .route("/api/v1/log/proof", get(proof))
        .route("/api/v1/log/entries", get(entry_by_index))
        .route("/api/v1/log/entries/{uuid}", get(entry_by_uuid))
        .with_state(state)
}

struct ApiError(StatusCode, String);

impl From<Error> for ApiError {
    /// Client errors say what was wrong with the request; server errors (storage,
    /// corruption: messages that name server paths) get a generic message, and the
    /// detail goes to the server's log.
    fn from(e: Error) -> Self {
        let code = match &e {
            Error::IndexOutOfRange { .. } | Error::InvalidRange { .. } => StatusCode::BAD_REQUEST,
            Error::Missing { .. } => StatusCode::NOT_FOUND,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if code == StatusCode::INTERNAL_SERVER_ERROR {
            eprintln!("hallmark log API: {e}");
            return Self(code, "internal error reading the log".into());
        }
        Self(code, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.0,
            Json(json!({"code": self.0.as_u16(), "message": self.1})),
        )
            .into_response()
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| {
            eprintln!("hallmark log API: a blocking task failed: {e}");
            ApiError(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error reading the log".into(),
            )
        })?
        .map_err(ApiError::from)
}

async fn checkpoint(State(s): State<Arc<ApiState>>) -> Result<Response, ApiError> {
    let data = blocking(move || s.fetch.fetch(CHECKPOINT_KEY)).await?;
    let data = data.ok_or_else(|| ApiError(StatusCode::NOT_FOUND, "no checkpoint yet".into()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        data,
    )
        .into_response())
}

async fn tile(
    State(s): State<Arc<ApiState>>,
    Path(path): Path<String>,
) -> Result<Response, ApiError> {
    let key = format!("tile/{path}");
    let Some(p) = TilePath::parse(&key) else {
        return Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("not a tile path: /{key}"),
        ));
    };
    // A partial the log has replaced by a wider one is served from it (C2SP: partial tiles
    // of every checkpoint stay available until the full tile exists).
    let data = blocking(move || {
        fetch_tile(&*s.fetch, p)?
            .map(|d| truncate_to_width(&p, d))
            .transpose()
    })
    .await?;
    let data =
        data.ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no such tile: /{key}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        data,
    )
        .into_response())
}

async fn log_info(State(s): State<Arc<ApiState>>) -> Result<Json<serde_json::Value>, ApiError> {
    let tree_id = s.reader.config().tree_id;
    let cp = blocking(move || s.reader.checkpoint()).await?;
    Ok(Json(json!({
        "rootHash": hex::encode(cp.checkpoint.root),
        "treeSize": cp.checkpoint.size,
        "signedTreeHead": cp.text,
        "treeID": tree_id.to_string(),
    })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProofQuery {
    first_size: Option<u64>,
    last_size: u64,
}

async fn proof(
    State(s): State<Arc<ApiState>>,
    Query(q): Query<ProofQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let first = q.first_size.unwrap_or(1);
    if first > q.last_size {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "firstSize must not exceed lastSize".into(),
        ));
    }
    let (root, hashes) = blocking(move || {
        Ok((
            s.reader.root_at(q.last_size)?,
            s.reader.consistency_proof(first, q.last_size)?,
        ))
    })
    .await?;
    Ok(Json(json!({
        "rootHash": hex::encode(root),
        "hashes": hashes.iter().map(hex::encode).collect::<Vec<_>>(),
    })))
}

fn entry_json(s: &ApiState, index: u64) -> Result<serde_json::Value, Error> {
    let e = s.reader.entry_proof(index, s.key.as_deref())?;
    Ok(e.as_ref().rekor_v1_entry(s.reader.config().tree_id))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IndexQuery {
    log_index: u64,
}

async fn entry_by_index(
    State(s): State<Arc<ApiState>>,
    Query(q): Query<IndexQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(blocking(move || entry_json(&s, q.log_index)).await?))
}

async fn entry_by_uuid(
    State(s): State<Arc<ApiState>>,
    Path(uuid): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let leaf: Hash = parse_uuid(&uuid, s.reader.config().tree_id)
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no entry {uuid}")))?;
    let v = blocking(move || match s.reader.find(&leaf)? {
        Some(i) => entry_json(&s, i).map(Some),
        None => Ok(None),
    })
    .await?;
    v.map(Json)
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no entry {uuid}")))
}
