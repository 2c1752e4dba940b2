//! Commit claims (one push per repo is signed at a time) and the blob references the
//! garbage collector asks about.

use std::collections::HashSet;

use sqlx::{AssertSqlSafe, Connection};

use super::backend::{Arg, Backend, Col};
use crate::error::{Result, StoreError};

pub(super) async fn claim_commit<DB: Backend>(
    c: &mut DB::Connection,
    repo_id: i64,
    upload_id: &str,
    parent: Option<&str>,
    now: i64,
    expires_at: i64,
) -> Result<()> {
    let mut tx = c.begin_with(DB::DIALECT.begin_write).await?;
    // Claims of one repo take turns (PostgreSQL: the row lock; SQLite: BEGIN IMMEDIATE).
    sqlx::query(AssertSqlSafe(format!(
        "SELECT id FROM repos WHERE id = $1{}",
        DB::DIALECT.lock_row
    )))
    .arg(repo_id)
    .fetch_optional(DB::executor(&mut tx))
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("repo #{repo_id}")))?;
    let head = sqlx::query("SELECT commit_id FROM refs WHERE repo_id = $1 AND name = 'main'")
        .arg(repo_id)
        .fetch_optional(DB::executor(&mut tx))
        .await?
        .map(|r| r.col::<String>("commit_id"))
        .transpose()?;
    if head.as_deref() != parent {
        return Err(StoreError::Conflict(format!(
            "main moved to {} while this upload was built on {}; push again",
            head.as_deref().unwrap_or("(none)"),
            parent.unwrap_or("(none)")
        )));
    }
    let held = sqlx::query("SELECT upload_id, expires_at FROM commit_claims WHERE repo_id = $1")
        .arg(repo_id)
        .fetch_optional(DB::executor(&mut tx))
        .await?;
    if let Some(row) = held {
        let (other, until): (String, i64) = (row.col("upload_id")?, row.col("expires_at")?);
        if other != upload_id && until > now {
            return Err(StoreError::Conflict(format!(
                "another push to this repo is being signed (for at most {} s more); push again",
                until - now
            )));
        }
    }
    sqlx::query(
        "INSERT INTO commit_claims (repo_id, upload_id, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT (repo_id) DO UPDATE SET upload_id = excluded.upload_id, \
         expires_at = excluded.expires_at",
    )
    .arg(repo_id)
    .arg(upload_id)
    .arg(expires_at)
    .execute(DB::executor(&mut tx))
    .await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn release_commit<DB: Backend>(
    c: &mut DB::Connection,
    repo_id: i64,
    upload_id: &str,
) -> Result<()> {
    sqlx::query("DELETE FROM commit_claims WHERE repo_id = $1 AND upload_id = $2")
        .arg(repo_id)
        .arg(upload_id)
        .execute(DB::executor(c))
        .await?;
    Ok(())
}

pub(super) async fn referenced_blobs<DB: Backend>(
    c: &mut DB::Connection,
    digests: &[String],
) -> Result<HashSet<String>> {
    let mut found = HashSet::new();
    if digests.is_empty() {
        return Ok(found);
    }
    let list = (1..=digests.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT sha256 FROM revision_files WHERE sha256 IN ({list}) \
         UNION SELECT sha256 FROM upload_files WHERE sha256 IN ({list}) \
         UNION SELECT bundle_sha256 AS sha256 FROM revision_claims WHERE bundle_sha256 IN ({list})"
    );
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for d in digests {
        q = q.arg(d.as_str());
    }
    for row in q.fetch_all(DB::executor(c)).await? {
        found.insert(row.col::<String>("sha256")?);
    }
    Ok(found)
}
