//! Health endpoints of a standalone instance (`hallmark sigstore serve`):
//!
//! * `GET /healthz` — liveness: the process serves requests (no I/O).
//! * `GET /readyz` — readiness: the log's sequencer appends (not stopped or recovering
//!   from a failed append, e.g. a full disk) and the public checkpoint reads and
//!   verifies. 200 `{"status":"ready","log":{"size":N,"sequencing":bool}}`, or 503
//!   `{"status":"unready","log":"<fixed words>"}`. With witnesses, a ready answer adds
//!   `"witnesses": {"status":"ok"|"degraded","missing":[names],…}` ([`witness_json`]):
//!   witnesses that did not cosign degrade, never fail, readiness: the reason in fixed words (no paths or
//!   backend messages, the caller is anonymous); details go to standard error.
//!
//! The hub embeds the instance and answers `/readyz` itself with the same log check
//! ([`log_readiness`]), so these routes are not part of [`crate::router`].

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::state::Instance;
use crate::witnessing::WitnessReport;

/// What readiness reports of the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogReadiness {
    /// Size of the public checkpoint, which read and verified.
    pub size: u64,
    /// Whether this process sequences the log now.
    pub sequencing: bool,
    /// The witnesses' state, if the log has witnesses: a shortfall degrades, it does not
    /// make the log unready.
    pub witnesses: Option<WitnessReport>,
}

/// `/readyz` JSON of the witnesses: `"ok"` when the published checkpoint carries every
/// configured witness's cosignature, else `"degraded"` naming the missing ones; counters
/// since start.
#[must_use]
pub fn witness_json(w: &WitnessReport) -> Value {
    json!({
        "status": if w.missing.is_empty() && w.published_size.is_some() { "ok" } else { "degraded" },
        "configured": w.configured,
        "checkpoint_size": w.published_size,
        "cosigned": w.cosigned,
        "missing": w.missing,
        "rounds_total": w.rounds,
        "cosignatures_total": w.cosignatures,
        "failures_total": w.failures,
    })
}

/// The log's readiness: its size and role, or why it is not ready in fixed words.
/// Blocking (reads the public checkpoint): call it off the async workers.
///
/// # Errors
/// The reason, fit for an anonymous caller: the sequencer's fault
/// ([`hallmark_tlog::Fault::as_str`]) or "log checkpoint unreadable".
pub fn log_readiness(instance: &Instance) -> Result<LogReadiness, &'static str> {
    if let Some(why) = instance.log_health().reason() {
        return Err(why);
    }
    match instance.log_reader().checkpoint() {
        Ok(cp) => Ok(LogReadiness {
            size: cp.checkpoint.size,
            sequencing: instance.is_sequencing(),
            witnesses: instance.witness_report(),
        }),
        Err(e) => {
            eprintln!("hallmark sigstore: readiness: log checkpoint: {e}");
            Err("log checkpoint unreadable")
        }
    }
}

/// `/healthz` and `/readyz` of a standalone instance.
pub fn health_router(instance: Arc<Instance>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(instance)
}

async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn readyz(State(i): State<Arc<Instance>>) -> Response {
    let r = tokio::task::spawn_blocking(move || log_readiness(&i))
        .await
        .unwrap_or(Err("readiness check failed"));
    match r {
        Ok(l) => {
            let mut body = json!({
                "status": "ready",
                "log": { "size": l.size, "sequencing": l.sequencing },
            });
            if let Some(w) = &l.witnesses {
                body["witnesses"] = witness_json(w);
            }
            (StatusCode::OK, Json(body)).into_response()
        }
        Err(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unready", "log": why })),
        )
            .into_response(),
    }
}
