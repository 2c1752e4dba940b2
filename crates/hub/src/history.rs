//! History and path lookups as `huggingface_hub` reads them.
//!
//! ```text
//! GET  /api/models/{owner}/{name}/commits/{rev}      list_repo_commits (Link pagination)
//! POST /api/models/{owner}/{name}/paths-info/{rev}   get_paths_info (form or JSON `paths`)
//! ```
//!
//! Every commit carries the hub's record of its signature under `hallmark.signature`
//! (status, method, identity, issuer, log index) and its scan verdict: the client's
//! `GitCommitInfo` keeps only the git fields, the raw JSON has both.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use hallmark_store::{Revision, ScanVerdict};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::access::{Auth, repo_for, revision_for};
use crate::authz::Action;
use crate::error::{ApiError, ApiResult};
use crate::hfapi::tree_file;
use crate::names::url_path;
use crate::signer::served;
use crate::state::AppState;
use crate::time::rfc3339;

/// Commits per page of `commits/{rev}`.
pub const COMMITS_PAGE: usize = 100;
/// Most revisions of a repo the history walks (the store's cap on one listing).
pub const MAX_HISTORY: u32 = 10_000;
/// Most paths one `paths-info` request may ask about.
pub const MAX_PATHS: usize = 1000;

/// Query of the commits endpoint.
#[derive(Debug, Default, Deserialize)]
pub struct CommitsQuery {
    /// Offset into the history (pagination cursor).
    #[serde(default)]
    pub cursor: Option<usize>,
    /// `expand[]=formatted`: add HTML-escaped title and message.
    #[serde(default, rename = "expand[]")]
    pub expand: Option<String>,
}

fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One commit as `list_repo_commits` reads it, plus `hallmark`.
#[must_use]
pub fn commit_json(rev: &Revision, formatted: bool) -> Value {
    let (title, message) = match rev.summary.split_once('\n') {
        Some((t, m)) => (t.trim_end(), m.trim()),
        None => (rev.summary.as_str(), ""),
    };
    let s = &rev.signature;
    let mut v = json!({
        "id": rev.commit,
        "authors": [{ "user": rev.uploader, "avatar": null }],
        "date": rfc3339(rev.created_at),
        "title": title,
        "message": message,
        "hallmark": {
            "signature": {
                "status": crate::incident::apply::status(rev), "method": s.method, "identity": s.identity,
                "issuer": s.issuer, "log_index": s.log_index,
                "identity_changed_from": rev.identity_changed_from,
            },
            "scan": rev.scan_verdict.unwrap_or(ScanVerdict::Unverified),
            "parent": rev.parent,
        },
    });
    if formatted {
        v["formatted"] = json!({ "title": escape_html(title), "message": escape_html(message) });
    }
    v
}

/// The history of `head`: it and its ancestors, newest first (within the repo's newest
/// [`MAX_HISTORY`] revisions).
async fn history(state: &AppState, repo_id: i64, head: Revision) -> ApiResult<Vec<Revision>> {
    let all = state.meta.revisions(repo_id, MAX_HISTORY).await?;
    let mut by_id: HashMap<String, Revision> =
        all.into_iter().map(|r| (r.commit.clone(), r)).collect();
    let mut out = Vec::new();
    let mut next = head.parent.clone();
    out.push(head);
    while let Some(c) = next {
        // Removing as we go also ends a (corrupt) cycle.
        let Some(r) = by_id.remove(&c) else { break };
        next = r.parent.clone();
        out.push(r);
    }
    Ok(out)
}

/// `GET /api/models/{owner}/{name}/commits/{*rev}`
///
/// # Errors
/// `RepoNotFound`, `RevisionNotFound`.
pub async fn commits(
    State(state): State<AppState>,
    auth: Auth,
    Path((owner, name, rev_s)): Path<(String, String, String)>,
    Query(q): Query<CommitsQuery>,
) -> ApiResult<Response> {
    let repo = repo_for(&state, &auth, &owner, &name, Action::ReadRepo).await?;
    let head = revision_for(&state, &repo, &rev_s).await?;
    let commit = head.commit.clone();
    let revs = history(&state, repo.id, head).await?;
    let formatted = q.expand.as_deref() == Some("formatted");
    let start = q.cursor.unwrap_or(0).min(revs.len());
    let end = (start + COMMITS_PAGE).min(revs.len());
    let page: Vec<Value> = revs[start..end]
        .iter()
        .map(|r| commit_json(r, formatted))
        .collect();
    let mut resp = Json(page).into_response();
    if end < revs.len() {
        let expand = if formatted { "&expand[]=formatted" } else { "" };
        let next = format!(
            "<{}/api/models/{}/commits/{commit}?cursor={end}{expand}>; rel=\"next\"",
            state.config.public_url,
            url_path(&repo.full_name()),
        );
        if let Ok(v) = HeaderValue::from_str(&next) {
            resp.headers_mut().insert(header::LINK, v);
        }
    }
    Ok(resp)
}

/// The paths of a `paths-info` body: JSON `{"paths": [...]}` or a form with repeated
/// `paths=` fields (what `huggingface_hub` sends).
fn requested_paths(headers: &HeaderMap, body: &[u8]) -> ApiResult<Vec<String>> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let paths: Vec<String> = if json {
        #[derive(Deserialize)]
        struct Body {
            paths: Vec<String>,
        }
        serde_json::from_slice::<Body>(body)
            .map_err(|e| ApiError::bad_request(format!("paths-info body: {e}")))?
            .paths
    } else {
        let text = std::str::from_utf8(body)
            .map_err(|_| ApiError::bad_request("paths-info form is not UTF-8"))?;
        let mut out = Vec::new();
        for pair in text.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            if k == "paths" || k == "paths%5B%5D" || k == "paths[]" {
                let v = v.replace('+', " ");
                let v = percent_encoding::percent_decode_str(&v)
                    .decode_utf8()
                    .map_err(|_| ApiError::bad_request("a paths-info path is not UTF-8"))?;
                out.push(v.into_owned());
            }
        }
        out
    };
    if paths.len() > MAX_PATHS {
        return Err(ApiError::bad_request(format!(
            "paths-info asks about {} paths; at most {MAX_PATHS} per request",
            paths.len()
        )));
    }
    Ok(paths)
}

/// `POST /api/models/{owner}/{name}/paths-info/{*rev}`: the files and folders among
/// `paths` that exist at `rev` (others are left out, as the HF hub does).
///
/// # Errors
/// `RepoNotFound`, `RevisionNotFound`, 400 for a malformed body or too many paths.
pub async fn paths_info(
    State(state): State<AppState>,
    auth: Auth,
    Path((owner, name, rev_s)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let repo = repo_for(&state, &auth, &owner, &name, Action::ReadRepo).await?;
    let rev = revision_for(&state, &repo, &rev_s).await?;
    let wanted = requested_paths(&headers, &body)?;
    let files = crate::signer::served_files(state.meta.revision_files(repo.id, &rev.commit).await?);
    let mut out = Vec::new();
    for p in &wanted {
        let p = p.trim_matches('/');
        if p.is_empty() || !served(p) {
            continue;
        }
        if let Some(f) = files.iter().find(|f| f.path == p) {
            out.push(tree_file(f));
        } else {
            let dir = format!("{p}/");
            if files.iter().any(|f| f.path.starts_with(&dir)) {
                out.push(json!({ "type": "directory", "oid": "", "size": 0, "path": p }));
            }
        }
    }
    Ok(Json(Value::Array(out)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_paths() {
        let h = HeaderMap::new();
        let got = requested_paths(&h, b"paths=README.md&paths=sub%2Fa+b.bin&expand=False").unwrap();
        assert_eq!(got, ["README.md", "sub/a b.bin"]);
        let mut j = HeaderMap::new();
        j.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        assert_eq!(requested_paths(&j, br#"{"paths":["x"]}"#).unwrap(), ["x"]);
        assert!(requested_paths(&j, b"{").is_err());
        let many = "paths=a&".repeat(MAX_PATHS + 1);
        assert!(requested_paths(&h, many.as_bytes()).is_err());
    }

    #[test]
    fn escaping() {
        assert_eq!(escape_html("<b>&\"'"), "&lt;b&gt;&amp;&quot;&#39;");
    }
}
