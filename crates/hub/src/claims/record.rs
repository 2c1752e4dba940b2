//! Recording claims: the hub's own (signature, scan), a publisher's checked `model.sig`,
//! listing them in repo info and serving their bundles.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use futures_util::StreamExt;
use hallmark_instance::LoggedEntry;
use hallmark_store::{Claim, ClaimKind, ClaimStatus, NewClaim, Repo, ScanResult};
use serde_json::{Value, json};

use super::publisher::{self, Checked};
use super::refusal::{ClaimRefusal, MAX_CLAIM_BYTES};
use super::statement::{self, SCAN_PREDICATE_TYPE};
use super::trust;
use crate::access::{Auth, repo_for};
use crate::authz::Action;
use crate::error::{ApiError, ApiResult, HubError};
use crate::signer::SignedRevision;
use crate::state::AppState;

/// Reads a stored bundle (at most [`MAX_CLAIM_BYTES`]).
///
/// # Errors
/// The blob is unreadable or larger than the limit.
pub async fn read_bundle(state: &AppState, sha256: &str, what: &str) -> ApiResult<Vec<u8>> {
    let mut out = Vec::new();
    let mut stream = state.blobs.get(sha256, None).await?;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if (out.len() + chunk.len()) as u64 > MAX_CLAIM_BYTES {
            return Err(ClaimRefusal::TooLarge {
                what: what.to_owned(),
                size: (out.len() + chunk.len()) as u64,
            }
            .into());
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// The `hub-signature` claim of a revision the hub just signed (`model.sig` itself).
#[must_use]
pub fn hub_signature(signed: &SignedRevision, sig_sha256: &str, files: usize) -> NewClaim {
    let logged = statement::bundle_log_entry(&signed.bundle_json);
    NewClaim {
        kind: ClaimKind::HubSignature,
        predicate_type: hallmark_format::statement::PREDICATE_TYPE_V1.to_owned(),
        signer: signed.identity.clone(),
        issuer: Some(signed.issuer.clone()),
        status: ClaimStatus::Verified,
        log_index: signed
            .log_index
            .or(logged.map(|l| l.index))
            .and_then(|i| i64::try_from(i).ok()),
        integrated_time: logged.map(|l| l.integrated_time),
        bundle_sha256: sig_sha256.to_owned(),
        asserts: format!(
            "the hub signed the {files} files of this revision on behalf of {}",
            signed.identity
        ),
    }
}

/// The `scan` claim: the verdict as an in-toto statement the hub signs (and logs).
///
/// # Errors
/// Signing, logging or storing the bundle failed.
pub async fn scan_claim(
    state: &AppState,
    repo: &Repo,
    commit: &str,
    manifest: &hallmark_format::Manifest,
    scan: &ScanResult,
) -> Result<NewClaim, HubError> {
    let payload = statement::scan_statement(repo, commit, manifest, scan);
    let signed = sign_statement(state, payload).await?;
    let blob = state.blobs.put_bytes(signed.bundle_json.into()).await?;
    Ok(NewClaim {
        kind: ClaimKind::Scan,
        predicate_type: SCAN_PREDICATE_TYPE.to_owned(),
        signer: signed.signer,
        issuer: Some(signed.issuer),
        status: ClaimStatus::Verified,
        log_index: signed.logged.and_then(|l| i64::try_from(l.index).ok()),
        integrated_time: signed.logged.map(|l| l.integrated_time),
        bundle_sha256: blob.sha256,
        asserts: format!(
            "hallmark-scan (policy {}) found the revision {}, {} findings",
            scan.policy_version,
            scan.verdict,
            scan.findings.len()
        ),
    })
}

/// Signs an in-toto statement (exact bytes) as the hub and appends it to the hub's
/// transparency log when it has one: the scan claims' and incidents' path.
///
/// # Errors
/// Signing or logging failed.
pub async fn sign_statement(
    state: &AppState,
    payload: Vec<u8>,
) -> Result<crate::signer::SignedClaim, HubError> {
    let signer = std::sync::Arc::clone(&state.signer);
    crate::auth::blocking(move || signer.sign_claim(payload)).await?
}

/// `hallmark.claims` of a revision.
#[must_use]
pub fn claims_json(state: &AppState, repo: &Repo, claims: &[Claim]) -> Value {
    Value::Array(
        claims
            .iter()
            .map(|c| {
                let n = &c.claim;
                json!({
                    "kind": n.kind,
                    "predicate_type": n.predicate_type,
                    "signer": n.signer,
                    "issuer": n.issuer,
                    "status": n.status,
                    "log_index": n.log_index,
                    "integrated_time": n.integrated_time,
                    "asserts": n.asserts,
                    "sha256": n.bundle_sha256,
                    "url": format!(
                        "{}/api/models/{}/claims/{}",
                        state.config.public_url,
                        repo.full_name(),
                        c.id
                    ),
                })
            })
            .collect(),
    )
}

/// `GET /api/models/{owner}/{name}/claims/{id}`: a claim's bundle, as stored.
///
/// # Errors
/// 404 for an unknown claim (or a repo the caller may not read).
pub async fn download(
    State(state): State<AppState>,
    auth: Auth,
    Path((owner, name, id)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let repo = repo_for(&state, &auth, &owner, &name, Action::ReadRepo).await?;
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no claim {id} in {}", repo.full_name()),
        )
    };
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let claim = state.meta.claim(repo.id, id).await?.ok_or_else(not_found)?;
    let bytes = read_bundle(&state, &claim.claim.bundle_sha256, "the claim").await?;
    Response::builder()
        .header(header::CONTENT_TYPE, "application/json")
        .header(
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"{}-{id}.sigstore.json\"",
                claim.claim.kind
            ),
        )
        .body(Body::from(bytes))
        .map_err(|e| ApiError::internal(e.to_string()))
}

/// A publisher's `model.sig` that passed [`publisher::check`], not yet logged.
#[derive(Clone, Debug)]
pub struct PublisherSignature {
    checked: publisher::Checked,
    sha256: String,
}

/// Checks the `model.sig` uploaded with `files`, if any, against the uploaded files and
/// the owner's trust settings: before anything is signed or logged.
///
/// # Errors
/// 422 ([`ClaimRefusal`]) for a malformed, mismatching or forged signature.
pub async fn check_publisher(
    state: &AppState,
    repo: &Repo,
    files: &[hallmark_store::FileEntry],
    manifest: &hallmark_format::Manifest,
) -> ApiResult<Option<PublisherSignature>> {
    let what = crate::names::SIGNATURE_FILE;
    let Some(sig) = files.iter().find(|f| f.path == what) else {
        return Ok(None);
    };
    if sig.size > MAX_CLAIM_BYTES {
        return Err(ClaimRefusal::TooLarge {
            what: what.to_owned(),
            size: sig.size,
        }
        .into());
    }
    let bytes = read_bundle(state, &sig.sha256, what).await?;
    let trusted = trust::entries(&*state.meta, repo.owner_id).await?;
    let roots = trust::roots(state);
    let manifest = manifest.clone();
    let checked =
        crate::auth::blocking(move || publisher::check(&bytes, &manifest, &trusted, &roots))
            .await??;
    Ok(Some(PublisherSignature {
        checked,
        sha256: sig.sha256.clone(),
    }))
}

/// Logs a checked publisher signature and makes its claim.
///
/// # Errors
/// The log refused or failed.
pub async fn publisher_claim(
    state: &AppState,
    p: PublisherSignature,
    files: usize,
) -> ApiResult<NewClaim> {
    let logged = log_checked(state, &p.checked).await?;
    let asserts = format!(
        "the publisher ({}) signed the same {files} files",
        p.checked.signer
    );
    Ok(claim_of(
        ClaimKind::PublisherSignature,
        hallmark_format::statement::PREDICATE_TYPE_V1,
        p.checked,
        logged,
        p.sha256,
        asserts,
    ))
}

/// Logs a checked envelope in the hub's log (when the hub has one and the key is known).
///
/// # Errors
/// The log refused or failed.
pub async fn log_checked(state: &AppState, checked: &Checked) -> ApiResult<Option<LoggedEntry>> {
    let Some(pem) = checked.verifier_pem.clone() else {
        return Ok(None);
    };
    let (signer, env) = (
        std::sync::Arc::clone(&state.signer),
        checked.envelope_json.clone(),
    );
    Ok(crate::auth::blocking(move || signer.log_envelope(&env, &[pem.as_str()])).await??)
}

/// The claim recording a checked bundle.
#[must_use]
pub fn claim_of(
    kind: ClaimKind,
    predicate_type: &str,
    checked: Checked,
    logged: Option<LoggedEntry>,
    bundle_sha256: String,
    asserts: String,
) -> NewClaim {
    NewClaim {
        kind,
        predicate_type: predicate_type.to_owned(),
        signer: checked.signer,
        issuer: checked.issuer,
        status: checked.status,
        log_index: logged.and_then(|l| i64::try_from(l.index).ok()),
        integrated_time: logged.map(|l| l.integrated_time),
        bundle_sha256,
        asserts,
    }
}
