//! Telling owners: an audit entry per revoked (or restored) revision, and a webhook
//! (`hub serve --incident-webhook URL`, [`super::webhook`]) called off the request path
//! with a bounded timeout.

use hallmark_store::{Affected, Incident};
use serde_json::{Value, json};

use crate::state::AppState;
use crate::time::rfc3339;

/// What happened to the revisions an incident holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Revoked when the incident was opened, or later (a new matching revision).
    Revoked,
    /// Restored when the incident was closed.
    Restored,
}

impl Event {
    fn name(self) -> &'static str {
        match self {
            Self::Revoked => "incident.revoke",
            Self::Restored => "incident.restore",
        }
    }
}

/// The incident as the webhook and the API describe it.
#[must_use]
pub fn incident_json(i: &Incident) -> Value {
    let o = &i.opened;
    json!({
        "id": i.id, "selector": o.selector, "value": o.value, "issuer": o.issuer,
        "since": rfc3339(o.since), "reason": o.reason, "opened_by": o.opened_by,
        "opened_at": rfc3339(i.opened_at), "log_index": i.log_index,
        "closed_at": i.closed.as_ref().map(|(_, at)| rfc3339(*at)),
        "closed_by": i.closed.as_ref().map(|(by, _)| by.clone()),
        "close_log_index": i.close_log_index,
    })
}

/// Records `event` for each of `affected` in the audit log (actor: whoever acted on the
/// incident) and posts one webhook message listing them with their owners.
pub async fn owners(
    state: &AppState,
    actor: &str,
    i: &Incident,
    event: Event,
    affected: &[Affected],
) {
    if affected.is_empty() {
        return;
    }
    let detail = format!("incident {}: {}", i.id, i.opened.reason);
    for a in affected {
        let target = format!("{}@{}", a.repo, a.revision);
        if let Err(e) = (state.meta)
            .record_admin_event(actor, event.name(), &target, &detail)
            .await
        {
            eprintln!("hallmark hub: audit entry for {target} not recorded: {e}");
        }
    }
    let Some(url) = state.config.incident_webhook.clone() else {
        return;
    };
    let body = json!({
        "event": event.name(),
        "incident": incident_json(i),
        "affected": affected.iter().map(|a| json!({
            "repo": a.repo, "revision": a.revision,
            "owner": a.repo.split_once('/').map(|(o, _)| o),
        })).collect::<Vec<_>>(),
    });
    tokio::task::spawn_blocking(move || super::webhook::post(&url, &body));
}
