//! Checking a revision's signature: on upload, on demand, and (optionally) with a full
//! re-hash of the stored blobs to detect tampering in storage.
//!
//! Steps, failing closed: find `model.sig` → parse the bundle with limits → authenticate
//! it with the signer's trust (hub key today; certificate, log entry and identity for
//! keyless) → payload type → OMS statement → root digest → compare the signed resources
//! with the manifest of the revision's recorded files.

use hallmark_format::bundle::Bundle;
use hallmark_format::dsse::IN_TOTO_PAYLOAD_TYPE;
use hallmark_format::limits::Limits;
use hallmark_format::statement::parse_statement;
use hallmark_signing::compare::compare;
use hallmark_store::{FileEntry, Repo, Revision, SigStatus, SignatureState};

use crate::auth::blocking;
use crate::error::HubError;
use crate::names::SIGNATURE_FILE;
use crate::signer::{RevisionSigner, revision_manifest};
use crate::state::AppState;

fn failed(method: &str, why: String) -> SignatureState {
    SignatureState {
        status: SigStatus::Failed,
        method: Some(method.to_owned()),
        identity: None,
        issuer: None,
        log_index: None,
        detail: Some(why),
        checked_at: Some(crate::time::now()),
    }
}

/// The state of a revision whose stored content no longer matches its record: `failed`
/// with `detail`, keeping who signed it, with which issuer and log entry, from `prev` (the
/// signature itself is still what was verified; the bytes under it changed).
#[must_use]
pub fn storage_failure(prev: &SignatureState, method: &str, detail: String) -> SignatureState {
    SignatureState {
        status: SigStatus::Failed,
        method: prev.method.clone().or_else(|| Some(method.to_owned())),
        identity: prev.identity.clone(),
        issuer: prev.issuer.clone(),
        log_index: prev.log_index,
        detail: Some(detail),
        checked_at: Some(crate::time::now()),
    }
}

/// Verifies `bundle` against the manifest of `files` (pure CPU; call on the blocking pool).
#[must_use]
pub fn verify_bundle(
    signer: &dyn RevisionSigner,
    bundle_bytes: &[u8],
    model_name: &str,
    files: &[FileEntry],
    expected_identity: &str,
) -> SignatureState {
    let method = signer.method();
    let limits = Limits::default();
    let bundle = match Bundle::parse(bundle_bytes, &limits) {
        Ok(b) => b,
        Err(e) => return failed(method, format!("unreadable signature: {e}")),
    };
    let who = match signer.authenticate(&bundle, bundle_bytes, expected_identity) {
        Ok(w) => w,
        Err(e) => return failed(method, format!("signature not authentic: {e}")),
    };
    if bundle.envelope.payload_type != IN_TOTO_PAYLOAD_TYPE {
        return failed(
            method,
            format!("unexpected payload type {}", bundle.envelope.payload_type),
        );
    }
    let statement = match parse_statement(&bundle.envelope.payload, &limits) {
        Ok(s) => s,
        Err(e) => return failed(method, format!("bad statement: {e}")),
    };
    let signed = statement.manifest;
    match &statement.root_digest {
        Some(root) if root.as_slice() == hallmark_crypto::sha256(signed.root_digest_input()) => {}
        _ => {
            return failed(
                method,
                "root digest does not match the signed resources".into(),
            );
        }
    }
    let expected = match revision_manifest(model_name, files) {
        Ok(m) => m,
        Err(e) => return failed(method, e.to_string()),
    };
    let diffs = compare(&signed.resources, &expected.resources, false);
    if !diffs.is_empty() {
        let list: Vec<String> = diffs
            .iter()
            .take(5)
            .map(|d| d.to_string().replace('\n', " "))
            .collect();
        return failed(
            method,
            format!(
                "{} difference(s) between signature and files: {}",
                diffs.len(),
                list.join("; ")
            ),
        );
    }
    SignatureState {
        status: SigStatus::Verified,
        method: Some(method.to_owned()),
        identity: Some(who.identity),
        issuer: Some(who.issuer),
        log_index: who.log_index.and_then(|i| i64::try_from(i).ok()),
        detail: Some(format!(
            "{} files match the signed manifest",
            signed.resources.len()
        )),
        checked_at: Some(crate::time::now()),
    }
}

/// Re-checks a stored revision. With `rehash`, every blob is read back and hashed, so
/// storage tampering shows up as a failure; a revision already `failed` is always
/// re-hashed (a download that found altered content is cleared only by a full check).
///
/// # Errors
/// Storage failures (a failed verification is a [`SignatureState`], not an error).
pub async fn check_revision(
    state: &AppState,
    repo: &Repo,
    rev: &Revision,
    rehash: bool,
) -> Result<SignatureState, HubError> {
    let files = state.meta.revision_files(repo.id, &rev.commit).await?;
    let Some(sig) = files.iter().find(|f| f.path == SIGNATURE_FILE) else {
        return Ok(SignatureState {
            status: SigStatus::Unsigned,
            method: None,
            identity: None,
            issuer: None,
            log_index: None,
            detail: None,
            checked_at: Some(crate::time::now()),
        });
    };
    let method = state.signer.method();
    if rehash || rev.signature.status == SigStatus::Failed {
        for f in &files {
            match state.blobs.rehash(&f.sha256).await {
                Ok(d) if d == f.sha256 => {}
                Ok(d) => {
                    return Ok(storage_failure(
                        &rev.signature,
                        method,
                        format!("stored content of {} altered (now sha256:{d})", f.path),
                    ));
                }
                Err(e) => {
                    return Ok(storage_failure(
                        &rev.signature,
                        method,
                        format!("stored content of {} unreadable: {e}", f.path),
                    ));
                }
            }
        }
    }
    let bundle = match state.blobs.read_all(&sig.sha256).await {
        Ok(b) => b,
        Err(e) => return Ok(failed(method, format!("signature unreadable: {e}"))),
    };
    let signer = std::sync::Arc::clone(&state.signer);
    let identity = signer.identity_of(&rev.uploader);
    let name = repo.name.clone();
    blocking(move || verify_bundle(&*signer, &bundle, &name, &files, &identity)).await
}
