//! Scan on upload: every revision's files go through `hallmark-scan` at commit, before
//! the hub signs or logs anything, and the result is recorded with the revision.
//!
//! The scan runs on the blocking pool, at most [`ScanSettings::slots`] revisions at a
//! time (a scan that outlives its deadline keeps its slot until it ends, so CPU stays
//! bounded), each within [`ScanSettings::timeout`] and the scanner's [`Limits`]. A
//! scanner error, a limit or the deadline makes the revision `unverified`, never `clean`.
//! An owner may refuse uploads from a verdict on ([`MetaStore::scan_refusal`]): the
//! commit answers 422 naming the file and the finding, and nothing is stored as a
//! revision.
//!
//! [`MetaStore::scan_refusal`]: hallmark_store::MetaStore::scan_refusal

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use hallmark_scan::{FileReport, Limits, POLICY_VERSION, Scanner, Severity, Verdict};
use hallmark_store::{BlobStore, FileEntry, Repo, ScanFinding, ScanResult, ScanVerdict};
use tokio::sync::Semaphore;

use crate::error::{HubError, Refusal};
use crate::names::SIGNATURE_FILE;

/// Findings recorded per revision; past it one more finding says how many were left out.
pub const MAX_FINDINGS: usize = 1_000;

/// How the hub scans revisions.
#[derive(Clone, Debug)]
pub struct ScanSettings {
    /// The scanner's bounds per file.
    pub limits: Limits,
    /// Deadline for one revision's scan (waiting for a slot included).
    pub timeout: Duration,
    /// Revisions scanned at once.
    pub slots: usize,
}

impl Default for ScanSettings {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            timeout: Duration::from_secs(600),
            slots: 2,
        }
    }
}

/// The hub's scanner with its concurrency bound.
#[derive(Debug)]
pub struct RevisionScanner {
    scanner: Scanner,
    timeout: Duration,
    slots: Arc<Semaphore>,
}

impl RevisionScanner {
    /// A scanner with these settings and the built-in policy.
    #[must_use]
    pub fn new(settings: &ScanSettings) -> Self {
        Self {
            scanner: Scanner::new(settings.limits.clone(), hallmark_scan::Policy::default()),
            timeout: settings.timeout,
            slots: Arc::new(Semaphore::new(settings.slots.max(1))),
        }
    }

    /// Scans a revision's files (`model.sig` excepted). Never fails: what could not be
    /// scanned is `unverified`.
    pub async fn scan(&self, blobs: &BlobStore, files: &[FileEntry]) -> ScanResult {
        let mut sources = Vec::new();
        let scanner = self.scanner.clone();
        let open_all = async {
            for f in files.iter().filter(|f| f.path != SIGNATURE_FILE) {
                sources.push((f.path.clone(), open_blob(blobs, &f.sha256).await));
            }
        };
        let started = std::time::Instant::now();
        if tokio::time::timeout(self.timeout, open_all).await.is_err() {
            return self.too_late();
        }
        let n = sources.len();
        let r = self.guarded(move || scan_sources(&scanner, sources)).await;
        tracing::info!(
            files = n,
            verdict = r.verdict.as_str(),
            micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            "revision scanned"
        );
        r
    }

    /// Runs `work` on the blocking pool in one of the slots, within the deadline: a panic
    /// (the scanner crashed), a closed pool or the deadline give `unverified`.
    async fn guarded(&self, work: impl FnOnce() -> ScanResult + Send + 'static) -> ScanResult {
        let run = async {
            let slot = Arc::clone(&self.slots)
                .acquire_owned()
                .await
                .map_err(|e| e.to_string())?;
            tokio::task::spawn_blocking(move || {
                let _slot = slot;
                work()
            })
            .await
            .map_err(|e| format!("the scanner stopped: {e}"))
        };
        match tokio::time::timeout(self.timeout, run).await {
            Ok(Ok(result)) => result,
            Ok(Err(why)) => unverified(why),
            Err(_) => self.too_late(),
        }
    }

    fn too_late(&self) -> ScanResult {
        unverified(format!(
            "the scan did not finish within {} ms",
            self.timeout.as_millis()
        ))
    }
}

/// A readable, seekable copy of a blob: the file itself in a local store, else a
/// temporary file the blob is streamed into (deleted when closed).
async fn open_blob(blobs: &BlobStore, sha256: &str) -> Result<std::fs::File, String> {
    if let Some(path) = blobs.local_path(sha256) {
        return std::fs::File::open(&path).map_err(|e| format!("opening the blob: {e}"));
    }
    let mut tmp = tempfile::tempfile().map_err(|e| format!("a temporary file: {e}"))?;
    let mut stream = blobs
        .get(sha256, None)
        .await
        .map_err(|e| format!("reading the blob: {e}"))?;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| format!("reading the blob: {e}"))?;
        tmp.write_all(&chunk)
            .map_err(|e| format!("a temporary file: {e}"))?;
    }
    Ok(tmp)
}

fn unverified(why: String) -> ScanResult {
    ScanResult {
        verdict: ScanVerdict::Unverified,
        policy_version: POLICY_VERSION.to_owned(),
        findings: vec![ScanFinding {
            path: String::new(),
            rule: hallmark_scan::Rule::Unverified.id().to_owned(),
            severity: "unverified".into(),
            message: why,
        }],
    }
}

fn verdict(v: Verdict) -> ScanVerdict {
    match v {
        Verdict::Clean => ScanVerdict::Clean,
        Verdict::Unverified => ScanVerdict::Unverified,
        Verdict::Suspicious => ScanVerdict::Suspicious,
        Verdict::Dangerous => ScanVerdict::Dangerous,
    }
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Info => "info",
        Severity::Unverified => "unverified",
        Severity::Suspicious => "suspicious",
        Severity::Dangerous => "dangerous",
    }
}

type Source = (String, Result<std::fs::File, String>);

fn scan_sources(scanner: &Scanner, sources: Vec<Source>) -> ScanResult {
    let mut out = ScanResult {
        verdict: ScanVerdict::Clean,
        policy_version: POLICY_VERSION.to_owned(),
        findings: Vec::new(),
    };
    let mut left_out = 0usize;
    for (path, file) in sources {
        let report = match file {
            Ok(mut f) => scanner.scan_reader(&path, &mut f),
            Err(why) => {
                let mut r = unverified(why);
                r.findings.iter_mut().for_each(|f| f.path.clone_from(&path));
                add(&mut out, r.verdict, r.findings, &mut left_out);
                continue;
            }
        };
        let FileReport {
            verdict: v,
            findings,
            ..
        } = report;
        let findings = findings.into_iter().map(|f| ScanFinding {
            path: if f.member.is_empty() {
                path.clone()
            } else {
                format!("{path}!{}", f.member)
            },
            rule: f.rule.id().to_owned(),
            severity: severity(f.severity).to_owned(),
            message: f.message,
        });
        add(&mut out, verdict(v), findings.collect(), &mut left_out);
    }
    if left_out > 0 {
        out.findings.push(ScanFinding {
            path: String::new(),
            rule: "HM-HUB-001".into(),
            severity: "info".into(),
            message: format!("{left_out} more findings not recorded (at most {MAX_FINDINGS})"),
        });
    }
    out
}

fn add(out: &mut ScanResult, v: ScanVerdict, findings: Vec<ScanFinding>, left_out: &mut usize) {
    out.verdict = out.verdict.max(v);
    let room = MAX_FINDINGS.saturating_sub(out.findings.len());
    *left_out += findings.len().saturating_sub(room);
    out.findings.extend(findings.into_iter().take(room));
}

fn rank(severity: &str) -> ScanVerdict {
    match severity {
        "dangerous" => ScanVerdict::Dangerous,
        "suspicious" => ScanVerdict::Suspicious,
        "unverified" => ScanVerdict::Unverified,
        _ => ScanVerdict::Clean,
    }
}

/// The worst of `findings` (the first of equals).
#[must_use]
pub fn worst(findings: &[ScanFinding]) -> Option<&ScanFinding> {
    findings.iter().rev().max_by_key(|f| rank(&f.severity))
}

/// Refuses a revision whose verdict reaches the owner's refusal setting, naming the
/// worst finding's file.
///
/// # Errors
/// [`Refusal::ScanVerdict`].
pub fn check_refusal(
    repo: &Repo,
    refuse_from: Option<ScanVerdict>,
    scan: &ScanResult,
) -> Result<(), HubError> {
    let Some(from) = refuse_from.filter(|f| *f != ScanVerdict::Clean) else {
        return Ok(());
    };
    if scan.verdict < from {
        return Ok(());
    }
    let worst = worst(&scan.findings);
    Err(Refusal::ScanVerdict {
        owner: repo.owner.clone(),
        verdict: scan.verdict.as_str(),
        path: worst.map(|f| f.path.clone()).unwrap_or_default(),
        rule: worst.map(|f| f.rule.clone()).unwrap_or_default(),
        message: worst.map(|f| f.message.clone()).unwrap_or_default(),
    }
    .into())
}

/// The verdict on one file of a revision: the worst of its findings (archive members
/// included); a file without findings is clean only when the revision was scanned.
#[must_use]
pub fn file_verdict(
    rev_verdict: Option<ScanVerdict>,
    findings: &[ScanFinding],
    path: &str,
) -> ScanVerdict {
    let floor = if rev_verdict.is_some() {
        ScanVerdict::Clean
    } else {
        ScanVerdict::Unverified
    };
    findings
        .iter()
        .filter(|f| {
            f.path == path
                || f.path.is_empty()
                || f.path
                    .strip_prefix(path)
                    .is_some_and(|m| m.starts_with('!'))
        })
        .map(|f| rank(&f.severity))
        .fold(floor, ScanVerdict::max)
}

/// `hallmark.scan` of a revision.
#[must_use]
pub fn scan_json(rev: &hallmark_store::Revision, findings: &[ScanFinding]) -> serde_json::Value {
    serde_json::json!({
        "verdict": rev.scan_verdict.unwrap_or(ScanVerdict::Unverified).as_str(),
        "policy_version": rev.scan_policy,
        "findings": findings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, data: &[u8]) -> FileEntry {
        FileEntry {
            path: path.into(),
            sha256: hex::encode(hallmark_crypto::sha256(data)),
            size: data.len() as u64,
        }
    }

    /// A scan that cannot finish by its deadline (here: every slot is taken) is
    /// unverified, never clean.
    #[tokio::test]
    async fn a_scan_past_its_deadline_is_unverified() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobStore::local(dir.path(), false).unwrap();
        let data = b"plain text".to_vec();
        blobs.put_bytes(data.clone().into()).await.unwrap();
        let files = [entry("notes.txt", &data)];
        let s = RevisionScanner::new(&ScanSettings {
            timeout: Duration::from_millis(50),
            slots: 1,
            ..ScanSettings::default()
        });
        assert_ne!(
            s.scan(&blobs, &files).await.verdict,
            ScanVerdict::Unverified,
            "with a free slot the scan finishes"
        );
        let _all = Arc::clone(&s.slots).acquire_owned().await.unwrap();
        let r = s.scan(&blobs, &files).await;
        assert_eq!(r.verdict, ScanVerdict::Unverified);
        assert!(r.findings[0].message.contains("within 50 ms"), "{r:?}");
    }

    /// A scanner that crashes (panics) mid-scan gives `unverified`, never `clean`, and
    /// frees its slot.
    #[tokio::test]
    async fn a_crashing_scanner_is_unverified() {
        let s = RevisionScanner::new(&ScanSettings {
            slots: 1,
            ..ScanSettings::default()
        });
        let clean = || ScanResult {
            verdict: ScanVerdict::Clean,
            policy_version: POLICY_VERSION.to_owned(),
            findings: Vec::new(),
        };
        assert_eq!(s.guarded(clean).await.verdict, ScanVerdict::Clean);
        let r = s
            .guarded(move || -> ScanResult { panic!("scanner bug on a hostile file") })
            .await;
        assert_eq!(r.verdict, ScanVerdict::Unverified, "{r:?}");
        assert!(
            r.findings[0].message.contains("the scanner stopped"),
            "{r:?}"
        );
        assert_eq!(
            s.guarded(clean).await.verdict,
            ScanVerdict::Clean,
            "slot freed"
        );
    }

    #[test]
    fn findings_are_bounded_and_the_rest_counted() {
        let mut out = unverified(String::new());
        let mut left = 0;
        let many = vec![out.findings[0].clone(); MAX_FINDINGS + 5];
        add(&mut out, ScanVerdict::Dangerous, many, &mut left);
        assert_eq!((out.findings.len(), left), (MAX_FINDINGS, 6));
        assert_eq!(out.verdict, ScanVerdict::Dangerous);
    }
}
