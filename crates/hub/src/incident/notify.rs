//! Telling owners: an audit entry per revoked (or restored) revision, and a webhook
//! (`hub serve --incident-webhook URL`) called off the request path with a bounded
//! timeout. The URL may carry a secret (a token in its path or query): it is never
//! logged, only its host.

use std::time::Duration;

use hallmark_store::{Affected, Incident};
use serde_json::{Value, json};

use crate::state::AppState;
use crate::time::rfc3339;

/// How long one webhook call may take, connect to last byte.
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(5);

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
    tokio::task::spawn_blocking(move || post(&url, &body));
}

/// The host of `url`, for messages (never its path or query).
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    host.rsplit_once('@').map_or(host, |(_, h)| h)
}

fn post(url: &str, body: &Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .tls_config(hallmark_tlog::https_tls())
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(WEBHOOK_TIMEOUT))
        .build()
        .into();
    let host = host_of(url);
    match agent
        .post(url)
        .header("content-type", "application/json")
        .send(body.to_string())
    {
        Ok(r) if r.status().is_success() => {}
        Ok(r) => eprintln!(
            "hallmark hub: incident webhook at {host} answered {}",
            r.status().as_u16()
        ),
        Err(e) => eprintln!(
            "hallmark hub: incident webhook at {host} failed: {}",
            kind_of(&e)
        ),
    }
}

/// A webhook failure in words that cannot contain the URL.
fn kind_of(e: &ureq::Error) -> &'static str {
    match e {
        ureq::Error::Timeout(_) => "timed out",
        ureq::Error::Io(_) => "connection failed",
        ureq::Error::HostNotFound => "host not found",
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) => "TLS failed",
        _ => "request failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_host_is_shown() {
        assert_eq!(
            host_of("https://user:secret@hooks.example:8443/t/SECRET?k=SECRET"),
            "hooks.example:8443"
        );
        assert_eq!(host_of("http://127.0.0.1:9/x"), "127.0.0.1:9");
    }
}
