//! Incidents (issue 20) and the revisions they revoke; [`ResponseStore`] on
//! [`SqlMeta`] (the queries are in [`super::queries`]).

use async_trait::async_trait;
use sqlx::Connection;

use super::backend::{Arg, Backend, Col, all, now, optional};
use super::{SqlMeta, queries};
use crate::error::{Result, StoreError};
use crate::response::{
    Affected, ClaimRef, ClaimRefKind, Incident, NewIncident, QueryHit, ResponseStore,
    SignatureQuery, Visibility, no_incident,
};

const INCIDENT_SELECT: &str = "SELECT id, selector, value, issuer, since, reason, opened_by, \
     opened_at, closed_by, closed_at, log_index, bundle_json, close_log_index, \
     close_bundle_json FROM incidents";

fn read_incident<DB: Backend>(r: &DB::Row) -> Result<Incident> {
    let closed = match (
        r.col::<Option<String>>("closed_by")?,
        r.col::<Option<i64>>("closed_at")?,
    ) {
        (Some(by), Some(at)) => Some((by, at)),
        _ => None,
    };
    Ok(Incident {
        id: r.col("id")?,
        opened: NewIncident {
            selector: r.col::<String>("selector")?.parse()?,
            value: r.col("value")?,
            issuer: r.col("issuer")?,
            since: r.col("since")?,
            reason: r.col("reason")?,
            opened_by: r.col("opened_by")?,
        },
        opened_at: r.col("opened_at")?,
        closed,
        log_index: r.col("log_index")?,
        bundle_json: r.col("bundle_json")?,
        close_log_index: r.col("close_log_index")?,
        close_bundle_json: r.col("close_bundle_json")?,
    })
}

async fn one<DB: Backend>(c: &mut DB::Connection, id: i64) -> Result<Option<Incident>> {
    let q = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{INCIDENT_SELECT} WHERE id = $1"
    )))
    .arg(id);
    optional::<DB, _>(c, q, read_incident::<DB>).await
}

async fn create<DB: Backend>(c: &mut DB::Connection, i: &NewIncident) -> Result<Incident> {
    let row = sqlx::query(
        "INSERT INTO incidents (selector, value, issuer, since, reason, opened_by, opened_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .arg(i.selector.as_str())
    .arg(i.value.as_str())
    .arg(i.issuer.as_deref())
    .arg(i.since)
    .arg(i.reason.as_str())
    .arg(i.opened_by.as_str())
    .arg(now())
    .fetch_one(DB::executor(c))
    .await?;
    let id: i64 = row.col("id")?;
    one::<DB>(c, id).await?.ok_or_else(|| no_incident(id))
}

async fn close<DB: Backend>(
    c: &mut DB::Connection,
    id: i64,
    by: &str,
    at: i64,
) -> Result<Incident> {
    let mut tx = c.begin_with(DB::DIALECT.begin_write).await?;
    let Some(found) = one::<DB>(&mut tx, id).await? else {
        return Err(no_incident(id));
    };
    if found.closed.is_some() {
        return Err(StoreError::Conflict(format!(
            "incident {id} is already closed"
        )));
    }
    sqlx::query("UPDATE incidents SET closed_by = $2, closed_at = $3 WHERE id = $1")
        .arg(id)
        .arg(by)
        .arg(at)
        .execute(DB::executor(&mut tx))
        .await?;
    let closed = one::<DB>(&mut tx, id)
        .await?
        .ok_or_else(|| no_incident(id))?;
    tx.commit().await?;
    Ok(closed)
}

async fn add_revisions<DB: Backend>(
    c: &mut DB::Connection,
    id: i64,
    revisions: &[(i64, String)],
) -> Result<Vec<(i64, String)>> {
    let mut added = Vec::new();
    let t = now();
    for (repo, commit) in revisions {
        let r = sqlx::query(
            "INSERT INTO incident_revisions (incident_id, repo_id, commit_id, added_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .arg(id)
        .arg(*repo)
        .arg(commit.as_str())
        .arg(t)
        .execute(DB::executor(c))
        .await?;
        if DB::rows_affected(&r) > 0 {
            added.push((*repo, commit.clone()));
        }
    }
    Ok(added)
}

async fn revisions_of<DB: Backend>(c: &mut DB::Connection, id: i64) -> Result<Vec<Affected>> {
    let q = sqlx::query(
        "SELECT ir.repo_id, a.name AS owner, r.name AS repo_name, ir.commit_id \
         FROM incident_revisions ir JOIN repos r ON r.id = ir.repo_id \
         JOIN accounts a ON a.id = r.owner_id WHERE ir.incident_id = $1 \
         ORDER BY a.name, r.name, ir.commit_id",
    )
    .arg(id);
    all::<DB, _>(c, q, |r| {
        Ok(Affected {
            repo_id: r.col("repo_id")?,
            repo: format!(
                "{}/{}",
                r.col::<String>("owner")?,
                r.col::<String>("repo_name")?
            ),
            revision: r.col("commit_id")?,
        })
    })
    .await
}

#[async_trait]
impl<DB: Backend> ResponseStore for SqlMeta<DB> {
    async fn add_claim_refs(
        &self,
        repo_id: i64,
        commit: &str,
        claim_id: i64,
        refs: &[ClaimRef],
    ) -> Result<()> {
        let c = &mut *self.conn().await?;
        queries::add_refs::<DB>(c, repo_id, commit, claim_id, refs).await
    }
    async fn query_signatures(&self, q: &SignatureQuery, vis: Visibility) -> Result<Vec<QueryHit>> {
        queries::signatures::<DB>(&mut *self.conn().await?, q, vis).await
    }
    async fn claim_signers(&self, issuer: Option<&str>, limit: u32) -> Result<Vec<String>> {
        queries::signers::<DB>(&mut *self.conn().await?, issuer, limit).await
    }
    async fn query_refs(
        &self,
        kind: ClaimRefKind,
        values: &[String],
        vis: Visibility,
        limit: u32,
    ) -> Result<Vec<QueryHit>> {
        queries::refs::<DB>(&mut *self.conn().await?, kind, values, vis, limit).await
    }
    async fn model_refs(&self, revisions: &[(i64, String)]) -> Result<Vec<(i64, String, String)>> {
        queries::model_refs::<DB>(&mut *self.conn().await?, revisions).await
    }
    async fn query_file(&self, sha256: &str, vis: Visibility, limit: u32) -> Result<Vec<QueryHit>> {
        queries::file::<DB>(&mut *self.conn().await?, sha256, vis, limit).await
    }
    async fn query_rule(&self, rule: &str, vis: Visibility, limit: u32) -> Result<Vec<QueryHit>> {
        queries::rule::<DB>(&mut *self.conn().await?, rule, vis, limit).await
    }
    async fn create_incident(&self, incident: &NewIncident) -> Result<Incident> {
        create::<DB>(&mut *self.conn().await?, incident).await
    }
    async fn delete_incident(&self, id: i64) -> Result<()> {
        sqlx::query("DELETE FROM incidents WHERE id = $1")
            .arg(id)
            .execute(DB::executor(&mut *self.conn().await?))
            .await?;
        Ok(())
    }
    async fn set_incident_statement(
        &self,
        id: i64,
        close: bool,
        log_index: Option<i64>,
        bundle_json: &str,
    ) -> Result<()> {
        let sql = if close {
            "UPDATE incidents SET close_log_index = $2, close_bundle_json = $3 WHERE id = $1"
        } else {
            "UPDATE incidents SET log_index = $2, bundle_json = $3 WHERE id = $1"
        };
        sqlx::query(sql)
            .arg(id)
            .arg(log_index)
            .arg(bundle_json)
            .execute(DB::executor(&mut *self.conn().await?))
            .await?;
        Ok(())
    }
    async fn close_incident(&self, id: i64, by: &str, at: i64) -> Result<Incident> {
        close::<DB>(&mut *self.conn().await?, id, by, at).await
    }
    async fn incident(&self, id: i64) -> Result<Option<Incident>> {
        one::<DB>(&mut *self.conn().await?, id).await
    }
    async fn incidents(&self, open_only: bool, limit: u32) -> Result<Vec<Incident>> {
        let filter = if open_only {
            " WHERE closed_at IS NULL"
        } else {
            ""
        };
        let sql = format!("{INCIDENT_SELECT}{filter} ORDER BY id DESC LIMIT $1");
        let q = sqlx::query(sqlx::AssertSqlSafe(sql)).arg(i64::from(limit.clamp(1, 1000)));
        all::<DB, _>(&mut *self.conn().await?, q, read_incident::<DB>).await
    }
    async fn add_incident_revisions(
        &self,
        id: i64,
        revisions: &[(i64, String)],
    ) -> Result<Vec<(i64, String)>> {
        add_revisions::<DB>(&mut *self.conn().await?, id, revisions).await
    }
    async fn incident_revisions(&self, id: i64) -> Result<Vec<Affected>> {
        revisions_of::<DB>(&mut *self.conn().await?, id).await
    }
}
