//! Health endpoints for load balancers and orchestrators:
//!
//! * `GET /healthz` — liveness: the process serves requests (no I/O).
//! * `GET /readyz` — readiness: the metadata database answers, the blob store answers, and
//!   (keyless signing) the transparency log's sequencer appends — not stopped, not
//!   recovering from a failed append such as a full disk — and its public checkpoint reads
//!   and verifies. 200 with each check's result, or 503 naming the failing check (and, for
//!   the log, why in fixed words: `"log_reason": "log storage full"`). Failure details go
//!   to the server's standard error, not to the (unauthenticated) caller.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::state::AppState;

/// Longest a single readiness check may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// `GET /healthz`.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn timed<T, E: std::fmt::Display>(
    what: &str,
    fut: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, ()> {
    match tokio::time::timeout(CHECK_TIMEOUT, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => {
            eprintln!("hallmark hub: readiness: {what} failed: {e}");
            Err(())
        }
        Err(_) => {
            eprintln!(
                "hallmark hub: readiness: {what} did not answer within {} s",
                CHECK_TIMEOUT.as_secs()
            );
            Err(())
        }
    }
}

/// `GET /readyz`.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let meta = timed("database", state.meta.count_users());
    // A digest nothing has: the store must answer "absent".
    let nothing = "0".repeat(64);
    let blobs = timed("blob store", state.blobs.size(&nothing));
    let signer = std::sync::Arc::clone(&state.signer);
    let log = timed("transparency log", async move {
        tokio::task::spawn_blocking(move || signer.log_health())
            .await
            .map_err(|e| e.to_string())
    });
    let (meta, blobs, log) = tokio::join!(meta, blobs, log);
    let word = |ok: bool| if ok { "ok" } else { "failed" };
    let mut body = json!({
        "database": word(meta.is_ok()),
        "blob_store": word(blobs.is_ok()),
    });
    let log_ok = match &log {
        Ok(Some(Ok(h))) => {
            body["log"] = json!({ "size": h.size, "sequencing": h.sequencing });
            if let Some(w) = &h.witnesses {
                body["witnesses"] = hallmark_instance::witness_json(w);
            }
            true
        }
        Ok(None) => true,
        Ok(Some(Err(why))) => {
            eprintln!("hallmark hub: readiness: transparency log: {why}");
            body["log"] = json!("failed");
            body["log_reason"] = json!(why);
            false
        }
        Err(()) => {
            body["log"] = json!("failed");
            false
        }
    };
    let ready = meta.is_ok() && blobs.is_ok() && log_ok;
    body["status"] = json!(if ready { "ready" } else { "unready" });
    let code = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body)).into_response()
}
