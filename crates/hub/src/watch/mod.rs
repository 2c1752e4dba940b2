//! Organisation watch lists (issue 20 §3): which signers of the hub's transparency log
//! an organisation wants to hear about, and the alerts the hub's monitor ([`run`])
//! raised for them.
//!
//! ```text
//! GET /api/orgs/{org}/watch          → {"org", "rules": [...], "first_signer", "tree_size", "updated_by", "updated_at"}
//! PUT /api/orgs/{org}/watch          {"rules": [{"name"?, "identity"|"identity_regex", "issuer"|"issuer_regex"?, "expected_issuer"?}], "first_signer"?}
//! GET /api/orgs/{org}/watch/alerts[?before=ID&limit=N] → [{"id", "recorded_at", "alert", "log_index", …}]
//! ```
//!
//! The rules are those of `hallmark log monitor` (`hallmark_tlog::monitor::rules`), under
//! the limits of the query API ([`crate::query::engine::identity_pattern`]: patterns of
//! at most [`MAX_PATTERN`] bytes, anchored, compiled within its size budget) and at most
//! [`MAX_ORG_RULES`] rules. Reading needs a member (or a hub administrator): 401
//! anonymous, 404 for others; writing needs an owner (403 for other members) with a write
//! token, or the org page's CSRF-checked form, and is recorded in the audit log
//! (`org.watch`). `hallmark hub admin org watch` changes the same list.

pub mod alert;
pub mod run;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use hallmark_store::{Account, AccountKind, StoredAlert};
pub use hallmark_tlog::monitor::rules::WatchFile;
use hallmark_tlog::monitor::rules::{RuleError, WatchList};
use hallmark_tlog::monitor::seen::MonitorState;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::access::Auth;
use crate::admin::Operator;
use crate::error::{ApiError, ApiResult, HubError};
use crate::orgsettings::{OwnedOrg, member_org, owned_org};
use crate::query::engine::{MAX_PATTERN, QueryRefusal, identity_pattern};
use crate::state::AppState;
use crate::time::rfc3339;
use crate::ui::guard::{Authorized, CsrfForm};

/// Most rules in one organisation's watch list.
pub const MAX_ORG_RULES: usize = 64;
/// Most alerts one page of the API (and the org page) shows.
pub const ALERTS_PAGE: u32 = 100;

/// Why a watch list was refused (400).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum WatchRefusal {
    /// More than [`MAX_ORG_RULES`] rules.
    #[error("{0} rules, more than the limit of {MAX_ORG_RULES} per organisation")]
    TooManyRules(usize),
    /// A field longer than the query API's [`MAX_PATTERN`].
    #[error("rule {rule}: {field} is {len} bytes, more than the limit of {MAX_PATTERN}")]
    TooLong {
        /// Rule position.
        rule: usize,
        /// Field name.
        field: &'static str,
        /// Its length.
        len: usize,
    },
    /// A regex the query API would refuse.
    #[error("rule {rule}: {field}: {reason}")]
    Pattern {
        /// Rule position.
        rule: usize,
        /// Field name.
        field: &'static str,
        /// The query API's refusal.
        reason: QueryRefusal,
    },
    /// A rule the monitor refuses.
    #[error(transparent)]
    Rule(#[from] RuleError),
    /// The body is not a watch list.
    #[error("watch list JSON: {0}")]
    Json(String),
}

impl From<WatchRefusal> for ApiError {
    fn from(e: WatchRefusal) -> Self {
        Self::bad_request(e.to_string())
    }
}

/// Why a watch list was not set.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetWatchError {
    /// The list was refused.
    #[error(transparent)]
    Refused(#[from] WatchRefusal),
    /// An unknown org, storage.
    #[error(transparent)]
    Hub(#[from] HubError),
}

impl From<SetWatchError> for ApiError {
    fn from(e: SetWatchError) -> Self {
        match e {
            SetWatchError::Refused(r) => r.into(),
            SetWatchError::Hub(h) => h.into(),
        }
    }
}

/// Checks a watch list as an org owner sent it and compiles it.
///
/// # Errors
/// [`WatchRefusal`] naming the rule and field.
pub fn check(file: &WatchFile) -> Result<WatchList, WatchRefusal> {
    if file.rules.len() > MAX_ORG_RULES {
        return Err(WatchRefusal::TooManyRules(file.rules.len()));
    }
    for (rule, r) in file.rules.iter().enumerate() {
        let fields = [
            ("name", &r.name, false),
            ("identity", &r.identity, false),
            ("identity_regex", &r.identity_regex, true),
            ("issuer", &r.issuer, false),
            ("issuer_regex", &r.issuer_regex, true),
            ("expected_issuer", &r.expected_issuer, false),
        ];
        for (field, v, regex) in fields {
            let Some(v) = v else { continue };
            if v.len() > MAX_PATTERN {
                return Err(WatchRefusal::TooLong {
                    rule,
                    field,
                    len: v.len(),
                });
            }
            if regex {
                identity_pattern(v).map_err(|reason| WatchRefusal::Pattern {
                    rule,
                    field,
                    reason,
                })?;
            }
        }
    }
    Ok(WatchList::compile(file.clone())?)
}

/// Parses and checks a watch list's JSON text.
///
/// # Errors
/// [`WatchRefusal`].
pub fn parse(text: &str) -> Result<WatchFile, WatchRefusal> {
    let file: WatchFile =
        serde_json::from_str(text).map_err(|e| WatchRefusal::Json(e.to_string()))?;
    check(&file)?;
    Ok(file)
}

impl Operator<'_> {
    /// Sets `org`'s watch list (checked), recorded in the audit log.
    ///
    /// # Errors
    /// A refused list, an unknown org, storage.
    pub async fn set_watch(&self, org: &str, file: &WatchFile) -> Result<(), SetWatchError> {
        check(file)?;
        let org = self.org(org).await?;
        let text = serde_json::to_string(file).map_err(|e| WatchRefusal::Json(e.to_string()))?;
        self.meta
            .set_org_watch(org.id, &text, self.actor)
            .await
            .map_err(HubError::from)?;
        let detail = format!(
            "{} rules, first signer {}",
            file.rules.len(),
            if file.first_signer { "on" } else { "off" }
        );
        self.record("org.watch", &format!("org/{}", org.name), &detail)
            .await?;
        Ok(())
    }

    /// `org`'s watch list and monitor position as the API shows it.
    ///
    /// # Errors
    /// An unknown org, storage.
    pub async fn watch_json(&self, org: &str) -> Result<Value, HubError> {
        let org = self.org(org).await?;
        watch_json(self.meta, &org).await
    }
}

async fn watch_json(
    meta: &dyn hallmark_store::MetaStore,
    org: &Account,
) -> Result<Value, HubError> {
    let w = meta.org_watch(org.id).await?;
    let file = w
        .as_ref()
        .and_then(|w| serde_json::from_str::<WatchFile>(&w.rules_json).ok())
        .unwrap_or_default();
    let tree_size = w
        .as_ref()
        .and_then(|w| w.state_json.as_deref())
        .and_then(|s| MonitorState::from_json(s.as_bytes()).ok())
        .and_then(|s| s.checkpoint)
        .and_then(|c| c.lines().nth(1).and_then(|l| l.parse::<u64>().ok()));
    Ok(json!({
        "org": org.name,
        "rules": file.rules,
        "first_signer": file.first_signer,
        "tree_size": tree_size,
        "updated_by": w.as_ref().map(|w| w.updated_by.clone()),
        "updated_at": w.as_ref().map(|w| rfc3339(w.updated_at)),
    }))
}

/// `GET /api/orgs/{org}/watch`
///
/// # Errors
/// See [`member_org`].
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    Path(org): Path<String>,
) -> ApiResult<Json<Value>> {
    let (org, _) = member_org(&state, &auth, &org).await?;
    Ok(Json(watch_json(&*state.meta, &org).await?))
}

/// `PUT /api/orgs/{org}/watch`
///
/// # Errors
/// See [`owned_org`]; 400 for a refused list.
pub async fn put(
    State(state): State<AppState>,
    auth: Auth,
    Path(org): Path<String>,
    Json(file): Json<WatchFile>,
) -> ApiResult<Json<Value>> {
    let org = owned_org(&state, &auth, &org).await?;
    let actor = auth.principal()?.name.clone();
    Operator::new(&*state.meta, &actor)
        .set_watch(&org.name, &file)
        .await?;
    Ok(Json(watch_json(&*state.meta, &org).await?))
}

/// Query of the alert list.
#[derive(Debug, Default, Deserialize)]
pub struct AlertsQuery {
    /// Only alerts with ids below this (the next page).
    pub before: Option<i64>,
    /// At most this many (default and largest [`ALERTS_PAGE`]).
    pub limit: Option<u32>,
}

/// An alert as the API shows it: its JSON with the row id and recording time.
#[must_use]
pub fn alert_json(a: &StoredAlert) -> Value {
    let mut v = serde_json::from_str::<Value>(&a.alert_json).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.insert("id".into(), a.id.into());
        o.insert("recorded_at".into(), rfc3339(a.created_at).into());
    }
    v
}

/// `GET /api/orgs/{org}/watch/alerts`
///
/// # Errors
/// See [`member_org`].
pub async fn alerts(
    State(state): State<AppState>,
    auth: Auth,
    Path(org): Path<String>,
    Query(q): Query<AlertsQuery>,
) -> ApiResult<Json<Value>> {
    let (org, _) = member_org(&state, &auth, &org).await?;
    let limit = q.limit.unwrap_or(ALERTS_PAGE).clamp(1, ALERTS_PAGE);
    let rows = state.meta.monitor_alerts(org.id, q.before, limit).await?;
    Ok(Json(Value::Array(rows.iter().map(alert_json).collect())))
}

/// The watch section of an org page: for members, the alerts; for owners, the list too.
#[derive(Debug)]
pub struct WatchView {
    /// The list as JSON (owners only: the form's text).
    pub rules_json: Option<String>,
    /// The newest alerts.
    pub alerts: Vec<alert::AlertRow>,
}

/// The watch section of `org`'s page for the caller; `None` for non-members, users'
/// pages and on storage errors.
pub async fn for_page(state: &AppState, auth: &Auth, org: &Account) -> Option<WatchView> {
    if org.kind != AccountKind::Org {
        return None;
    }
    let (org, owner) = member_org(state, auth, &org.name).await.ok()?;
    let rows = state
        .meta
        .monitor_alerts(org.id, None, ALERTS_PAGE)
        .await
        .ok()?;
    let rules_json = if owner {
        let w = state.meta.org_watch(org.id).await.ok()?;
        let file = w
            .and_then(|w| serde_json::from_str::<WatchFile>(&w.rules_json).ok())
            .unwrap_or_default();
        Some(serde_json::to_string_pretty(&file).unwrap_or_default())
    } else {
        None
    };
    Some(WatchView {
        rules_json,
        alerts: rows.iter().map(alert::row).collect(),
    })
}

/// The watch form of the org page.
#[derive(Debug, Deserialize)]
pub struct WatchForm {
    csrf: String,
    rules: String,
}

impl CsrfForm for WatchForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /settings/orgs/{org}/watch` (the org page's form; CSRF token and ownership
/// checked by [`Authorized`]).
pub async fn ui_set(State(state): State<AppState>, g: Authorized<OwnedOrg, WatchForm>) -> Response {
    let actor = g.actor();
    let OwnedOrg(org) = g.target;
    let set = async {
        let file = parse(&g.form.rules)?;
        Operator::new(&*state.meta, &actor)
            .set_watch(&org.name, &file)
            .await
    };
    match set.await.map_err(ApiError::from) {
        Ok(()) => Redirect::to(&format!("/{}", org.name)).into_response(),
        Err(e) => crate::ui::message(&g.auth, e.status, "Error", &e.message),
    }
}
