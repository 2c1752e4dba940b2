use super::*;
use crate::error::NameRefusal;

fn manifest() -> Manifest {
    Manifest {
        model_name: "m".into(),
        params: SerializationParams {
            method: Serialization::Shards { shard_size: 8 },
            hash: HashAlgorithm::Sha256,
            allow_symlinks: false,
            ignore_paths: vec![".git".into(), "model.sig".into()],
        },
        resources: Resources::try_from(vec![ResourceDigest {
            name: ResourceName::parse_shard("w.bin:0:8").unwrap(),
            algorithm: "sha256-sharded-8".into(),
            digest: vec![7; 32],
        }])
        .unwrap(),
    }
}

#[test]
fn build_then_parse_round_trips() {
    let m = manifest();
    let bytes = build_statement(&m, &[1; 32]);
    let parsed = parse_statement(&bytes, &Limits::default()).unwrap();
    assert_eq!(parsed.manifest, m);
    assert_eq!(parsed.root_digest, Some(vec![1; 32]));
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.contains("\"shard_size\": 8,"), "{text}");
    assert!(!text.ends_with('\n'));
}

#[test]
fn hex_decoding_matches_the_hex_crate() {
    for s in [
        "", "00", "0aFf", "abc", "0g", "zz", "ÿÿ", "12 4", "DEADbeef",
    ] {
        assert_eq!(decode_hex(s), hex::decode(s).ok(), "{s:?}");
    }
}

#[test]
fn float_shard_size_from_python_is_accepted() {
    let m = manifest();
    let text = String::from_utf8(build_statement(&m, &[1; 32]))
        .unwrap()
        .replace("\"shard_size\": 8", "\"shard_size\": 8.0");
    let parsed = parse_statement(text.as_bytes(), &Limits::default()).unwrap();
    assert_eq!(
        parsed.manifest.params.method,
        Serialization::Shards { shard_size: 8 }
    );
    let bad = text.replace("8.0", "8.5");
    assert!(parse_statement(bad.as_bytes(), &Limits::default()).is_err());
}

#[test]
fn structural_errors_name_the_field() {
    let m = manifest();
    let text = String::from_utf8(build_statement(&m, &[1; 32])).unwrap();
    /// A broken document, a word its message must contain, and the expected variant.
    type Case = (String, &'static str, fn(&FormatError) -> bool);
    let cases: [Case; 4] = [
        (
            text.replace("Statement/v1", "Statement/v0.1"),
            "_type",
            |e| matches!(e, FormatError::StatementType { found } if found.ends_with("v0.1")),
        ),
        (
            text.replace("signature/v1.0", "signature/v2.0"),
            "predicateType",
            |e| matches!(e, FormatError::PredicateType { .. }),
        ),
        (text.replace("w.bin:0:8", "../w.bin:0:8"), "`..`", |e| {
            matches!(
                e,
                FormatError::BadResourceName {
                    reason: NameRefusal::DotDot,
                    ..
                }
            )
        }),
        (
            text.replace("\"sha256-sharded-8\"", "\"SHA256\""),
            "algorithm",
            |e| {
                matches!(e, FormatError::BadField { field, reason: FieldRefusal::AlgorithmMismatch { .. }, .. }
                    if field.ends_with(".algorithm"))
            },
        ),
    ];
    for (bad, needle, is_expected) in cases {
        let err = parse_statement(bad.as_bytes(), &Limits::default()).unwrap_err();
        assert!(is_expected(&err), "unexpected error: {err:?}");
        // The message names the field for the user.
        assert!(
            err.to_string().contains(needle),
            "{err} should mention {needle}"
        );
    }
}

#[test]
fn a_pulled_statement_is_the_built_one() {
    let m = manifest();
    let mut out = Vec::new();
    let mut each = |emit: &mut Emit<'_>| {
        for r in &m.resources {
            if !emit(r) {
                break;
            }
        }
    };
    write_statement_pulling(&m.model_name, &m.params, &[1; 32], &mut each, &mut out).unwrap();
    assert_eq!(out, build_statement(&m, &[1; 32]));
    let mut empty = m.clone();
    empty.resources = Resources::new();
    let mut none = |_: &mut Emit<'_>| {};
    let mut out = Vec::new();
    write_statement_pulling(&m.model_name, &m.params, &[1; 32], &mut none, &mut out).unwrap();
    assert_eq!(out, build_statement(&empty, &[1; 32]));
}

#[test]
fn duplicate_resources_are_rejected() {
    let mut m = manifest();
    let first = m.resources.get(0).unwrap().to_digest();
    m.resources.push(first.as_resource()).unwrap();
    let bytes = build_statement(&m, &[1; 32]);
    let err = parse_statement(&bytes, &Limits::default()).unwrap_err();
    assert!(
        matches!(err, FormatError::DuplicateResource { .. }),
        "{err}"
    );
}
