//! The JSON error replies and request helpers the instance's routes share (a leaf of the
//! crate's import graph).

use axum::Json;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A JSON error body `{code, message}` with `status`.
pub(crate) fn error(status: StatusCode, msg: impl Into<String>) -> Response {
    (
        status,
        Json(json!({ "code": status.as_u16(), "message": msg.into() })),
    )
        .into_response()
}

/// A 500 with a generic message; the detail goes to the server's log only (it may name
/// server paths).
pub(crate) fn internal(what: &str, detail: impl std::fmt::Display) -> Response {
    eprintln!("hallmark instance: {what}: {detail}");
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("internal error: {what}"),
    )
}

/// The token of an `Authorization: Bearer …` header, if any.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}
