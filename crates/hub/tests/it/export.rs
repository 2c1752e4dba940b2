//! `hallmark hub export` (issue 20 §4): per revision a CycloneDX 1.6 ML-BOM and an SPDX
//! 3.0.1 document valid against the official schemas, the claims' bundles byte-identical
//! to what the hub serves and their statements, an index; filters; atomic writing.

use std::path::Path;

use axum::http::{Method, StatusCode};
use base64::Engine as _;
use hallmark_hub::admin::Operator;
use hallmark_hub::claims::trust::NewTrust;
use hallmark_hub::export::{ExportError, ExportFilter, ExportOptions, export};
use jsonschema::{Registry, Validator};
use serde_json::{Value, json};

use crate::claims::{FILES, new_key, publisher_sig, with_sig};
use crate::harness::{Hub, URL, hub};

fn schema(name: &str) -> Value {
    let p = hallmark_testkit::testdata("bom/schemas").join(name);
    serde_json::from_slice(&hallmark_testkit::read(&p)).unwrap()
}

fn validators() -> (Validator, Validator) {
    let registry = Registry::new()
        .add(
            "http://cyclonedx.org/schema/spdx.schema.json",
            schema("spdx.schema.json"),
        )
        .unwrap()
        .add(
            "http://cyclonedx.org/schema/jsf-0.82.schema.json",
            schema("jsf-0.82.schema.json"),
        )
        .unwrap()
        .prepare()
        .unwrap();
    let cdx = jsonschema::options()
        .with_registry(&registry)
        .should_validate_formats(true)
        .build(&schema("bom-1.6.schema.json"))
        .unwrap();
    let spdx = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema("spdx-json-schema.json"))
        .unwrap();
    (cdx, spdx)
}

#[track_caller]
fn assert_valid(v: &Validator, doc: &Value) {
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .take(10)
        .collect();
    assert!(errors.is_empty(), "schema errors: {errors:#?}");
}

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

fn opts(filter: ExportFilter) -> ExportOptions {
    ExportOptions {
        filter,
        force: false,
        hub_url: Some(URL.into()),
    }
}

async fn run(h: &Hub, o: &ExportOptions, dir: &Path) -> Result<usize, ExportError> {
    export(&*h.state.meta, &h.state.blobs, o, dir)
        .await
        .map(|s| s.revisions)
}

/// Pushes `acme/m` with a trusted publisher signature, then attaches SLSA provenance
/// (a dataset, a base model, training code) and a CycloneDX BOM (a test set): a revision
/// with every claim kind. Returns its commit.
async fn revision_with_every_claim(h: &Hub) -> String {
    let (key, public) = new_key();
    Operator::new(&*h.state.meta, "test")
        .trust_add(
            "acme",
            &NewTrust {
                public_key: Some(public.to_pem()),
                ..NewTrust::default()
            },
        )
        .await
        .unwrap();
    let sig = publisher_sig(&key, FILES);
    let r = h
        .push(&h.alice, "acme/m", &with_sig(FILES, &sig), false)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let commit = r.json()["commit"].as_str().unwrap().to_owned();
    let root = crate::incidentkit::model_root("m", FILES);
    let subject = json!([{"name": "m", "digest": {"sha256": root}}]);
    let provenance = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": subject,
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {
                "buildType": "https://example.invalid/hallmark/buildtypes/ml-training/v1",
                "externalParameters": {"code": {"commit": "abc"}},
                "resolvedDependencies": [
                    {"uri": "git+https://git.example/train@abc", "digest": {"gitCommit": "abc"},
                     "annotations": {"role": "code"}},
                    {"uri": "pkg:huggingface/datasets/imdb@1", "digest": {"sha256": "cd".repeat(32)},
                     "annotations": {"role": "trainedOn"}},
                    {"uri": "pkg:huggingface/google-bert/bert-base-uncased@86b5e09",
                     "annotations": {"role": "baseModel"}}]},
            "runDetails": {"builder": {"id": "https://ci.example/builder"}}}
    });
    let bom = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": subject,
        "predicateType": "https://cyclonedx.org/bom/v1.6",
        "predicate": {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [
            {"type": "data", "name": "wiki", "purl": "pkg:generic/wiki@3",
             "properties": [{"name": "hallmark:dataset:role", "value": "testedOn"}]}]}
    });
    for statement in [provenance, bom] {
        let signed =
            hallmark_provenance::sign_payload(statement.to_string().into_bytes(), &key).unwrap();
        let r = h
            .send(
                Method::POST,
                &format!("/api/models/acme/m/attach/{commit}"),
                Some(&h.alice),
                &[],
                signed,
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    }
    commit
}

#[tokio::test]
async fn every_claim_kind_is_exported_byte_identical_beside_valid_boms() {
    let h = hub().await;
    let commit = revision_with_every_claim(&h).await;
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("export");
    assert_eq!(
        run(&h, &opts(ExportFilter::default()), &dir).await.unwrap(),
        1
    );
    let index = read_json(&dir.join("index.json"));
    assert_eq!(index["format"], "hallmark-export/v1");
    let rev = &index["revisions"][0];
    assert_eq!(rev["repo"], "acme/m");
    assert_eq!(rev["revision"], commit.as_str());
    assert_eq!(rev["status"], "verified");
    let info = h.get("/api/models/acme/m", Some(&h.alice)).await.json();
    let served = info["hallmark"]["claims"].as_array().unwrap().clone();
    let exported = rev["claims"].as_array().unwrap();
    let kinds: Vec<&str> = exported
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "publisher-signature",
            "hub-signature",
            "scan",
            "provenance",
            "bom"
        ]
    );
    for (c, s) in exported.iter().zip(&served) {
        assert_eq!(c["log_index"], s["log_index"], "{c}");
        let bytes = std::fs::read(dir.join(c["bundle"].as_str().unwrap())).unwrap();
        let url = s["url"].as_str().unwrap().strip_prefix(URL).unwrap();
        let r = h.get(url, Some(&h.alice)).await;
        assert_eq!(bytes, r.body, "{} bundle is what the hub serves", c["kind"]);
        let payload = serde_json::from_slice::<Value>(&bytes).unwrap()["dsseEnvelope"]["payload"]
            .as_str()
            .map(|p| base64::engine::general_purpose::STANDARD.decode(p).unwrap())
            .unwrap();
        let statement = std::fs::read(dir.join(c["statement"].as_str().unwrap())).unwrap();
        assert_eq!(statement, payload, "{} statement", c["kind"]);
    }
    let base = dir.join(rev["dir"].as_str().unwrap());
    let sig = std::fs::read(base.join("model.sig")).unwrap();
    assert_eq!(
        sig,
        std::fs::read(dir.join(exported[1]["bundle"].as_str().unwrap())).unwrap()
    );

    let (cdx_schema, spdx_schema) = validators();
    let cdx = read_json(&base.join("bom.cdx.json"));
    assert_valid(&cdx_schema, &cdx);
    let model = &cdx["metadata"]["component"];
    assert_eq!(model["type"], "machine-learning-model");
    assert_eq!(model["hashes"][0]["content"], rev["root_sha256"]);
    assert_eq!(
        model["purl"].as_str().unwrap(),
        format!("pkg:huggingface/acme/m@{commit}?repository_url=http://hub.test")
    );
    let files: Vec<&str> = model["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["config.json", "weights/model.bin"]);
    let props = model["properties"].as_array().unwrap();
    let prop = |n: &str| {
        props
            .iter()
            .filter(|p| p["name"] == n)
            .map(|p| p["value"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(prop("hallmark:hub:status"), ["verified"]);
    assert_eq!(prop("hallmark:hub:signer"), ["http://hub.test/alice"]);
    assert_eq!(prop("hallmark:builder"), ["https://ci.example/builder"]);
    let attestations = model["externalReferences"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["type"] == "attestation")
        .count();
    assert_eq!(attestations, 5, "one per claim");
    let comps = cdx["components"].as_array().unwrap();
    let by_purl = |p: &str| comps.iter().find(|c| c["purl"] == p).unwrap();
    let imdb = by_purl("pkg:huggingface/datasets/imdb@1");
    assert_eq!(imdb["type"], "data");
    assert_eq!(imdb["hashes"][0]["content"], "cd".repeat(32));
    assert_eq!(
        by_purl("pkg:generic/wiki@3")["properties"][0]["value"],
        "testedOn"
    );
    let base_model = by_purl("pkg:huggingface/google-bert/bert-base-uncased@86b5e09");
    assert_eq!(base_model["type"], "machine-learning-model");

    let spdx = read_json(&base.join("bom.spdx.json"));
    assert_valid(&spdx_schema, &spdx);
    let graph = spdx["@graph"].as_array().unwrap();
    let ai = graph
        .iter()
        .find(|n| n["type"] == "ai_AIPackage" && n["software_packageVersion"] == commit.as_str())
        .unwrap();
    assert_eq!(ai["software_downloadLocation"], "http://hub.test/acme/m");
    let datasets = graph
        .iter()
        .filter(|n| n["type"] == "dataset_DatasetPackage")
        .count();
    assert_eq!(datasets, 2);
    for rel in ["trainedOn", "testedOn", "descendantOf"] {
        assert!(
            graph.iter().any(|n| n["relationshipType"] == rel),
            "no {rel} relationship"
        );
    }
    // Exporting again gives the same documents.
    let again = out.path().join("again");
    run(&h, &opts(ExportFilter::default()), &again)
        .await
        .unwrap();
    let rel = format!("acme/m/{commit}/bom.spdx.json");
    assert_eq!(
        std::fs::read(dir.join(&rel)).unwrap(),
        std::fs::read(again.join(&rel)).unwrap()
    );
}

#[tokio::test]
async fn filters_select_by_owner_repo_and_time() {
    let h = hub().await;
    for repo in ["acme/a", "alice/b"] {
        let r = h.push(&h.alice, repo, FILES, false).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    }
    let out = tempfile::tempdir().unwrap();
    let repos = |d: &Path| -> Vec<String> {
        read_json(&d.join("index.json"))["revisions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["repo"].as_str().unwrap().to_owned())
            .collect()
    };
    let all = out.path().join("all");
    assert_eq!(
        run(&h, &opts(ExportFilter::default()), &all).await.unwrap(),
        2
    );
    assert_eq!(repos(&all), ["acme/a", "alice/b"]);
    let org = out.path().join("org");
    let f = ExportFilter {
        org: Some("acme".into()),
        ..ExportFilter::default()
    };
    run(&h, &opts(f), &org).await.unwrap();
    assert_eq!(repos(&org), ["acme/a"]);
    assert!(!org.join("alice").exists());
    let one = out.path().join("one");
    let f = ExportFilter {
        repo: Some("alice/b".into()),
        ..ExportFilter::default()
    };
    run(&h, &opts(f), &one).await.unwrap();
    assert_eq!(repos(&one), ["alice/b"]);
    let now = hallmark_hub::time::now();
    let later = out.path().join("later");
    let f = ExportFilter {
        since: now + 3600,
        ..ExportFilter::default()
    };
    assert_eq!(run(&h, &opts(f), &later).await.unwrap(), 0);
    let earlier = out.path().join("earlier");
    let f = ExportFilter {
        until: Some(0),
        ..ExportFilter::default()
    };
    assert_eq!(run(&h, &opts(f), &earlier).await.unwrap(), 0);
    let none = out.path().join("none");
    let f = ExportFilter {
        repo: Some("acme/nope".into()),
        ..ExportFilter::default()
    };
    assert!(matches!(
        run(&h, &opts(f), &none).await,
        Err(ExportError::UnknownRepo(r)) if r == "acme/nope"
    ));
    assert!(!none.exists());
}

#[tokio::test]
async fn a_failed_export_leaves_nothing_and_a_non_empty_target_needs_force() {
    let h = hub().await;
    let commit = revision_with_every_claim(&h).await;
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("export");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("keep.txt"), b"mine").unwrap();
    assert!(matches!(
        run(&h, &opts(ExportFilter::default()), &dir).await,
        Err(ExportError::NotEmpty(_))
    ));
    assert_eq!(std::fs::read(dir.join("keep.txt")).unwrap(), b"mine");
    // A claim's stored bundle changes on disk: the export refuses it, naming the claim,
    // and leaves the target as it was and no temporary directory.
    let claims = h.state.meta.claims(
        h.state.meta.repo("acme", "m").await.unwrap().unwrap().id,
        &commit,
    );
    let prov = claims
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.claim.kind == hallmark_store::ClaimKind::Provenance)
        .unwrap();
    let path = h.state.blobs.local_path(&prov.claim.bundle_sha256).unwrap();
    let original = std::fs::read(&path).unwrap();
    let mut forged = original.clone();
    forged.push(b' ');
    std::fs::write(&path, &forged).unwrap();
    let mut force = opts(ExportFilter::default());
    force.force = true;
    let e = run(&h, &force, &dir).await.unwrap_err();
    assert!(matches!(e, ExportError::Tampered { .. }), "{e}");
    assert!(e.to_string().contains("provenance claim"), "{e}");
    assert_eq!(std::fs::read(dir.join("keep.txt")).unwrap(), b"mine");
    let left: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["export"], "no partial export left");
    // Restored, --force replaces the directory whole.
    std::fs::write(&path, &original).unwrap();
    assert_eq!(run(&h, &force, &dir).await.unwrap(), 1);
    assert!(!dir.join("keep.txt").exists());
    assert!(dir.join("index.json").is_file());
}

#[tokio::test]
async fn the_index_and_boms_say_revoked_naming_the_incident() {
    let h = hub().await;
    for (token, repo) in [(&h.alice, "alice/a"), (&h.bob, "bob/c")] {
        let r = h.push(token, repo, FILES, false).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    }
    let root = crate::incidentkit::root_token(&h).await;
    let reason = "alice's signing key leaked";
    let id = h.open_incident(&root, reason).await["id"].as_i64().unwrap();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("export");
    assert_eq!(
        run(&h, &opts(ExportFilter::default()), &dir).await.unwrap(),
        2
    );
    let index = read_json(&dir.join("index.json"));
    let entry = |repo: &str| {
        index["revisions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["repo"] == repo)
            .unwrap()
            .clone()
    };
    let a = entry("alice/a");
    assert_eq!(a["status"], "revoked", "{a}");
    assert_eq!(a["incident"]["id"], id, "{a}");
    assert_eq!(a["incident"]["reason"], reason, "{a}");
    assert!(a["incident"]["opened_at"].is_string(), "{a}");
    let c = entry("bob/c");
    assert_eq!(c["status"], "verified", "{c}");
    assert!(c["incident"].is_null(), "{c}");
    let cdx = read_json(&dir.join(a["documents"]["cyclonedx"].as_str().unwrap()));
    let props = cdx["metadata"]["component"]["properties"].to_string();
    assert!(
        props.contains(r#""name":"hallmark:hub:status","value":"revoked""#),
        "{props}"
    );
    assert!(
        props.contains(&format!("{id} (")) && props.contains(reason),
        "{props}"
    );
}
