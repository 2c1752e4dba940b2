//! The hub's monitor: every [`crate::state::HubConfig::monitor_interval`], for each
//! organisation with a watch list, the same poll as `hallmark log monitor`
//! ([`hallmark_tlog::monitor::poll`]) over the hub's own transparency log, read in
//! process, from the checkpoint saved for that org: the new part of the tree is audited
//! (consistency with the saved checkpoint, every entry hashed into its tile), then each
//! new entry's signers are judged by the org's rules.
//!
//! Each alert is recorded for the org (at most [`hallmark_store::MAX_ALERTS_PER_ORG`]
//! kept), gets an audit entry (`monitor.alert`, actor [`ACTOR`]) and is posted to the
//! hub's webhook (`hub serve --incident-webhook`) if one is configured; only then is the
//! org's monitor state saved. A restart resumes from the saved checkpoint, so nothing is
//! reported twice; a crash between recording and saving judges the same entries again,
//! and the store keeps each alert once.
//!
//! Several replicas sharing one database (and one log) may all run it: an alert is
//! stored once per org by the digest of its JSON, and only the replica that stored it
//! writes the audit entry and posts the webhook; the state is saved by compare-and-set,
//! so a replica that polled an older state never overwrites a newer one. The poll reads
//! tiles on the blocking pool and never takes the log's sequencing lock: uploads are
//! not held up.

use hallmark_crypto::sha256;
use hallmark_store::{NewAlert, OrgWatch};
use hallmark_tlog::monitor::rules::{WatchFile, WatchList};
use hallmark_tlog::monitor::seen::MonitorState;
use hallmark_tlog::monitor::{Alert, LogTarget, NoNames, PollReport, poll};
use serde_json::{Value, json};

use super::alert::summary;
use crate::state::AppState;

/// The audit log's actor for alerts.
pub const ACTOR: &str = "hub-monitor";
/// Most organisations polled in one pass.
pub const MAX_ORGS_PER_PASS: u32 = 10_000;
/// Most alerts listed in one webhook message (the message counts the rest).
pub const MAX_WEBHOOK_ALERTS: usize = 100;

/// Why one organisation's poll failed (reported on stderr, retried next pass).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MonitorError {
    /// The stored watch list or state does not parse.
    #[error("stored {what} of {org} does not parse: {reason}")]
    Stored {
        /// Which.
        what: &'static str,
        /// The org.
        org: String,
        /// The parser's words.
        reason: String,
    },
    /// The log could not be read or verified.
    #[error("log: {0}")]
    Log(#[from] hallmark_tlog::Error),
    /// Storage.
    #[error(transparent)]
    Store(#[from] hallmark_store::StoreError),
    /// The blocking task failed.
    #[error("the poll task failed")]
    Task,
}

/// What one pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PassReport {
    /// Organisations polled.
    pub orgs: usize,
    /// Alerts newly recorded.
    pub recorded: usize,
    /// Organisations whose poll failed.
    pub failed: usize,
}

/// Starts the periodic monitor; `None` when it is off or the hub has no log.
pub fn spawn_periodic(state: AppState) -> Option<tokio::task::JoinHandle<()>> {
    let every = state.config.monitor_interval?;
    let target = state.signer.log_target()?;
    Some(tokio::spawn(async move {
        loop {
            pass(&state, &target).await;
            tokio::time::sleep(every).await;
        }
    }))
}

/// Polls the log once for every organisation with a watch list.
pub async fn pass(state: &AppState, target: &LogTarget) -> PassReport {
    let mut report = PassReport::default();
    let watches = match state.meta.org_watches(MAX_ORGS_PER_PASS).await {
        Ok(w) => w,
        Err(e) => {
            eprintln!("hallmark hub: monitor: cannot list watch lists: {e}");
            report.failed += 1;
            return report;
        }
    };
    for w in watches {
        report.orgs += 1;
        match org_pass(state, target, &w).await {
            Ok(n) => report.recorded += n,
            Err(e) => {
                report.failed += 1;
                eprintln!("hallmark hub: monitor: {}: {e}", w.org);
            }
        }
    }
    report
}

fn stored(what: &'static str, org: &str, e: &serde_json::Error) -> MonitorError {
    MonitorError::Stored {
        what,
        org: org.to_owned(),
        reason: e.to_string(),
    }
}

/// One org's poll; the number of alerts newly recorded.
///
/// # Errors
/// [`MonitorError`]; nothing is saved then.
pub async fn org_pass(
    state: &AppState,
    target: &LogTarget,
    w: &OrgWatch,
) -> Result<usize, MonitorError> {
    let file: WatchFile =
        serde_json::from_str(&w.rules_json).map_err(|e| stored("watch list", &w.org, &e))?;
    if file.rules.is_empty() && !file.first_signer {
        return Ok(0);
    }
    let watch = WatchList::compile(file).map_err(|e| MonitorError::Stored {
        what: "watch list",
        org: w.org.clone(),
        reason: e.to_string(),
    })?;
    let mut ms = match &w.state_json {
        Some(s) => {
            MonitorState::from_json(s.as_bytes()).map_err(|e| stored("state", &w.org, &e))?
        }
        None => MonitorState::default(),
    };
    let target = target.clone();
    let (polled, ms) = tokio::task::spawn_blocking(move || {
        let r = poll(&target, &watch, &mut ms, &NoNames);
        (r, ms)
    })
    .await
    .map_err(|_| MonitorError::Task)?;
    let report = polled?;
    let alerts: Vec<(Value, NewAlert)> = report
        .alerts
        .iter()
        .map(|a| new_alert(&report, a))
        .collect();
    let new: Vec<NewAlert> = alerts.iter().map(|(_, n)| n.clone()).collect();
    let added = state.meta.add_monitor_alerts(w.org_id, &new).await?;
    state
        .meta
        .save_watch_state(w.org_id, w.state_seq, &ms.to_json())
        .await?;
    let added: Vec<&Value> = added.iter().map(|&i| &alerts[i].0).collect();
    announce(state, &w.org, &added).await;
    Ok(added.len())
}

/// An alert's JSON (the CLI's line: the alert and the log's origin) and its row.
fn new_alert(report: &PollReport, a: &Alert) -> (Value, NewAlert) {
    let mut v = serde_json::to_value(a).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.insert("origin".into(), report.origin.clone().into());
    }
    let text = v.to_string();
    let log_index = match a {
        Alert::WatchedIdentity { log_index, .. }
        | Alert::UnexpectedIssuer { log_index, .. }
        | Alert::FirstSigner { log_index, .. } => i64::try_from(*log_index).ok(),
        Alert::InconsistentLog { .. } => None,
    };
    let row = NewAlert {
        dedup: hex::encode(sha256(text.as_bytes())),
        log_index,
        kind: v["alert"].as_str().unwrap_or("alert").to_owned(),
        alert_json: text,
    };
    (v, row)
}

/// An audit entry per new alert and one webhook message for them.
async fn announce(state: &AppState, org: &str, added: &[&Value]) {
    if added.is_empty() {
        return;
    }
    let target = format!("org/{org}");
    for v in added {
        let index = v["log_index"]
            .as_u64()
            .map(|i| format!(" at log index {i}"))
            .unwrap_or_default();
        let detail = format!(
            "{}: {}{index}",
            v["alert"].as_str().unwrap_or("alert"),
            summary(v)
        );
        if let Err(e) = state
            .meta
            .record_admin_event(ACTOR, "monitor.alert", &target, &detail)
            .await
        {
            eprintln!("hallmark hub: monitor: audit entry for {target} not recorded: {e}");
        }
    }
    let Some(url) = state.config.incident_webhook.clone() else {
        return;
    };
    let body = json!({
        "event": "monitor.alert",
        "org": org,
        "count": added.len(),
        "alerts": added.iter().take(MAX_WEBHOOK_ALERTS).collect::<Vec<_>>(),
    });
    tokio::task::spawn_blocking(move || crate::incident::webhook::post(&url, &body));
}
