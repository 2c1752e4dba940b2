//! The engine reproduces the reference's `resources` lists exactly
//! (testdata/hash, copied from the OMS fixtures written by model_signing 1.1.1).

use std::fs;
use std::path::{Path, PathBuf};

use hallmark_format::manifest::DEFAULT_GIT_IGNORES;
use hallmark_format::{HashAlgorithm, Serialization};
use hallmark_hash::{EngineOptions, IgnoreSet, WalkOptions, enumerate, hash_files};

fn testdata() -> PathBuf {
    hallmark_testkit::testdata("hash")
}

/// The fixture model in a temp dir, with the `.gitattributes` git would not let us store.
fn model(name: &str) -> tempfile::TempDir {
    let d = hallmark_testkit::temp_copy(Path::new("hash").join(name));
    fs::write(
        d.path().join(".gitattributes"),
        "*.bin filter=lfs diff=lfs merge=lfs -text\n",
    )
    .unwrap();
    d
}

fn expected(payload: &str) -> Vec<(String, String, String)> {
    let v: serde_json::Value =
        serde_json::from_slice(&fs::read(testdata().join(payload)).unwrap()).unwrap();
    v["predicate"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_owned(),
                r["algorithm"].as_str().unwrap().to_owned(),
                r["digest"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn ours(
    model: &Path,
    method: Serialization,
    hash: HashAlgorithm,
    threads: usize,
) -> Vec<(String, String, String)> {
    let opts = WalkOptions {
        allow_symlinks: false,
        ignore: DEFAULT_GIT_IGNORES.into_iter().collect::<IgnoreSet>(),
        keep_stats: false,
    };
    let files = enumerate(model, &opts).unwrap();
    let engine = EngineOptions {
        threads,
        ..EngineOptions::default()
    };
    hash_files(&files, method, hash, &engine)
        .unwrap()
        .iter()
        .map(|r| (r.to_string(), r.algorithm.to_owned(), hex::encode(r.digest)))
        .collect()
}

#[test]
fn case01_files_sha256() {
    let m = model("model-full");
    let want = expected("case01-files-sha256.payload.json");
    for threads in [1, 2, 5] {
        assert_eq!(
            ours(
                m.path(),
                Serialization::Files,
                HashAlgorithm::Sha256,
                threads
            ),
            want
        );
    }
}

#[test]
fn case06_shards_sha256() {
    let m = model("model-full");
    let want = expected("case06-shards-sha256.payload.json");
    assert!(
        want.iter()
            .any(|(n, ..)| n == "model-big.safetensors:2621440:2883584")
    );
    for threads in [1, 3] {
        let got = ours(
            m.path(),
            Serialization::Shards {
                shard_size: 262_144,
            },
            HashAlgorithm::Sha256,
            threads,
        );
        assert_eq!(got, want);
    }
}

#[test]
fn case07_files_blake2b() {
    let m = model("model-small");
    let want = expected("case07-files-blake2.payload.json");
    assert_eq!(
        ours(m.path(), Serialization::Files, HashAlgorithm::Blake2b, 2),
        want
    );
}
