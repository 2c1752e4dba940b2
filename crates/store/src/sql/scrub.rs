//! What the hub's storage scrubber walks: the distinct blobs revisions refer to, and
//! which revision files a blob is.

use super::backend::{Arg, Backend, Col, all};
use super::repos::to_u64;
use crate::error::Result;
use crate::model::BlobUse;

pub(super) async fn blobs_after<DB: Backend>(
    c: &mut DB::Connection,
    after: &str,
    limit: u32,
) -> Result<Vec<(String, u64)>> {
    let q = sqlx::query(
        "SELECT sha256, MAX(size) AS size FROM revision_files WHERE sha256 > $1 \
         GROUP BY sha256 ORDER BY sha256 LIMIT $2",
    )
    .arg(after)
    .arg(i64::from(limit.clamp(1, 10_000)));
    all::<DB, _>(c, q, |row| {
        Ok((row.col("sha256")?, to_u64(row.col("size")?, "blob size")?))
    })
    .await
}

pub(super) async fn uses<DB: Backend>(
    c: &mut DB::Connection,
    sha256: &str,
) -> Result<Vec<BlobUse>> {
    let q = sqlx::query(
        "SELECT repo_id, commit_id, path FROM revision_files WHERE sha256 = $1 \
         ORDER BY repo_id, commit_id, path",
    )
    .arg(sha256);
    all::<DB, _>(c, q, |row| {
        Ok(BlobUse {
            repo_id: row.col("repo_id")?,
            commit: row.col("commit_id")?,
            path: row.col("path")?,
        })
    })
    .await
}
