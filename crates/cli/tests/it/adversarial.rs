//! `hallmark verify` on every scenario of `testdata/adversarial/` (see its README.md):
//! exit status 1 and a stderr that names the problem; `inspect` never panics on them;
//! a bundle over the 256 MiB limit is refused by size, quickly.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::{Cmd, Out};

fn dir(scenario: &str) -> PathBuf {
    hallmark_testkit::testdata("adversarial").join(scenario)
}

fn verify(scenario: &str, extra: &[&str]) -> Out {
    let d = dir(scenario);
    let (model, sig) = (d.join("model"), d.join("model.sig"));
    let cmd = if d.join("root.pem").exists() {
        Cmd::verify_certificate(model, sig, d.join("root.pem"))
    } else {
        Cmd::verify_key(model, sig, d.join("key.pub"))
    };
    cmd.args(extra).run()
}

/// (scenario, extra verify flags, expected exit status, words stderr must contain)
const SCENARIOS: &[(&str, &[&str], i32, &[&str])] = &[
    ("valid", &[], 0, &["Verification succeeded"]),
    ("valid-certificate", &[], 0, &["Verification succeeded"]),
    (
        "truncated-bundle",
        &[],
        1,
        &["signature is malformed", "not valid JSON"],
    ),
    (
        "wrong-media-type",
        &[],
        1,
        &["mediaType", "bundle+json;version=0.3"],
    ),
    (
        "unknown-field-top-level",
        &[],
        1,
        &["unknown field `extra`"],
    ),
    (
        "unknown-field-nested",
        &[],
        1,
        &["unknown field `dsseEnvelope.signatures[0].comment`"],
    ),
    (
        "empty-signatures",
        &[],
        1,
        &["dsseEnvelope.signatures", "no signature"],
    ),
    ("bad-base64", &[], 1, &["dsseEnvelope.payload", "base64"]),
    (
        "deeply-nested-bundle",
        &[],
        1,
        &["not valid JSON", "recursion limit"],
    ),
    ("too-many-certificates", &[], 1, &["over the limit of 16"]),
    ("payload-swapped", &[], 1, &["signature does not verify"]),
    (
        "signature-from-another-key",
        &[],
        1,
        &["signature does not verify with public key"],
    ),
    (
        "signature-from-another-key-own-hint",
        &[],
        1,
        &["key mismatch"],
    ),
    (
        "embedded-key-not-trusted",
        &[],
        1,
        &["signature does not verify"],
    ),
    (
        "first-signature-invalid",
        &[],
        1,
        &["signature does not verify"],
    ),
    (
        "compat-pae-on-v1-statement",
        &[],
        1,
        &["compatibility encoding", "0.2.0"],
    ),
    (
        "key-bundle-verified-as-certificate",
        &[],
        1,
        &[
            "made with the key method",
            "certificate method was requested",
        ],
    ),
    (
        "certificate-bundle-verified-as-key",
        &[],
        1,
        &[
            "made with the certificate method",
            "key method was requested",
        ],
    ),
    (
        "wrong-payload-type",
        &[],
        1,
        &["payloadType", "application/json"],
    ),
    (
        "payload-not-json",
        &[],
        1,
        &["in-toto statement is not valid JSON"],
    ),
    (
        "deeply-nested-payload",
        &[],
        1,
        &["in-toto statement", "recursion limit"],
    ),
    ("wrong-statement-type", &[], 1, &["_type", "Statement/v0.1"]),
    (
        "wrong-predicate-type",
        &[],
        1,
        &["predicateType", "https://slsa.dev/provenance/v1"],
    ),
    ("no-subject", &[], 1, &["`subject`", "found 0"]),
    ("two-subjects", &[], 1, &["`subject`", "found 2"]),
    (
        "root-digest-mismatch",
        &[],
        1,
        &["manifest is inconsistent", "subject digest"],
    ),
    (
        "empty-resources",
        &[],
        1,
        &["extra:    config.json", "extra:    weights.bin"],
    ),
    (
        "shards-data-appended",
        &[],
        1,
        &["extra:    weights.bin:2048:3072"],
    ),
    (
        "resource-path-traversal",
        &[],
        1,
        &["\"../outside.bin\"", "`..`"],
    ),
    (
        "resource-path-traversal",
        &["--ignore-unsigned-files"],
        1,
        &["\"../outside.bin\"", "`..`"],
    ),
    (
        "absolute-resource-path",
        &[],
        1,
        &["\"/etc/passwd\"", "absolute path"],
    ),
    (
        "absolute-resource-path",
        &["--ignore-unsigned-files"],
        1,
        &["\"/etc/passwd\"", "absolute path"],
    ),
    (
        "duplicated-resource",
        &[],
        1,
        &["\"weights.bin\"", "more than once"],
    ),
    (
        "ignore-paths-traversal",
        &[],
        1,
        &["ignore_paths[0]", "`..`"],
    ),
    (
        "shard-name-malformed",
        &[],
        1,
        &["weights.bin:1024:0", "shard end"],
    ),
    (
        "resource-algorithm-mismatch",
        &[],
        1,
        &["algorithm", "\"md5\""],
    ),
    (
        "digest-wrong-length",
        &[],
        1,
        &["digest", "\"weights.bin\"", "31 bytes"],
    ),
    ("non-hex-digest", &[], 1, &["digest", "not a hex digest"]),
    (
        "legacy-statement-path-traversal",
        &[],
        1,
        &["\"../outside.bin\"", "`..`"],
    ),
];

#[test]
fn every_scenario_gives_its_exit_status_and_names_the_problem() {
    for &(scenario, extra, code, words) in SCENARIOS {
        let out = verify(scenario, extra);
        assert_eq!(out.code, code, "{scenario} {extra:?}: {out:#?}");
        for w in words {
            assert!(
                out.stderr.contains(w) || (code == 0 && out.stdout.contains(w)),
                "{scenario} {extra:?}: stderr should mention {w:?}: {out:#?}"
            );
        }
        assert!(!out.stderr.contains("panicked"), "{scenario}: {out:#?}");
    }
    // Every scenario folder is in the table.
    for e in std::fs::read_dir(dir("")).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        if dir(&name).join("model.sig").exists() {
            assert!(
                SCENARIOS.iter().any(|s| s.0 == name),
                "scenario {name} missing from the CLI table"
            );
        }
    }
}

#[test]
fn failures_are_reported_in_json_too() {
    let out = verify("payload-swapped", &["--json"]);
    out.expect(1, &[]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["verified"], false);
    assert_eq!(v["input_error"], false);
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("signature does not verify")
    );
}

/// `inspect` decodes without verifying; malformed input gives exit 1 and a message,
/// never a panic.
#[test]
fn inspect_never_panics() {
    for e in std::fs::read_dir(dir("")).unwrap() {
        let sig = e.unwrap().path().join("model.sig");
        if !sig.exists() {
            continue;
        }
        for json in [false, true] {
            let inspect = Cmd::new(["inspect".as_ref(), sig.as_os_str()]);
            let out = if json { inspect.json() } else { inspect }.run();
            assert!(
                out.code == 0 || out.code == 1,
                "{}: {out:#?}",
                sig.display()
            );
            assert!(
                !out.stderr.contains("panicked"),
                "{}: {out:#?}",
                sig.display()
            );
        }
    }
}

/// A sparse file one byte over `Limits::max_bundle_bytes` (256 MiB): not JSON, but refused
/// by its size before any parsing, and quickly.
#[test]
fn huge_bundle_is_refused_by_size() {
    let limit = hallmark_format::limits::Limits::default().max_bundle_bytes;
    let tmp = tempfile::tempdir().unwrap();
    let sig = tmp.path().join("huge.sig");
    let f = std::fs::File::create(&sig).unwrap();
    f.set_len(limit as u64 + 1).unwrap();
    drop(f);
    let d = dir("valid");
    let start = Instant::now();
    let out = Cmd::verify_key(d.join("model"), &sig, d.join("key.pub")).run();
    let took = start.elapsed();
    out.expect(
        1,
        &[&format!("{} bytes, over the {limit}-byte limit", limit + 1)],
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");
}
