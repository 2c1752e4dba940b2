//! Evidence a BOM records about an artifact: the signature (decoded, **not verified**
//! here; `hallmark verify` and `hallmark policy check` verify) and the verdict of a
//! `hallmark scan --json` report (parsed defensively: only the verdict fields are read).

use hallmark_crypto::Certificate;
use hallmark_format::bundle::{Bundle, VerificationMaterial};
use hallmark_format::limits::Limits;
use hallmark_format::statement::parse_statement;
use serde::Serialize;
use serde_json::Value;

use crate::error::BomError;

/// What a signature bundle claims (decoded without verification).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SignatureSummary {
    /// The signature file, as given.
    pub file: String,
    /// `key`, `certificate` or `sigstore`.
    pub method: &'static str,
    /// Key hint, certificate subject, or keyless identity.
    pub signer: String,
    /// Certificate subject alternative names (empty for keys).
    pub identities: Vec<String>,
    /// Certificate issuer DN (empty for keys).
    pub issuer: String,
    /// Hex OMS root digest the signature's statement names, when it names one.
    pub subject_sha256: Option<String>,
}

/// Decodes `bytes` (a Sigstore bundle v0.3 carrying an OMS statement).
///
/// # Errors
/// [`BomError::Signature`] when the bundle or its statement does not parse.
pub fn summarize_signature(file: &str, bytes: &[u8]) -> Result<SignatureSummary, BomError> {
    let err = |source| BomError::Signature {
        path: file.to_owned(),
        source: Box::new(source),
    };
    let limits = Limits::default();
    let bundle = Bundle::parse(bytes, &limits).map_err(err)?;
    let statement = parse_statement(&bundle.envelope.payload, &limits).map_err(err)?;
    let cert = |der: &[u8]| Certificate::from_der(der).ok();
    let (signer, identities, issuer) = match &bundle.material {
        VerificationMaterial::PublicKey { hint, .. } => (
            format!("public key {}", hint.as_deref().unwrap_or("(no hint)")),
            Vec::new(),
            String::new(),
        ),
        VerificationMaterial::X509CertificateChain(ders) => {
            match ders.first().and_then(|d| cert(d)) {
                Some(c) => (c.subject(), c.san_values(), c.issuer()),
                None => ("(unreadable certificate)".into(), Vec::new(), String::new()),
            }
        }
        VerificationMaterial::Certificate(der) => match cert(der) {
            Some(c) => {
                let san = c.san_values();
                (san.first().cloned().unwrap_or_default(), san, c.issuer())
            }
            None => ("(unreadable certificate)".into(), Vec::new(), String::new()),
        },
    };
    Ok(SignatureSummary {
        file: file.to_owned(),
        method: bundle.material.method(),
        signer,
        identities,
        issuer,
        subject_sha256: statement.root_digest.map(hex::encode),
    })
}

/// A scan verdict, worst last.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ScanVerdict {
    /// Nothing outside the scanner's policy.
    Clean,
    /// Not checked completely.
    Unverified,
    /// Blocked by policy, needs review.
    Suspicious,
    /// Would run code on load.
    Dangerous,
}

impl ScanVerdict {
    /// Parses the lower-case name.
    #[must_use]
    pub fn from_name(s: &str) -> Option<Self> {
        match s {
            "clean" => Some(Self::Clean),
            "unverified" => Some(Self::Unverified),
            "suspicious" => Some(Self::Suspicious),
            "dangerous" => Some(Self::Dangerous),
            _ => None,
        }
    }

    /// Lower-case name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Clean => "clean",
            Self::Unverified => "unverified",
            Self::Suspicious => "suspicious",
            Self::Dangerous => "dangerous",
        }
    }
}

/// One file a scan report lists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ScannedFile {
    /// Path as the scanner printed it.
    pub path: String,
    /// Format the scanner identified (`""` when absent).
    pub format: String,
    /// Its verdict.
    pub verdict: ScanVerdict,
    /// Rule ids of its findings, in order.
    pub rules: Vec<String>,
    /// First finding's message, for reports.
    pub first_message: Option<String>,
}

/// The verdict fields of a `hallmark scan --json` report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ScanSummary {
    /// The report file, as given.
    pub file: String,
    /// Worst verdict over all files (`clean` for an empty report).
    pub verdict: ScanVerdict,
    /// The scanner policy version, when recorded.
    pub policy_version: Option<String>,
    /// Every file.
    pub files: Vec<ScannedFile>,
}

impl ScanSummary {
    /// Files whose verdict is worse than clean.
    pub fn flagged(&self) -> impl Iterator<Item = &ScannedFile> {
        self.files.iter().filter(|f| f.verdict > ScanVerdict::Clean)
    }
}

/// Largest scan report read, in bytes.
pub const MAX_SCAN_REPORT_BYTES: usize = 64 * 1024 * 1024;

/// Parses the verdict fields of a scan report; other fields are ignored.
///
/// # Errors
/// [`BomError::ScanReportJson`] when it does not parse, [`BomError::ScanReport`] naming
/// the field that is missing or malformed.
pub fn parse_scan_report(file: &str, bytes: &[u8]) -> Result<ScanSummary, BomError> {
    let bad = |reason: String| BomError::ScanReport {
        path: file.to_owned(),
        reason,
    };
    if bytes.len() > MAX_SCAN_REPORT_BYTES {
        return Err(bad(format!(
            "{} bytes is over the {MAX_SCAN_REPORT_BYTES}-byte limit",
            bytes.len()
        )));
    }
    let v: Value = serde_json::from_slice(bytes).map_err(|source| BomError::ScanReportJson {
        path: file.to_owned(),
        source,
    })?;
    let files = v
        .get("files")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no \"files\" array (is this `hallmark scan --json` output?)".into()))?;
    let mut out = Vec::with_capacity(files.len());
    for (i, f) in files.iter().enumerate() {
        let path = f
            .get("path")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(format!("files[{i}].path is missing or not a string")))?;
        let verdict_name = f
            .get("verdict")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(format!("files[{i}].verdict is missing or not a string")))?;
        let verdict = ScanVerdict::from_name(verdict_name).ok_or_else(|| {
            bad(format!(
                "files[{i}].verdict {verdict_name:?} is not clean, unverified, suspicious or dangerous"
            ))
        })?;
        let findings = f.get("findings").and_then(Value::as_array);
        let rules = findings
            .map(|fs| {
                fs.iter()
                    .filter_map(|x| x.get("rule").and_then(Value::as_str).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let first_message = findings
            .and_then(|fs| fs.first())
            .and_then(|x| x.get("message"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        out.push(ScannedFile {
            path: path.to_owned(),
            format: f
                .get("format")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            verdict,
            rules,
            first_message,
        });
    }
    Ok(ScanSummary {
        file: file.to_owned(),
        verdict: out
            .iter()
            .map(|f| f.verdict)
            .max()
            .unwrap_or(ScanVerdict::Clean),
        policy_version: v
            .get("policy_version")
            .and_then(|p| {
                p.as_str()
                    .map(str::to_owned)
                    .or_else(|| Some(p.to_string()))
            })
            .filter(|s| s != "null"),
        files: out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_report_verdicts() {
        let r = br#"{"policy_version":"1","summary":{},"files":[
            {"path":"m/a.safetensors","format":"safetensors","verdict":"clean","findings":[]},
            {"path":"m/b.pkl","format":"pickle","verdict":"dangerous","findings":[{"rule":"HM-PKL-001","message":"os.system"}]}]}"#;
        let s = parse_scan_report("r.json", r).unwrap();
        assert_eq!(s.verdict, ScanVerdict::Dangerous);
        let flagged: Vec<_> = s.flagged().map(|f| f.path.as_str()).collect();
        assert_eq!(flagged, ["m/b.pkl"]);
        assert_eq!(s.files[1].rules, ["HM-PKL-001"]);
        assert_eq!(s.policy_version.as_deref(), Some("1"));
    }

    #[test]
    fn malformed_reports_name_the_field() {
        let e = parse_scan_report("r.json", br#"{"files":[{"path":"x","verdict":"fine"}]}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("files[0].verdict \"fine\""), "{e}");
        let e = parse_scan_report("r.json", b"[]").unwrap_err().to_string();
        assert!(e.contains("r.json") && e.contains("files"), "{e}");
    }
}
