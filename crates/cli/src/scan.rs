//! `hallmark scan`: static scan of model files (hallmark-scan), for people, JSON or SARIF.

use hallmark_scan::{FileReport, POLICY_VERSION, Policy, Rule, Scanner, Severity, Verdict};
use serde_json::{Value, json};

use crate::args::scan::ScanArgs;
use crate::util::{EXIT_FAILED, EXIT_INPUT, EXIT_UNVERIFIED, Outcome, report};

/// The exit status is the verdict (see `scan::EXIT_HELP` in `args`); unreadable paths
/// are reported and the others still scanned.
pub(crate) fn run(args: &ScanArgs) -> Outcome {
    let policy = Policy::with_overrides(&args.allow);
    let scanner = Scanner::new(hallmark_scan::Limits::default(), policy);
    let mut reports = Vec::new();
    let mut input_error = false;
    for p in &args.paths {
        match scanner.scan_path(p) {
            Ok(mut r) => reports.append(&mut r),
            Err(e) => {
                report("hallmark scan", &e);
                input_error = true;
            }
        }
    }
    let worst = reports
        .iter()
        .map(|r| r.verdict)
        .max()
        .unwrap_or(Verdict::Clean);
    let code = if worst >= Verdict::Suspicious {
        EXIT_FAILED
    } else if input_error {
        EXIT_INPUT
    } else if worst == Verdict::Unverified {
        EXIT_UNVERIFIED
    } else {
        0
    };
    let overrides = scanner.policy().overrides();
    if args.sarif {
        outln!("{}", sarif(&reports, &overrides));
    } else if args.json {
        outln!(
            "{}",
            json!({
                "policy_version": POLICY_VERSION,
                "overrides": overrides,
                "summary": summary(&reports),
                "exit_code": code,
                "files": reports,
            })
        );
    } else {
        human(&reports, args.verbose, &overrides);
    }
    Ok(code)
}

fn summary(reports: &[FileReport]) -> Value {
    let n = |v: Verdict| reports.iter().filter(|r| r.verdict == v).count();
    json!({
        "files": reports.len(),
        "clean": n(Verdict::Clean),
        "dangerous": n(Verdict::Dangerous),
        "suspicious": n(Verdict::Suspicious),
        "unverified": n(Verdict::Unverified),
    })
}

fn human(reports: &[FileReport], verbose: bool, overrides: &[String]) {
    for r in reports {
        if r.verdict == Verdict::Clean && !verbose {
            continue;
        }
        outln!(
            "{:<10} {} ({})",
            r.verdict.as_str().to_uppercase(),
            r.path,
            r.format
        );
        for f in &r.findings {
            if f.severity == Severity::Info && !verbose {
                continue;
            }
            let at = match (f.member.is_empty(), f.offset) {
                (true, Some(o)) => format!(" @{o}"),
                (true, None) => String::new(),
                (false, Some(o)) => format!(" {}@{o}", f.member),
                (false, None) => format!(" {}", f.member),
            };
            outln!(
                "  {} {:<10}{at}: {}",
                f.rule.id(),
                format!("{:?}", f.severity).to_lowercase(),
                f.message
            );
        }
    }
    let s = summary(reports);
    outln!(
        "{} files: {} clean, {} dangerous, {} suspicious, {} unverified (policy {POLICY_VERSION}{})",
        s["files"],
        s["clean"],
        s["dangerous"],
        s["suspicious"],
        s["unverified"],
        if overrides.is_empty() {
            String::new()
        } else {
            format!(", overrides: {}", overrides.join(", "))
        }
    );
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Dangerous => "error",
        Severity::Suspicious | Severity::Unverified => "warning",
        Severity::Info => "note",
    }
}

fn sarif(reports: &[FileReport], overrides: &[String]) -> Value {
    let rules: Vec<Value> = Rule::ALL
        .iter()
        .map(
            |r| json!({ "id": r.id(), "name": r.name(), "shortDescription": { "text": r.help() } }),
        )
        .collect();
    let mut results = Vec::new();
    for r in reports {
        for f in &r.findings {
            let mut loc = json!({ "physicalLocation": { "artifactLocation": { "uri": r.path } } });
            if let (true, Some(o)) = (f.member.is_empty(), f.offset) {
                loc["physicalLocation"]["region"] = json!({ "byteOffset": o });
            }
            if !f.member.is_empty() {
                loc["logicalLocations"] =
                    json!([{ "fullyQualifiedName": f.member, "kind": "member" }]);
            }
            let text = if f.member.is_empty() {
                f.message.clone()
            } else {
                format!("{}: {}", f.member, f.message)
            };
            results.push(json!({
                "ruleId": f.rule.id(),
                "ruleIndex": Rule::ALL.iter().position(|x| *x == f.rule),
                "level": level(f.severity),
                "message": { "text": text },
                "locations": [loc],
                "properties": { "severity": f.severity, "verdict": r.verdict, "member": f.member, "offset": f.offset, "global": f.global, "call": f.call },
            }));
        }
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "hallmark-scan",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
                "properties": { "policyVersion": POLICY_VERSION, "overrides": overrides },
            } },
            "results": results,
            "properties": { "files": reports.iter().map(|r| json!({ "path": r.path, "format": r.format, "verdict": r.verdict })).collect::<Vec<_>>() },
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sarif_log_shape() {
        let pickle = b"cos\nsystem\n(S'id'\ntR.";
        let report = Scanner::default().scan_bytes("evil.pkl", pickle);
        let log = sarif(&[report], &[]);
        assert_eq!(log["version"], "2.1.0");
        let run = &log["runs"][0];
        assert_eq!(
            run["tool"]["driver"]["properties"]["policyVersion"],
            POLICY_VERSION
        );
        let results = run["results"].as_array().unwrap();
        assert!(
            results
                .iter()
                .any(|r| r["ruleId"] == "HM-PKL-001" && r["level"] == "error")
        );
        assert_eq!(
            results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "evil.pkl"
        );
        let ids: Vec<&str> = run["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r["id"].as_str())
            .collect();
        assert!(ids.contains(&"HM-ONNX-001"));
    }
}
