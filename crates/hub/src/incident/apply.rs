//! Which revisions an incident revokes, its signed statements, and revoking the
//! revisions that come to match an open incident later (a new push signed by the
//! revoked identity, a BOM naming the poisoned dataset).

use std::collections::BTreeSet;

use hallmark_format::statement::STATEMENT_TYPE;
use hallmark_store::{
    Affected, ClaimRefKind, Incident, IncidentSelector, QueryHit, SignatureQuery, Visibility,
};
use serde_json::{Value, json};

use super::notify::{self, Event};
use crate::claims::statement::root_digest;
use crate::error::{ApiError, ApiResult};
use crate::query::engine;
use crate::state::AppState;
use crate::time::rfc3339;

/// Predicate type of the hub's incident statements. The predicate:
/// `{"action": "open"|"close", "incident": id, "selector", "value", "issuer", "since",
/// "reason", "opened_at", "closed_at", "hub": public URL, "affected": [{repo, revision}]}`;
/// the subjects are the affected revisions' OMS root digests (named `owner/name@commit`).
pub const INCIDENT_PREDICATE_TYPE: &str = "https://hallmark.dev/attestations/incident/v1";

/// Most revisions one incident revokes (and lists as subjects).
pub const MAX_AFFECTED: u32 = 10_000;

/// The revisions `i` matches now: for identities and keys, claims that signer signed at
/// or after `since`; for datasets, revisions whose claims name it and every model
/// fine-tuned from them; for digests, revisions holding such a file (with `since`, only
/// those whose cited claim was logged at or after it).
///
/// # Errors
/// Storage failures.
pub async fn matching(state: &AppState, i: &Incident) -> ApiResult<Vec<(i64, String)>> {
    let o = &i.opened;
    let meta = &*state.meta;
    let all = Visibility::all();
    let hits: Vec<QueryHit> = match o.selector {
        IncidentSelector::Identity | IncidentSelector::Key => {
            let q = SignatureQuery {
                identities: Some(vec![o.value.clone()]),
                issuer: o.issuer.clone(),
                since: Some(o.since),
                until: None,
                limit: MAX_AFFECTED,
            };
            meta.query_signatures(&q, all).await?
        }
        IncidentSelector::Dataset => engine::closure(
            meta,
            ClaimRefKind::Dataset,
            &o.value,
            false,
            all,
            MAX_AFFECTED,
        )
        .await?
        .into_iter()
        .map(|f| f.hit)
        .filter(|h| h.integrated_time.is_none_or(|t| t >= o.since))
        .collect(),
        IncidentSelector::Sha256 => meta
            .query_file(&o.value, all, MAX_AFFECTED)
            .await?
            .into_iter()
            .filter(|h| h.integrated_time.is_none_or(|t| t >= o.since))
            .collect(),
    };
    let set: BTreeSet<(i64, String)> = hits.into_iter().map(|h| (h.repo_id, h.revision)).collect();
    Ok(set.into_iter().collect())
}

/// The signed statement of `i` (`close`: its closing) about `affected`.
///
/// # Errors
/// Storage failures reading the revisions' files.
pub async fn statement(
    state: &AppState,
    i: &Incident,
    affected: &[Affected],
    close: bool,
) -> ApiResult<Vec<u8>> {
    let mut subject = Vec::with_capacity(affected.len());
    for a in affected {
        let files = state.meta.revision_files(a.repo_id, &a.revision).await?;
        let name = a.repo.split_once('/').map_or(a.repo.as_str(), |(_, n)| n);
        let manifest = crate::signer::revision_manifest(name, &files)?;
        subject.push(json!({
            "name": format!("{}@{}", a.repo, a.revision),
            "digest": { "sha256": root_digest(&manifest) },
        }));
    }
    let o = &i.opened;
    let predicate = json!({
        "action": if close { "close" } else { "open" },
        "incident": i.id,
        "selector": o.selector,
        "value": o.value,
        "issuer": o.issuer,
        "since": rfc3339(o.since),
        "reason": o.reason,
        "opened_at": rfc3339(i.opened_at),
        "closed_at": i.closed.as_ref().map(|(_, at)| rfc3339(*at)),
        "hub": state.config.public_url,
        "affected": affected.iter().map(|a| json!({"repo": a.repo, "revision": a.revision})).collect::<Vec<_>>(),
    });
    if subject.is_empty() {
        // in-toto needs a subject: with nothing affected, the statement is about itself.
        let digest = hex::encode(hallmark_crypto::sha256(predicate.to_string().as_bytes()));
        subject
            .push(json!({ "name": format!("incident/{}", i.id), "digest": { "sha256": digest } }));
    }
    let s = json!({
        "_type": STATEMENT_TYPE,
        "subject": subject,
        "predicateType": INCIDENT_PREDICATE_TYPE,
        "predicate": predicate,
    });
    Ok(s.to_string().into_bytes())
}

/// Signs and logs `i`'s statement and records where the log holds it.
///
/// # Errors
/// Signing, logging or storage failed.
pub async fn sign(state: &AppState, i: &Incident, close: bool) -> ApiResult<Option<i64>> {
    let affected = state.meta.incident_revisions(i.id).await?;
    let payload = statement(state, i, &affected, close).await?;
    let signed = crate::claims::sign_statement(state, payload).await?;
    let index = signed.logged.and_then(|l| i64::try_from(l.index).ok());
    let bundle = String::from_utf8(signed.bundle_json)
        .map_err(|_| ApiError::internal("a signed bundle is not UTF-8"))?;
    (state.meta)
        .set_incident_statement(i.id, close, index, &bundle)
        .await?;
    Ok(index)
}

/// Revokes, for every open incident, the revisions that match it now but were not yet
/// held (after a commit or an attachment), telling their owners. Returns how many.
///
/// # Errors
/// Storage failures.
pub async fn rematch(state: &AppState) -> ApiResult<usize> {
    let mut n = 0;
    for i in state.meta.incidents(true, 1000).await? {
        let now = matching(state, &i).await?;
        let added = state.meta.add_incident_revisions(i.id, &now).await?;
        if added.is_empty() {
            continue;
        }
        n += added.len();
        let held = state.meta.incident_revisions(i.id).await?;
        let new: Vec<Affected> = held
            .into_iter()
            .filter(|a| {
                added
                    .iter()
                    .any(|(r, c)| *r == a.repo_id && *c == a.revision)
            })
            .collect();
        notify::owners(state, "hub", &i, Event::Revoked, &new).await;
    }
    Ok(n)
}

/// `hallmark.signature.status`: `revoked` while an open incident holds the revision,
/// else the verification status.
#[must_use]
pub fn status(rev: &hallmark_store::Revision) -> &'static str {
    match rev.revoked {
        Some(_) => "revoked",
        None => rev.signature.status.as_str(),
    }
}

/// `hallmark.signature.incident` of a revoked revision.
#[must_use]
pub fn revocation_json(r: &hallmark_store::Revocation) -> Value {
    json!({ "id": r.id, "reason": r.reason, "opened_at": rfc3339(r.opened_at) })
}
