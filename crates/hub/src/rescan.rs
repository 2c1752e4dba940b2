//! Re-scanning stored revisions with the current scanner policy (issue 16 §1):
//! `hallmark hub admin rescan [OWNER/NAME] [--all] [--force]` and
//! `POST /api/admin/rescan`.
//!
//! A re-scan walks stored revisions in (repo, commit) order, a page at a time, and scans
//! each one judged by another policy version than [`POLICY_VERSION`] (or never scanned;
//! with `force`, every one) exactly as at commit ([`RevisionScanner::scan`]: bounded slots
//! and deadline, an error or timeout gives `unverified`, never `clean`). The new verdict,
//! policy and findings replace the old ones at once; each change of verdict or policy is
//! recorded in the operator audit log (`revision.rescan`, target `owner/name@commit`,
//! detail `verdict clean -> dangerous, policy 0 -> 1` with the worst finding), and the run
//! itself as `scan.rescan`. Refusal settings are not applied to stored revisions: a
//! re-scan reports, it never deletes.

use std::time::Duration;

use axum::Json;
use axum::http::StatusCode;
use hallmark_scan::POLICY_VERSION;
use hallmark_store::{BlobStore, MetaStore, Repo, ScanTarget, ScanVerdict};
use serde::Serialize;

use crate::error::{ApiError, ApiResult, HubError, Refusal};
use crate::scan::RevisionScanner;
use crate::state::AppState;

/// How long `POST /api/admin/rescan` waits for the re-scan before answering 202 (it goes
/// on in the background; its results are in the operator audit log).
pub const API_WAIT: Duration = Duration::from_secs(30);

/// One re-scan through the API at a time.
static API_RUNNING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// Revisions read per page.
const PAGE: u32 = 200;

/// Which revisions a re-scan covers.
#[derive(Clone, Copy, Debug)]
pub enum RescanScope<'a> {
    /// One repo's revisions.
    Repo(&'a Repo),
    /// Every stored revision.
    All,
}

/// One revision whose recorded scan changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RescanChange {
    /// `owner/name`.
    pub repo: String,
    /// The revision.
    pub commit: String,
    /// Verdict before (`None`: never scanned).
    pub from: Option<ScanVerdict>,
    /// Verdict now.
    pub to: ScanVerdict,
    /// Policy version before.
    pub from_policy: Option<String>,
    /// Policy version now.
    pub to_policy: String,
}

/// What a re-scan did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RescanReport {
    /// Revisions looked at.
    pub examined: u64,
    /// Revisions scanned again.
    pub rescanned: u64,
    /// Those whose verdict or policy changed.
    pub changed: Vec<RescanChange>,
}

/// Re-scans the revisions in `scope` (see the module documentation) as `actor`.
///
/// # Errors
/// Storage failures (a scan that fails is an `unverified` verdict, not an error).
pub async fn rescan(
    meta: &dyn MetaStore,
    blobs: &BlobStore,
    scanner: &RevisionScanner,
    actor: &str,
    scope: RescanScope<'_>,
    force: bool,
) -> Result<RescanReport, HubError> {
    let mut report = RescanReport::default();
    let only = match scope {
        RescanScope::Repo(r) => Some(r.id),
        RescanScope::All => None,
    };
    let mut cursor: Option<(i64, String)> = None;
    let mut repo: Option<Repo> = None;
    loop {
        let after = cursor.as_ref().map(|(r, c)| (*r, c.as_str()));
        let page = meta.scan_targets(only, after, PAGE).await?;
        let Some(last) = page.last() else { break };
        cursor = Some((last.repo_id, last.commit.clone()));
        for t in page {
            report.examined += 1;
            if !force && t.policy.as_deref() == Some(POLICY_VERSION) {
                continue;
            }
            if repo.as_ref().is_none_or(|r| r.id != t.repo_id) {
                repo = meta.repo_by_id(t.repo_id).await?;
            }
            let Some(r) = repo.as_ref() else { continue };
            if let Some(change) = rescan_one(meta, blobs, scanner, actor, r, &t).await? {
                report.changed.push(change);
            }
            report.rescanned += 1;
        }
    }
    let target = match scope {
        RescanScope::Repo(r) => r.full_name(),
        RescanScope::All => "hub".to_owned(),
    };
    let detail = format!(
        "policy {POLICY_VERSION}: examined {}, rescanned {}, changed {}",
        report.examined,
        report.rescanned,
        report.changed.len()
    );
    meta.record_admin_event(actor, "scan.rescan", &target, &detail)
        .await?;
    Ok(report)
}

async fn rescan_one(
    meta: &dyn MetaStore,
    blobs: &BlobStore,
    scanner: &RevisionScanner,
    actor: &str,
    repo: &Repo,
    t: &ScanTarget,
) -> Result<Option<RescanChange>, HubError> {
    let files = meta.revision_files(repo.id, &t.commit).await?;
    let scan = scanner.scan(blobs, &files).await;
    meta.replace_scan(repo.id, &t.commit, &scan).await?;
    if t.verdict == Some(scan.verdict) && t.policy.as_deref() == Some(&scan.policy_version) {
        return Ok(None);
    }
    let change = RescanChange {
        repo: repo.full_name(),
        commit: t.commit.clone(),
        from: t.verdict,
        to: scan.verdict,
        from_policy: t.policy.clone(),
        to_policy: scan.policy_version.clone(),
    };
    let worst = crate::scan::worst(&scan.findings)
        .map(|f| format!("; {} {}: {}", f.path, f.rule, f.message))
        .unwrap_or_default();
    let detail = format!(
        "verdict {} -> {}, policy {} -> {}{worst}",
        change.from.map_or("none", ScanVerdict::as_str),
        change.to,
        change.from_policy.as_deref().unwrap_or("none"),
        change.to_policy,
    );
    let target = format!("{}@{}", change.repo, change.commit);
    meta.record_admin_event(actor, "revision.rescan", &target, &detail)
        .await?;
    Ok(Some(change))
}

/// The repo `owner/name` for a re-scan.
///
/// # Errors
/// A malformed name, no such repo.
pub async fn repo_named(meta: &dyn MetaStore, full: &str) -> Result<Repo, HubError> {
    let (owner, name) = full
        .split_once('/')
        .ok_or_else(|| Refusal::NoSuchRepo(full.to_owned()))?;
    meta.repo(owner, name)
        .await?
        .ok_or_else(|| Refusal::NoSuchRepo(full.to_owned()).into())
}

/// `POST /api/admin/rescan` for `actor` (an administrator): `repo` (`owner/name`) or every
/// revision. Answers 200 with the [`RescanReport`] when it finishes within [`API_WAIT`],
/// else 202 while it goes on (its changes land in the audit log); 409 while another
/// re-scan started through the API runs.
///
/// # Errors
/// Unknown repo (404), a re-scan already running (409), storage failures.
pub async fn for_api(
    state: &AppState,
    actor: &str,
    repo: Option<&str>,
    force: bool,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let repo = match repo {
        Some(r) => Some(repo_named(&*state.meta, r).await?),
        None => None,
    };
    let permit = API_RUNNING.try_acquire().map_err(|_| {
        ApiError::new(
            StatusCode::CONFLICT,
            "a re-scan is already running; see /api/admin/audit",
        )
    })?;
    let (st, actor) = (state.clone(), actor.to_owned());
    let job = tokio::spawn(async move {
        let _permit = permit;
        let scope = repo.as_ref().map_or(RescanScope::All, RescanScope::Repo);
        rescan(&*st.meta, &st.blobs, &st.scanner, &actor, scope, force).await
    });
    match tokio::time::timeout(API_WAIT, job).await {
        Ok(Ok(r)) => Ok((StatusCode::OK, Json(serde_json::json!(r?)))),
        Ok(Err(e)) => Err(HubError::Task(e).into()),
        Err(_) => Ok((
            StatusCode::ACCEPTED,
            Json(serde_json::json!({
                "running": true,
                "message": "the re-scan goes on in the background; its changes are recorded in /api/admin/audit",
            })),
        )),
    }
}
