//! The documents of one exported revision: the [`BomInput`] that `hallmark-bom`'s
//! writers turn into the CycloneDX 1.6 ML-BOM and the SPDX 3.0.1 document, the file
//! names of its bundles and statements, and its entry in `index.json`.

use std::path::PathBuf;

use hallmark_bom::evidence::ScannedFile;
use hallmark_bom::{
    Artifact, AttestationRef, BomInput, Component, FileDigest, ModelCard, ScanSummary,
    ScanVerdict as BomVerdict, summarize_signature,
};
use hallmark_store::{ClaimKind, ScanVerdict};
use serde_json::{Value, json};

use super::collect::{ClaimEvidence, RevisionEvidence};
use super::error::ExportError;
use super::lineage::Lineage;
use crate::names::SIGNATURE_FILE;
use crate::time::rfc3339;

/// The CycloneDX file of a revision directory.
pub const CYCLONEDX_FILE: &str = "bom.cdx.json";
/// The SPDX file of a revision directory.
pub const SPDX_FILE: &str = "bom.spdx.json";

/// `claims/<id>-<kind>.sigstore.json`: a claim's bundle, as the hub holds it.
#[must_use]
pub fn bundle_file(c: &ClaimEvidence) -> String {
    format!("claims/{}-{}.sigstore.json", c.claim.id, c.claim.claim.kind)
}

/// `claims/<id>-<kind>.intoto.json`: the in-toto statement the bundle signs.
#[must_use]
pub fn statement_file(c: &ClaimEvidence) -> String {
    format!("claims/{}-{}.intoto.json", c.claim.id, c.claim.claim.kind)
}

/// `<owner>/<name>/<commit>`: where a revision's files go.
#[must_use]
pub fn revision_dir(ev: &RevisionEvidence) -> String {
    format!("{}/{}", ev.repo.full_name(), ev.revision.commit)
}

/// The revision's package URL: `pkg:huggingface/<owner>/<name>@<commit>`, with the hub
/// as `repository_url` when known.
///
/// # Errors
/// A repository name that is not `owner/name`.
pub fn purl(ev: &RevisionEvidence, hub: Option<&str>) -> Result<String, ExportError> {
    let full = ev.repo.full_name();
    Ok(match hub {
        Some(h) => hallmark_bom::purl::huggingface_at(&full, &ev.revision.commit, h)?,
        None => hallmark_bom::purl::huggingface(&full, &ev.revision.commit)?,
    })
}

fn verdict(v: ScanVerdict) -> BomVerdict {
    match v {
        ScanVerdict::Clean => BomVerdict::Clean,
        ScanVerdict::Unverified => BomVerdict::Unverified,
        ScanVerdict::Suspicious => BomVerdict::Suspicious,
        ScanVerdict::Dangerous => BomVerdict::Dangerous,
    }
}

/// The recorded scan as `hallmark-bom` summarizes a scan report: every file, with the
/// worst severity of its findings (archive members count for their archive).
fn scan_summary(ev: &RevisionEvidence, report: String) -> Option<ScanSummary> {
    let v = ev.revision.scan_verdict?;
    let files = ev
        .manifest_files
        .iter()
        .map(|(path, _)| {
            let mine: Vec<_> = ev
                .findings
                .iter()
                .filter(|f| f.path.split('!').next() == Some(path.as_str()))
                .collect();
            ScannedFile {
                path: path.clone(),
                format: String::new(),
                verdict: mine
                    .iter()
                    .filter_map(|f| BomVerdict::from_name(&f.severity))
                    .max()
                    .unwrap_or(BomVerdict::Clean),
                rules: mine.iter().map(|f| f.rule.clone()).collect(),
                first_message: mine.first().map(|f| f.message.clone()),
            }
        })
        .collect();
    Some(ScanSummary {
        file: report,
        verdict: verdict(v),
        policy_version: ev.revision.scan_policy.clone(),
        files,
    })
}

fn facts(ev: &RevisionEvidence) -> Vec<(String, String)> {
    let r = &ev.revision;
    let s = &r.signature;
    let mut f = vec![
        ("hallmark:hub:repo".to_owned(), ev.repo.full_name()),
        ("hallmark:hub:revision".to_owned(), r.commit.clone()),
        ("hallmark:hub:uploader".to_owned(), r.uploader.clone()),
        ("hallmark:hub:created".to_owned(), rfc3339(r.created_at)),
        (
            "hallmark:hub:status".to_owned(),
            crate::incident::apply::status(r).to_owned(),
        ),
    ];
    let optional = [
        (
            "hallmark:hub:incident",
            r.revoked
                .as_ref()
                .map(|i| format!("{} ({}): {}", i.id, rfc3339(i.opened_at), i.reason)),
        ),
        ("hallmark:hub:status-detail", s.detail.clone()),
        ("hallmark:hub:signer", s.identity.clone()),
        ("hallmark:hub:issuer", s.issuer.clone()),
        ("hallmark:hub:log-index", s.log_index.map(|i| i.to_string())),
    ];
    for (name, value) in optional {
        if let Some(v) = value {
            f.push((name.to_owned(), v));
        }
    }
    f
}

/// What the BOM writers need for one revision.
///
/// # Errors
/// A malformed repository name.
pub fn bom_input(
    ev: &RevisionEvidence,
    lineage: Lineage,
    hub: Option<&str>,
) -> Result<BomInput, ExportError> {
    let sizes = |p: &str| ev.files.iter().find(|f| f.path == p).map_or(0, |f| f.size);
    let artifact = Artifact {
        name: ev.repo.name.clone(),
        path: PathBuf::from(ev.repo.full_name()),
        files: ev
            .manifest_files
            .iter()
            .map(|(path, sha256)| FileDigest {
                path: path.clone(),
                size: sizes(path),
                sha256: sha256.clone(),
            })
            .collect(),
        root_sha256: ev.root_sha256.clone(),
    };
    let purl = purl(ev, hub)?;
    let mut model = Component::local(artifact, Some(&purl), Some(&ev.revision.commit))?;
    model.name = ev.repo.full_name();
    let mut signatures = Vec::new();
    if let Some(sig) = &ev.model_sig
        && let Ok(s) = summarize_signature(SIGNATURE_FILE, sig)
    {
        signatures.push(s);
    }
    let mut attestations = Vec::new();
    let mut scan_report = None;
    for c in &ev.claims {
        let n = &c.claim.claim;
        if n.kind == ClaimKind::PublisherSignature
            && let Ok(s) = summarize_signature(&bundle_file(c), &c.bundle)
        {
            signatures.push(s);
        }
        if n.kind == ClaimKind::Scan && scan_report.is_none() {
            scan_report = Some(bundle_file(c));
        }
        let log = n
            .log_index
            .map_or_else(|| "not logged".to_owned(), |i| format!("log index {i}"));
        attestations.push(AttestationRef {
            url: bundle_file(c),
            comment: format!(
                "{} claim ({}), {}, signed by {}, {log}",
                n.kind, n.predicate_type, n.status, n.signer
            ),
        });
    }
    let mut facts = facts(ev);
    facts.extend(lineage.facts);
    Ok(BomInput {
        model,
        card: ModelCard::default(),
        supplier: Some(ev.repo.owner.clone()),
        datasets: lineage.datasets,
        base_model: lineage.base_model,
        signatures,
        scan: scan_summary(ev, scan_report.unwrap_or_else(|| "index.json".to_owned())),
        provenance: None,
        attestations,
        facts,
        created: u64::try_from(ev.revision.created_at).unwrap_or(0),
    })
}

/// The revision's entry in `index.json`.
#[must_use]
pub fn index_entry(ev: &RevisionEvidence, purl: &str) -> Value {
    let r = &ev.revision;
    let dir = revision_dir(ev);
    let claims: Vec<Value> = ev
        .claims
        .iter()
        .map(|c| {
            let n = &c.claim.claim;
            json!({
                "id": c.claim.id,
                "kind": n.kind,
                "predicate_type": n.predicate_type,
                "signer": n.signer,
                "issuer": n.issuer,
                "status": n.status,
                "log_index": n.log_index,
                "integrated_time": n.integrated_time.map(rfc3339),
                "asserts": n.asserts,
                "sha256": n.bundle_sha256,
                "bundle": format!("{dir}/{}", bundle_file(c)),
                "statement": c.statement.as_ref().map(|_| format!("{dir}/{}", statement_file(c))),
            })
        })
        .collect();
    let files: Vec<Value> = ev
        .files
        .iter()
        .map(|f| json!({ "path": f.path, "sha256": f.sha256, "size": f.size }))
        .collect();
    json!({
        "repo": ev.repo.full_name(),
        "private": ev.repo.private,
        "revision": r.commit,
        "purl": purl,
        "created_at": rfc3339(r.created_at),
        "uploader": r.uploader,
        "status": crate::incident::apply::status(r),
        "incident": r.revoked.as_ref().map(crate::incident::apply::revocation_json),
        "status_detail": r.signature.detail,
        "signer": r.signature.identity,
        "issuer": r.signature.issuer,
        "log_index": r.signature.log_index,
        "scan": { "verdict": r.scan_verdict, "policy": r.scan_policy },
        "root_sha256": ev.root_sha256,
        "files": files,
        "dir": dir,
        "documents": {
            "cyclonedx": format!("{dir}/{CYCLONEDX_FILE}"),
            "spdx": format!("{dir}/{SPDX_FILE}"),
            "model_sig": ev.model_sig.as_ref().map(|_| format!("{dir}/{SIGNATURE_FILE}")),
        },
        "claims": claims,
    })
}
