//! `POST /api/v1/log/entries`, the Rekor v1 write API, under the [`LogWrites`] policy
//! (the Rekor v2 write API, [`crate::rekor2`], shares everything but the entry format).
//!
//! Order of work, cheapest refusal first: access (off → 403), the client's rate
//! (→ 429 with `Retry-After`), the write token (→ 401), the declared length (→ 413);
//! then a permit of the bounded pool of checks is awaited *before* the body is read, so
//! waiting requests hold no body; the body is read up to [`MAX_ENTRY_REQUEST_BYTES`]
//! (→ 413); parsing into typed structs, the CA check of every verifier (→ 403) and the
//! signature checks (→ 400) run on the blocking pool, never on an async worker. A
//! storage-full append answers 507; other server errors answer a generic message (the
//! detail, which may name server paths, goes to the server's log).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt as _;
use hallmark_tlog::proposed::{MAX_VERIFIER_PEM_BYTES, Proposed};
use hallmark_tlog::rekor::{EntryProof, MAX_ENVELOPE_BYTES, MAX_VERIFIERS};
use tokio::sync::Semaphore;

use crate::ratelimit::RateLimiter;
use crate::reply::{bearer, error, internal};
use crate::state::Instance;
use crate::writes::{LogWrites, WriteAccess, WriteRefusal};

/// Largest request body: an envelope of [`MAX_ENVELOPE_BYTES`] (16 MiB: the OMS
/// statement of a model with ~90,000 files at ~190 bytes of base64 per file), plus
/// [`MAX_VERIFIERS`] verifiers of [`MAX_VERIFIER_PEM_BYTES`] in base64, plus the JSON
/// around them.
pub const MAX_ENTRY_REQUEST_BYTES: usize =
    MAX_ENVELOPE_BYTES + MAX_VERIFIERS * (MAX_VERIFIER_PEM_BYTES * 4 / 3 + 8) + 4096;

/// The write API's state: the policy, the client buckets, the pool of checks.
pub(crate) struct WriteState {
    instance: Arc<Instance>,
    writes: LogWrites,
    limiter: Option<RateLimiter>,
    checks: Arc<Semaphore>,
}

impl WriteState {
    pub(crate) fn new(instance: Arc<Instance>, writes: LogWrites) -> Self {
        Self {
            limiter: writes.rate.map(RateLimiter::new),
            checks: Arc::new(Semaphore::new(writes.max_concurrent_checks.max(1))),
            instance,
            writes,
        }
    }

    /// The cheap checks, before the body is read.
    fn admit(&self, parts: &Parts) -> Result<(), WriteRefusal> {
        if matches!(self.writes.access, WriteAccess::Off) {
            return Err(WriteRefusal::Off);
        }
        if let Some(l) = &self.limiter {
            let ip = parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip());
            l.take(ip, Instant::now()).map_err(|wait| {
                let rate = l.rate();
                WriteRefusal::RateLimited {
                    burst: rate.burst,
                    per_minute: rate.per_minute,
                    retry_after_secs: u64::try_from(wait.as_millis().div_ceil(1000))
                        .unwrap_or(u64::MAX)
                        .max(1),
                }
            })?;
        }
        if let WriteAccess::Token(t) = &self.writes.access {
            let given = bearer(&parts.headers).ok_or(WriteRefusal::MissingToken)?;
            if !t.matches(given) {
                return Err(WriteRefusal::WrongToken);
            }
        }
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > MAX_ENTRY_REQUEST_BYTES as u64) {
            return Err(too_large());
        }
        Ok(())
    }

    /// Parses and checks a Rekor v1 proposed entry; blocking (CPU: JSON, base64, hashing,
    /// signatures).
    fn check(&self, body: Vec<u8>) -> Result<Vec<u8>, WriteRefusal> {
        let proposed = Proposed::parse(&body).map_err(WriteRefusal::Invalid)?;
        drop(body);
        self.writes
            .check_verifiers(&self.instance.ca_anchor, proposed.verifiers())?;
        proposed.canonical_body().map_err(WriteRefusal::Invalid)
    }

    /// The instance these writes go to.
    pub(crate) fn instance(&self) -> &Arc<Instance> {
        &self.instance
    }

    /// The write policy.
    pub(crate) fn writes(&self) -> &LogWrites {
        &self.writes
    }
}

/// Everything before the append, for either write API: the cheap checks, a permit of the
/// pool of checks, the bounded body read, then `check` (parse, policy, signatures) on the
/// blocking pool. Gives the canonicalized body to append, or the refusal to answer.
pub(crate) async fn checked_body(
    w: &Arc<WriteState>,
    req: Request,
    check: fn(&WriteState, Vec<u8>) -> Result<Vec<u8>, WriteRefusal>,
) -> Result<Vec<u8>, Response> {
    let (parts, body) = req.into_parts();
    w.admit(&parts).map_err(|r| refused(&r))?;
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let Ok(permit) = Arc::clone(&w.checks).acquire_owned().await else {
        return Err(internal("entry checks", "the pool of checks is closed"));
    };
    let Some(bytes) = read_limited(body, MAX_ENTRY_REQUEST_BYTES, declared).await else {
        return Err(refused(&too_large()));
    };
    let w2 = Arc::clone(w);
    let checked = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        check(&w2, bytes)
    })
    .await;
    match checked {
        Ok(Ok(b)) => Ok(b),
        Ok(Err(r)) => Err(refused(&r)),
        Err(e) => Err(internal("checking the entry", e)),
    }
}

fn too_large() -> WriteRefusal {
    WriteRefusal::TooLarge {
        limit: MAX_ENTRY_REQUEST_BYTES,
    }
}

pub(crate) fn refused(r: &WriteRefusal) -> Response {
    let mut resp = error(r.status(), r.to_string());
    if let WriteRefusal::RateLimited {
        retry_after_secs, ..
    } = r
        && let Ok(v) = retry_after_secs.to_string().parse()
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

/// Reads at most `limit` bytes of `body`; `None` past the limit or on a read error.
async fn read_limited(body: Body, limit: usize, declared: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(declared.min(limit));
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.ok()?;
        if out.len() + chunk.len() > limit {
            return None;
        }
        out.extend_from_slice(&chunk);
    }
    Some(out)
}

/// What a failed append answers.
pub(crate) fn append_failed(e: &hallmark_tlog::Error) -> Response {
    if e.is_storage_full() {
        eprintln!("hallmark instance: log append failed, storage full: {e}");
        return error(
            StatusCode::INSUFFICIENT_STORAGE,
            "the transparency log's storage is full: the entry was not logged; retry once space has been freed",
        );
    }
    match e {
        hallmark_tlog::Error::InvalidEntry(m) => error(StatusCode::BAD_REQUEST, m.clone()),
        hallmark_tlog::Error::Stopped(_) => {
            eprintln!("hallmark instance: log append failed: {e}");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the transparency log is not accepting entries now: retry later",
            )
        }
        _ => internal("appending to the log", e),
    }
}

pub(crate) async fn create_entry(State(w): State<Arc<WriteState>>, req: Request) -> Response {
    let entry_body = match checked_body(&w, req, WriteState::check).await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let i = &w.instance;
    let appended = match i.append_async(entry_body.clone()).await {
        Ok(a) => a,
        Err(e) => return append_failed(&e),
    };
    let set = match appended.sign_set(&i.log_key, &i.log_cfg, &entry_body) {
        Ok(s) => s,
        Err(e) => return internal("signing the entry timestamp", e),
    };
    let proof = EntryProof {
        body: &entry_body,
        index: appended.index,
        integrated_time: appended.integrated_time,
        log_id: i.log_id(),
        set: &set,
        proof: &appended.proof,
        checkpoint: &appended.checkpoint,
    };
    (
        StatusCode::CREATED,
        Json(proof.rekor_v1_entry(i.log_cfg.tree_id)),
    )
        .into_response()
}
