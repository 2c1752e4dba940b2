//! `hallmark hub export` (issue 20 §4): the documents a supply-chain graph (GUAC) ingests,
//! per revision, written atomically into one directory:
//!
//! ```text
//! DIR/index.json                                   revisions, files, claims, log indexes, statuses
//! DIR/<owner>/<name>/<commit>/bom.cdx.json         CycloneDX 1.6 ML-BOM (hallmark-bom)
//! DIR/<owner>/<name>/<commit>/bom.spdx.json        SPDX 3.0.1, AI and Dataset profiles (hallmark-bom)
//! DIR/<owner>/<name>/<commit>/model.sig            the revision's model.sig, as stored
//! DIR/<owner>/<name>/<commit>/claims/<id>-<kind>.sigstore.json   each claim's bundle, as stored
//! DIR/<owner>/<name>/<commit>/claims/<id>-<kind>.intoto.json     the in-toto statement it signs
//! ```
//!
//! Bundles are the bytes the hub holds (checked against their digests while copying);
//! statements are the exact DSSE payloads. The BOMs name the model by
//! `pkg:huggingface/<owner>/<name>@<commit>` (with the hub as `repository_url`), list the
//! SHA-256 of every file, the datasets and base model that the revision's `bom` and
//! `provenance` claims name ([`lineage`]), the signer and status as `hallmark:hub:*`
//! properties, and link every claim bundle as an attestation. The output depends only on
//! the store: exporting twice gives the same bytes, except `index.json`'s `generated_at`.

pub mod collect;
pub mod documents;
pub mod error;
pub mod lineage;
pub mod write;

use std::path::{Path, PathBuf};

use hallmark_store::{BlobStore, MetaStore};
use serde_json::json;

use crate::names::SIGNATURE_FILE;

pub use collect::ExportFilter;
pub use error::{ExportError, parse_time};

/// The `format` of `index.json`.
pub const INDEX_FORMAT: &str = "hallmark-export/v1";

/// How to export.
#[derive(Clone, Debug, Default)]
pub struct ExportOptions {
    /// Which revisions.
    pub filter: ExportFilter,
    /// Replace a non-empty target directory.
    pub force: bool,
    /// The hub's public URL, for package URLs and download locations (default: each
    /// revision's signature issuer, when it is a URL: the keyless hub that signed it).
    pub hub_url: Option<String>,
}

/// What was exported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportSummary {
    /// The directory written.
    pub dir: PathBuf,
    /// Revisions exported.
    pub revisions: usize,
    /// Files written (index included).
    pub files: usize,
}

fn pretty(v: &serde_json::Value) -> Vec<u8> {
    let mut s = serde_json::to_vec_pretty(v).unwrap_or_default();
    s.push(b'\n');
    s
}

/// Exports the selected revisions into `dir` (see the module documentation).
///
/// # Errors
/// [`ExportError`]; `dir` is then as it was before.
pub async fn export(
    meta: &dyn MetaStore,
    blobs: &BlobStore,
    opts: &ExportOptions,
    dir: &Path,
) -> Result<ExportSummary, ExportError> {
    let mut out = write::Staging::begin(dir, opts.force)?;
    let hub = opts.hub_url.as_deref().map(|u| u.trim_end_matches('/'));
    let selected = collect::select(meta, &opts.filter).await?;
    let mut entries = Vec::with_capacity(selected.len());
    for (repo, rev) in selected {
        let ev = collect::evidence(meta, blobs, repo, rev).await?;
        let base = documents::revision_dir(&ev);
        let lineage = lineage::from_claims(&ev.claims);
        // Without a configured URL, the hub that signed the revision (its issuer).
        let issuer = ev.revision.signature.issuer.clone();
        let hub_for = hub.or(issuer.as_deref().filter(|i| i.starts_with("http")));
        let input = documents::bom_input(&ev, lineage, hub_for)?;
        let at = |f: &str| format!("{base}/{f}");
        out.write(
            &at(documents::CYCLONEDX_FILE),
            &pretty(&hallmark_bom::to_cyclonedx(&input)),
        )?;
        out.write(
            &at(documents::SPDX_FILE),
            &pretty(&hallmark_bom::to_spdx(&input)),
        )?;
        if let Some(sig) = &ev.model_sig {
            out.write(&at(SIGNATURE_FILE), sig)?;
        }
        for c in &ev.claims {
            out.write(&at(&documents::bundle_file(c)), &c.bundle)?;
            if let Some(s) = &c.statement {
                out.write(&at(&documents::statement_file(c)), s)?;
            }
        }
        entries.push(documents::index_entry(&ev, &input.model.purl));
    }
    let f = &opts.filter;
    let revisions = entries.len();
    let index = json!({
        "format": INDEX_FORMAT,
        "generated_at": crate::time::rfc3339(crate::time::now()),
        "hub": hub,
        "filter": {
            "since": crate::time::rfc3339(f.since),
            "until": f.until.map(crate::time::rfc3339),
            "org": f.org,
            "repo": f.repo,
        },
        "revisions": entries,
    });
    out.write("index.json", &pretty(&index))?;
    let files = out.files();
    let dir = out.commit()?;
    Ok(ExportSummary {
        dir,
        revisions,
        files,
    })
}
