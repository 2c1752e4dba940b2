//! Branches and tags, and short commit ids.

use super::backend::{Arg, Backend, Col, all, conflict_on_unique, now};
use crate::error::{Result, StoreError};
use crate::model::{RefEntry, RefKind};

pub(super) async fn list_refs<DB: Backend>(
    c: &mut DB::Connection,
    repo_id: i64,
) -> Result<Vec<RefEntry>> {
    let q = sqlx::query(
        "SELECT name, kind, commit_id, created_at, message FROM refs \
         WHERE repo_id = $1 ORDER BY kind, name",
    )
    .arg(repo_id);
    all::<DB, _>(c, q, |row| {
        Ok(RefEntry {
            name: row.col("name")?,
            kind: row.col::<String>("kind")?.parse()?,
            commit: row.col("commit_id")?,
            created_at: row.col("created_at")?,
            message: row.col("message")?,
        })
    })
    .await
}

pub(super) async fn create_ref<DB: Backend>(
    c: &mut DB::Connection,
    repo_id: i64,
    entry: &RefEntry,
) -> Result<()> {
    // The ref and the revision it names are checked in one statement: a ref never points
    // at a commit the repo does not have.
    let r = sqlx::query(
        "INSERT INTO refs (repo_id, name, commit_id, kind, created_at, message) \
         SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS \
         (SELECT 1 FROM revisions WHERE repo_id = $1 AND commit_id = $3)",
    )
    .arg(repo_id)
    .arg(entry.name.as_str())
    .arg(entry.commit.as_str())
    .arg(entry.kind.as_str())
    .arg(if entry.created_at == 0 {
        now()
    } else {
        entry.created_at
    })
    .arg(entry.message.as_deref())
    .execute(DB::executor(c))
    .await
    .map_err(|e| {
        conflict_on_unique(e, || format!("a branch or tag named {} exists", entry.name))
    })?;
    if DB::rows_affected(&r) == 0 {
        return Err(StoreError::NotFound(format!("revision {}", entry.commit)));
    }
    Ok(())
}

pub(super) async fn delete_ref<DB: Backend>(
    c: &mut DB::Connection,
    repo_id: i64,
    name: &str,
    kind: RefKind,
) -> Result<bool> {
    let r = sqlx::query("DELETE FROM refs WHERE repo_id = $1 AND name = $2 AND kind = $3")
        .arg(repo_id)
        .arg(name)
        .arg(kind.as_str())
        .execute(DB::executor(c))
        .await?;
    Ok(DB::rows_affected(&r) > 0)
}

pub(super) async fn commits_with_prefix<DB: Backend>(
    c: &mut DB::Connection,
    repo_id: i64,
    prefix: &str,
    limit: u32,
) -> Result<Vec<String>> {
    // Commit ids are lower-case hex: every id starting with `prefix` sorts in
    // [prefix, prefix + "g"), a range the primary key's index answers.
    let prefix = prefix.to_ascii_lowercase();
    let q = sqlx::query(
        "SELECT commit_id FROM revisions WHERE repo_id = $1 AND commit_id >= $2 \
         AND commit_id < $3 ORDER BY commit_id LIMIT $4",
    )
    .arg(repo_id)
    .arg(prefix.as_str())
    .arg(format!("{prefix}g").as_str())
    .arg(i64::from(limit.clamp(1, 100)));
    all::<DB, _>(c, q, |row| Ok(row.col("commit_id")?)).await
}
