//! The file viewer (`/{owner}/{name}/blob/{rev}/{*path}`): a text file of a revision shown
//! escaped in the page (askama escapes it), up to [`MAX_VIEW`] bytes; binary or larger
//! files get their size, digest and a download link. Also the human-readable sizes the
//! model page shows.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;

use crate::access::{Auth, repo_for, revision_for};
use crate::authz::Action;
use crate::error::ApiError;
use crate::names::url_path;
use crate::signer::served;
use crate::state::AppState;
use crate::ui::page::{Nav, error_page, render};

/// Largest file shown inline.
pub(super) const MAX_VIEW: u64 = 512 * 1024;

/// `1536` → `1.5 KiB` (binary units, one decimal above bytes).
#[must_use]
pub(super) fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    #[allow(clippy::cast_precision_loss)]
    let mut v = bytes as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// Whether `bytes` are shown as text: UTF-8 without NUL bytes.
#[must_use]
pub(super) fn is_text(bytes: &[u8]) -> bool {
    !bytes.contains(&0) && std::str::from_utf8(bytes).is_ok()
}

#[derive(Template)]
#[template(path = "file.html")]
struct FilePage {
    nav: Nav,
    full_name: String,
    commit: String,
    path: String,
    size: String,
    sha256: String,
    download: String,
    /// The text, or why it is not shown.
    text: Result<String, String>,
}

pub(crate) async fn view(
    State(state): State<AppState>,
    auth: Auth,
    Path((owner, name, rev, path)): Path<(String, String, String, String)>,
) -> Response {
    match view_inner(&state, &auth, (&owner, &name), &rev, &path).await {
        Ok(r) => r,
        Err(e) => error_page(&auth, &e),
    }
}

async fn view_inner(
    state: &AppState,
    auth: &Auth,
    (owner, name): (&str, &str),
    rev: &str,
    path: &str,
) -> Result<Response, ApiError> {
    let repo = repo_for(state, auth, owner, name, Action::ReadRepo).await?;
    let rev = revision_for(state, &repo, rev).await?;
    let file = match state.meta.revision_file(repo.id, &rev.commit, path).await? {
        Some(f) if served(path) => f,
        _ => {
            return Err(ApiError::not_found(
                "EntryNotFound",
                format!("{path} does not exist at {}", rev.commit),
            ));
        }
    };
    let text = if file.size > MAX_VIEW {
        Err(format!(
            "{} is larger than the viewer shows ({}): download it instead.",
            human_size(file.size),
            human_size(MAX_VIEW)
        ))
    } else {
        crate::integrity::ensure_verified(state, &repo, &rev, &file).await?;
        let bytes = state.blobs.read_all(&file.sha256).await?;
        if is_text(&bytes) {
            Ok(String::from_utf8_lossy(&bytes).into_owned())
        } else {
            Err("binary file: download it instead.".to_owned())
        }
    };
    Ok(render(&FilePage {
        nav: Nav::of(auth),
        full_name: repo.full_name(),
        download: format!(
            "/{}/resolve/{}/{}",
            url_path(&repo.full_name()),
            rev.commit,
            url_path(path)
        ),
        commit: rev.commit,
        path: file.path,
        size: human_size(file.size),
        sha256: file.sha256,
        text,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(50 << 20), "50.0 MiB");
        assert_eq!(human_size(3 << 30), "3.0 GiB");
        assert_eq!(human_size(u64::MAX), "16.0 EiB");
    }

    #[test]
    fn text_or_binary() {
        assert!(is_text(b"hello\n"));
        assert!(!is_text(b"a\0b"));
        assert!(!is_text(&[0xff, 0xfe]));
    }
}
