//! Errors: [`HubError`] for the library, [`ApiError`] for HTTP responses in the
//! Hugging Face style (`X-Error-Code`, `X-Error-Message`, JSON `{"error": …}`).

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use hallmark_crypto::CryptoError;
use hallmark_format::FormatError;
use hallmark_instance::InstanceError;
use hallmark_signing::SignError;
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
    /// A manifest could not be signed.
    #[error("signing: {0}")]
    Sign(#[source] SignError),
    /// The hub's signing key could not be read.
    #[error("signing: {0}")]
    Key(#[source] CryptoError),
    /// A fresh signing key could not be made; `step` is `generation` or `export`.
    #[error("signing: key {step} failed")]
    KeyGeneration {
        /// The step that failed.
        step: &'static str,
    },
    /// A bundle the hub just produced could not be read back.
    #[error("signing: {0}")]
    Bundle(#[source] FormatError),
    /// The embedded Sigstore instance could not be opened.
    #[error("signing: {0}")]
    Instance(#[source] InstanceError),
    /// The transparency log's shared coordinator (PostgreSQL) failed.
    #[error("signing: {0}")]
    LogCoordinator(#[source] hallmark_tlog::Error),
    /// The database holds another log than the one this replica's key material is for.
    #[error(
        "signing: the database already holds the transparency log {held:?}, but this replica's key material ({key_dir}) is for the log {origin:?}: copy the sigstore/ directory of a running replica into {data_dir} before starting this one (docs/deploy.md)"
    )]
    ForeignLog {
        /// The log origins the database holds, comma-separated.
        held: String,
        /// This replica's log key directory.
        key_dir: String,
        /// This replica's log origin.
        origin: String,
        /// This replica's data directory.
        data_dir: String,
    },
    /// A password could not be hashed.
    #[error("password hashing failed: {0}")]
    PasswordHash(#[source] argon2::password_hash::Error),
    /// The system random number generator failed.
    #[error("random number generator failed")]
    Random,
    /// A name, path or argument was refused.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// Every password-hashing slot stayed taken for `waited` (the hub is overloaded).
    #[error("busy: no password-hashing slot free within {} s", waited.as_secs())]
    Busy {
        /// How long the request waited.
        waited: std::time::Duration,
    },
    /// An operator command named a data directory or database that holds no hub.
    #[error(
        "{where_} holds no hub ({why}): pass --data-dir DIR (or set HALLMARK_HUB_DATA) to the data directory `hallmark hub serve` uses, or --database URL (HALLMARK_HUB_DATABASE) for a PostgreSQL hub; only `hub serve` creates a hub"
    )]
    NoHub {
        /// The directory or database.
        where_: String,
        /// What is missing.
        why: &'static str,
    },
    /// A background task panicked or was cancelled.
    #[error("background task failed: {0}")]
    Task(#[source] tokio::task::JoinError),
}

/// Why a name, path or operator request was refused (answered with 400; file paths 422).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The owner refuses uploads the scanner judges this bad (422, nothing stored).
    #[error(
        "refused by {owner}'s scan policy: {path} is {verdict} ({rule}: {message}); nothing was \
         signed, logged or stored as a revision"
    )]
    ScanVerdict {
        /// The repo owner whose setting refused it.
        owner: String,
        /// The revision's verdict.
        verdict: &'static str,
        /// The file of the first finding at or above the refused verdict.
        path: String,
        /// Its rule id.
        rule: String,
        /// What the scanner saw.
        message: String,
    },
    /// An account (user or organisation) name breaks the naming rule.
    #[error(
        "invalid name {0:?}: use 1-39 letters, digits, '-', '_' or '.', starting with a letter or digit"
    )]
    AccountName(String),
    /// An account name is reserved for the hub's own routes.
    #[error("the name {0:?} is reserved")]
    ReservedName(String),
    /// A repository name breaks the naming rule.
    #[error("invalid repo name {0:?}: use 1-96 letters, digits, '-', '_' or '.'")]
    RepoName(String),
    /// An uploaded file path is not acceptable.
    #[error("file path {path:?} refused: {why}")]
    FilePath {
        /// The path as given.
        path: String,
        /// The rule it breaks.
        why: PathRefusal,
    },
    /// Two file paths of one revision cannot both exist on a user's disk.
    #[error("file path {path:?} refused: {why} {other:?}")]
    PathConflict {
        /// The path refused.
        path: String,
        /// The path of the same revision it conflicts with.
        other: String,
        /// [`PathRefusal::SameName`] or [`PathRefusal::FileAndDirectory`].
        why: PathRefusal,
    },
    /// A stored file digest is not 64 hex digits.
    #[error("bad stored digest for {0}")]
    StoredDigest(String),
    /// A stored file path is not a valid manifest resource name.
    #[error(transparent)]
    ResourceName(FormatError),
    /// The named account is an organisation where a user was needed.
    #[error("{0} is an organisation, not a user")]
    NotAUser(String),
    /// No user has this name.
    #[error("no user named {0}")]
    NoSuchUser(String),
    /// No organisation has this name.
    #[error("no organisation named {0}")]
    NoSuchOrg(String),
    /// A new password is shorter than 8 characters.
    #[error("passwords need at least 8 characters")]
    ShortPassword,
    /// The user is disabled: nothing is signed for them (answered 403).
    #[error("user {0} is disabled by the hub's operator")]
    UserDisabled(String),
    /// No repository has this name.
    #[error("no repository named {0}")]
    NoSuchRepo(String),
    /// A token lifetime of zero days.
    #[error("a token lifetime needs at least 1 day (or none: never expires)")]
    ZeroLifetime,
    /// The user has no live token with this id.
    #[error("{user} has no live token #{id}")]
    NoSuchToken {
        /// The user's name.
        user: String,
        /// The token id.
        id: i64,
    },
}

/// The rule an uploaded file path breaks (see `names::check_file_path` and
/// `names::check_revision_paths`). Reserved names match in any letter case and with
/// trailing dots or spaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PathRefusal {
    /// Empty, or longer than 1024 bytes.
    #[error("empty or longer than 1024 bytes")]
    Length,
    /// Starts with `/`.
    #[error("absolute path")]
    Absolute,
    /// Holds a backslash or a control character.
    #[error("backslash or control character")]
    Character,
    /// Holds an invisible or bidirectional-control character (category Cf, or another
    /// default-ignorable code point such as a variation selector).
    #[error("invisible or bidirectional-control character U+{:04X}", u32::from(*.0))]
    Invisible(char),
    /// Holds whitespace other than U+0020 (no-break, wide, line or paragraph separators).
    #[error("whitespace other than a plain space: U+{:04X}", u32::from(*.0))]
    Whitespace(char),
    /// Holds a private-use, unassigned or non-character code point.
    #[error("private-use or unassigned code point U+{:04X}", u32::from(*.0))]
    Unassigned(char),
    /// Is not in Unicode normalization form C.
    #[error(
        "not in Unicode NFC: the signature covers the exact bytes of each name, so the hub takes only the NFC spelling"
    )]
    NotNfc,
    /// Has an empty, `.` or `..` component.
    #[error("empty, '.' or '..' component")]
    Component,
    /// Has a component longer than 255 bytes.
    #[error("component longer than 255 bytes")]
    ComponentLength,
    /// Is, or is under, the signature file the hub writes itself.
    #[error("model.sig is written by the hub (no top-level name may spell it in any case)")]
    SignatureFile,
    /// Is git metadata (`.git` at any depth).
    #[error("git metadata (.git at any depth, any case) is not model content")]
    GitMetadata,
    /// Is a top-level git file `model_signing` leaves out of signatures by default.
    #[error(
        "top-level .gitattributes, .gitignore and .github are left out of every model_signing signature (stock `model_signing verify` skips them), so the hub does not store them"
    )]
    Unsigned,
    /// Is under the top-level `.cache` where download tools keep their metadata.
    #[error(
        "top-level .cache holds download tools' metadata and the hub's verify command skips it"
    )]
    DownloadCache,
    /// Differs from another path of the revision only in case or trailing dots/spaces.
    #[error("case-insensitive file systems store it as the same file as")]
    SameName,
    /// Needs a directory where the revision has a file.
    #[error("it needs a directory where the revision has the file")]
    FileAndDirectory,
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
            HubError::Refused(r @ Refusal::UserDisabled(_)) => Self::forbidden(r.to_string()),
            HubError::Refused(
                r @ (Refusal::NoSuchUser(_) | Refusal::NoSuchOrg(_) | Refusal::NoSuchRepo(_)),
            ) => Self::new(StatusCode::NOT_FOUND, r.to_string()),
            e @ HubError::Refused(
                Refusal::FilePath { .. }
                | Refusal::PathConflict { .. }
                | Refusal::ScanVerdict { .. },
            ) => Self::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
            e @ (HubError::Refused(_) | HubError::PasswordHash(_)) => {
                Self::bad_request(e.to_string())
            }
            e @ HubError::Busy { .. } => Self::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
            HubError::Sign(SignError::Keyless(e))
                if e.downcast_ref::<hallmark_tlog::Error>()
                    .is_some_and(hallmark_tlog::Error::is_storage_full) =>
            {
                eprintln!("hallmark hub: signing refused: {e}");
                Self::new(
                    StatusCode::INSUFFICIENT_STORAGE,
                    "the transparency log's storage is full: nothing was signed or logged; try again later",
                )
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_answer_400_or_422_with_their_message() {
        let api = ApiError::from(HubError::from(Refusal::NoSuchToken {
            user: "bob".into(),
            id: 7,
        }));
        assert_eq!(api.status, StatusCode::BAD_REQUEST);
        assert_eq!(api.message, "bob has no live token #7");
        let api = ApiError::from(HubError::from(Refusal::FilePath {
            path: "/x".into(),
            why: PathRefusal::Absolute,
        }));
        assert_eq!(api.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(api.message, "file path \"/x\" refused: absolute path");
        let api = ApiError::from(HubError::Random);
        assert_eq!(api.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(api.message, "internal error");
    }
}
