//! Incident-response queries (issue 20 §1), answered from the hub's own records, each
//! result citing the log entry of the claim that answers it:
//!
//! ```text
//! GET /api/query/signatures?identity=ID|identity_regex=RE&issuer=URL&since=T&until=T&limit=N
//!   → [{repo, revision, kind, identity, issuer, log_index, integrated_time}]
//! GET /api/query/revisions?dataset=D|base_model=M|training_commit=C|builder=B|sha256=H|rule=R
//!     [&direct=true][&limit=N]
//!   → [{repo, revision, match, value, depth, via, claim, identity, issuer, log_index,
//!       integrated_time, revision_log_index}]
//! ```
//!
//! `log_index` is the cited claim's entry (a BOM signed by a key the owner does not
//! trust is not logged: null), `revision_log_index` the revision's hub signature's.
//! Times are RFC 3339. Identities match exactly, or against an anchored pattern compiled
//! under a size budget ([`engine::identity_pattern`]). Datasets, base models, commits and
//! builders come from the revisions' `bom` and `provenance` claims ([`refs`]); the answer
//! includes every revision fine-tuned from a matching one, transitively (`depth`, `via`),
//! unless `direct=true`. Only repos the caller may read are answered; nothing says
//! whether hidden ones matched. `hallmark hub query …` and the `/query` page ask the same.

pub mod engine;
pub mod refs;

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use hallmark_store::{ClaimRefKind, QueryHit, SignatureQuery, Visibility};
use serde::Deserialize;
use serde_json::{Value, json};

use self::engine::{DEFAULT_LIMIT, Found, QueryRefusal};
use crate::access::Auth;
use crate::authz::{Action, Resource};
use crate::error::ApiResult;
use crate::state::AppState;

/// The routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/query/signatures", get(signatures))
        .route("/api/query/revisions", get(revisions))
}

/// What `auth` may see.
#[must_use]
pub fn visibility(auth: &Auth) -> Visibility {
    let p = auth.0.subject.principal.as_ref();
    Visibility {
        viewer: p.map(|p| p.id),
        admin: p.is_some_and(|p| p.admin),
    }
}

/// Parses an RFC 3339 time (or Unix seconds) into Unix seconds.
///
/// # Errors
/// [`QueryRefusal::Time`].
pub fn parse_time(field: &'static str, v: Option<&str>) -> Result<Option<i64>, QueryRefusal> {
    let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if let Ok(secs) = v.parse::<i64>() {
        return Ok(Some(secs));
    }
    v.parse::<jiff::Timestamp>()
        .map(|t| Some(t.as_second()))
        .map_err(|_| QueryRefusal::Time {
            field,
            value: v.chars().take(64).collect(),
        })
}

/// Query string of `/api/query/signatures`.
#[derive(Debug, Default, Deserialize)]
pub struct SignatureParams {
    /// Exact identity.
    pub identity: Option<String>,
    /// Identity pattern.
    pub identity_regex: Option<String>,
    /// Issuer.
    pub issuer: Option<String>,
    /// From (RFC 3339).
    pub since: Option<String>,
    /// Until (RFC 3339).
    pub until: Option<String>,
    /// Most rows.
    pub limit: Option<u32>,
}

/// Runs a signature query for `auth`.
///
/// # Errors
/// 400 ([`QueryRefusal`]); storage failures.
pub async fn find_signatures(
    state: &AppState,
    auth: &Auth,
    p: &SignatureParams,
) -> ApiResult<Vec<QueryHit>> {
    let nonempty = |v: &Option<String>| v.clone().filter(|v| !v.is_empty());
    let q = SignatureQuery {
        identities: nonempty(&p.identity).map(|i| vec![i]),
        issuer: nonempty(&p.issuer),
        since: parse_time("since", p.since.as_deref())?,
        until: parse_time("until", p.until.as_deref())?,
        limit: p.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, DEFAULT_LIMIT),
    };
    let pattern = match nonempty(&p.identity_regex) {
        Some(re) => Some(engine::identity_pattern(&re)?),
        None => None,
    };
    let hits = engine::signatures(&*state.meta, q, pattern.as_ref(), visibility(auth)).await?;
    Ok(visible(auth, hits, |h| h))
}

/// Keeps what `auth` may read (the store already filtered; this is the same rule again).
fn visible<T>(auth: &Auth, rows: Vec<T>, hit: impl Fn(&T) -> &QueryHit) -> Vec<T> {
    rows.into_iter()
        .filter(|r| {
            let h = hit(r);
            auth.can(
                Action::ReadRepo,
                &Resource::Repo {
                    owner_id: h.owner_id,
                    private: h.private,
                },
            )
        })
        .collect()
}

/// One signature as the API answers it.
#[must_use]
pub fn signature_json(h: &QueryHit) -> Value {
    json!({
        "repo": h.repo, "revision": h.revision, "kind": h.claim, "identity": h.identity,
        "issuer": h.issuer, "log_index": h.log_index, "integrated_time": h.integrated_time,
    })
}

async fn signatures(
    State(state): State<AppState>,
    auth: Auth,
    Query(p): Query<SignatureParams>,
) -> ApiResult<Json<Value>> {
    let hits = find_signatures(&state, &auth, &p).await?;
    Ok(Json(Value::Array(
        hits.iter().map(signature_json).collect(),
    )))
}

/// Query string of `/api/query/revisions`: exactly one selector.
#[derive(Debug, Default, Deserialize)]
pub struct RevisionParams {
    /// Dataset digest, purl or name.
    pub dataset: Option<String>,
    /// Base model purl, name or digest.
    pub base_model: Option<String>,
    /// Training-code commit.
    pub training_commit: Option<String>,
    /// Builder id.
    pub builder: Option<String>,
    /// A file's SHA-256.
    pub sha256: Option<String>,
    /// A scanner rule id.
    pub rule: Option<String>,
    /// Only revisions whose own claims match (no fine-tuned descendants).
    pub direct: Option<bool>,
    /// Most rows.
    pub limit: Option<u32>,
}

const SELECTORS: &str = "dataset, base_model, training_commit, builder, sha256, rule";

/// Runs a revision query for `auth`; returns the selector's name with the rows.
///
/// # Errors
/// 400 ([`QueryRefusal`]); storage failures.
pub async fn find_revisions(
    state: &AppState,
    auth: &Auth,
    p: &RevisionParams,
) -> ApiResult<(&'static str, Vec<Found>)> {
    let given: Vec<(&'static str, &String)> = [
        ("dataset", &p.dataset),
        ("base_model", &p.base_model),
        ("training_commit", &p.training_commit),
        ("builder", &p.builder),
        ("sha256", &p.sha256),
        ("rule", &p.rule),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_ref().filter(|v| !v.is_empty()).map(|v| (k, v)))
    .collect();
    let [(name, value)] = given[..] else {
        return Err(QueryRefusal::Selector {
            expected: SELECTORS,
        }
        .into());
    };
    let (vis, limit) = (
        visibility(auth),
        p.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, DEFAULT_LIMIT),
    );
    let meta = &*state.meta;
    let direct = |hits: Vec<QueryHit>| {
        hits.into_iter()
            .map(|hit| Found {
                hit,
                depth: 0,
                via: None,
            })
            .collect()
    };
    let found = match name {
        "sha256" => {
            let h = value.trim().to_ascii_lowercase();
            let h = h.strip_prefix("sha256:").unwrap_or(&h);
            direct(meta.query_file(h, vis, limit).await?)
        }
        "rule" => direct(meta.query_rule(value.trim(), vis, limit).await?),
        _ => {
            let kind = match name {
                "dataset" => ClaimRefKind::Dataset,
                "base_model" => ClaimRefKind::BaseModel,
                "training_commit" => ClaimRefKind::TrainingCommit,
                _ => ClaimRefKind::Builder,
            };
            let only = p.direct.unwrap_or(false);
            engine::closure(meta, kind, value, only, vis, limit).await?
        }
    };
    Ok((name, visible(auth, found, |f| &f.hit)))
}

/// One revision as the API answers it.
#[must_use]
pub fn revision_json(selector: &str, f: &Found) -> Value {
    let h = &f.hit;
    json!({
        "repo": h.repo, "revision": h.revision, "match": selector, "value": h.matched,
        "depth": f.depth, "via": f.via, "claim": h.claim, "identity": h.identity,
        "issuer": h.issuer, "log_index": h.log_index, "integrated_time": h.integrated_time,
        "revision_log_index": h.revision_log_index,
    })
}

async fn revisions(
    State(state): State<AppState>,
    auth: Auth,
    Query(p): Query<RevisionParams>,
) -> ApiResult<Json<Value>> {
    let (name, found) = find_revisions(&state, &auth, &p).await?;
    Ok(Json(Value::Array(
        found.iter().map(|f| revision_json(name, f)).collect(),
    )))
}
