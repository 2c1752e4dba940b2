//! Blob garbage collection: content no revision and no open upload refers to.
//!
//! Blobs become unreferenced when a push loses the race for `main`, when an upload is
//! abandoned (sessions are swept after a day) or when a repo is deleted. A blob is
//! collected only if it is unreferenced **and** was last written more than the grace
//! period ago: an upload in flight writes its blob first and records it in its session a
//! moment later, and an upload that finds its content already stored rewrites a blob
//! older than [`REFRESH_AFTER`] (so the grace period must exceed that). Each candidate's
//! age is read again right before it is deleted, after the references were checked.

use std::time::Duration;

use futures_util::StreamExt as _;
use object_store::ObjectStoreExt as _;
use object_store::path::Path;

use crate::blob::{BlobStore, REFRESH_AFTER, chrono_cutoff};
use crate::error::{Result, StoreError};
use crate::meta::MetaStore;

/// How many candidate digests are checked against the database per query.
const BATCH: usize = 500;

/// The shortest grace period [`collect_unreferenced_blobs`] accepts: twice
/// [`REFRESH_AFTER`].
pub const MIN_GRACE: Duration = Duration::from_secs(2 * REFRESH_AFTER.as_secs());

/// The default grace period: one day.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(86_400);

/// What a collection did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GcReport {
    /// Blobs older than the grace period that were looked at.
    pub examined: u64,
    /// Blobs deleted.
    pub deleted: u64,
    /// Bytes freed.
    pub bytes_freed: u64,
}

impl BlobStore {
    /// The digests and sizes of the content blobs last written more than `age` ago.
    ///
    /// # Errors
    /// Storage failure.
    pub async fn blobs_older_than(&self, age: Duration) -> Result<Vec<(String, u64)>> {
        let cutoff = chrono_cutoff(age);
        let mut list = self.store.list(Some(&Path::from("blobs/sha256")));
        let mut out = Vec::new();
        while let Some(meta) = list.next().await {
            let meta = meta?;
            let Some(name) = meta.location.filename() else {
                continue;
            };
            if meta.last_modified.timestamp() < cutoff && is_digest(name) {
                out.push((name.to_owned(), meta.size));
            }
        }
        Ok(out)
    }

    /// Deletes a content blob if it was last written more than `age` ago (read now, not
    /// when it was listed); whether it did.
    ///
    /// # Errors
    /// Storage failure other than "not found".
    pub async fn delete_if_older(&self, sha256_hex: &str, age: Duration) -> Result<bool> {
        let key = Self::key(sha256_hex);
        match self.store.head(&key).await {
            Ok(meta) if meta.last_modified.timestamp() < chrono_cutoff(age) => {}
            Ok(_) | Err(object_store::Error::NotFound { .. }) => return Ok(false),
            Err(e) => return Err(e.into()),
        }
        match self.store.delete(&key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(true),
            Err(e) => Err(e.into()),
        }
    }
}

fn is_digest(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Deletes the blobs no revision and no open upload refers to that were last written
/// more than `grace` ago.
///
/// # Errors
/// [`StoreError::Config`] for a grace period under [`MIN_GRACE`]; storage failures.
pub async fn collect_unreferenced_blobs(
    meta: &dyn MetaStore,
    blobs: &BlobStore,
    grace: Duration,
) -> Result<GcReport> {
    if grace < MIN_GRACE {
        return Err(StoreError::Config(format!(
            "the blob GC grace period is {} s, under the minimum of {} s (uploads that reuse \
             stored content refresh blobs older than {} s)",
            grace.as_secs(),
            MIN_GRACE.as_secs(),
            REFRESH_AFTER.as_secs()
        )));
    }
    let old = blobs.blobs_older_than(grace).await?;
    let mut report = GcReport {
        examined: old.len() as u64,
        ..GcReport::default()
    };
    for batch in old.chunks(BATCH) {
        let digests: Vec<String> = batch.iter().map(|(d, _)| d.clone()).collect();
        let referenced = meta.referenced_blobs(&digests).await?;
        for (digest, size) in batch {
            if !referenced.contains(digest) && blobs.delete_if_older(digest, grace).await? {
                report.deleted += 1;
                report.bytes_freed += size;
            }
        }
    }
    Ok(report)
}
