//! The witness's HTTP interface: `POST /add-checkpoint` at the root path (submission
//! prefix = the server's base URL). Bounds per request: body at most
//! [`MAX_REQUEST_BYTES`] (413), proof at most 63 lines (400), [`REQUEST_TIMEOUT`] for the
//! whole request (408); the checks and the fsync run on the blocking pool. Connection
//! bounds (count, header and idle timeouts) are the serving loop's.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use crate::error::Refusal;
use crate::wire::MAX_REQUEST_BYTES;
use crate::witness::Witness;

/// Longest one request may take, body upload included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The router: `POST /add-checkpoint`.
pub fn router(witness: Arc<Witness>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .with_state(witness)
}

async fn add_checkpoint(State(w): State<Arc<Witness>>, body: Bytes) -> Response {
    let work = tokio::task::spawn_blocking(move || w.add_checkpoint(&body));
    let res = match tokio::time::timeout(REQUEST_TIMEOUT, work).await {
        Ok(Ok(r)) => r,
        Ok(Err(_)) => Err(Refusal::Storage("the request's task failed".into())),
        Err(_) => {
            return (StatusCode::REQUEST_TIMEOUT, "request took too long\n").into_response();
        }
    };
    match res {
        Ok(line) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("{line}\n"),
        )
            .into_response(),
        Err(Refusal::Conflict { known_size }) => (
            StatusCode::CONFLICT,
            [(header::CONTENT_TYPE, "text/x.tlog.size")],
            format!("{known_size}\n"),
        )
            .into_response(),
        Err(r) => {
            if matches!(r, Refusal::Inconsistent { .. } | Refusal::Storage(_)) {
                // A log-signed inconsistent checkpoint is evidence of misbehaviour.
                eprintln!("hallmark witness: refused add-checkpoint: {r}");
            }
            let status =
                StatusCode::from_u16(r.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (
                status,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                format!("{r}\n"),
            )
                .into_response()
        }
    }
}
