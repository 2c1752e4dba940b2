//! `hallmark pull --require KIND[=VALUE]` and `--policy FILE`: claims a revision must
//! carry before its files are moved into place (issue 16 §4).
//!
//! `KIND` is a claim kind the hub lists in `hallmark.claims`: `publisher-signature`,
//! `hub-signature`, `scan`, `bom` or `provenance`. For `scan`, `VALUE` is the worst
//! verdict accepted (`clean` < `unverified` < `suspicious` < `dangerous`; `scan=clean`
//! accepts only clean); for the others it is the status required (`verified`, the
//! default, or `untrusted`).
//!
//! What the hub reports is not believed where it can be checked: every claim's bundle is
//! downloaded, its in-toto subject must be the root digest of the files just verified
//! (or one of their digests), a `scan` claim must be signed by the hub under the trust
//! root or key pinned for the repository and its verdict is read from the signed
//! statement, a `hub-signature` must verify as `model.sig` did. The status of a publisher
//! signature, BOM or provenance is the hub's rating against the owner's trust settings;
//! to check their signers yourself, use `--policy` (a `hallmark policy` file), which runs
//! `hallmark policy check` on the staged files with the publisher signatures (else
//! `model.sig`), a local `hallmark scan` of the files, and the provenance and BOM claims.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow};
use hallmark_bom::ScanVerdict;
use hallmark_format::bundle::Bundle;
use hallmark_format::dsse::IN_TOTO_PAYLOAD_TYPE;
use hallmark_format::limits::Limits;
use hallmark_hash::EngineOptions;
use hallmark_signing::verify::EnvelopeVerifier;
use serde_json::{Value, json};

use crate::args::require::{Requirement, Want};
use crate::hubclient::Client;
use crate::pulltrust::url_path;
use crate::util::{Failure, OrExit as _};

/// Largest claim bundle downloaded.
const MAX_CLAIM_BYTES: u64 = 16 << 20;

/// At most this many claims of one kind are examined.
const MAX_CANDIDATES: usize = 16;

/// Why a pull is refused for its requirements.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Refusal {
    /// The hub lists no claim of the kind.
    #[error("required claim {kind} is missing: revision {commit} has none")]
    Missing {
        /// The kind.
        kind: &'static str,
        /// The revision.
        commit: String,
    },
    /// Every claim of the kind failed; the reasons, one per claim.
    #[error("required claim {spec} failed: {}", .reasons.join("; "))]
    Failed {
        /// The requirement as given.
        spec: String,
        /// Why each claim of the kind failed.
        reasons: Vec<String>,
    },
    /// The policy file refused the revision.
    #[error("policy {path} denied the revision: {}", .refusals.join("; "))]
    Policy {
        /// The policy file.
        path: String,
        /// `check: detail` of each refusal.
        refusals: Vec<String>,
    },
}

/// What the claims are checked against: the files just verified and the verifiers pinned
/// for the repository.
pub(crate) struct Subject<'a> {
    /// The revision.
    pub(crate) commit: &'a str,
    /// OMS root digest of the verified files (hex).
    pub(crate) root: &'a str,
    /// SHA-256 of each file (hex).
    pub(crate) files: Vec<&'a str>,
    /// Verifies the hub's own claims (scan).
    pub(crate) hub: &'a dyn EnvelopeVerifier,
    /// Verifies `model.sig` (hub-signature).
    pub(crate) model_sig: &'a dyn EnvelopeVerifier,
}

/// The claims of `info` (`hallmark.claims`) of `kind`, at most [`MAX_CANDIDATES`].
fn listed<'v>(info: &'v Value, kind: &str) -> Vec<&'v Value> {
    info.pointer("/hallmark/claims")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|c| c.get("kind").and_then(Value::as_str) == Some(kind))
        .take(MAX_CANDIDATES)
        .collect()
}

/// A downloaded claim: its bundle and in-toto statement.
struct Fetched {
    bytes: Vec<u8>,
    bundle: Bundle,
    statement: Value,
}

/// Downloads a claim's bundle and checks its statement is about `s`'s files.
fn fetch(client: &Client, claim: &Value, s: &Subject<'_>) -> Result<Fetched, String> {
    let url = claim.get("url").and_then(Value::as_str).unwrap_or_default();
    let path = url
        .strip_prefix(&client.base)
        .unwrap_or_else(|| url_path(url));
    let bytes = client
        .get_bytes(path, MAX_CLAIM_BYTES)
        .map_err(|e| format!("{url}: {e:#}"))?;
    let bundle = Bundle::parse(&bytes, &Limits::default())
        .map_err(|e| format!("{url} is not a Sigstore bundle: {e}"))?;
    if bundle.envelope.payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err(format!("{url} does not carry an in-toto statement"));
    }
    let statement: Value = serde_json::from_slice(&bundle.envelope.payload)
        .map_err(|e| format!("{url}: statement: {e}"))?;
    let digests: Vec<&str> = statement
        .get("subject")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|x| x.pointer("/digest/sha256").and_then(Value::as_str))
        .collect();
    if digests.is_empty() {
        return Err(format!("{url}: the statement names no sha256 subject"));
    }
    if let Some(other) = digests
        .iter()
        .find(|d| **d != s.root && !s.files.contains(d))
    {
        return Err(format!(
            "{url} is about sha256:{other}, not revision {} (root sha256:{})",
            s.commit, s.root
        ));
    }
    Ok(Fetched {
        bytes,
        bundle,
        statement,
    })
}

/// Whether one listed claim meets `r`; `Err` says why not.
fn judge(client: &Client, r: &Requirement, claim: &Value, s: &Subject<'_>) -> Result<(), String> {
    let f = fetch(client, claim, s)?;
    let url = claim.get("url").and_then(Value::as_str).unwrap_or_default();
    let auth = |v: &dyn EnvelopeVerifier| {
        v.authenticate(&f.bundle, &f.bytes)
            .map(drop)
            .map_err(|e| format!("{url}: signature: {e}"))
    };
    match (r.kind, r.want) {
        ("scan", want) => {
            auth(s.hub)?;
            let name = f
                .statement
                .pointer("/predicate/verdict")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let verdict = ScanVerdict::from_name(name)
                .ok_or_else(|| format!("{url}: no scan verdict in the signed statement"))?;
            match want {
                Want::Verdict(max) if verdict > max => Err(format!(
                    "{url}: the hub's signed scan says {}, {} accepted at most",
                    verdict.as_str(),
                    max.as_str()
                )),
                _ => Ok(()),
            }
        }
        (kind, want) => {
            if kind == "hub-signature" {
                auth(s.model_sig)?;
            }
            let status = claim
                .get("status")
                .and_then(Value::as_str)
                .unwrap_or_default();
            match want {
                Want::Status(w) if w != status => Err(format!("{url}: status {status}, not {w}")),
                _ => Ok(()),
            }
        }
    }
}

/// Checks every requirement: each needs one listed claim of its kind that passes.
///
/// # Errors
/// [`Refusal::Missing`] or [`Refusal::Failed`] for the first requirement not met.
pub(crate) fn check(
    client: &Client,
    info: &Value,
    reqs: &[Requirement],
    s: &Subject<'_>,
) -> Result<(), Refusal> {
    for r in reqs {
        let claims = listed(info, r.kind);
        if claims.is_empty() {
            return Err(Refusal::Missing {
                kind: r.kind,
                commit: s.commit.to_owned(),
            });
        }
        let mut reasons = Vec::new();
        for c in claims {
            match judge(client, r, c, s) {
                Ok(()) => {
                    reasons.clear();
                    break;
                }
                Err(why) => reasons.push(why),
            }
        }
        if !reasons.is_empty() {
            return Err(Refusal::Failed {
                spec: r.to_string(),
                reasons,
            });
        }
    }
    Ok(())
}

/// Runs `hallmark policy check` with `policy` (loaded from its path) on the staged files `files` (`model.sig` is
/// moved to `parts` meanwhile, so only model files are judged), with evidence written
/// to `parts`.
///
/// # Errors
/// [`Refusal::Policy`] (exit 1) when the policy denies the revision or its evidence cannot
/// be judged.
pub(crate) fn policy(
    client: &Client,
    info: &Value,
    (policy, p): (&Path, &hallmark_policy::Policy),
    files: &Path,
    parts: &Path,
    s: &Subject<'_>,
) -> Result<(), Failure> {
    let sig = files.join("model.sig");
    let moved = parts.join("model.sig");
    std::fs::rename(&sig, &moved)
        .with_context(|| format!("cannot move {}", sig.display()))
        .or_failed()?;
    let decision = evidence(client, info, files, parts, &moved, s).and_then(|inputs| {
        hallmark_policy::check(p, &inputs, &EngineOptions::default())
            .map_err(|e| Failure::failed(anyhow!(e)))
    });
    std::fs::rename(&moved, &sig)
        .with_context(|| format!("cannot move {} back", sig.display()))
        .or_failed()?;
    let d = decision?;
    if d.allowed {
        return Ok(());
    }
    Err(Failure::failed(anyhow!(Refusal::Policy {
        path: policy.display().to_string(),
        refusals: d
            .refusals()
            .map(|o| format!("{}: {}", o.check, o.detail))
            .collect(),
    })))
}

/// The policy's inputs: publisher signatures (else `model.sig`), a local scan, the first
/// provenance and BOM claims that are about these files.
fn evidence(
    client: &Client,
    info: &Value,
    files: &Path,
    parts: &Path,
    model_sig: &Path,
    s: &Subject<'_>,
) -> Result<hallmark_policy::Inputs, Failure> {
    let write = |name: &str, bytes: &[u8]| -> Result<PathBuf, Failure> {
        let p = parts.join(name);
        std::fs::write(&p, bytes)
            .with_context(|| format!("cannot write {}", p.display()))
            .or_failed()?;
        Ok(p)
    };
    let mut signatures = Vec::new();
    for (i, c) in listed(info, "publisher-signature").into_iter().enumerate() {
        if let Ok(f) = fetch(client, c, s) {
            signatures.push(write(&format!("publisher-{i}.sig"), &f.bytes)?);
        }
    }
    if signatures.is_empty() {
        signatures.push(model_sig.to_owned());
    }
    let first = |kind: &str| {
        listed(info, kind)
            .into_iter()
            .find_map(|c| fetch(client, c, s).ok())
    };
    let provenance = match first("provenance") {
        Some(f) => Some(write("provenance.sigstore.json", &f.bytes)?),
        None => None,
    };
    let bom = match first("bom") {
        Some(f) => {
            let doc = f.statement.get("predicate").cloned().unwrap_or(Value::Null);
            Some(write("bom.json", doc.to_string().as_bytes())?)
        }
        None => None,
    };
    let scanner = hallmark_scan::Scanner::new(
        hallmark_scan::Limits::default(),
        hallmark_scan::Policy::with_overrides(&[]),
    );
    let reports = scanner
        .scan_path(files)
        .context("scanning the downloaded files")
        .or_failed()?;
    let report = json!({ "policy_version": hallmark_scan::POLICY_VERSION, "files": reports });
    let scan_report = Some(write("scan.json", report.to_string().as_bytes())?);
    Ok(hallmark_policy::Inputs {
        model: files.to_owned(),
        signatures,
        scan_report,
        provenance,
        bom,
    })
}
