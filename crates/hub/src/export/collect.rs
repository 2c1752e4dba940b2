//! Choosing the revisions to export and reading what the hub holds about each: files and
//! digests, `model.sig`, every claim's bundle (checked against its digest: an export never
//! carries bytes other than those the hub recorded) and in-toto statement, scan findings.

use std::collections::HashMap;

use hallmark_format::bundle::Bundle;
use hallmark_format::dsse::IN_TOTO_PAYLOAD_TYPE;
use hallmark_format::limits::Limits;
use hallmark_store::{BlobStore, Claim, FileEntry, MetaStore, Repo, Revision, ScanFinding};

use super::error::ExportError;
use crate::claims::MAX_CLAIM_BYTES;
use crate::claims::statement::root_digest;
use crate::names::SIGNATURE_FILE;
use crate::signer::revision_manifest;

/// Which revisions to export.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExportFilter {
    /// Created at or after (Unix seconds).
    pub since: i64,
    /// Created before (Unix seconds), when given.
    pub until: Option<i64>,
    /// Only repositories of this owner (user or organisation).
    pub org: Option<String>,
    /// Only this repository (`owner/name`).
    pub repo: Option<String>,
}

/// Revisions read from the store per page.
const PAGE: u32 = 500;

/// A claim and the bytes the hub holds for it.
#[derive(Clone, Debug)]
pub struct ClaimEvidence {
    /// The recorded claim.
    pub claim: Claim,
    /// Its Sigstore bundle, as stored.
    pub bundle: Vec<u8>,
    /// The DSSE payload (the in-toto statement, exact bytes), when the bundle carries one.
    pub statement: Option<Vec<u8>>,
}

/// Everything exported about one revision.
#[derive(Clone, Debug)]
pub struct RevisionEvidence {
    /// Its repository.
    pub repo: Repo,
    /// The revision.
    pub revision: Revision,
    /// Every file, `model.sig` included, by path.
    pub files: Vec<FileEntry>,
    /// The OMS manifest's files (no `model.sig`) in reference order: `(path, sha256)`.
    pub manifest_files: Vec<(String, String)>,
    /// Hex OMS root digest (the subject of every claim).
    pub root_sha256: String,
    /// `model.sig`, as stored.
    pub model_sig: Option<Vec<u8>>,
    /// Claims, oldest first.
    pub claims: Vec<ClaimEvidence>,
    /// Scan findings.
    pub findings: Vec<ScanFinding>,
}

/// Whether `created_at` is in `[since, until)`.
#[must_use]
pub fn in_window(created_at: i64, filter: &ExportFilter) -> bool {
    created_at >= filter.since && filter.until.is_none_or(|u| created_at < u)
}

/// The revisions the filter selects, oldest first (then by repo and commit).
///
/// # Errors
/// An unknown `--repo` or `--org`, storage failure.
pub async fn select(
    meta: &dyn MetaStore,
    filter: &ExportFilter,
) -> Result<Vec<(Repo, Revision)>, ExportError> {
    let only_repo = match &filter.repo {
        Some(full) => {
            let (owner, name) = full
                .split_once('/')
                .ok_or_else(|| ExportError::UnknownRepo(full.clone()))?;
            let r = meta
                .repo(owner, name)
                .await?
                .ok_or_else(|| ExportError::UnknownRepo(full.clone()))?;
            Some(r)
        }
        None => None,
    };
    if let Some(org) = &filter.org
        && meta.account(org).await?.is_none()
    {
        return Err(ExportError::UnknownOwner(org.clone()));
    }
    let mut repos: HashMap<i64, Option<Repo>> = HashMap::new();
    let mut out = Vec::new();
    let mut after: Option<(i64, String)> = None;
    loop {
        let page = meta
            .scan_targets(
                only_repo.as_ref().map(|r| r.id),
                after.as_ref().map(|(r, c)| (*r, c.as_str())),
                PAGE,
            )
            .await?;
        let Some(last) = page.last() else { break };
        after = Some((last.repo_id, last.commit.clone()));
        for t in &page {
            if let std::collections::hash_map::Entry::Vacant(e) = repos.entry(t.repo_id) {
                e.insert(meta.repo_by_id(t.repo_id).await?);
            }
            let Some(Some(repo)) = repos.get(&t.repo_id) else {
                continue;
            };
            if filter
                .org
                .as_ref()
                .is_some_and(|o| !repo.owner.eq_ignore_ascii_case(o))
            {
                continue;
            }
            let Some(rev) = meta.revision(t.repo_id, &t.commit).await? else {
                continue;
            };
            if in_window(rev.created_at, filter) {
                out.push((repo.clone(), rev));
            }
        }
        if page.len() < PAGE as usize {
            break;
        }
    }
    out.sort_by(|(ra, a), (rb, b)| {
        (a.created_at, ra.full_name(), &a.commit).cmp(&(b.created_at, rb.full_name(), &b.commit))
    });
    Ok(out)
}

/// Reads a stored bundle (at most [`MAX_CLAIM_BYTES`]) and checks it is the blob its
/// digest names.
///
/// # Errors
/// Missing blob, over the limit, or bytes that do not hash to `sha256`.
pub async fn read_checked(
    blobs: &BlobStore,
    sha256: &str,
    what: &str,
) -> Result<Vec<u8>, ExportError> {
    use futures_util::StreamExt as _;
    let mut out = Vec::new();
    let mut stream = blobs.get(sha256, None).await?;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if (out.len() + chunk.len()) as u64 > MAX_CLAIM_BYTES {
            return Err(ExportError::TooLarge {
                what: what.to_owned(),
                sha256: sha256.to_owned(),
            });
        }
        out.extend_from_slice(&chunk);
    }
    let got = hex::encode(hallmark_crypto::sha256(&out));
    if got != sha256 {
        return Err(ExportError::Tampered {
            what: what.to_owned(),
            sha256: sha256.to_owned(),
            got,
        });
    }
    Ok(out)
}

/// The in-toto statement a bundle carries (the exact DSSE payload bytes).
#[must_use]
pub fn statement_of(bundle: &[u8]) -> Option<Vec<u8>> {
    let b = Bundle::parse(bundle, &Limits::default()).ok()?;
    (b.envelope.payload_type == IN_TOTO_PAYLOAD_TYPE).then_some(b.envelope.payload)
}

/// Reads the evidence of one revision.
///
/// # Errors
/// Storage failure, a blob that no longer matches its digest, an unreadable manifest.
pub async fn evidence(
    meta: &dyn MetaStore,
    blobs: &BlobStore,
    repo: Repo,
    revision: Revision,
) -> Result<RevisionEvidence, ExportError> {
    let at = format!("{}@{}", repo.full_name(), revision.commit);
    let files = meta.revision_files(repo.id, &revision.commit).await?;
    let manifest = revision_manifest(&repo.name, &files)?;
    let root_sha256 = root_digest(&manifest);
    let manifest_files = manifest
        .resources
        .iter()
        .map(|r| (r.path.to_owned(), hex::encode(r.digest)))
        .collect();
    let model_sig = match files.iter().find(|f| f.path == SIGNATURE_FILE) {
        Some(f) => Some(read_checked(blobs, &f.sha256, &format!("{at}: {SIGNATURE_FILE}")).await?),
        None => None,
    };
    let mut claims = Vec::new();
    for claim in meta.claims(repo.id, &revision.commit).await? {
        let what = format!("{at}: {} claim {}", claim.claim.kind, claim.id);
        let bundle = read_checked(blobs, &claim.claim.bundle_sha256, &what).await?;
        let statement = statement_of(&bundle);
        claims.push(ClaimEvidence {
            claim,
            bundle,
            statement,
        });
    }
    let findings = meta.scan_findings(repo.id, &revision.commit).await?;
    Ok(RevisionEvidence {
        repo,
        revision,
        files,
        manifest_files,
        root_sha256,
        model_sig,
        claims,
        findings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_includes_since_and_excludes_until() {
        let f = ExportFilter {
            since: 100,
            until: Some(200),
            ..ExportFilter::default()
        };
        assert!(!in_window(99, &f));
        assert!(in_window(100, &f));
        assert!(in_window(199, &f));
        assert!(!in_window(200, &f));
        let open = ExportFilter {
            since: 100,
            ..ExportFilter::default()
        };
        assert!(in_window(i64::MAX, &open));
    }
}
