//! The read-only UI pages: model list and search, model page (files, revisions, signature
//! badge, copyable verify command), owner (org/user) page, audit page.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hallmark_store::{AccountKind, RepoQuery, Revision, ScanVerdict};
use serde::Deserialize;

use crate::access::{Auth, repo_for, repo_resource, revision_for};
use crate::authz::Action;
use crate::error::ApiError;
use crate::names::url_path;
use crate::signer::served_files;
use crate::state::AppState;
use crate::time::human;
use crate::ui::claims::{ClaimRow, TrustRow, claim_rows, trust_for_owner};
use crate::ui::page::{Nav, error_page, message, render};
use crate::ui::viewer::human_size;

pub(crate) async fn app_js() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/javascript; charset=utf-8"),
        )],
        include_str!("../../static/app.js"),
    )
        .into_response()
}

struct RepoRow {
    full_name: String,
    private: bool,
    updated: String,
    tags: Vec<String>,
}

#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage {
    nav: Nav,
    query: String,
    repos: Vec<RepoRow>,
}

/// `?q=` of the index page.
#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
}

async fn repo_rows(
    state: &AppState,
    auth: &Auth,
    search: Option<String>,
    owner: Option<String>,
) -> Result<Vec<RepoRow>, ApiError> {
    let p = auth.0.subject.principal.as_ref();
    let repos = state
        .meta
        .list_repos(&RepoQuery {
            search,
            owner,
            viewer: p.map(|p| p.id),
            viewer_is_admin: p.is_some_and(|p| p.admin),
            limit: 200,
            offset: 0,
        })
        .await?;
    let mut rows = Vec::new();
    for r in repos
        .into_iter()
        .filter(|r| auth.can(Action::ReadRepo, &repo_resource(r)))
    {
        rows.push(RepoRow {
            tags: crate::card::head_tags(state, &r).await,
            full_name: r.full_name(),
            private: r.private,
            updated: human(r.updated_at),
        });
    }
    Ok(rows)
}

pub(crate) async fn index(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<SearchQuery>,
) -> Response {
    let query = q.q.unwrap_or_default();
    let search = (!query.trim().is_empty()).then(|| query.trim().to_owned());
    match repo_rows(&state, &auth, search, None).await {
        Ok(repos) => render(&IndexPage {
            nav: Nav::of(&auth),
            query,
            repos,
        }),
        Err(e) => error_page(&auth, &e),
    }
}

#[derive(Template)]
#[template(path = "owner.html")]
struct OwnerPage {
    nav: Nav,
    name: String,
    kind: &'static str,
    members: Vec<(String, String)>,
    repos: Vec<RepoRow>,
    /// The org's scan refusal choices (value, label, selected), for its owners only.
    refuse_scan: Vec<(&'static str, &'static str, bool)>,
    /// Whom the org trusts to sign, for its owners only (the trust form is shown).
    trust: Option<Vec<TrustRow>>,
    /// The org's monitor alerts (members) and watch list (owners).
    watch: Option<crate::watch::WatchView>,
}

pub(crate) async fn owner_page(
    State(state): State<AppState>,
    auth: Auth,
    Path(owner): Path<String>,
) -> Response {
    let acct = match state.meta.account(&owner).await {
        Ok(Some(a)) => a,
        Ok(None) => {
            return message(
                &auth,
                StatusCode::NOT_FOUND,
                "Not found",
                &format!("no user or organisation named {owner}"),
            );
        }
        Err(e) => return error_page(&auth, &e.into()),
    };
    // Who belongs to an organisation, and with which role, is for its members (and hub
    // administrators) to see, not for anyone.
    let member_view = auth.0.subject.role_in(acct.id).is_some()
        || auth.0.subject.principal.as_ref().is_some_and(|p| p.admin);
    let members = if acct.kind == AccountKind::Org && member_view {
        state
            .meta
            .members_of(acct.id)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|(u, r)| (u.name, r.to_string()))
            .collect()
    } else {
        Vec::new()
    };
    let refuse_scan = crate::orgsettings::refusal_for_owner(&state, &auth, &acct).await;
    let trust = trust_for_owner(&state, &auth, &acct).await;
    let watch = crate::watch::for_page(&state, &auth, &acct).await;
    match repo_rows(&state, &auth, None, Some(acct.name.clone())).await {
        Ok(repos) => render(&OwnerPage {
            nav: Nav::of(&auth),
            name: acct.name,
            kind: if acct.kind == AccountKind::Org {
                "organisation"
            } else {
                "user"
            },
            members,
            repos,
            refuse_scan,
            trust,
            watch,
        }),
        Err(e) => error_page(&auth, &e),
    }
}

struct RevView {
    commit: String,
    uploader: String,
    time: String,
    status: &'static str,
    identity: Option<String>,
    issuer: Option<String>,
    log_index: Option<i64>,
    checked: Option<String>,
    detail: Option<String>,
    identity_changed_from: Option<String>,
    verify_command: String,
    scan: &'static str,
    scan_policy: String,
    findings: Vec<hallmark_store::ScanFinding>,
    claims: Vec<ClaimRow>,
}

struct FileRow {
    /// `/{owner}/{name}/resolve/{commit}/{path}`, every segment percent-encoded.
    href: String,
    /// `/{owner}/{name}/blob/{commit}/{path}`: the viewer.
    view: String,
    path: String,
    size: u64,
    human_size: String,
    sha256: String,
    short: String,
    scan: &'static str,
}

struct RevRow {
    commit: String,
    short: String,
    uploader: String,
    time: String,
    status: &'static str,
    changed: bool,
    summary: String,
    scan: &'static str,
}

#[derive(Template)]
#[template(path = "model.html")]
struct ModelPage {
    nav: Nav,
    full_name: String,
    name: String,
    hub_url: String,
    private: bool,
    rev: Option<RevView>,
    files: Vec<FileRow>,
    revisions: Vec<RevRow>,
    can_recheck: bool,
    can_manage: bool,
    /// The README rendered and sanitised ([`crate::card::render_markdown`]).
    card_html: Option<String>,
    card_error: Option<String>,
    tags: Vec<String>,
}

/// `?rev=` of the model page.
#[derive(Debug, Default, Deserialize)]
pub struct RevQuery {
    rev: Option<String>,
}

pub(crate) async fn model_page(
    State(state): State<AppState>,
    auth: Auth,
    Path((owner, name)): Path<(String, String)>,
    Query(q): Query<RevQuery>,
) -> Response {
    match model_page_inner(&state, &auth, &owner, &name, q.rev).await {
        Ok(r) => r,
        Err(e) => error_page(&auth, &e),
    }
}

async fn model_page_inner(
    state: &AppState,
    auth: &Auth,
    owner: &str,
    name: &str,
    rev: Option<String>,
) -> Result<Response, ApiError> {
    let repo = repo_for(state, auth, owner, name, Action::ReadRepo).await?;
    let rev: Option<Revision> = match (rev, &repo.head) {
        (Some(r), _) => Some(revision_for(state, &repo, &r).await?),
        (None, Some(h)) => state.meta.revision(repo.id, h).await?,
        (None, None) => None,
    };
    let files = match &rev {
        Some(r) => served_files(state.meta.revision_files(repo.id, &r.commit).await?),
        None => Vec::new(),
    };
    let revisions = state.meta.revisions(repo.id, 100).await?;
    let findings = match &rev {
        Some(r) => state.meta.scan_findings(repo.id, &r.commit).await?,
        None => Vec::new(),
    };
    let claims = match &rev {
        Some(r) => claim_rows(state, &repo, &r.commit).await?,
        None => Vec::new(),
    };
    let verdict = rev.as_ref().and_then(|r| r.scan_verdict);
    let card = match &rev {
        Some(r) => crate::card::for_revision(state, &repo, r).await,
        None => None,
    };
    let card_html = card
        .as_ref()
        .filter(|c| !c.body.trim().is_empty())
        .map(|c| crate::card::render_markdown(&c.body));
    let card_error = card
        .as_ref()
        .and_then(|c| c.error.as_ref().map(ToString::to_string));
    let tags = card
        .as_ref()
        .and_then(|c| c.data.as_ref().map(crate::card::tags))
        .unwrap_or_default();
    let view = rev.as_ref().map(|r| RevView {
        commit: r.commit.clone(),
        uploader: r.uploader.clone(),
        time: human(r.created_at),
        status: crate::incident::apply::status(r),
        identity: r.signature.identity.clone(),
        issuer: r.signature.issuer.clone(),
        log_index: r.signature.log_index,
        checked: r.signature.checked_at.map(human),
        detail: r
            .revoked
            .as_ref()
            .map(|v| {
                format!(
                    "revoked by incident {} (opened {}): {}",
                    v.id,
                    human(v.opened_at),
                    v.reason
                )
            })
            .or_else(|| r.signature.detail.clone()),
        identity_changed_from: r.identity_changed_from.clone(),
        verify_command: crate::hfapi::verify_command(state, &repo, r),
        scan: verdict.unwrap_or(ScanVerdict::Unverified).as_str(),
        scan_policy: r
            .scan_policy
            .clone()
            .unwrap_or_else(|| "not scanned".into()),
        findings: findings.clone(),
        claims,
    });
    Ok(render(&ModelPage {
        nav: Nav::of(auth),
        full_name: repo.full_name(),
        name: repo.name.clone(),
        hub_url: state.config.public_url.clone(),
        private: repo.private,
        files: files
            .into_iter()
            .map(|f| FileRow {
                href: format!(
                    "/{}/resolve/{}/{}",
                    url_path(&repo.full_name()),
                    url_path(rev.as_ref().map(|r| r.commit.as_str()).unwrap_or_default()),
                    url_path(&f.path)
                ),
                view: format!(
                    "/{}/blob/{}/{}",
                    url_path(&repo.full_name()),
                    url_path(rev.as_ref().map(|r| r.commit.as_str()).unwrap_or_default()),
                    url_path(&f.path)
                ),
                human_size: human_size(f.size),
                short: f.sha256.get(..12).unwrap_or_default().to_owned(),
                // The hub's own signature is not a model file: not scanned.
                scan: if f.path == crate::names::SIGNATURE_FILE {
                    ""
                } else {
                    crate::scan::file_verdict(verdict, &findings, &f.path).as_str()
                },
                path: f.path,
                size: f.size,
                sha256: f.sha256,
            })
            .collect(),
        revisions: revisions
            .into_iter()
            .map(|r| RevRow {
                status: crate::incident::apply::status(&r),
                short: r.commit.get(..12).unwrap_or_default().to_owned(),
                commit: r.commit,
                uploader: r.uploader,
                time: human(r.created_at),
                changed: r.identity_changed_from.is_some(),
                summary: r.summary,
                scan: r.scan_verdict.unwrap_or(ScanVerdict::Unverified).as_str(),
            })
            .collect(),
        rev: view,
        can_recheck: auth.0.csrf.is_some()
            && auth.can(Action::VerifyRevision, &repo_resource(&repo)),
        can_manage: auth.0.csrf.is_some() && auth.can(Action::ManageRepo, &repo_resource(&repo)),
        card_html,
        card_error,
        tags,
    }))
}

struct EventRow {
    time: String,
    repo: String,
    short: String,
    uploader: String,
    identity: String,
    log_index: String,
    status: &'static str,
    /// Why a revision failed (which file), shown under its badge.
    failure: Option<String>,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    nav: Nav,
    events: Vec<EventRow>,
}

pub(crate) async fn audit(State(state): State<AppState>, auth: Auth) -> Response {
    match crate::hfapi::audit_events(&state, &auth, 500).await {
        Ok(events) => render(&AuditPage {
            nav: Nav::of(&auth),
            events: events
                .into_iter()
                .map(|e| EventRow {
                    time: human(e.created_at),
                    short: e.commit.get(..12).unwrap_or_default().to_owned(),
                    repo: e.repo,
                    uploader: e.uploader,
                    identity: e.signature.identity.unwrap_or_default(),
                    log_index: e
                        .signature
                        .log_index
                        .map(|i| i.to_string())
                        .unwrap_or_else(|| "-".into()),
                    status: e.signature.status.as_str(),
                    failure: e
                        .signature
                        .detail
                        .filter(|_| e.signature.status == hallmark_store::SigStatus::Failed),
                })
                .collect(),
        }),
        Err(e) => error_page(&auth, &e),
    }
}
