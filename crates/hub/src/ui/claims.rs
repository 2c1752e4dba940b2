//! Claims in the UI (issue 16 §3): the claims list of the revision shown on the model page
//! (kind, predicate type, signer, issuer, status, log entry, time, what it asserts, a link
//! to its bundle), and the org page's trust form, for owners: whom the organisation trusts
//! to sign publisher signatures and attachments (the same change as
//! `POST /api/orgs/{org}/trust` and `hallmark hub admin org trust`), CSRF-checked like the
//! org's other settings ([`crate::orgsettings::OwnedOrg`]).

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use hallmark_store::{Account, AccountKind, Repo};
use serde::Deserialize;

use crate::access::Auth;
use crate::admin::Operator;
use crate::authz::{Action, Resource};
use crate::claims::trust::NewTrust;
use crate::error::ApiError;
use crate::names::url_path;
use crate::orgsettings::OwnedOrg;
use crate::state::AppState;
use crate::time::human;
use crate::ui::guard::{Authorized, CsrfForm};

/// One claim of the revision shown.
pub(crate) struct ClaimRow {
    pub(crate) kind: String,
    pub(crate) predicate_type: String,
    pub(crate) signer: String,
    pub(crate) issuer: String,
    pub(crate) status: String,
    pub(crate) log_index: String,
    pub(crate) time: String,
    pub(crate) asserts: String,
    /// `/api/models/{owner}/{name}/claims/{id}`: the bundle.
    pub(crate) href: String,
}

/// The claims of `repo` at `commit`, oldest first.
///
/// # Errors
/// Storage.
pub(crate) async fn claim_rows(
    state: &AppState,
    repo: &Repo,
    commit: &str,
) -> Result<Vec<ClaimRow>, ApiError> {
    Ok(state
        .meta
        .claims(repo.id, commit)
        .await?
        .into_iter()
        .map(|c| {
            let n = c.claim;
            ClaimRow {
                kind: n.kind.to_string(),
                predicate_type: n.predicate_type,
                signer: n.signer,
                issuer: n.issuer.unwrap_or_else(|| "-".into()),
                status: n.status.to_string(),
                log_index: n.log_index.map_or_else(|| "-".into(), |i| i.to_string()),
                time: human(n.integrated_time.unwrap_or(c.created_at)),
                asserts: n.asserts,
                href: format!(
                    "/api/models/{}/claims/{}",
                    url_path(&repo.full_name()),
                    c.id
                ),
            }
        })
        .collect())
}

/// One signer an organisation trusts.
pub(crate) struct TrustRow {
    pub(crate) id: i64,
    pub(crate) kind: String,
    pub(crate) label: String,
    pub(crate) issuer: String,
    pub(crate) added: String,
}

/// The trust entries of `org` when the caller owns it (the form is shown); `None` for
/// anyone else, users' pages and on storage errors.
pub(crate) async fn trust_for_owner(
    state: &AppState,
    auth: &Auth,
    org: &Account,
) -> Option<Vec<TrustRow>> {
    let ns = Resource::Namespace {
        id: org.id,
        kind: AccountKind::Org,
    };
    if org.kind != AccountKind::Org || auth.0.csrf.is_none() || !auth.can(Action::ManageOrg, &ns) {
        return None;
    }
    let entries = state.meta.trust_entries(org.id).await.ok()?;
    Some(
        entries
            .into_iter()
            .map(|t| TrustRow {
                id: t.id,
                kind: t.kind.to_string(),
                label: t.label,
                issuer: t.issuer.unwrap_or_default(),
                added: human(t.created_at),
            })
            .collect(),
    )
}

/// The org page's trust form: add one signer (the fields of one kind filled in), or
/// remove entry `remove`.
#[derive(Debug, Deserialize)]
pub(crate) struct TrustForm {
    csrf: String,
    #[serde(default)]
    public_key: String,
    #[serde(default)]
    certificate_chain: String,
    #[serde(default)]
    identity: String,
    #[serde(default)]
    issuer: String,
    #[serde(default)]
    remove: Option<i64>,
}

impl CsrfForm for TrustForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

fn given(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// `POST /settings/orgs/{org}/trust` (CSRF token and ownership checked by [`Authorized`]);
/// the change is in the operator audit log under the owner's name.
pub(crate) async fn ui_trust(
    State(state): State<AppState>,
    g: Authorized<OwnedOrg, TrustForm>,
) -> Response {
    let actor = g.actor();
    let OwnedOrg(org) = g.target;
    let op = Operator::new(&*state.meta, &actor);
    let f = g.form;
    let done = match f.remove {
        Some(id) => op.trust_remove(&org.name, id).await.map(drop),
        None => {
            let t = NewTrust {
                public_key: given(&f.public_key),
                certificate_chain: given(&f.certificate_chain),
                identity: given(&f.identity),
                issuer: given(&f.issuer),
            };
            op.trust_add(&org.name, &t).await
        }
    };
    match done.map_err(ApiError::from) {
        Ok(()) => Redirect::to(&format!("/{}", org.name)).into_response(),
        Err(e) => crate::ui::message(&g.auth, e.status, "Error", &e.message),
    }
}
