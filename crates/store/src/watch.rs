//! Log monitoring by organisation (issue 20 §3): each org's watch list, the hub
//! monitor's memory for it, and the alerts it raised, as a third store trait
//! ([`WatchStore`], a supertrait of [`crate::MetaStore`]).
//!
//! The store keeps the watch list and the monitor state as opaque JSON (their types are
//! the log crate's); it bounds what it keeps: [`MAX_ALERTS_PER_ORG`] alerts per org, the
//! oldest pruned, and stores each alert once per org (by the digest the caller gives), so
//! that several hub replicas judging the same entries record it once.

use async_trait::async_trait;

use crate::error::Result;

/// Most alerts kept per organisation; older ones are pruned.
pub const MAX_ALERTS_PER_ORG: u32 = 1000;

/// An organisation's watch list and the monitor's memory for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgWatch {
    /// The organisation.
    pub org_id: i64,
    /// Its name.
    pub org: String,
    /// The watch list (`WatchFile` JSON).
    pub rules_json: String,
    /// The monitor's state (`MonitorState` JSON); `None` before the first poll.
    pub state_json: Option<String>,
    /// How many times the state was saved (the compare-and-set token).
    pub state_seq: i64,
    /// Who set the list last.
    pub updated_by: String,
    /// When (Unix seconds).
    pub updated_at: i64,
}

/// An alert to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAlert {
    /// Its identity within the org (the SHA-256 hex of its JSON).
    pub dedup: String,
    /// The log entry it concerns, if one.
    pub log_index: Option<i64>,
    /// Its kind (`unexpected-issuer`, …).
    pub kind: String,
    /// The alert (JSON).
    pub alert_json: String,
}

/// A recorded alert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredAlert {
    /// Row id (newest highest).
    pub id: i64,
    /// The log entry it concerns, if one.
    pub log_index: Option<i64>,
    /// Its kind.
    pub kind: String,
    /// The alert (JSON).
    pub alert_json: String,
    /// When it was recorded (Unix seconds).
    pub created_at: i64,
}

/// Watch lists and monitor alerts.
#[async_trait]
pub trait WatchStore: Send + Sync {
    /// Sets `org_id`'s watch list (the monitor's state is kept: the new list applies to
    /// entries from the saved checkpoint on).
    async fn set_org_watch(&self, org_id: i64, rules_json: &str, by: &str) -> Result<()>;
    /// `org_id`'s watch list, if one was set.
    async fn org_watch(&self, org_id: i64) -> Result<Option<OrgWatch>>;
    /// Every org's watch list (at most `limit`, by org id).
    async fn org_watches(&self, limit: u32) -> Result<Vec<OrgWatch>>;
    /// Saves the monitor state of `org_id` if nobody saved it since `seq` was read;
    /// `false` when someone did (their state stands).
    async fn save_watch_state(&self, org_id: i64, seq: i64, state_json: &str) -> Result<bool>;
    /// Records `alerts` for `org_id`, skipping those already recorded, then prunes the
    /// org's alerts to [`MAX_ALERTS_PER_ORG`]. Returns the positions (in `alerts`) of
    /// those newly recorded.
    async fn add_monitor_alerts(&self, org_id: i64, alerts: &[NewAlert]) -> Result<Vec<usize>>;
    /// `org_id`'s alerts, newest first, with ids below `before` (if given), at most `limit`.
    async fn monitor_alerts(
        &self,
        org_id: i64,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<StoredAlert>>;
}
