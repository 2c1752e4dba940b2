//! `hallmark push --attach FILE`: after the push, each FILE (a Sigstore bundle of an
//! AI-BOM or SLSA provenance statement about the pushed files, e.g. from `hallmark attest`)
//! is sent to `POST /api/models/{owner}/{name}/attach/{commit}`; the hub checks it names
//! this revision's digests and keeps it as a `bom` or `provenance` claim.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde_json::Value;

use crate::hubclient::Client;
use crate::util::read_input;

/// Largest attachment read (the hub's own limit on claim bundles).
const MAX_ATTACHMENT_BYTES: u64 = 16 << 20;

/// Attaches every file to revision `commit` of `owner/name`, in order; the hub's
/// `hallmark.claims` entry for each.
///
/// # Errors
/// The first file that cannot be read, is not JSON or is refused, named.
pub(crate) fn attach_all(
    client: &Client,
    owner: &str,
    name: &str,
    commit: &str,
    files: &[PathBuf],
) -> anyhow::Result<Vec<Value>> {
    files
        .iter()
        .map(|f| {
            attach(client, owner, name, commit, f)
                .with_context(|| format!("attaching {} to {owner}/{name} at {commit}", f.display()))
        })
        .collect()
}

fn attach(
    client: &Client,
    owner: &str,
    name: &str,
    commit: &str,
    file: &Path,
) -> anyhow::Result<Value> {
    let meta =
        std::fs::metadata(file).with_context(|| format!("cannot read {}", file.display()))?;
    if meta.len() > MAX_ATTACHMENT_BYTES {
        anyhow::bail!(
            "{} is {} bytes, over the {MAX_ATTACHMENT_BYTES}-byte limit",
            file.display(),
            meta.len()
        );
    }
    let bytes = read_input("attachment", file)?;
    let body: Value = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not a JSON Sigstore bundle", file.display()))?;
    client.post_json(
        &format!("/api/models/{owner}/{name}/attach/{commit}"),
        &body,
    )
}
