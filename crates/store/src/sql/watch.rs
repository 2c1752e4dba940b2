//! [`WatchStore`] on [`SqlMeta`]: org watch lists, the monitor's state (saved by
//! compare-and-set on `state_seq`) and its alerts (unique per org and digest, pruned).

use async_trait::async_trait;

use super::SqlMeta;
use super::backend::{Arg, Backend, Col, all, now, optional};
use crate::error::Result;
use crate::watch::{MAX_ALERTS_PER_ORG, NewAlert, OrgWatch, StoredAlert, WatchStore};

const WATCH_SELECT: &str = "SELECT w.org_id, a.name, w.rules_json, w.state_json, w.state_seq, \
     w.updated_by, w.updated_at FROM org_watch w JOIN accounts a ON a.id = w.org_id";

fn read_watch<DB: Backend>(r: &DB::Row) -> Result<OrgWatch> {
    Ok(OrgWatch {
        org_id: r.col("org_id")?,
        org: r.col("name")?,
        rules_json: r.col("rules_json")?,
        state_json: r.col("state_json")?,
        state_seq: r.col("state_seq")?,
        updated_by: r.col("updated_by")?,
        updated_at: r.col("updated_at")?,
    })
}

fn read_alert<DB: Backend>(r: &DB::Row) -> Result<StoredAlert> {
    Ok(StoredAlert {
        id: r.col("id")?,
        log_index: r.col("log_index")?,
        kind: r.col("kind")?,
        alert_json: r.col("alert_json")?,
        created_at: r.col("created_at")?,
    })
}

async fn add_alerts<DB: Backend>(
    c: &mut DB::Connection,
    org_id: i64,
    alerts: &[NewAlert],
) -> Result<Vec<usize>> {
    let mut added = Vec::new();
    let t = now();
    for (i, a) in alerts.iter().enumerate() {
        let r = sqlx::query(
            "INSERT INTO monitor_alerts (org_id, dedup, log_index, kind, alert_json, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        )
        .arg(org_id)
        .arg(a.dedup.as_str())
        .arg(a.log_index)
        .arg(a.kind.as_str())
        .arg(a.alert_json.as_str())
        .arg(t)
        .execute(DB::executor(c))
        .await?;
        if DB::rows_affected(&r) > 0 {
            added.push(i);
        }
    }
    if !added.is_empty() {
        sqlx::query(
            "DELETE FROM monitor_alerts WHERE org_id = $1 AND id <= (SELECT id FROM \
             monitor_alerts WHERE org_id = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)",
        )
        .arg(org_id)
        .arg(i64::from(MAX_ALERTS_PER_ORG))
        .execute(DB::executor(c))
        .await?;
    }
    Ok(added)
}

#[async_trait]
impl<DB: Backend> WatchStore for SqlMeta<DB> {
    async fn set_org_watch(&self, org_id: i64, rules_json: &str, by: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO org_watch (org_id, rules_json, updated_by, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (org_id) DO UPDATE SET \
             rules_json = excluded.rules_json, updated_by = excluded.updated_by, \
             updated_at = excluded.updated_at",
        )
        .arg(org_id)
        .arg(rules_json)
        .arg(by)
        .arg(now())
        .execute(DB::executor(&mut *self.conn().await?))
        .await?;
        Ok(())
    }
    async fn org_watch(&self, org_id: i64) -> Result<Option<OrgWatch>> {
        let q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{WATCH_SELECT} WHERE w.org_id = $1"
        )))
        .arg(org_id);
        optional::<DB, _>(&mut *self.conn().await?, q, read_watch::<DB>).await
    }
    async fn org_watches(&self, limit: u32) -> Result<Vec<OrgWatch>> {
        let q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{WATCH_SELECT} ORDER BY w.org_id LIMIT $1"
        )))
        .arg(i64::from(limit.max(1)));
        all::<DB, _>(&mut *self.conn().await?, q, read_watch::<DB>).await
    }
    async fn save_watch_state(&self, org_id: i64, seq: i64, state_json: &str) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE org_watch SET state_json = $3, state_seq = state_seq + 1 \
             WHERE org_id = $1 AND state_seq = $2",
        )
        .arg(org_id)
        .arg(seq)
        .arg(state_json)
        .execute(DB::executor(&mut *self.conn().await?))
        .await?;
        Ok(DB::rows_affected(&r) > 0)
    }
    async fn add_monitor_alerts(&self, org_id: i64, alerts: &[NewAlert]) -> Result<Vec<usize>> {
        add_alerts::<DB>(&mut *self.conn().await?, org_id, alerts).await
    }
    async fn monitor_alerts(
        &self,
        org_id: i64,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<StoredAlert>> {
        let q = sqlx::query(
            "SELECT id, log_index, kind, alert_json, created_at FROM monitor_alerts \
             WHERE org_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
        )
        .arg(org_id)
        .arg(before.unwrap_or(i64::MAX))
        .arg(i64::from(limit.clamp(1, MAX_ALERTS_PER_ORG)));
        all::<DB, _>(&mut *self.conn().await?, q, read_alert::<DB>).await
    }
}
