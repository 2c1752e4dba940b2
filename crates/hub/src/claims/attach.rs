//! Attachments: an AI-BOM or SLSA provenance for a stored revision, as a Sigstore bundle
//! with a DSSE in-toto statement (`hallmark push --attach FILE`, or the API):
//!
//! ```text
//! POST /api/models/{owner}/{name}/attach/{rev}   bundle JSON → 201 {the new hallmark.claims entry}
//! ```
//!
//! The kind follows the predicate type (SLSA provenance → `provenance`; CycloneDX or SPDX
//! → `bom`). Every subject must be the revision's manifest root digest or one of its
//! files' digests: a statement naming any other digest (another revision's) is refused
//! with 422, as is a signature that does not verify; nothing is stored or logged then.
//! The signer is rated against the owner's trust settings ([`super::publisher`]).

use std::collections::HashSet;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use hallmark_store::{ClaimKind, FileEntry, Repo};
use serde_json::Value;

use super::publisher::{authenticate, parse};
use super::record::{claim_of, claims_json, log_checked};
use super::refusal::ClaimRefusal;
use super::statement::{root_digest, subjects};
use crate::access::{Auth, repo_for, revision_for};
use crate::authz::Action;
use crate::error::ApiResult;
use crate::names::SIGNATURE_FILE;
use crate::state::AppState;

const WHAT: &str = "the attachment";

/// The claim kind of an attachment's predicate type, if the hub keeps it.
#[must_use]
pub fn kind_of(predicate_type: &str) -> Option<ClaimKind> {
    let p = predicate_type.to_ascii_lowercase();
    if p.starts_with("https://slsa.dev/provenance/") {
        Some(ClaimKind::Provenance)
    } else if p.starts_with("https://cyclonedx.org/bom")
        || p.starts_with("https://spdx.dev/document")
    {
        Some(ClaimKind::Bom)
    } else {
        None
    }
}

/// Checks every subject digest against the revision's root and file digests.
///
/// # Errors
/// [`ClaimRefusal::OtherRevision`] naming the first other digest.
pub fn check_subjects(
    digests: &[String],
    root: &str,
    files: &[FileEntry],
    commit: &str,
) -> Result<(), ClaimRefusal> {
    let ours: HashSet<&str> = files
        .iter()
        .filter(|f| f.path != SIGNATURE_FILE)
        .map(|f| f.sha256.as_str())
        .chain([root])
        .collect();
    match digests.iter().find(|d| !ours.contains(d.as_str())) {
        Some(d) => Err(ClaimRefusal::OtherRevision {
            what: WHAT.to_owned(),
            digest: d.clone(),
            commit: commit.to_owned(),
        }),
        None => Ok(()),
    }
}

/// `POST /api/models/{owner}/{name}/attach/{rev}`
///
/// # Errors
/// 422 ([`ClaimRefusal`]), 404 for an unknown revision, 403 without push rights.
pub async fn attach(
    State(state): State<AppState>,
    auth: Auth,
    Path((owner, name, rev)): Path<(String, String, String)>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let repo: Repo = repo_for(&state, &auth, &owner, &name, Action::PushRepo).await?;
    let rev = revision_for(&state, &repo, &rev).await?;
    let files = state.meta.revision_files(repo.id, &rev.commit).await?;
    let manifest = crate::signer::revision_manifest(&repo.name, &files)?;
    let root = root_digest(&manifest);
    let bundle = parse(&body, WHAT)?;
    let subj = subjects(&bundle, WHAT)?;
    let kind = kind_of(&subj.predicate_type).ok_or_else(|| ClaimRefusal::PredicateType {
        what: WHAT.to_owned(),
        predicate_type: subj.predicate_type.clone(),
    })?;
    check_subjects(&subj.sha256, &root, &files, &rev.commit)?;
    let trusted = super::trust::entries(&*state.meta, repo.owner_id).await?;
    let roots = super::trust::roots(&state);
    let checked = authenticate(&bundle, &body, &trusted, &roots, WHAT)?;
    let logged = log_checked(&state, &checked).await?;
    let blob = state.blobs.put_bytes(body.clone()).await?;
    let asserts = format!(
        "{} ({}) about {} of this revision's digests",
        kind,
        subj.predicate_type,
        subj.sha256.len()
    );
    let claim = claim_of(
        kind,
        &subj.predicate_type,
        checked,
        logged,
        blob.sha256,
        asserts,
    );
    state.meta.add_claim(repo.id, &rev.commit, &claim).await?;
    let all = state.meta.claims(repo.id, &rev.commit).await?;
    if let Some(added) = all.last() {
        let refs = crate::query::refs::claim_refs(&subj.statement, &root);
        (state.meta)
            .add_claim_refs(repo.id, &rev.commit, added.id, &refs)
            .await?;
        crate::incident::apply::rematch(&state).await?;
    }
    let json = claims_json(&state, &repo, &all[all.len().saturating_sub(1)..]);
    Ok((
        StatusCode::CREATED,
        Json(json.get(0).cloned().unwrap_or(Value::Null)),
    ))
}
