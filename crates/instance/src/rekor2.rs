//! `POST /api/v2/log/entries` on the instance's Rekor v2 log ([`crate::log2`]), under the
//! same [`crate::LogWrites`] policy, rate limits, body bound and pool of checks as the v1
//! write API.
//!
//! Entries are `hashedrekord` 0.0.2 ([`hallmark_tlog::rekor2`]); a `dsseRequestV002` is
//! logged as the hashedrekord of its PAE. The answer (201) is the `TransparencyLogEntry`:
//! log ID = the checkpoint key ID (SHA-256 of the key's SPKI, C2SP signed-note ECDSA), no
//! SET, `integratedTime` 0, inclusion proof and checkpoint. Bundles need an RFC 3161
//! timestamp from the instance's TSA ([`crate::timestamp`]) for their signing time.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hallmark_tlog::rekor2::{HashedRekordV2, transparency_log_entry};

use crate::entries::{WriteState, append_failed, checked_body};
use crate::writes::WriteRefusal;

/// Parses and checks a v2 request under the write policy; blocking.
fn check_v2(w: &WriteState, body: Vec<u8>) -> Result<Vec<u8>, WriteRefusal> {
    let entry = HashedRekordV2::parse(&body).map_err(WriteRefusal::Invalid)?;
    drop(body);
    w.writes()
        .check_verifiers(&w.instance().ca_anchor, &[entry.verifier.to_pem()])?;
    entry.canonical_body().map_err(WriteRefusal::Invalid)
}

/// `POST /api/v2/log/entries`.
pub(crate) async fn create_entry_v2(State(w): State<Arc<WriteState>>, req: Request) -> Response {
    let Some(log) = &w.instance().rekor_v2 else {
        return crate::reply::error(StatusCode::NOT_FOUND, "this instance has no Rekor v2 log");
    };
    let body = match checked_body(&w, req, check_v2).await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    match log.append(body.clone()).await {
        Ok(a) => (
            StatusCode::CREATED,
            Json(transparency_log_entry(&a, &body, &log.log_id())),
        )
            .into_response(),
        Err(e) => append_failed(&e),
    }
}
