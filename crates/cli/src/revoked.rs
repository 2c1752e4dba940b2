//! A revision the hub reports `revoked` (issue 20 §2): an open incident holds it, and
//! `hallmark.signature.incident = {id, reason, opened_at}` says which. Clients refuse such a
//! revision unless the user passes `--allow-revoked`. [`revision_info`] fetches what the
//! hub says of a revision, for the commands that check it.

use std::fmt;

use anyhow::{Context as _, anyhow};
use serde_json::Value;

use crate::hubclient::{Client, encode_path};
use crate::util::{Failure, OrExit as _};

/// A revision as the hub describes it (`GET /api/models/{owner}/{name}/revision/{rev}`).
pub(crate) struct RevisionInfo {
    /// The hub's answer (files, `hallmark.signature`, …).
    pub(crate) info: Value,
    /// The commit id `rev` resolved to (`sha`).
    pub(crate) commit: String,
    /// `owner/name at commit`, how messages name the revision.
    pub(crate) what: String,
}

/// Fetches what the hub says of revision `rev` (a branch, tag or commit) of `owner/name`;
/// a failed request or an answer without a commit id is a failure (exit 1).
pub(crate) fn revision_info(
    client: &Client,
    owner: &str,
    name: &str,
    rev: &str,
) -> Result<RevisionInfo, Failure> {
    let rev = encode_path(rev).replace('/', "%2F");
    let info = client
        .get_json(&format!("/api/models/{owner}/{name}/revision/{rev}"))
        .or_failed()?;
    let commit = info
        .get("sha")
        .and_then(Value::as_str)
        .context("the hub sent no commit id")
        .or_failed()?
        .to_owned();
    let what = format!("{owner}/{name} at {commit}");
    Ok(RevisionInfo { info, commit, what })
}

/// The incident that revokes a revision, as the hub reports it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Revocation {
    id: String,
    reason: String,
    opened_at: String,
}

impl fmt::Display for Revocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "incident {} (opened {}): {}",
            self.id, self.opened_at, self.reason
        )
    }
}

/// The revocation in repo or revision info (`hallmark.signature`), if its status is `revoked`.
/// A `revoked` status without an incident is still a revocation (of an unnamed incident).
pub(crate) fn of(info: &Value) -> Option<Revocation> {
    let sig = info.pointer("/hallmark/signature")?;
    if sig.get("status").and_then(Value::as_str) != Some("revoked") {
        return None;
    }
    let field = |k: &str| match sig.pointer(&format!("/incident/{k}")) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => "unknown".to_owned(),
        Some(v) => v.to_string(),
    };
    Some(Revocation {
        id: field("id"),
        reason: field("reason"),
        opened_at: field("opened_at"),
    })
}

/// Refuses `what` (exit 1, naming the incident, the message ending with `tail`) if `info`
/// reports it revoked, unless `allow`; with `allow`, returns the revocation for the
/// caller's warning.
pub(crate) fn check(
    info: &Value,
    allow: bool,
    what: &str,
    tail: &str,
) -> Result<Option<Revocation>, Failure> {
    match of(info) {
        Some(r) if !allow => Err(Failure::failed(anyhow!(
            "{what} is REVOKED by {r} (use --allow-revoked to accept it){tail}"
        ))),
        r => Ok(r),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_the_revoked_status_is_a_revocation_and_it_names_the_incident() {
        let info = |status: &str, incident: Value| json!({"hallmark": {"signature": {"status": status, "incident": incident}}});
        assert_eq!(of(&info("verified", Value::Null)), None);
        assert_eq!(of(&json!({})), None);
        let inc = json!({"id": 7, "reason": "key leaked", "opened_at": "2026-01-02T03:04:05Z"});
        let r = of(&info("revoked", inc.clone())).unwrap();
        assert_eq!(
            r.to_string(),
            "incident 7 (opened 2026-01-02T03:04:05Z): key leaked"
        );
        assert!(
            check(&info("revoked", inc.clone()), true, "x", "")
                .unwrap()
                .is_some()
        );
        let err = check(&info("revoked", inc), false, "acme/m at abc", "")
            .unwrap_err()
            .error
            .to_string();
        assert!(
            err.contains("incident 7") && err.contains("--allow-revoked"),
            "{err}"
        );
        assert_eq!(of(&info("revoked", Value::Null)).unwrap().id, "unknown");
    }
}
