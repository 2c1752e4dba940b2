//! Errors: [`HubError`] for the library, [`ApiError`] for HTTP responses in the
//! Hugging Face style (`X-Error-Code`, `X-Error-Message`, JSON `{"error": …}`).

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use hallmark_store::StoreError;
use thiserror::Error;

/// Library-level failures (start-up, signing, storage).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum HubError {
    /// Metadata or blob storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The data directory or a key file could not be used.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The path.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// Key material or a signature could not be produced or parsed.
    #[error("signing: {0}")]
    Signing(String),
    /// An invalid name, path or argument.
    #[error("{0}")]
    Invalid(String),
    /// A background task panicked or was cancelled.
    #[error("background task failed: {0}")]
    Task(String),
}

/// An HTTP error answer.
#[derive(Debug)]
pub struct ApiError {
    /// Status code.
    pub status: StatusCode,
    /// `X-Error-Code` (the names `huggingface_hub` maps to exceptions), if any.
    pub code: Option<&'static str>,
    /// Human message (never contains secrets).
    pub message: String,
}

impl ApiError {
    /// A plain error.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code: None,
            message: message.into(),
        }
    }
    /// 400.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    /// 403.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }
    /// 401 with `WWW-Authenticate` semantics; `RepoNotFound` for repo lookups, as the HF hub.
    pub fn unauthorized(code: Option<&'static str>, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            code,
            message: message.into(),
        }
    }
    /// 404 with an `X-Error-Code`.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            code: Some(code),
            message: message.into(),
        }
    }
    /// 409.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }
    /// 500; the detail goes to the log, not to the client.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        eprintln!("hallmark hub: internal error: {detail}");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(m) => Self::conflict(m),
            StoreError::NotFound(m) => Self::new(StatusCode::NOT_FOUND, m),
            StoreError::DigestMismatch { .. } => Self::bad_request(e.to_string()),
            StoreError::TooLarge { .. } => Self::new(StatusCode::PAYLOAD_TOO_LARGE, e.to_string()),
            other => Self::internal(other),
        }
    }
}

impl From<HubError> for ApiError {
    fn from(e: HubError) -> Self {
        match e {
            HubError::Store(s) => s.into(),
            HubError::Invalid(m) => Self::bad_request(m),
            other => Self::internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.message });
        let mut resp = (self.status, axum::Json(body)).into_response();
        let h = resp.headers_mut();
        if let Some(code) = self.code {
            h.insert("x-error-code", HeaderValue::from_static(code));
        }
        // Header values must be visible ASCII; drop anything else from the message.
        let clean: String = self
            .message
            .chars()
            .map(|c| {
                if c.is_ascii_graphic() || c == ' ' {
                    c
                } else {
                    '?'
                }
            })
            .take(300)
            .collect();
        if let Ok(v) = HeaderValue::from_str(&clean) {
            h.insert("x-error-message", v);
        }
        if self.status == StatusCode::UNAUTHORIZED {
            h.insert("www-authenticate", HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

/// Result for handlers.
pub type ApiResult<T> = Result<T, ApiError>;
