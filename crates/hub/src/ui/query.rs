//! The `/query` page (issue 20 §1): the incident-response queries as forms, answered by
//! the same functions as `/api/query/*` ([`crate::query::find_signatures`],
//! [`crate::query::find_revisions`]) for the same caller, so the page sees exactly what
//! the API would. Each row cites its log index (a link to the log entry with its
//! inclusion proof when the hub runs its own log) and the revision's status now, a
//! revoked one with its incident.
//!
//! ```text
//! GET /query?q=signatures&identity=ID[&regex=on]&issuer=URL&since=T&until=T
//! GET /query?q=revisions&by=dataset|base_model|training_commit|builder|sha256|rule&value=V[&direct=on]
//! ```

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use hallmark_store::QueryHit;
use serde::Deserialize;

use crate::access::Auth;
use crate::error::ApiResult;
use crate::query::{RevisionParams, SignatureParams, find_revisions, find_signatures};
use crate::state::AppState;
use crate::time::human;
use crate::ui::page::{Nav, render};

/// Most rows the page shows (the API answers up to its own limit).
pub(crate) const PAGE_ROWS: u32 = 200;

/// The revision selectors the form offers: value and label.
const SELECTORS: [(&str, &str); 6] = [
    ("dataset", "dataset (digest, purl or name)"),
    ("base_model", "base model"),
    ("training_commit", "training-code commit"),
    ("builder", "builder"),
    ("sha256", "file SHA-256"),
    ("rule", "scanner rule"),
];

/// The page's query string: both forms' fields; `q` says which was sent.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct QueryForm {
    #[serde(default)]
    q: String,
    #[serde(default)]
    identity: String,
    #[serde(default)]
    regex: Option<String>,
    #[serde(default)]
    issuer: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    by: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    direct: Option<String>,
}

/// One result row.
pub(crate) struct Row {
    repo: String,
    revision: String,
    short: String,
    claim: String,
    identity: String,
    issuer: String,
    time: String,
    log_index: String,
    log_href: Option<String>,
    revision_log_index: String,
    matched: String,
    depth: u32,
    via: String,
    status: String,
    incident: Option<String>,
}

#[derive(Template)]
#[template(path = "query.html")]
struct QueryPage<'a> {
    nav: Nav,
    f: &'a QueryForm,
    selectors: &'a [(&'a str, &'a str)],
    /// `signatures`, `revisions`, or empty (no query yet).
    mode: &'static str,
    rows: Vec<Row>,
    error: Option<String>,
    truncated: bool,
}

fn opt(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// Where the hub's log serves entry `i` with its inclusion proof: the embedded
/// instance's Rekor-style read API, beside its trust config (none without a log).
fn log_href(state: &AppState, i: Option<i64>) -> Option<String> {
    let tc = state.signer.trust_config_url()?;
    let base = tc.strip_suffix("/trust-config.json")?;
    i.map(|i| format!("{base}/api/v1/log/entries?logIndex={i}"))
}

fn dash<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".into(), |v| v.to_string())
}

/// The status now of each revision of `hits` (revoked ones with their incident).
async fn statuses(
    state: &AppState,
    hits: &[&QueryHit],
) -> ApiResult<HashMap<(i64, String), (String, Option<String>)>> {
    let mut out = HashMap::new();
    for h in hits {
        let key = (h.repo_id, h.revision.clone());
        if out.contains_key(&key) {
            continue;
        }
        let s = match state.meta.revision(h.repo_id, &h.revision).await? {
            Some(rev) => (
                crate::incident::apply::status(&rev).to_owned(),
                rev.revoked.as_ref().map(|r| {
                    format!(
                        "incident {} (opened {}): {}",
                        r.id,
                        human(r.opened_at),
                        r.reason
                    )
                }),
            ),
            None => ("unknown".to_owned(), None),
        };
        out.insert(key, s);
    }
    Ok(out)
}

fn row(state: &AppState, h: &QueryHit, status: Option<&(String, Option<String>)>) -> Row {
    let (status, incident) = status.cloned().unwrap_or_default();
    Row {
        repo: h.repo.clone(),
        short: h.revision.get(..12).unwrap_or(&h.revision).to_owned(),
        revision: h.revision.clone(),
        claim: dash(h.claim.as_ref()),
        identity: dash(h.identity.as_ref()),
        issuer: dash(h.issuer.as_ref()),
        time: dash(h.integrated_time.map(human)),
        log_index: dash(h.log_index),
        log_href: log_href(state, h.log_index),
        revision_log_index: dash(h.revision_log_index),
        matched: h.matched.clone(),
        depth: 0,
        via: String::new(),
        status,
        incident,
    }
}

/// Runs the query the form names: its mode and rows (at most [`PAGE_ROWS`] + 1).
async fn answer(
    state: &AppState,
    auth: &Auth,
    f: &QueryForm,
) -> ApiResult<(&'static str, Vec<Row>)> {
    let limit = Some(PAGE_ROWS + 1);
    match f.q.as_str() {
        "signatures" => {
            let regex = f.regex.is_some();
            let p = SignatureParams {
                identity: opt(&f.identity).filter(|_| !regex),
                identity_regex: opt(&f.identity).filter(|_| regex),
                issuer: opt(&f.issuer),
                since: opt(&f.since),
                until: opt(&f.until),
                limit,
            };
            let hits = find_signatures(state, auth, &p).await?;
            let st = statuses(state, &hits.iter().collect::<Vec<_>>()).await?;
            let rows = hits
                .iter()
                .map(|h| row(state, h, st.get(&(h.repo_id, h.revision.clone()))))
                .collect();
            Ok(("signatures", rows))
        }
        "revisions" => {
            let v = opt(&f.value);
            let pick = |name: &str| v.clone().filter(|_| f.by == name);
            let p = RevisionParams {
                dataset: pick("dataset"),
                base_model: pick("base_model"),
                training_commit: pick("training_commit"),
                builder: pick("builder"),
                sha256: pick("sha256"),
                rule: pick("rule"),
                direct: Some(f.direct.is_some()),
                limit,
            };
            let (_, found) = find_revisions(state, auth, &p).await?;
            let st = statuses(state, &found.iter().map(|x| &x.hit).collect::<Vec<_>>()).await?;
            let rows = found
                .iter()
                .map(|x| {
                    let h = &x.hit;
                    let mut r = row(state, h, st.get(&(h.repo_id, h.revision.clone())));
                    r.depth = x.depth;
                    r.via = x.via.clone().unwrap_or_default();
                    r
                })
                .collect();
            Ok(("revisions", rows))
        }
        _ => Ok(("", Vec::new())),
    }
}

/// `GET /query`: the forms, and the answer to the one sent.
pub(crate) async fn page(
    State(state): State<AppState>,
    auth: Auth,
    Query(f): Query<QueryForm>,
) -> Response {
    let (mode, mut rows, error, status) = match answer(&state, &auth, &f).await {
        Ok((mode, rows)) => (mode, rows, None, StatusCode::OK),
        Err(e) => ("", Vec::new(), Some(e.message), e.status),
    };
    let truncated = rows.len() > PAGE_ROWS as usize;
    rows.truncate(PAGE_ROWS as usize);
    let mut r = render(&QueryPage {
        nav: Nav::of(&auth),
        f: &f,
        selectors: &SELECTORS,
        mode,
        rows,
        error,
        truncated,
    });
    *r.status_mut() = status;
    r
}
