//! The conformance suite's Sigstore verify cases (`verify/{historical,negative}/*sigstore*`,
//! copied to `testdata/conformance`), judged at the bundle level with the suite's public-good
//! trust config (byte-identical to `testdata/golden/trust_config.public-good.json`).
//!
//! `sigstore-tampered-content_fail` fails on the model digest, which is the caller's check:
//! its bundle itself is sound, so here it must verify (and the statement it returns must not
//! match the tampered model). `sigstore-verify-as-key_fail` uses the key method, which this
//! crate does not implement; here it only has to be a keyless bundle.

use std::path::Path;

use hallmark_sigstore::verify_dsse_bundle;
use serde_json::Value;

use crate::*;

fn suite() -> std::path::PathBuf {
    testdata("conformance")
}

fn cases() -> Vec<(String, Value, Vec<u8>)> {
    let mut out = Vec::new();
    for group in ["historical", "negative"] {
        let dir = suite().join("verify").join(group);
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("sigstore"))
            .collect();
        names.sort();
        for name in names {
            let case = dir.join(&name);
            let config: Value =
                serde_json::from_slice(&read(case.join("config.json"))).expect("config");
            out.push((
                format!("{group}/{name}"),
                config,
                read(case.join("bundle.sig")),
            ));
        }
    }
    out
}

#[test]
fn conformance_sigstore_cases_give_expected_outcomes() {
    let trust = public_good_config();
    let cases = cases();
    assert_eq!(cases.len(), 8, "4 historical + 4 negative sigstore cases");
    for (name, config, bundle) in cases {
        let method = config["method"].as_str().unwrap_or_default();
        let expect_fail = config["expect"].as_str() == Some("fail");
        if method != "sigstore" {
            // Verify-as-key: a keyless bundle; the key method must refuse it elsewhere.
            assert!(name.ends_with("sigstore-verify-as-key_fail"), "{name}");
            continue;
        }
        let verify = &config["verify"];
        let policy = policy(
            verify["identity"].as_str().expect("identity"),
            verify["identity_provider"].as_str().expect("issuer"),
        );
        let result = verify_dsse_bundle(&bundle, &trust, &policy);
        let bundle_level_fail = expect_fail && config.get("model_modifications").is_none();
        match (bundle_level_fail, result) {
            (false, Ok(_)) => {}
            (true, Err(e)) => {
                assert!(e.failed_check().is_some(), "{name}: {e}");
                eprintln!("{name}: refused as expected: {e}");
            }
            (false, Err(e)) => panic!("{name}: expected to verify, got {e}"),
            (true, Ok(_)) => panic!("{name}: expected to fail, but verified"),
        }
    }
}

#[test]
fn tampered_content_case_returns_a_statement_the_caller_must_refuse() {
    let case = suite().join("verify/negative/sigstore-tampered-content_fail");
    let config: Value = serde_json::from_slice(&read(case.join("config.json"))).expect("config");
    let v = verify_dsse_bundle(
        &read(case.join("bundle.sig")),
        &public_good_config(),
        &policy(
            config["verify"]["identity"].as_str().expect("identity"),
            config["verify"]["identity_provider"]
                .as_str()
                .expect("issuer"),
        ),
    )
    .expect("the bundle itself is sound");
    let tampered = config["model_modifications"]["tamper"]["signme-1"]
        .as_str()
        .expect("tamper");
    let statement: Value = serde_json::from_slice(&v.payload).expect("statement");
    let original = std::fs::read(Path::new(&case).join("model/signme-1")).expect("model file");
    assert_ne!(original, tampered.as_bytes());
    assert!(
        statement["predicate"]["resources"].is_array(),
        "OMS v1.0 predicate"
    );
}
