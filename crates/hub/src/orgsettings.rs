//! An organisation's settings, for its owners ([`Action::ManageOrg`]): today the scan
//! verdict from which uploads to its repos are refused (issue 16 §1), the same setting
//! `hallmark hub admin org set ORG --refuse-scan` changes.
//!
//! ```text
//! GET /api/orgs/{org}/settings   → {"org", "refuse_scan": "dangerous"|"suspicious"|"unverified"|null}
//! PUT /api/orgs/{org}/settings   {"refuse_scan": "dangerous"|"suspicious"|"unverified"|"off"}
//! ```
//!
//! Both need an owner of the organisation (bearer token; writes need a write token, see
//! [`crate::csrf`]): 401 anonymous, 404 for an unknown organisation or one the caller is
//! not a member of (its existence is not revealed), 403 for members who are not owners.
//! The org page posts the same change through a CSRF-checked form ([`OwnedOrg`]). Each
//! change is recorded in the operator audit log (`org.set`) under the owner's name.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use hallmark_store::{Account, AccountKind, ScanVerdict};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::access::Auth;
use crate::admin::Operator;
use crate::authz::{Action, Resource};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::ui::guard::{Authorized, CsrfForm, Target};

/// The refusal levels an owner can choose (`off`: refuse nothing).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RefuseScan {
    /// Refuse dangerous uploads.
    Dangerous,
    /// Refuse suspicious and dangerous ones.
    Suspicious,
    /// Refuse anything not found clean.
    Unverified,
    /// Refuse nothing.
    Off,
}

impl RefuseScan {
    fn verdict(self) -> Option<ScanVerdict> {
        match self {
            Self::Dangerous => Some(ScanVerdict::Dangerous),
            Self::Suspicious => Some(ScanVerdict::Suspicious),
            Self::Unverified => Some(ScanVerdict::Unverified),
            Self::Off => None,
        }
    }
}

/// Body of `PUT /api/orgs/{org}/settings`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgSettings {
    /// The new refusal level.
    pub refuse_scan: RefuseScan,
}

/// The organisation `name` if the caller owns it.
///
/// # Errors
/// 401 anonymous, 404 unknown or not a member, 403 a member who is not an owner.
pub async fn owned_org(state: &AppState, auth: &Auth, name: &str) -> ApiResult<Account> {
    let (org, owner) = member_org(state, auth, name).await?;
    if !owner {
        return Err(ApiError::forbidden(format!(
            "only owners of {} may change its settings",
            org.name
        )));
    }
    Ok(org)
}

/// The organisation `name` if the caller is a member (or a hub administrator), and
/// whether they may manage it.
///
/// # Errors
/// 401 anonymous, 404 unknown or not a member (its existence is not revealed).
pub async fn member_org(state: &AppState, auth: &Auth, name: &str) -> ApiResult<(Account, bool)> {
    auth.principal()?;
    let not_found = || ApiError::not_found("OrgNotFound", format!("no organisation named {name}"));
    let org = match state.meta.account(name).await? {
        Some(a) if a.kind == AccountKind::Org => a,
        _ => return Err(not_found()),
    };
    let is_admin = auth.0.subject.principal.as_ref().is_some_and(|p| p.admin);
    if auth.0.subject.role_in(org.id).is_none() && !is_admin {
        return Err(not_found());
    }
    let ns = Resource::Namespace {
        id: org.id,
        kind: AccountKind::Org,
    };
    let owner = auth.can(Action::ManageOrg, &ns);
    Ok((org, owner))
}

/// The refusal choices of `org`'s page (value, label, whether it is the current one) when
/// the caller owns it; empty for anyone else, users' pages and on storage errors.
pub async fn refusal_for_owner(
    state: &AppState,
    auth: &Auth,
    org: &Account,
) -> Vec<(&'static str, &'static str, bool)> {
    let ns = Resource::Namespace {
        id: org.id,
        kind: AccountKind::Org,
    };
    if org.kind != AccountKind::Org || !auth.can(Action::ManageOrg, &ns) {
        return Vec::new();
    }
    let Ok(from) = state.meta.scan_refusal(org.id).await else {
        return Vec::new();
    };
    let now = from.map_or("off", ScanVerdict::as_str);
    [
        ("off", "nothing refused"),
        ("dangerous", "dangerous"),
        ("suspicious", "suspicious or worse"),
        ("unverified", "anything not clean"),
    ]
    .into_iter()
    .map(|(v, label)| (v, label, v == now))
    .collect()
}

async fn settings_json(state: &AppState, org: &Account) -> ApiResult<Json<Value>> {
    let from = state.meta.scan_refusal(org.id).await?;
    Ok(Json(json!({
        "org": org.name,
        "refuse_scan": from.map(ScanVerdict::as_str),
    })))
}

/// Sets `org`'s refusal level as `actor` (authorized already), recorded in the audit log.
///
/// # Errors
/// Storage failure.
pub async fn set_refuse_scan(
    state: &AppState,
    actor: &str,
    org: &Account,
    level: RefuseScan,
) -> ApiResult<()> {
    Operator::new(&*state.meta, actor)
        .set_scan_refusal(&org.name, level.verdict())
        .await?;
    Ok(())
}

/// `GET /api/orgs/{org}/settings`
///
/// # Errors
/// See [`owned_org`].
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    Path(org): Path<String>,
) -> ApiResult<Json<Value>> {
    let org = owned_org(&state, &auth, &org).await?;
    settings_json(&state, &org).await
}

/// `PUT /api/orgs/{org}/settings`
///
/// # Errors
/// See [`owned_org`]; 422 for an unknown level.
pub async fn put(
    State(state): State<AppState>,
    auth: Auth,
    Path(org): Path<String>,
    Json(body): Json<OrgSettings>,
) -> ApiResult<Json<Value>> {
    let org = owned_org(&state, &auth, &org).await?;
    let actor = auth.principal()?.name.clone();
    set_refuse_scan(&state, &actor, &org, body.refuse_scan).await?;
    settings_json(&state, &org).await
}

/// The organisation `/{org}` whose settings the caller (an owner) may change: the target of
/// the org page's settings form.
#[derive(Debug)]
pub struct OwnedOrg(pub Account);

impl Target for OwnedOrg {
    type Params = Path<String>;

    async fn authorize(
        state: &AppState,
        auth: &Auth,
        Path(org): Path<String>,
    ) -> Result<Self, Response> {
        match owned_org(state, auth, &org).await {
            Ok(a) => Ok(Self(a)),
            Err(e) => Err(crate::ui::message(auth, e.status, "Error", &e.message)),
        }
    }
}

/// The refusal form of the org page.
#[derive(Debug, Deserialize)]
pub struct RefuseForm {
    csrf: String,
    refuse_scan: RefuseScan,
}

impl CsrfForm for RefuseForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /settings/orgs/{org}/scan` (the org page's form; CSRF token and ownership
/// checked by [`Authorized`]).
pub async fn ui_set(
    State(state): State<AppState>,
    g: Authorized<OwnedOrg, RefuseForm>,
) -> Response {
    let actor = g.actor();
    let OwnedOrg(org) = g.target;
    match set_refuse_scan(&state, &actor, &org, g.form.refuse_scan).await {
        Ok(()) => Redirect::to(&format!("/{}", org.name)).into_response(),
        Err(e) => crate::ui::message(&g.auth, e.status, "Error", &e.message),
    }
}
