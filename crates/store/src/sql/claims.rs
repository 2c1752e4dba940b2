//! Revision claims (signed statements kept per revision) and the signers each account
//! trusts for them.

use super::backend::{Arg, Backend, Col, all, conflict_on_unique, now, optional};
use crate::error::Result;
use crate::model::{Claim, NewClaim, TrustEntry, TrustKind};

const CLAIM_COLUMNS: &str = "id, commit_id, kind, predicate_type, signer, issuer, status, \
     log_index, integrated_time, bundle_sha256, asserts, created_at";

fn read_claim<DB: Backend>(r: &DB::Row) -> Result<Claim> {
    Ok(Claim {
        id: r.col("id")?,
        commit: r.col("commit_id")?,
        claim: NewClaim {
            kind: r.col::<String>("kind")?.parse()?,
            predicate_type: r.col("predicate_type")?,
            signer: r.col("signer")?,
            issuer: r.col("issuer")?,
            status: r.col::<String>("status")?.parse()?,
            log_index: r.col("log_index")?,
            integrated_time: r.col("integrated_time")?,
            bundle_sha256: r.col("bundle_sha256")?,
            asserts: r.col("asserts")?,
        },
        created_at: r.col("created_at")?,
    })
}

/// Records a claim of a revision (inside the revision's transaction, or later).
pub(super) async fn add<DB: Backend>(
    c: &mut DB::Connection,
    repo_id: i64,
    commit: &str,
    claim: &NewClaim,
    at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO revision_claims (repo_id, commit_id, kind, predicate_type, signer, issuer, \
         status, log_index, integrated_time, bundle_sha256, asserts, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .arg(repo_id)
    .arg(commit)
    .arg(claim.kind.as_str())
    .arg(claim.predicate_type.as_str())
    .arg(claim.signer.as_str())
    .arg(claim.issuer.as_deref())
    .arg(claim.status.as_str())
    .arg(claim.log_index)
    .arg(claim.integrated_time)
    .arg(claim.bundle_sha256.as_str())
    .arg(claim.asserts.as_str())
    .arg(at)
    .execute(DB::executor(c))
    .await?;
    Ok(())
}

pub(super) async fn list<DB: Backend>(
    c: &mut DB::Connection,
    repo_id: i64,
    commit: &str,
) -> Result<Vec<Claim>> {
    let sql = format!(
        "SELECT {CLAIM_COLUMNS} FROM revision_claims WHERE repo_id = $1 AND commit_id = $2 \
         ORDER BY id"
    );
    let q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .arg(repo_id)
        .arg(commit);
    all::<DB, _>(c, q, read_claim::<DB>).await
}

pub(super) async fn one<DB: Backend>(
    c: &mut DB::Connection,
    repo_id: i64,
    id: i64,
) -> Result<Option<Claim>> {
    let sql = format!("SELECT {CLAIM_COLUMNS} FROM revision_claims WHERE repo_id = $1 AND id = $2");
    let q = sqlx::query(sqlx::AssertSqlSafe(sql)).arg(repo_id).arg(id);
    optional::<DB, _>(c, q, read_claim::<DB>).await
}

fn read_trust<DB: Backend>(r: &DB::Row) -> Result<TrustEntry> {
    Ok(TrustEntry {
        id: r.col("id")?,
        kind: r.col::<String>("kind")?.parse()?,
        value: r.col("value")?,
        issuer: r.col("issuer")?,
        label: r.col("label")?,
        created_at: r.col("created_at")?,
    })
}

pub(super) async fn trust<DB: Backend>(
    c: &mut DB::Connection,
    account_id: i64,
) -> Result<Vec<TrustEntry>> {
    let q = sqlx::query(
        "SELECT id, kind, value, issuer, label, created_at FROM org_trust \
         WHERE account_id = $1 ORDER BY id",
    )
    .arg(account_id);
    all::<DB, _>(c, q, read_trust::<DB>).await
}

pub(super) async fn add_trust<DB: Backend>(
    c: &mut DB::Connection,
    account_id: i64,
    kind: TrustKind,
    value: &str,
    issuer: Option<&str>,
    label: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO org_trust (account_id, kind, value, issuer, label, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .arg(account_id)
    .arg(kind.as_str())
    .arg(value)
    .arg(issuer)
    .arg(label)
    .arg(now())
    .execute(DB::executor(c))
    .await
    .map_err(|e| conflict_on_unique(e, || format!("{kind} {label} is already trusted")))?;
    Ok(())
}

pub(super) async fn remove_trust<DB: Backend>(
    c: &mut DB::Connection,
    account_id: i64,
    id: i64,
) -> Result<bool> {
    let r = sqlx::query("DELETE FROM org_trust WHERE account_id = $1 AND id = $2")
        .arg(account_id)
        .arg(id)
        .execute(DB::executor(c))
        .await?;
    Ok(DB::rows_affected(&r) > 0)
}
