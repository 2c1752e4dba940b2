//! Incidents (issue 20 §2): an administrator revokes every revision signed by a
//! compromised identity or key, naming a poisoned dataset, or holding a file digest.
//!
//! ```text
//! POST /api/admin/incidents             {"identity"|"key"|"dataset"|"sha256": V, "issuer"?, "since"?: RFC 3339, "reason"}
//!                                       → 201 {"id", "log_index", "affected": [{repo, revision}]}
//! POST /api/admin/incidents/{id}/close  → {"id", "close_log_index", "restored": [{repo, revision}]}
//! GET  /api/admin/incidents[?open=true] → [{id, selector, value, …, affected}]
//! GET  /api/admin/incidents/{id}        → the incident with its revisions and both signed bundles
//! ```
//!
//! While an incident is open, the revisions it holds are `revoked`: the fifth signature
//! status, with `hallmark.signature.incident = {id, reason, opened_at}` in repo info
//! (what `huggingface_hub`'s `model_info` returns), the badge on the model page, and
//! `hallmark pull` / `hallmark verify --hub` refuse them unless `--allow-revoked`.
//! Revisions that come to match it later (a push by the revoked identity, a BOM naming
//! the dataset) are revoked as they are recorded ([`apply::rematch`]).
//!
//! Opening and closing are each an in-toto statement
//! ([`apply::INCIDENT_PREDICATE_TYPE`]) the hub signs and appends to its transparency
//! log, like its scan claims; each affected revision gets an audit entry and the
//! webhook, if configured, is told ([`notify`]). Admin bearer write tokens only.

pub mod apply;
pub mod notify;
pub mod webhook;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::routing::{get, post};
use hallmark_store::{Affected, Incident, IncidentSelector, NewIncident, StoreError};
use serde::Deserialize;
use serde_json::{Value, json};

use self::notify::{Event, incident_json};
use crate::adminapi::Admin;
use crate::error::{ApiError, ApiResult};
use crate::query::parse_time;
use crate::query::refs::normalise;

/// Longest reason (and selector value) accepted, in bytes.
pub const MAX_TEXT: usize = 1024;

/// The routes.
pub fn routes() -> Router<crate::state::AppState> {
    Router::new()
        .route("/api/admin/incidents", post(open).get(list))
        .route("/api/admin/incidents/{id}", get(show))
        .route("/api/admin/incidents/{id}/close", post(close))
}

/// Body of `POST /api/admin/incidents`: exactly one selector.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenRequest {
    /// A signer identity.
    pub identity: Option<String>,
    /// A signing key (as recorded: `hub key <fingerprint>`, a publisher key's label).
    pub key: Option<String>,
    /// A dataset digest, purl or name.
    pub dataset: Option<String>,
    /// A file's SHA-256.
    pub sha256: Option<String>,
    /// For identities: only this issuer.
    pub issuer: Option<String>,
    /// From (RFC 3339); default: the beginning.
    pub since: Option<String>,
    /// Why.
    pub reason: String,
}

impl OpenRequest {
    /// The incident it asks for, opened by `by`.
    ///
    /// # Errors
    /// 400 naming the field.
    pub fn incident(&self, by: &str) -> ApiResult<NewIncident> {
        let given: Vec<(IncidentSelector, &String)> = [
            (IncidentSelector::Identity, &self.identity),
            (IncidentSelector::Key, &self.key),
            (IncidentSelector::Dataset, &self.dataset),
            (IncidentSelector::Sha256, &self.sha256),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().filter(|v| !v.trim().is_empty()).map(|v| (k, v)))
        .collect();
        let [(selector, value)] = given[..] else {
            return Err(ApiError::bad_request(
                "pass exactly one of identity, key, dataset, sha256",
            ));
        };
        let reason = self.reason.trim();
        if reason.is_empty() || reason.len() > MAX_TEXT || value.len() > MAX_TEXT {
            return Err(ApiError::bad_request(format!(
                "reason (required) and {selector} must be 1 to {MAX_TEXT} bytes"
            )));
        }
        let value = match selector {
            IncidentSelector::Dataset => normalise(value),
            IncidentSelector::Sha256 => {
                let h = value.trim().to_ascii_lowercase();
                let h = h.strip_prefix("sha256:").unwrap_or(&h).to_owned();
                if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(ApiError::bad_request(
                        "sha256 must be 64 hex digits (optionally sha256:…)",
                    ));
                }
                h
            }
            IncidentSelector::Identity | IncidentSelector::Key => value.trim().to_owned(),
        };
        Ok(NewIncident {
            selector,
            value,
            issuer: self.issuer.clone().filter(|i| !i.is_empty()),
            since: parse_time("since", self.since.as_deref())?.unwrap_or(0),
            reason: reason.to_owned(),
            opened_by: by.to_owned(),
        })
    }
}

fn affected_json(a: &[Affected]) -> Value {
    Value::Array(
        a.iter()
            .map(|a| json!({ "repo": a.repo, "revision": a.revision }))
            .collect(),
    )
}

async fn open(admin: Admin, Json(req): Json<OpenRequest>) -> ApiResult<(StatusCode, Json<Value>)> {
    let state = &admin.state;
    let new = req.incident(&admin.actor)?;
    let incident = state.meta.create_incident(&new).await?;
    let opened = async {
        let now = apply::matching(state, &incident).await?;
        state.meta.add_incident_revisions(incident.id, &now).await?;
        apply::sign(state, &incident, false).await
    }
    .await;
    let log_index = match opened {
        Ok(i) => i,
        Err(e) => {
            // Nothing revoked without its signed, logged statement.
            let _ = state.meta.delete_incident(incident.id).await;
            return Err(e);
        }
    };
    let affected = state.meta.incident_revisions(incident.id).await?;
    let detail = format!(
        "{} {}: {} revisions: {}",
        new.selector,
        new.value,
        affected.len(),
        new.reason
    );
    admin
        .op()
        .record(
            "incident.open",
            &format!("incident/{}", incident.id),
            &detail,
        )
        .await?;
    notify::owners(state, &admin.actor, &incident, Event::Revoked, &affected).await;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": incident.id,
            "log_index": log_index,
            "affected": affected_json(&affected),
        })),
    ))
}

fn id_of(id: &str) -> ApiResult<i64> {
    id.parse()
        .map_err(|_| ApiError::not_found("IncidentNotFound", format!("no incident {id}")))
}

async fn close(admin: Admin, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let state = &admin.state;
    let id = id_of(&id)?;
    let closed = match state
        .meta
        .close_incident(id, &admin.actor, crate::time::now())
        .await
    {
        Ok(c) => c,
        Err(StoreError::NotFound(m)) => return Err(ApiError::not_found("IncidentNotFound", m)),
        Err(e) => return Err(e.into()),
    };
    let log_index = apply::sign(state, &closed, true).await?;
    let restored = state.meta.incident_revisions(id).await?;
    admin
        .op()
        .record(
            "incident.close",
            &format!("incident/{id}"),
            &format!("{} revisions restored", restored.len()),
        )
        .await?;
    notify::owners(state, &admin.actor, &closed, Event::Restored, &restored).await;
    Ok(Json(json!({
        "id": id,
        "close_log_index": log_index,
        "restored": affected_json(&restored),
    })))
}

/// Query of the incident list.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    /// Only open incidents.
    pub open: Option<bool>,
}

async fn full_json(admin: &Admin, i: &Incident, bundles: bool) -> ApiResult<Value> {
    let mut v = incident_json(i);
    v["affected"] = affected_json(&admin.state.meta.incident_revisions(i.id).await?);
    if bundles {
        let parse = |b: &Option<String>| {
            b.as_deref()
                .and_then(|b| serde_json::from_str::<Value>(b).ok())
        };
        v["bundle"] = parse(&i.bundle_json).unwrap_or(Value::Null);
        v["close_bundle"] = parse(&i.close_bundle_json).unwrap_or(Value::Null);
    }
    Ok(v)
}

async fn list(admin: Admin, Query(q): Query<ListQuery>) -> ApiResult<Json<Value>> {
    let all = admin
        .state
        .meta
        .incidents(q.open.unwrap_or(false), 1000)
        .await?;
    let mut out = Vec::with_capacity(all.len());
    for i in &all {
        out.push(full_json(&admin, i, false).await?);
    }
    Ok(Json(Value::Array(out)))
}

async fn show(admin: Admin, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id = id_of(&id)?;
    let Some(i) = admin.state.meta.incident(id).await? else {
        return Err(ApiError::not_found(
            "IncidentNotFound",
            format!("no incident {id}"),
        ));
    };
    Ok(Json(full_json(&admin, &i, true).await?))
}
