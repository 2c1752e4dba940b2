//! Scan results of revisions, and the organisation setting that refuses uploads by verdict.

use sqlx::Connection;

use super::backend::{Arg, Backend, Col, all};
use crate::error::Result;
use crate::meta::expect_changed;
use crate::model::{ScanFinding, ScanResult, ScanTarget, ScanVerdict};

/// Records a revision's scan (inside the transaction that records the revision).
pub(super) async fn record<DB: Backend>(
    c: &mut DB::Connection,
    repo_id: i64,
    commit: &str,
    scan: &ScanResult,
) -> Result<()> {
    let r = sqlx::query(
        "UPDATE revisions SET scan_verdict = $3, scan_policy = $4 \
         WHERE repo_id = $1 AND commit_id = $2",
    )
    .arg(repo_id)
    .arg(commit)
    .arg(scan.verdict.as_str())
    .arg(scan.policy_version.as_str())
    .execute(DB::executor(c))
    .await?;
    expect_changed(DB::rows_affected(&r), || format!("revision {commit}"))?;
    for f in &scan.findings {
        sqlx::query(
            "INSERT INTO scan_findings (repo_id, commit_id, path, rule, severity, message) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .arg(repo_id)
        .arg(commit)
        .arg(f.path.as_str())
        .arg(f.rule.as_str())
        .arg(f.severity.as_str())
        .arg(f.message.as_str())
        .execute(DB::executor(c))
        .await?;
    }
    Ok(())
}

pub(super) async fn findings<DB: Backend>(
    c: &mut DB::Connection,
    repo_id: i64,
    commit: &str,
) -> Result<Vec<ScanFinding>> {
    let q = sqlx::query(
        "SELECT path, rule, severity, message FROM scan_findings \
         WHERE repo_id = $1 AND commit_id = $2 ORDER BY id",
    )
    .arg(repo_id)
    .arg(commit);
    all::<DB, _>(c, q, |row| {
        Ok(ScanFinding {
            path: row.col("path")?,
            rule: row.col("rule")?,
            severity: row.col("severity")?,
            message: row.col("message")?,
        })
    })
    .await
}

pub(super) async fn refusal<DB: Backend>(
    c: &mut DB::Connection,
    account_id: i64,
) -> Result<Option<ScanVerdict>> {
    let row = sqlx::query("SELECT refuse_scan FROM accounts WHERE id = $1")
        .arg(account_id)
        .fetch_optional(DB::executor(c))
        .await?;
    let Some(row) = row else { return Ok(None) };
    row.col::<Option<String>>("refuse_scan")?
        .map(|v| v.parse())
        .transpose()
}

pub(super) async fn set_refusal<DB: Backend>(
    c: &mut DB::Connection,
    account_id: i64,
    from: Option<ScanVerdict>,
) -> Result<()> {
    let from = from.filter(|v| *v != ScanVerdict::Clean);
    let r = sqlx::query("UPDATE accounts SET refuse_scan = $2 WHERE id = $1")
        .arg(account_id)
        .arg(from.map(ScanVerdict::as_str))
        .execute(DB::executor(c))
        .await?;
    expect_changed(DB::rows_affected(&r), || format!("account #{account_id}"))
}

/// Replaces a stored revision's scan in one transaction (findings deleted, then recorded
/// as at commit).
pub(super) async fn replace<DB: Backend>(
    c: &mut DB::Connection,
    repo_id: i64,
    commit: &str,
    scan: &ScanResult,
) -> Result<()> {
    let mut tx = c.begin_with(DB::DIALECT.begin_write).await?;
    sqlx::query("DELETE FROM scan_findings WHERE repo_id = $1 AND commit_id = $2")
        .arg(repo_id)
        .arg(commit)
        .execute(DB::executor(&mut tx))
        .await?;
    record::<DB>(&mut tx, repo_id, commit, scan).await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn targets<DB: Backend>(
    c: &mut DB::Connection,
    repo: Option<i64>,
    after: Option<(i64, &str)>,
    limit: u32,
) -> Result<Vec<ScanTarget>> {
    let (after_repo, after_commit) = after.unwrap_or((i64::MIN, ""));
    let q = sqlx::query(
        "SELECT repo_id, commit_id, scan_policy, scan_verdict FROM revisions \
         WHERE ($1 IS NULL OR repo_id = $1) \
         AND (repo_id > $2 OR (repo_id = $2 AND commit_id > $3)) \
         ORDER BY repo_id, commit_id LIMIT $4",
    )
    .arg(repo)
    .arg(after_repo)
    .arg(after_commit)
    .arg(i64::from(limit.clamp(1, 10_000)));
    all::<DB, _>(c, q, |row| {
        Ok(ScanTarget {
            repo_id: row.col("repo_id")?,
            commit: row.col("commit_id")?,
            policy: row.col("scan_policy")?,
            verdict: row
                .col::<Option<String>>("scan_verdict")?
                .map(|v| v.parse())
                .transpose()?,
        })
    })
    .await
}
