//! `POST /api/v1/timestamp`: the instance's RFC 3161 timestamp authority
//! ([`hallmark_ca::tsa`]), the time source of Rekor v2 bundles (which carry no SET).
//!
//! Bounds: the body is read up to [`MAX_TIMESTAMP_REQUEST_BYTES`] (413 past it, before
//! more is read); per-client rate as the log's writes ([`crate::LogWrites::rate`], its own
//! buckets: 429 with `Retry-After`); a malformed request answers 400 naming the field.
//! Issuing costs one ECDSA P-256 signature and is done inline (microseconds).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use hallmark_ca::TsaMaterial;
use hallmark_ca::tsa::{TimestampRequest, issue};

pub use hallmark_ca::tsa::MAX_TIMESTAMP_REQUEST_BYTES;

use crate::ratelimit::RateLimiter;
use crate::reply::{error, internal};
use crate::writes::{LogWrites, WriteRefusal};

/// The TSA's state: its key material and the per-client buckets.
pub(crate) struct TsaState {
    material: Arc<TsaMaterial>,
    limiter: Option<RateLimiter>,
}

impl TsaState {
    pub(crate) fn new(material: Arc<TsaMaterial>, writes: &LogWrites) -> Self {
        Self {
            material,
            limiter: writes.rate.map(RateLimiter::new),
        }
    }
}

pub(crate) async fn timestamp(State(t): State<Arc<TsaState>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if let Some(l) = &t.limiter
        && let Err(wait) = l.take(peer, Instant::now())
    {
        let rate = l.rate();
        let r = WriteRefusal::RateLimited {
            burst: rate.burst,
            per_minute: rate.per_minute,
            retry_after_secs: u64::try_from(wait.as_millis().div_ceil(1000))
                .unwrap_or(u64::MAX)
                .max(1),
        };
        return crate::entries::refused(&r);
    }
    let Ok(body) = axum::body::to_bytes(body, MAX_TIMESTAMP_REQUEST_BYTES).await else {
        return crate::entries::refused(&WriteRefusal::TooLarge {
            limit: MAX_TIMESTAMP_REQUEST_BYTES,
        });
    };
    let request = match TimestampRequest::parse(&body) {
        Ok(r) => r,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.to_string()),
    };
    match issue(&t.material, &request, SystemTime::now()) {
        Ok(der) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/timestamp-reply")],
            der,
        )
            .into_response(),
        Err(e) => internal("issuing a timestamp", e),
    }
}
