//! Cross-site request forgery on the JSON API: a browser attaches the session cookie to any
//! request a foreign page makes (`SameSite=Lax` only stops it for some), so `/api` writes
//! (`POST`, `PUT`, `PATCH`, `DELETE`) authenticated by the cookie alone are refused with
//! 403. API clients (`huggingface_hub`, the CLI) send `Authorization: Bearer hm_…`; the UI's
//! forms post to their own paths, where the [`Authorized`](crate::ui::guard::Authorized)
//! guard checks the session's CSRF token.

use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::{SESSION_COOKIE, bearer, cookie};
use crate::error::ApiError;

/// Whether `method` changes state (everything but `GET`, `HEAD`, `OPTIONS`, `TRACE`).
#[must_use]
pub fn is_write(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// Middleware: refuses a write under `/api/` that carries the session cookie and no bearer
/// token.
pub(crate) async fn api_writes_need_bearer(req: Request, next: Next) -> Response {
    let h = req.headers();
    if req.uri().path().starts_with("/api/")
        && is_write(req.method())
        && bearer(h).is_none()
        && cookie(h, SESSION_COOKIE).is_some()
    {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "API writes need a bearer token (Authorization: Bearer hm_…); the browser session cookie is not accepted for them",
        )
        .into_response();
    }
    next.run(req).await
}
