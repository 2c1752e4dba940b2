//! `HEAD|GET /{owner}/{name}/resolve/{rev}/{*path}`: file downloads as
//! `huggingface_hub` expects them — `X-Repo-Commit`, `X-Linked-Etag` (the SHA-256, so
//! client caches are shared with upstream), `X-Linked-Size`, `ETag`, single-range
//! `Range` requests (206/416), `If-None-Match` (304), and `X-Error-Code` on errors.

use std::ops::Range;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;

use crate::access::{Auth, repo_for, revision_for};
use crate::authz::Action;
use crate::error::{ApiError, ApiResult};
use crate::signer::served;
use crate::state::AppState;

/// The outcome of parsing a `Range` header against a size.
#[derive(Debug, PartialEq, Eq)]
pub enum RangeReq {
    /// No (usable) range: send everything.
    Full,
    /// One satisfiable range.
    Part(Range<u64>),
    /// Not satisfiable (416).
    Unsatisfiable,
}

/// Parses `bytes=a-b`, `bytes=a-`, `bytes=-n`. Multiple ranges and malformed headers
/// are ignored (the whole file is sent), as RFC 9110 permits.
#[must_use]
pub fn parse_range(h: Option<&str>, size: u64) -> RangeReq {
    let Some(spec) = h.and_then(|v| v.trim().strip_prefix("bytes=")) else {
        return RangeReq::Full;
    };
    if spec.contains(',') {
        return RangeReq::Full;
    }
    let Some((a, b)) = spec.split_once('-') else {
        return RangeReq::Full;
    };
    let (a, b) = (a.trim(), b.trim());
    let range = match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(start), Ok(end)) if start <= end => start..end.saturating_add(1).min(size),
        (Ok(_), Ok(_)) => return RangeReq::Full,
        (Ok(start), Err(_)) if b.is_empty() => start..size,
        (Err(_), Ok(n)) if a.is_empty() => {
            if n == 0 {
                return RangeReq::Unsatisfiable;
            }
            size.saturating_sub(n)..size
        }
        _ => return RangeReq::Full,
    };
    if range.start >= size {
        RangeReq::Unsatisfiable
    } else {
        RangeReq::Part(range)
    }
}

fn hv(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

/// The handler (GET and HEAD).
///
/// # Errors
/// `RepoNotFound` (401 anonymous / 404), `RevisionNotFound`, `EntryNotFound`, 416.
pub async fn resolve(
    State(state): State<AppState>,
    auth: Auth,
    method: Method,
    headers: HeaderMap,
    Path((owner, name, rev, path)): Path<(String, String, String, String)>,
) -> ApiResult<Response> {
    let repo = repo_for(&state, &auth, &owner, &name, Action::ReadRepo).await?;
    let rev = revision_for(&state, &repo, &rev).await?;
    if !served(&path) {
        return Err(ApiError::not_found(
            "EntryNotFound",
            format!(
                "{path} is not covered by the signature of {} and is not served",
                rev.commit
            ),
        ));
    }
    let Some(file) = state
        .meta
        .revision_file(repo.id, &rev.commit, &path)
        .await?
    else {
        return Err(ApiError::not_found(
            "EntryNotFound",
            format!("{path} does not exist at {}", rev.commit),
        ));
    };
    let etag = format!("\"{}\"", file.sha256);
    let mut h = HeaderMap::new();
    h.insert("x-repo-commit", hv(&rev.commit));
    h.insert("x-linked-etag", hv(&etag));
    h.insert("x-linked-size", hv(&file.size.to_string()));
    h.insert(header::ETAG, hv(&etag));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if repo.private {
            "private, max-age=0"
        } else {
            "public, max-age=0"
        }),
    );
    if let Some(inm) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        && inm
            .split(',')
            .any(|t| t.trim().trim_start_matches("W/") == etag)
    {
        return Ok((StatusCode::NOT_MODIFIED, h).into_response());
    }
    let range = parse_range(
        headers.get(header::RANGE).and_then(|v| v.to_str().ok()),
        file.size,
    );
    let (status, range) = match range {
        RangeReq::Full => (StatusCode::OK, None),
        RangeReq::Part(r) => {
            h.insert(
                header::CONTENT_RANGE,
                hv(&format!("bytes {}-{}/{}", r.start, r.end - 1, file.size)),
            );
            (StatusCode::PARTIAL_CONTENT, Some(r))
        }
        RangeReq::Unsatisfiable => {
            h.insert(header::CONTENT_RANGE, hv(&format!("bytes */{}", file.size)));
            return Ok((StatusCode::RANGE_NOT_SATISFIABLE, h).into_response());
        }
    };
    let len = range.as_ref().map_or(file.size, |r| r.end - r.start);
    h.insert(header::CONTENT_LENGTH, hv(&len.to_string()));
    if method == Method::HEAD || len == 0 {
        return Ok((status, h).into_response());
    }
    let body = if let Some(range) = range {
        crate::integrity::ensure_verified(&state, &repo, &rev, &file).await?;
        let stream = state.blobs.get(&file.sha256, Some(range)).await?;
        Body::from_stream(stream.map(|r| r.map_err(std::io::Error::other)))
    } else {
        Body::from_stream(crate::integrity::whole_file(&state, &repo, &rev, &file).await?)
    };
    Ok((status, h, body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range(None, 10), RangeReq::Full);
        assert_eq!(parse_range(Some("bytes=0-4"), 10), RangeReq::Part(0..5));
        assert_eq!(parse_range(Some("bytes=5-"), 10), RangeReq::Part(5..10));
        assert_eq!(parse_range(Some("bytes=-3"), 10), RangeReq::Part(7..10));
        assert_eq!(parse_range(Some("bytes=-30"), 10), RangeReq::Part(0..10));
        assert_eq!(parse_range(Some("bytes=8-100"), 10), RangeReq::Part(8..10));
        assert_eq!(parse_range(Some("bytes=10-"), 10), RangeReq::Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=-0"), 10), RangeReq::Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=5-2"), 10), RangeReq::Full);
        assert_eq!(parse_range(Some("bytes=0-1,3-4"), 10), RangeReq::Full);
        assert_eq!(parse_range(Some("items=0-1"), 10), RangeReq::Full);
        assert_eq!(parse_range(Some("bytes=0-0"), 0), RangeReq::Unsatisfiable);
    }
}
