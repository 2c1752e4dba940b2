//! Blob garbage collection for a hub: upload sessions abandoned for a day are swept, then
//! blobs no revision and no open upload refers to, last written more than a grace period
//! ago, are deleted ([`hallmark_store::collect_unreferenced_blobs`]). Run by
//! `hallmark hub admin gc` and every [`GC_EVERY`] by `hub serve`; several replicas may
//! run it at once (deleting is idempotent). Each run is recorded in the operator audit log
//! (`blobs.gc`, target `hub`).

use std::time::Duration;

use hallmark_store::{BlobStore, GcReport, MetaStore, collect_unreferenced_blobs};

use crate::error::HubError;

/// Upload sessions older than this (seconds) are abandoned: swept with their claims, so
/// their blobs become collectable.
pub const UPLOAD_MAX_AGE: i64 = 86_400;

/// How often `hub serve` collects.
pub const GC_EVERY: Duration = Duration::from_secs(6 * 3600);

/// The audit-log actor of the collections `hub serve` runs by itself.
pub const SERVE_ACTOR: &str = "hub:gc";

/// Sweeps abandoned upload sessions, then collects unreferenced blobs older than `grace`,
/// and records the run as `actor`'s.
///
/// # Errors
/// A grace period under [`hallmark_store::MIN_GRACE`]; storage failures.
pub async fn collect_garbage(
    meta: &dyn MetaStore,
    blobs: &BlobStore,
    grace: Duration,
    actor: &str,
) -> Result<GcReport, HubError> {
    let swept = meta
        .sweep_uploads(crate::time::now() - UPLOAD_MAX_AGE)
        .await?;
    let r = collect_unreferenced_blobs(meta, blobs, grace).await?;
    let detail = format!(
        "swept {swept} abandoned uploads; deleted {} of {} blobs older than {} s ({} bytes)",
        r.deleted,
        r.examined,
        grace.as_secs(),
        r.bytes_freed
    );
    meta.record_admin_event(actor, "blobs.gc", "hub", &detail)
        .await?;
    Ok(r)
}

/// Collects every [`GC_EVERY`] with the default grace period, until the process ends.
pub fn spawn_periodic(
    meta: std::sync::Arc<dyn MetaStore>,
    blobs: BlobStore,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(GC_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            let grace = hallmark_store::DEFAULT_GRACE;
            match collect_garbage(&*meta, &blobs, grace, SERVE_ACTOR).await {
                Ok(r) if r.deleted > 0 => eprintln!(
                    "hallmark hub: blob GC deleted {} unreferenced blobs ({} bytes)",
                    r.deleted, r.bytes_freed
                ),
                Ok(_) => {}
                Err(e) => eprintln!("hallmark hub: blob GC failed: {e}"),
            }
        }
    })
}
