//! `hallmark verify … --hub URL` (issue 20 §2): once the signature verified, the hub's
//! word on the revision it signs. A revision an open incident revokes is refused (exit 1,
//! naming the incident) unless `--allow-revoked`, even though its signature verifies:
//! revocation is what the signature alone cannot say.
//!
//! The revision is `--repo`/`--revision` when given; otherwise every revision on the hub
//! (of `--repo`, when given) whose `model.sig` is byte for byte the signature verified,
//! found with the hub's file query (`/api/query/revisions?sha256=`). A signature the hub
//! holds in no revision is refused: its status cannot be known.

use anyhow::anyhow;
use aws_lc_rs::digest::{SHA256, digest};
use serde_json::{Value, json};

use crate::args::remote::HubArgs;
use crate::args::verify::VerifyHubArgs;
use crate::hubclient::{Client, split_repo};
use crate::revoked;
use crate::util::{Failure, OrExit as _};

/// The file a hub revision's signature is.
const SIGNATURE_FILE: &str = "model.sig";

/// Checks the revisions `bundle` signs on the hub of `a` (nothing without `--hub`):
/// `Err` (exit 1) if one is revoked and `--allow-revoked` is not given, or if none is
/// found; otherwise what was checked, for the result.
pub(crate) fn check(a: &VerifyHubArgs, bundle: &[u8]) -> Result<Option<Value>, Failure> {
    let Some(hub) = &a.hub else {
        return Ok(None);
    };
    let client = Client::new(&HubArgs {
        hub: hub.clone(),
        token: a
            .token
            .clone()
            .or_else(|| std::env::var("HALLMARK_TOKEN").ok()),
        jobs: 1,
        quiet: true,
    });
    let targets = match (&a.repo, &a.revision) {
        (Some(repo), Some(rev)) => vec![(repo.clone(), rev.clone())],
        (repo, _) => holding(&client, repo.as_deref(), bundle)?,
    };
    let mut checked = Vec::new();
    for (repo, rev) in targets {
        let (owner, name) = split_repo(&repo).or_input()?;
        let revoked::RevisionInfo { info, commit, what } =
            revoked::revision_info(&client, owner, name, &rev)?;
        if let Some(r) = revoked::check(&info, a.allow_revoked, &what, "")? {
            errln!("warning: {what} is REVOKED by {r}; accepted because of --allow-revoked");
        }
        let sig = info.pointer("/hallmark/signature");
        checked.push(json!({
            "repo": format!("{owner}/{name}"),
            "revision": commit,
            "status": sig.and_then(|s| s.get("status")),
            "incident": sig.and_then(|s| s.get("incident")),
        }));
    }
    Ok(Some(json!({ "url": hub, "revisions": checked })))
}

/// The revisions (of `repo`, when given) whose `model.sig` is `bundle`.
fn holding(
    client: &Client,
    repo: Option<&str>,
    bundle: &[u8],
) -> Result<Vec<(String, String)>, Failure> {
    let sha = hex::encode(digest(&SHA256, bundle));
    let hits = client
        .get_json(&format!("/api/query/revisions?sha256={sha}"))
        .or_failed()?;
    let found: Vec<(String, String)> = hits
        .as_array()
        .into_iter()
        .flatten()
        .filter(|h| h.get("value").and_then(Value::as_str) == Some(SIGNATURE_FILE))
        .filter_map(|h| {
            let r = h.get("repo")?.as_str()?;
            let c = h.get("revision")?.as_str()?;
            Some((r.to_owned(), c.to_owned()))
        })
        .filter(|(r, _)| repo.is_none_or(|want| want.eq_ignore_ascii_case(r)))
        .collect();
    if found.is_empty() {
        let of = repo.map(|r| format!(" of {r}")).unwrap_or_default();
        return Err(Failure::failed(anyhow!(
            "{}: no revision{of} has this signature (sha256:{sha}) as its {SIGNATURE_FILE}, so \
             its status is unknown; name it with --repo and --revision",
            client.base
        )));
    }
    Ok(found)
}
