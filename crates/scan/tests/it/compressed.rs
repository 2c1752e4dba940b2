//! joblib's compressors and 7z archives, on files written by the real tools
//! (testdata/scan/make.py: joblib 1.6.0, py7zr 1.1.4); bombs end in a limit, never a panic.

use hallmark_scan::{FileReport, Limits, Policy, Rule, Scanner, Verdict};

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!("../../../../testdata/scan/", $name)).as_slice()
    };
}

fn scan(bytes: &[u8]) -> FileReport {
    Scanner::default().scan_bytes("sample", bytes)
}

fn dangerous_global(r: &FileReport) -> Option<&str> {
    r.findings
        .iter()
        .find(|f| f.rule == Rule::PickleDangerousImport)
        .and_then(|f| f.global.as_deref())
}

fn assert_payload(name: &str, bytes: &[u8], format: &str) {
    let r = scan(bytes);
    assert_eq!(r.verdict, Verdict::Dangerous, "{name}: {:#?}", r.findings);
    assert_eq!(r.format, format, "{name}");
    assert_eq!(dangerous_global(&r), Some("posix.system"), "{name}");
}

fn assert_clean(name: &str, bytes: &[u8], format: &str) {
    let r = scan(bytes);
    assert_eq!(r.verdict, Verdict::Clean, "{name}: {:#?}", r.findings);
    assert_eq!(r.format, format, "{name}");
}

#[test]
fn joblib_xz_payload_is_dangerous() {
    assert_payload("xz", fixture!("payload-xz.joblib"), "xz");
}

#[test]
fn joblib_lzma_payload_is_dangerous() {
    assert_payload("lzma", fixture!("payload-lzma.joblib"), "lzma");
}

#[test]
fn joblib_bz2_payload_is_dangerous() {
    assert_payload("bz2", fixture!("payload-bz2.joblib"), "bzip2");
}

#[test]
fn joblib_lz4_payload_is_dangerous() {
    assert_payload("lz4", fixture!("payload-lz4.joblib"), "lz4");
}

#[test]
fn joblib_gzip_and_zlib_payloads_are_dangerous() {
    assert_payload("gzip", fixture!("payload-gzip.joblib"), "gzip");
    assert_payload("zlib", fixture!("payload-zlib.joblib"), "zlib");
}

#[test]
fn joblib_compressed_benign_models_are_clean() {
    assert_clean("plain", fixture!("sklearn.joblib"), "pickle");
    assert_clean("zlib", fixture!("sklearn-zlib.joblib"), "zlib");
    assert_clean("gzip", fixture!("sklearn-gzip.joblib"), "gzip");
    assert_clean("bz2", fixture!("sklearn-bz2.joblib"), "bzip2");
    assert_clean("xz", fixture!("sklearn-xz.joblib"), "xz");
    assert_clean("lzma", fixture!("sklearn-lzma.joblib"), "lzma");
    assert_clean("lz4", fixture!("sklearn-lz4.joblib"), "lz4");
}

#[test]
fn sevenz_wrapped_payload_is_dangerous() {
    let r = scan(fixture!("payload.7z"));
    assert_eq!(r.verdict, Verdict::Dangerous, "{:#?}", r.findings);
    assert_eq!(r.format, "7z");
    for member in ["payload.joblib", "models/payload.pkl"] {
        assert!(
            r.findings
                .iter()
                .any(|f| f.rule == Rule::PickleDangerousImport && f.member == member),
            "{member}: {:#?}",
            r.findings
        );
    }
}

#[test]
fn sevenz_benign_model_is_clean() {
    assert_clean("7z", fixture!("sklearn.7z"), "7z");
}

fn limit_finding(r: &FileReport) -> String {
    r.findings
        .iter()
        .find(|f| f.message.contains("limit reached"))
        .map(|f| f.message.clone())
        .unwrap_or_else(|| panic!("no limit finding: {:#?}", r.findings))
}

#[test]
fn bz2_bomb_stops_at_the_ratio_cap() {
    // 100 bytes that inflate to a 64 MiB pickle: stopped after 1 MiB (the ratio floor).
    let r = scan(fixture!("bomb-64mib.pkl.bz2"));
    assert_eq!(r.verdict, Verdict::Unverified, "{:#?}", r.findings);
    let m = limit_finding(&r);
    assert!(m.contains("1000x its 100 compressed bytes"), "{m}");
}

#[test]
fn xz_bomb_stops_at_the_file_budget() {
    let limits = Limits {
        max_total_inflated: 4 << 20,
        ..Limits::default()
    };
    let r =
        Scanner::new(limits, Policy::default()).scan_bytes("bomb", fixture!("bomb-64mib.pkl.xz"));
    assert_eq!(r.verdict, Verdict::Unverified, "{:#?}", r.findings);
    let m = limit_finding(&r);
    assert!(m.contains("4194304 bytes in all"), "{m}");
}

#[test]
fn lzma_header_asking_for_a_huge_dictionary_is_a_limit() {
    // .lzma header: properties 0x5d, a 1.5 GiB dictionary, unknown size.
    let mut b = vec![0x5d, 0, 0, 0, 0x60];
    b.extend_from_slice(&[0xff; 8]);
    b.extend_from_slice(&[0; 32]);
    let r = scan(&b);
    assert_eq!(r.format, "lzma");
    assert_eq!(r.verdict, Verdict::Unverified, "{:#?}", r.findings);
    assert!(
        r.findings
            .iter()
            .any(|f| f.message.contains("limit reached") && f.message.contains("KiB")),
        "{:#?}",
        r.findings
    );
}

#[test]
fn truncated_streams_are_unverified() {
    for (name, bytes) in [
        ("xz", fixture!("payload-xz.joblib")),
        ("bz2", fixture!("sklearn-bz2.joblib")),
        ("lz4", fixture!("sklearn-lz4.joblib")),
        ("7z", fixture!("sklearn.7z")),
    ] {
        let r = scan(&bytes[..bytes.len() / 2]);
        assert_ne!(r.verdict, Verdict::Clean, "{name}: {:#?}", r.findings);
    }
}
