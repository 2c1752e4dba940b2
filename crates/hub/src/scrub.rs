//! The storage scrubber (issue 16 §2): `hub serve` re-hashes every stored blob that a
//! revision refers to, at a bounded rate, so corruption or tampering in storage is found
//! even in files nobody downloads.
//!
//! A pass walks the distinct blob digests of all revisions in ascending order (a page at
//! a time, so memory stays bounded whatever the hub holds) and re-hashes each one at
//! [`ScrubSettings::rate`] bytes per second on average
//! ([`hallmark_store::BlobStore::rehash_paced`]). A blob that no longer hashes to its
//! name, or cannot be read, fails every revision that has it as a file: the revision turns
//! `failed` naming the file ([`crate::integrity::record_failure`]: signer, issuer, log
//! entry and verify command kept), which the API, the UI badge and the audit page show,
//! and the operator audit log gets a `blob.altered` entry (actor [`SCRUB_ACTOR`], target
//! `owner/name@commit`, the path and both digests). A revision already failed for that
//! file is not recorded again. An intact blob is remembered as verified with the stamp
//! taken before it was read ([`hallmark_store::VerifiedBlobs`], if that stamp is settled),
//! so range requests need not re-hash it.
//!
//! `hub serve --scrub-rate BYTES_PER_SEC` (0: off) and `--scrub-interval SECS` (the pause
//! between the end of one pass and the start of the next) set it; each pass that found
//! anything is also summed up as `blobs.scrub` in the operator audit log.

use hallmark_store::SigStatus;
use serde::Serialize;

use crate::error::HubError;
use crate::state::AppState;
pub use crate::state::ScrubSettings;

/// The audit-log actor of the scrubber.
pub const SCRUB_ACTOR: &str = "hub:scrub";

/// Blob digests read per page.
const PAGE: u32 = 500;

/// What one pass found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ScrubReport {
    /// Blobs re-hashed.
    pub blobs: u64,
    /// Bytes re-hashed.
    pub bytes: u64,
    /// Blobs that did not hash to their name or could not be read.
    pub bad_blobs: u64,
    /// Revisions newly marked failed.
    pub failed_revisions: u64,
}

/// Re-hashes every blob revisions refer to once, at `rate` bytes per second (`None`: as
/// fast as storage allows), recording what it finds (see the module documentation).
///
/// # Errors
/// Storage failures of the metadata store (a blob that cannot be read is a finding).
pub async fn scrub_pass(state: &AppState, rate: Option<u64>) -> Result<ScrubReport, HubError> {
    let mut report = ScrubReport::default();
    let mut after = String::new();
    loop {
        let page = state.meta.stored_blobs_after(&after, PAGE).await?;
        let Some((last, _)) = page.last() else { break };
        after.clone_from(last);
        for (sha, size) in page {
            let stamp = state.blobs.stamp(&sha).await;
            let found = state.blobs.rehash_paced(&sha, rate).await;
            report.blobs += 1;
            let problem = match (found, stamp) {
                (Ok(d), Ok(stamp)) if d == sha => {
                    report.bytes += size;
                    state.verified.insert(&sha, &stamp);
                    continue;
                }
                (Ok(d), Ok(_)) => format!("altered (now sha256:{d})"),
                (Err(e), _) | (Ok(_), Err(e)) => format!("unreadable ({e})"),
            };
            report.bad_blobs += 1;
            state.verified.forget(&sha);
            report.failed_revisions += fail_users(state, &sha, &problem).await?;
        }
    }
    if report.bad_blobs > 0 {
        let detail = format!(
            "re-hashed {} blobs ({} bytes intact); {} bad, {} revisions marked failed",
            report.blobs, report.bytes, report.bad_blobs, report.failed_revisions
        );
        state
            .meta
            .record_admin_event(SCRUB_ACTOR, "blobs.scrub", "hub", &detail)
            .await?;
    }
    Ok(report)
}

/// Fails every revision that has blob `sha` as a file; returns how many were newly failed.
async fn fail_users(state: &AppState, sha: &str, problem: &str) -> Result<u64, HubError> {
    let mut failed = 0;
    for u in state.meta.blob_uses(sha).await? {
        let Some(repo) = state.meta.repo_by_id(u.repo_id).await? else {
            continue;
        };
        let Some(rev) = state.meta.revision(repo.id, &u.commit).await? else {
            continue;
        };
        let detail = format!("stored content of {} {problem}", u.path);
        let known = rev.signature.status == SigStatus::Failed
            && rev.signature.detail.as_deref() == Some(detail.as_str());
        if known {
            continue;
        }
        crate::integrity::record_failure(state, &repo, &rev, &u.path, detail).await;
        let target = format!("{}@{}", repo.full_name(), rev.commit);
        let event = format!(
            "{}: recorded sha256:{sha}, stored content {problem}",
            u.path
        );
        state
            .meta
            .record_admin_event(SCRUB_ACTOR, "blob.altered", &target, &event)
            .await?;
        failed += 1;
    }
    Ok(failed)
}

/// Runs a pass, then waits [`ScrubSettings::interval`], until the process ends; `None`
/// when the rate is 0 (off).
#[must_use]
pub fn spawn_periodic(
    state: AppState,
    settings: &ScrubSettings,
) -> Option<tokio::task::JoinHandle<()>> {
    if settings.rate == 0 {
        return None;
    }
    let ScrubSettings { rate, interval } = settings.clone();
    Some(tokio::spawn(async move {
        loop {
            match scrub_pass(&state, Some(rate)).await {
                Ok(r) if r.bad_blobs > 0 => eprintln!(
                    "hallmark hub: scrub found {} bad blobs; {} revisions marked failed",
                    r.bad_blobs, r.failed_revisions
                ),
                Ok(_) => {}
                Err(e) => eprintln!("hallmark hub: scrub failed: {e}"),
            }
            tokio::time::sleep(interval).await;
        }
    }))
}
