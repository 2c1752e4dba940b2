use hallmark_scan::{Limits, Policy, Rule, Scanner, Verdict};

use crate::corpus::{self, Expect, P};

fn scan(bytes: &[u8]) -> hallmark_scan::FileReport {
    Scanner::default().scan_bytes("sample", bytes)
}

#[test]
fn corpus_every_malicious_flagged_every_benign_clean() {
    let mut failures = Vec::new();
    for s in corpus::all() {
        let r = scan(&s.bytes);
        let ok = match s.expect {
            Expect::Malicious => r.verdict != Verdict::Clean,
            Expect::Benign => r.verdict == Verdict::Clean,
        };
        if !ok {
            failures.push(format!(
                "{} ({}): {:?} {} {:#?}",
                s.name,
                s.class,
                s.expect,
                r.verdict.as_str(),
                r.findings
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn pickle_findings_name_global_offset_and_call() {
    let r = scan(&corpus::simple_call("os", "system", "echo pwned"));
    assert_eq!(r.verdict, Verdict::Dangerous);
    let call = r.findings.iter().find(|f| f.call.is_some()).unwrap();
    assert_eq!(call.global.as_deref(), Some("os.system"));
    assert_eq!(call.call.as_deref(), Some("os.system(\"echo pwned\")"));
    assert_eq!(call.offset, Some(26));
}

#[test]
fn memo_confusion_resolves_the_real_target() {
    let s = corpus::all()
        .into_iter()
        .find(|s| s.name == "memo_confusion.pkl")
        .unwrap();
    let r = scan(&s.bytes);
    assert!(
        r.findings
            .iter()
            .any(|f| f.global.as_deref() == Some("os.system")),
        "{:#?}",
        r.findings
    );
}

#[test]
fn torch_zip_member_paths_and_storages_skipped() {
    let s = corpus::torch_zip(
        "archive",
        &corpus::simple_call("os", "system", "id"),
        &[0u8; 8],
    );
    let r = scan(&s);
    assert_eq!(r.format, "pytorch-zip");
    assert!(
        r.findings
            .iter()
            .any(|f| f.member == "archive/data.pkl" && f.rule == Rule::PickleDangerousImport)
    );
    assert!(
        r.members
            .iter()
            .any(|m| m.member == "archive/data/0" && m.format == "tensor-data")
    );
}

#[test]
fn suspicious_for_unknown_and_dangerous_for_denied() {
    let r = scan(&corpus::simple_call("mylib.models", "Net", "x"));
    assert_eq!(r.verdict, Verdict::Suspicious);
    let p = Policy::with_overrides(&["mylib.models.Net".into()]);
    let r = Scanner::new(Limits::default(), p)
        .scan_bytes("x", &corpus::simple_call("mylib.models", "Net", "x"));
    assert_eq!(r.verdict, Verdict::Clean);
}

#[test]
fn parse_errors_are_unverified_never_clean() {
    for bytes in [
        P::proto(2).global("collections", "OrderedDict").0, // no STOP
        P::proto(2).op(b'h').op(9).stop(),                  // missing memo
        P::proto(9).stop(),                                 // bad protocol
        b"PK\x03\x04 truncated zip".to_vec(),
        corpus::npy("<f4", "(1000,)", &[0u8; 4]), // truncated data
        b"\x00\x01\x02\x03 binary junk \xff\xfe".to_vec(),
    ] {
        let r = scan(&bytes);
        assert_eq!(
            r.verdict,
            Verdict::Unverified,
            "{bytes:?}: {:#?}",
            r.findings
        );
    }
}

#[test]
fn limits_stop_expansion_and_deep_nesting() {
    let mut p = P::proto(2);
    for _ in 0..10_000 {
        p = p.op(b']');
    }
    for _ in 0..9_999 {
        p = p.op(b'a');
    }
    let r = scan(&p.stop());
    assert_eq!(r.verdict, Verdict::Unverified);
    let limits = Limits {
        max_opcodes: 10,
        ..Limits::default()
    };
    let r = Scanner::new(limits, Policy::default()).scan_bytes("x", &corpus::joblib_sklearn(false));
    assert_eq!(r.verdict, Verdict::Unverified);
}

#[test]
fn directory_scan_reports_symlinks_and_onnx_links() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("model.onnx"),
        corpus::onnx("", "MatMul", Some("weights.bin")),
    )
    .unwrap();
    std::os::unix::fs::symlink("/etc/passwd", d.path().join("weights.bin")).unwrap();
    let reports = Scanner::default().scan_path(d.path()).unwrap();
    let onnx = reports
        .iter()
        .find(|r| r.path.ends_with("model.onnx"))
        .unwrap();
    assert_eq!(onnx.verdict, Verdict::Dangerous, "{:#?}", onnx.findings);
    let link = reports
        .iter()
        .find(|r| r.path.ends_with("weights.bin"))
        .unwrap();
    assert_eq!(link.verdict, Verdict::Suspicious);
}

#[test]
fn safetensors_strictness() {
    let ok = corpus::safetensors(&[("w", "F32", &[2], 8)], "{}");
    assert_eq!(scan(&ok).verdict, Verdict::Clean);
    let mut trailing = ok.clone();
    trailing.extend_from_slice(b"extra");
    assert_eq!(scan(&trailing).verdict, Verdict::Suspicious);
    let bad_dtype = corpus::safetensors(&[("w", "F33", &[2], 8)], "{}");
    assert_eq!(scan(&bad_dtype).verdict, Verdict::Suspicious);
    let bad_meta = corpus::safetensors(&[("w", "F32", &[2], 8)], r#"{"n": 1}"#);
    assert_eq!(scan(&bad_meta).verdict, Verdict::Suspicious);
}
