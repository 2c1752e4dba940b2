//! Archives laid out as real writers make them (issue 16 §5): PyTorch's zip64 records,
//! encryption flags over clear data, joblib's compressors, 7z; bombs end in a limit.

use hallmark_scan::{FileReport, Rule, Scanner, Severity, Verdict};

use crate::corpus::{self, P};

fn scan(bytes: &[u8]) -> FileReport {
    Scanner::default().scan_bytes("sample", bytes)
}

fn os_system() -> Vec<u8> {
    corpus::simple_call("os", "system", "echo pwned")
}

fn has(r: &FileReport, rule: Rule, member: &str) -> bool {
    r.findings
        .iter()
        .any(|f| f.rule == rule && f.member == member)
}

#[test]
fn pytorch_zip64_layout_is_the_writers() {
    let z = corpus::torch_zip("archive", &corpus::torch_state_dict("archive"), &[0u8; 16]);
    // What a hexdump of any torch.save file starts with.
    assert_eq!(&z[..14], b"PK\x03\x04\0\0\x08\x08\0\0\0\0\0\0");
    assert_eq!(&z[46..52], b"FB\x0e\0ZZ");
    // zip64 record, locator, classic EOCD: the last 98 bytes.
    let n = z.len();
    assert_eq!(&z[n - 98..n - 94], b"PK\x06\x06");
    assert_eq!(&z[n - 42..n - 38], b"PK\x06\x07");
    assert_eq!(&z[n - 22..n - 18], b"PK\x05\x06");
}

#[test]
fn pytorch_zip64_benign_is_clean() {
    for prefix in ["archive", "pytorch_model"] {
        let z = corpus::torch_zip(prefix, &corpus::torch_state_dict(prefix), &[7u8; 64]);
        let r = scan(&z);
        assert_eq!(r.verdict, Verdict::Clean, "{prefix}: {:#?}", r.findings);
        assert_eq!(r.format, "pytorch-zip");
        assert!(
            r.members
                .iter()
                .any(|m| m.member == format!("{prefix}/data.pkl") && m.format == "pickle")
        );
    }
}

#[test]
fn pytorch_zip64_reduce_os_system_is_dangerous() {
    for (module, name) in [("os", "system"), ("posix", "system")] {
        let pkl = P::proto(2).call1(module, name, "id").stop();
        let r = scan(&corpus::torch_zip("archive", &pkl, &[0u8; 16]));
        assert_eq!(r.verdict, Verdict::Dangerous, "{module}: {:#?}", r.findings);
        let f = r
            .findings
            .iter()
            .find(|f| f.rule == Rule::PickleDangerousImport)
            .unwrap();
        assert_eq!(f.member, "archive/data.pkl");
        assert_eq!(f.global.as_deref(), Some(&*format!("{module}.{name}")));
    }
}

/// Rewrites the classic EOCD's directory offset (the last record of the file).
fn set_classic_cd_offset(z: &mut [u8], off: u32) {
    let n = z.len();
    z[n - 6..n - 2].copy_from_slice(&off.to_le_bytes());
}

#[test]
fn zip64_and_classic_end_records_that_disagree_are_suspicious() {
    let mut z = corpus::torch_zip("archive", &corpus::torch_state_dict("archive"), &[0u8; 16]);
    set_classic_cd_offset(&mut z, 64);
    let r = scan(&z);
    assert_eq!(r.verdict, Verdict::Suspicious, "{:#?}", r.findings);
    assert!(
        r.findings
            .iter()
            .any(|f| f.rule == Rule::ArchiveDifferential
                && f.message.contains("directory offset 64")),
        "{:#?}",
        r.findings
    );
    // Saturated classic fields are what zip64 is for: no differential.
    let mut z = corpus::torch_zip("archive", &corpus::torch_state_dict("archive"), &[0u8; 16]);
    set_classic_cd_offset(&mut z, u32::MAX);
    assert_eq!(scan(&z).verdict, Verdict::Clean);
}

#[test]
fn zip64_locator_pointing_nowhere_is_unverified() {
    let mut z = corpus::torch_zip("archive", &os_system(), &[0u8; 16]);
    let n = z.len();
    // The zip64 record's signature, destroyed: the locator points to nothing.
    z[n - 98] = b'X';
    let r = scan(&z);
    assert_eq!(r.verdict, Verdict::Unverified, "{:#?}", r.findings);
    assert!(
        r.findings
            .iter()
            .any(|f| f.message.contains("zip64 locator"))
    );
}

#[test]
fn zip64_archive_after_prepended_bytes_is_found_and_reported() {
    let z = [
        b"#!junk\n".to_vec(),
        corpus::torch_zip("archive", &os_system(), &[0u8; 16]),
    ]
    .concat();
    let r = scan(&z);
    assert_eq!(r.verdict, Verdict::Dangerous, "{:#?}", r.findings);
    assert!(has(&r, Rule::PickleDangerousImport, "archive/data.pkl"));
}

#[test]
fn encrypted_flag_stored_member_is_scanned() {
    let mut z = corpus::Zip::default();
    z.add_raw(
        "archive/data.pkl",
        "archive/data.pkl",
        &os_system(),
        false,
        0x0001,
        None,
    )
    .add("archive/version", b"3\n", false);
    let r = scan(&z.finish());
    assert_eq!(r.verdict, Verdict::Dangerous, "{:#?}", r.findings);
    assert!(has(&r, Rule::PickleDangerousImport, "archive/data.pkl"));
    assert!(
        r.findings
            .iter()
            .any(|f| f.rule == Rule::ArchiveDifferential
                && f.severity == Severity::Suspicious
                && f.message.contains("encrypted"))
    );
}

#[test]
fn encrypted_flag_over_benign_member_is_suspicious_not_clean() {
    let mut z = corpus::Zip::default();
    z.add_raw(
        "archive/data.pkl",
        "archive/data.pkl",
        &corpus::torch_state_dict("archive"),
        true,
        0x0001,
        None,
    )
    .add("archive/version", b"3\n", false);
    let r = scan(&z.finish());
    assert_eq!(r.verdict, Verdict::Suspicious, "{:#?}", r.findings);
}
