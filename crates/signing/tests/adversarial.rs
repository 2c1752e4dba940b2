//! Adversarial signatures, one test per scenario of `testdata/adversarial/` (see its
//! README.md and `gen.py`): each must be refused, with an error that names the field,
//! digest or check involved, and never a panic. The two controls must verify, which
//! proves the fixtures' model and keys are sound.
//!
//! Scenarios whose statement is *properly signed* also assert that the signature really
//! verifies, so the refusal comes from the check under test and not from the signature.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use hallmark_crypto::{PublicKey, load_certificates_pem};
use hallmark_format::bundle::Bundle;
use hallmark_format::dsse::pae;
use hallmark_format::limits::Limits;
use hallmark_format::{FieldRefusal, FormatError, NameRefusal};
use hallmark_signing::verify::{CertificateVerifier, KeyVerifier};
use hallmark_signing::{EnvelopeVerifier, Verified, VerifyError, VerifyOptions, verify_model};

fn dir(scenario: &str) -> PathBuf {
    hallmark_testkit::testdata("adversarial").join(scenario)
}

fn key_verifier(scenario: &str) -> KeyVerifier {
    let pem = std::fs::read(dir(scenario).join("key.pub")).unwrap();
    KeyVerifier {
        key: PublicKey::from_pem(&pem).unwrap(),
    }
}

fn cert_verifier(scenario: &str) -> CertificateVerifier {
    let pem = std::fs::read(dir(scenario).join("root.pem")).unwrap();
    CertificateVerifier {
        anchors: load_certificates_pem(&pem).unwrap(),
        policy: Default::default(),
    }
}

fn verifier(scenario: &str) -> Box<dyn EnvelopeVerifier> {
    if dir(scenario).join("root.pem").exists() {
        Box::new(cert_verifier(scenario))
    } else {
        Box::new(key_verifier(scenario))
    }
}

fn run(scenario: &str, opts: &VerifyOptions) -> Result<Verified, VerifyError> {
    let d = dir(scenario);
    let bundle = std::fs::read(d.join("model.sig")).unwrap();
    let opts = VerifyOptions {
        signature_path: Some(d.join("model.sig")),
        ..opts.clone()
    };
    verify_model(
        &d.join("model"),
        &bundle,
        verifier(scenario).as_ref(),
        &opts,
    )
}

/// Verifies `scenario` with `opts`, requires a refusal naming every one of `words`, and
/// returns the error for further checks.
fn refused_with(scenario: &str, opts: &VerifyOptions, words: &[&str]) -> VerifyError {
    let err = match run(scenario, opts) {
        Ok(v) => panic!("{scenario}: ACCEPTED, but must be refused: {v:?}"),
        Err(e) => e,
    };
    let text = error_text(&err);
    for w in words {
        assert!(
            text.contains(w),
            "{scenario}: error should mention {w:?}, got: {text}"
        );
    }
    assert!(
        !err.is_input_error(),
        "{scenario}: a bad signature is not an input error: {text}"
    );
    err
}

fn refused(scenario: &str, words: &[&str]) -> VerifyError {
    refused_with(scenario, &VerifyOptions::default(), words)
}

/// The message plus, for a model mismatch, every difference (as the CLI prints them).
fn error_text(err: &VerifyError) -> String {
    let mut text = err.to_string();
    if let VerifyError::Mismatch(diffs) = err {
        for d in diffs {
            text.push('\n');
            text.push_str(&d.to_string());
        }
    }
    text
}

fn ignore_unsigned() -> VerifyOptions {
    VerifyOptions {
        ignore_unsigned_files: true,
        ..VerifyOptions::default()
    }
}

/// The bundle parses and its first signature verifies over the standard DSSE PAE with the
/// scenario's test key: whatever refuses it is not the signature check.
fn assert_properly_signed(scenario: &str) {
    let bytes = std::fs::read(dir(scenario).join("model.sig")).unwrap();
    let bundle = Bundle::parse(&bytes, &Limits::default()).unwrap();
    let env = &bundle.envelope;
    key_verifier(scenario)
        .key
        .verify(
            &pae(&env.payload_type, &env.payload),
            &env.signatures[0].sig,
        )
        .unwrap_or_else(|e| panic!("{scenario}: fixture is not properly signed: {e}"));
}

/// The refusal of a bundle or statement field, if that is what `err` is.
fn field_refusal(err: &VerifyError) -> Option<&FieldRefusal> {
    match err {
        VerifyError::Bundle(FormatError::BadField { reason, .. }) => Some(reason),
        _ => None,
    }
}

/// The refusal of a resource name, if that is what `err` is.
fn name_refusal(err: &VerifyError) -> Option<NameRefusal> {
    match err {
        VerifyError::Bundle(FormatError::BadResourceName { reason, .. }) => Some(*reason),
        _ => None,
    }
}

fn assert_bundle_error(err: &VerifyError) {
    assert!(
        matches!(err, VerifyError::Bundle(_)),
        "expected a malformed-signature error, got {err:?}"
    );
}

// ------------------------------------------------------------------ controls

#[test]
fn valid() {
    let v = run("valid", &VerifyOptions::default()).unwrap();
    assert_eq!((v.method, v.resources), ("key", 3));
    assert_properly_signed("valid");
}

#[test]
fn valid_certificate() {
    let v = run("valid-certificate", &VerifyOptions::default()).unwrap();
    assert_eq!((v.method, v.resources), ("certificate", 3));
}

// ------------------------------------------------------------------ bundle layer

#[test]
fn truncated_bundle() {
    let e = refused("truncated-bundle", &["signature bundle", "not valid JSON"]);
    assert_bundle_error(&e);
}

#[test]
fn wrong_media_type() {
    let e = refused(
        "wrong-media-type",
        &[
            "mediaType",
            "application/vnd.dev.sigstore.bundle+json;version=0.3",
        ],
    );
    assert!(matches!(
        e,
        VerifyError::Bundle(FormatError::MediaType { .. })
    ));
}

#[test]
fn unknown_field_top_level() {
    let e = refused("unknown-field-top-level", &["unknown field `extra`"]);
    assert_bundle_error(&e);
}

#[test]
fn unknown_field_nested() {
    let e = refused(
        "unknown-field-nested",
        &["unknown field `dsseEnvelope.signatures[0].comment`"],
    );
    assert_bundle_error(&e);
}

#[test]
fn empty_signatures() {
    let e = refused(
        "empty-signatures",
        &["dsseEnvelope.signatures", "no signature"],
    );
    assert!(
        matches!(field_refusal(&e), Some(FieldRefusal::NoSignature)),
        "{e:?}"
    );
}

#[test]
fn bad_base64() {
    let e = refused("bad-base64", &["dsseEnvelope.payload", "base64"]);
    assert!(matches!(e, VerifyError::Bundle(FormatError::Base64 { .. })));
}

#[test]
fn deeply_nested_bundle() {
    let e = refused(
        "deeply-nested-bundle",
        &["signature bundle is not valid JSON", "recursion limit"],
    );
    assert_bundle_error(&e);
}

#[test]
fn too_many_certificates() {
    let e = refused(
        "too-many-certificates",
        &[
            "verificationMaterial.x509CertificateChain.certificates",
            "over the limit of 16",
        ],
    );
    assert!(
        matches!(
            field_refusal(&e),
            Some(FieldRefusal::TooManyCertificates {
                count: 17,
                limit: 16
            })
        ),
        "{e:?}"
    );
}

/// Made here rather than committed: one byte over the limit is refused by size, before
/// any JSON parsing (a buffer of spaces is not even JSON).
#[test]
fn huge_bundle() {
    let d = dir("valid");
    let valid = std::fs::read(d.join("model.sig")).unwrap();
    let limits = Limits {
        max_bundle_bytes: 4096,
        ..Limits::default()
    };
    let opts = VerifyOptions {
        limits,
        ..VerifyOptions::default()
    };
    let verifier = key_verifier("valid");
    // The valid bundle fits and verifies under this limit ...
    assert!(valid.len() <= limits.max_bundle_bytes);
    verify_model(&d.join("model"), &valid, &verifier, &opts).unwrap();
    // ... padded with whitespace (still valid JSON) to one byte over, it does not.
    for bundle in [
        {
            let mut b = valid.clone();
            b.resize(limits.max_bundle_bytes + 1, b' ');
            b
        },
        vec![b' '; limits.max_bundle_bytes + 1],
    ] {
        let err = verify_model(&d.join("model"), &bundle, &verifier, &opts).unwrap_err();
        assert!(
            matches!(
                err,
                VerifyError::Bundle(FormatError::TooLarge {
                    size: 4097,
                    limit: 4096
                })
            ),
            "{err:?}"
        );
        assert!(
            err.to_string().contains("over the 4096-byte limit"),
            "{err}"
        );
    }
    // The same layer refuses a manifest over the resource limit.
    let opts = VerifyOptions {
        limits: Limits {
            max_resources: 2,
            ..Limits::default()
        },
        ..VerifyOptions::default()
    };
    let err = verify_model(&d.join("model"), &valid, &verifier, &opts).unwrap_err();
    assert!(
        matches!(
            err,
            VerifyError::Bundle(FormatError::TooManyResources { count: 3, limit: 2 })
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("manifest lists 3 resources, over the limit of 2"),
        "{err}"
    );
}

// ------------------------------------------------------------------ authentication

#[test]
fn payload_swapped() {
    let e = refused(
        "payload-swapped",
        &["signature does not verify with public key"],
    );
    assert!(matches!(e, VerifyError::BadSignature { .. }));
}

#[test]
fn signature_from_another_key() {
    let e = refused(
        "signature-from-another-key",
        &["signature does not verify with public key sha256:"],
    );
    assert!(matches!(e, VerifyError::BadSignature { .. }));
}

#[test]
fn signature_from_another_key_own_hint() {
    let given = key_verifier("signature-from-another-key-own-hint")
        .key
        .hint();
    let e = refused(
        "signature-from-another-key-own-hint",
        &["key mismatch", &given],
    );
    let VerifyError::KeyMismatch { bundle_hint, .. } = &e else {
        panic!("{e:?}");
    };
    assert_ne!(bundle_hint, &given);
    assert!(e.to_string().contains(bundle_hint.as_str()));
}

#[test]
fn embedded_key_not_trusted() {
    let e = refused(
        "embedded-key-not-trusted",
        &["signature does not verify with public key"],
    );
    assert!(matches!(e, VerifyError::BadSignature { .. }));
}

#[test]
fn first_signature_invalid() {
    let e = refused(
        "first-signature-invalid",
        &["signature does not verify with public key"],
    );
    assert!(matches!(e, VerifyError::BadSignature { .. }));
}

#[test]
fn compat_pae_on_v1_statement() {
    let e = refused(
        "compat-pae-on-v1-statement",
        &["compatibility encoding", "0.2.0"],
    );
    assert!(matches!(e, VerifyError::BadSignature { .. }));
}

#[test]
fn key_bundle_verified_as_certificate() {
    let e = refused(
        "key-bundle-verified-as-certificate",
        &["key method", "certificate method"],
    );
    assert!(matches!(e, VerifyError::WrongMethod { found: "key", .. }));
}

#[test]
fn certificate_bundle_verified_as_key() {
    let e = refused(
        "certificate-bundle-verified-as-key",
        &["certificate method", "key method"],
    );
    assert!(matches!(
        e,
        VerifyError::WrongMethod {
            found: "certificate",
            ..
        }
    ));
}

// ------------------------------------------------------------------ signed statements

#[test]
fn wrong_payload_type() {
    assert_properly_signed("wrong-payload-type");
    let e = refused("wrong-payload-type", &["payloadType", "application/json"]);
    assert!(matches!(
        e,
        VerifyError::Bundle(FormatError::PayloadType { .. })
    ));
}

#[test]
fn payload_not_json() {
    assert_properly_signed("payload-not-json");
    let e = refused("payload-not-json", &["in-toto statement is not valid JSON"]);
    assert!(
        matches!(e, VerifyError::Bundle(FormatError::Json { .. })),
        "{e:?}"
    );
}

#[test]
fn deeply_nested_payload() {
    assert_properly_signed("deeply-nested-payload");
    let e = refused(
        "deeply-nested-payload",
        &["in-toto statement is not valid JSON", "recursion limit"],
    );
    assert!(
        matches!(e, VerifyError::Bundle(FormatError::Json { .. })),
        "{e:?}"
    );
}

#[test]
fn wrong_statement_type() {
    assert_properly_signed("wrong-statement-type");
    let e = refused(
        "wrong-statement-type",
        &["_type", "https://in-toto.io/Statement/v0.1"],
    );
    assert!(matches!(
        e,
        VerifyError::Bundle(FormatError::StatementType { .. })
    ));
}

#[test]
fn wrong_predicate_type() {
    assert_properly_signed("wrong-predicate-type");
    let e = refused(
        "wrong-predicate-type",
        &["predicateType", "https://slsa.dev/provenance/v1"],
    );
    assert!(matches!(
        e,
        VerifyError::Bundle(FormatError::PredicateType { .. })
    ));
}

#[test]
fn no_subject() {
    assert_properly_signed("no-subject");
    let e = refused("no-subject", &["`subject`", "exactly one", "found 0"]);
    assert!(
        matches!(
            field_refusal(&e),
            Some(FieldRefusal::NotExactlyOne { found: 0 })
        ),
        "{e:?}"
    );
}

#[test]
fn two_subjects() {
    assert_properly_signed("two-subjects");
    let e = refused("two-subjects", &["`subject`", "exactly one", "found 2"]);
    assert!(
        matches!(
            field_refusal(&e),
            Some(FieldRefusal::NotExactlyOne { found: 2 })
        ),
        "{e:?}"
    );
}

#[test]
fn root_digest_mismatch() {
    assert_properly_signed("root-digest-mismatch");
    let e = refused("root-digest-mismatch", &["subject digest"]);
    let VerifyError::RootDigest { recorded, computed } = &e else {
        panic!("{e:?}");
    };
    assert_ne!(recorded, computed);
    assert!(e.to_string().contains(recorded.as_str()));
    assert!(e.to_string().contains(computed.as_str()));
}

#[test]
fn empty_resources() {
    assert_properly_signed("empty-resources");
    let e = refused(
        "empty-resources",
        &["extra:    config.json", "extra:    weights.bin"],
    );
    assert!(matches!(e, VerifyError::Mismatch(ref d) if d.len() == 3));
}

/// A signed, empty manifest would verify ANY model under `--ignore-unsigned-files` (the
/// reference behaves so: nothing listed, nothing checked); hallmark refuses it.
#[test]
fn empty_resources_ignore_unsigned_files() {
    let e = refused_with("empty-resources", &ignore_unsigned(), &["lists no files"]);
    assert!(matches!(e, VerifyError::NothingSigned), "{e:?}");
}

#[test]
fn shards_data_appended() {
    let e = refused("shards-data-appended", &["extra:    weights.bin:2048:3072"]);
    assert!(
        matches!(e, VerifyError::Mismatch(ref d) if d.len() == 1),
        "{e:?}"
    );
}

/// With shards and `--ignore-unsigned-files`, bytes appended to a *signed* file form a
/// new shard; it is a change to a signed file, not an unsigned file, and is refused.
#[test]
fn shards_data_appended_ignore_unsigned_files() {
    refused_with(
        "shards-data-appended",
        &ignore_unsigned(),
        &["weights.bin:2048:3072"],
    );
}

#[test]
fn resource_path_traversal() {
    assert_properly_signed("resource-path-traversal");
    // outside.bin exists next to the model and matches the signed digest: only the
    // name check stands between this bundle and a read outside the model.
    assert!(dir("resource-path-traversal").join("outside.bin").is_file());
    for opts in [VerifyOptions::default(), ignore_unsigned()] {
        let e = refused_with(
            "resource-path-traversal",
            &opts,
            &["../outside.bin", "`..`"],
        );
        assert_eq!(name_refusal(&e), Some(NameRefusal::DotDot), "{e:?}");
    }
}

#[test]
fn absolute_resource_path() {
    assert_properly_signed("absolute-resource-path");
    for opts in [VerifyOptions::default(), ignore_unsigned()] {
        let e = refused_with(
            "absolute-resource-path",
            &opts,
            &["/etc/passwd", "absolute path"],
        );
        assert_eq!(name_refusal(&e), Some(NameRefusal::Absolute), "{e:?}");
    }
}

#[test]
fn duplicated_resource() {
    assert_properly_signed("duplicated-resource");
    let e = refused(
        "duplicated-resource",
        &["\"weights.bin\"", "more than once"],
    );
    assert!(matches!(
        e,
        VerifyError::Bundle(FormatError::DuplicateResource { .. })
    ));
}

#[test]
fn ignore_paths_traversal() {
    assert_properly_signed("ignore-paths-traversal");
    let e = refused(
        "ignore-paths-traversal",
        &[
            "predicate.serialization.ignore_paths[0]",
            "../model",
            "`..`",
        ],
    );
    assert!(
        matches!(
            field_refusal(&e),
            Some(FieldRefusal::UnsafePath {
                reason: NameRefusal::DotDot,
                ..
            })
        ),
        "{e:?}"
    );
}

#[test]
fn shard_name_malformed() {
    assert_properly_signed("shard-name-malformed");
    let e = refused(
        "shard-name-malformed",
        &[
            "weights.bin:1024:0",
            "shard end must be greater than its start",
        ],
    );
    assert_eq!(name_refusal(&e), Some(NameRefusal::EmptyShard), "{e:?}");
}

#[test]
fn resource_algorithm_mismatch() {
    assert_properly_signed("resource-algorithm-mismatch");
    let e = refused(
        "resource-algorithm-mismatch",
        &[
            "predicate.resources[",
            "].algorithm",
            "\"md5\"",
            "weights.bin",
        ],
    );
    assert!(
        matches!(field_refusal(&e), Some(FieldRefusal::AlgorithmMismatch { found, .. }) if &**found == "md5"),
        "{e:?}"
    );
}

#[test]
fn digest_wrong_length() {
    assert_properly_signed("digest-wrong-length");
    let e = refused(
        "digest-wrong-length",
        &["].digest", "\"weights.bin\"", "31 bytes", "needs 32"],
    );
    assert!(
        matches!(
            field_refusal(&e),
            Some(FieldRefusal::ResourceDigestLength {
                found: 31,
                expected: 32,
                ..
            })
        ),
        "{e:?}"
    );
}

#[test]
fn non_hex_digest() {
    assert_properly_signed("non-hex-digest");
    let e = refused("non-hex-digest", &["].digest", "not a hex digest"]);
    assert!(
        matches!(field_refusal(&e), Some(FieldRefusal::NotHex(_))),
        "{e:?}"
    );
}

#[test]
fn legacy_statement_path_traversal() {
    assert_properly_signed("legacy-statement-path-traversal");
    for opts in [VerifyOptions::default(), ignore_unsigned()] {
        let e = refused_with(
            "legacy-statement-path-traversal",
            &opts,
            &["../outside.bin", "`..`"],
        );
        assert_eq!(name_refusal(&e), Some(NameRefusal::DotDot), "{e:?}");
    }
}

/// Every scenario folder has a test here (and a row in the README).
#[test]
fn every_scenario_is_tested() {
    let me = include_str!("adversarial.rs");
    let readme =
        std::fs::read_to_string(dir("").join("README.md")).expect("testdata/adversarial/README.md");
    for entry in std::fs::read_dir(dir("")).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        if !entry.path().is_dir() || name == "keys" {
            continue;
        }
        let test = format!("fn {}()", name.replace('-', "_"));
        assert!(me.contains(&test), "no test `{test}` for scenario {name}");
        assert!(
            readme.contains(&format!("| `{name}` |")),
            "scenario {name} is not in README.md"
        );
    }
}
