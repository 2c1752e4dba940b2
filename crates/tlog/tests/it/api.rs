//! The read API, driven in-process with tower's `oneshot`.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hallmark_tlog::api::{ApiState, router};
use hallmark_tlog::merkle::{Hash, leaf_hash, verify_consistency, verify_inclusion};
use hallmark_tlog::rekor::{entry_uuid, verify_set};
use hallmark_tlog::{LogKey, LogReader, Options, TileFetch};
use serde_json::Value;
use tower::ServiceExt as _;

use crate::{cfg, dir_log, fill};

pub(crate) async fn get(app: &axum::Router, uri: &str) -> (StatusCode, Vec<u8>) {
    let resp = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    (
        status,
        to_bytes(resp.into_body(), 1 << 24).await.unwrap().to_vec(),
    )
}

fn hex32(v: &Value) -> Hash {
    hex::decode(v.as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_api_serves_tiles_checkpoints_entries_and_proofs() {
    let dir = tempfile::tempdir().unwrap();
    let key = Arc::new(LogKey::generate(hallmark_tlog::LogKeyType::EcdsaP256).unwrap());
    let (seq, store) = dir_log(dir.path(), &key, Options::default());
    let (seq, first) = tokio::task::spawn_blocking(move || {
        let first = fill(&seq, "api", 300)[0].checkpoint.clone();
        fill(&seq, "more", 5);
        (seq, first)
    })
    .await
    .unwrap();
    let fetch: Arc<dyn TileFetch> = store;
    let reader = LogReader::new(Arc::clone(&fetch), cfg(), key.verifier().clone());
    let app = router(Arc::new(ApiState {
        fetch,
        reader,
        key: Some(Arc::clone(&key)),
    }));
    let latest = seq.latest();

    let (s, body) = get(&app, "/checkpoint").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(String::from_utf8(body).unwrap(), latest.text);

    let (s, body) = get(&app, "/tile/0/001.p/49").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body.len(), 49 * 32);
    assert_eq!(&body[..32], &leaf_hash(b"api-256"));
    let (s, body) = get(&app, "/tile/entries/000").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(&body[..7], b"\x00\x05api-0");
    assert_eq!(get(&app, "/tile/0/009").await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        get(&app, "/tile/../lock/checkpoint").await.0,
        StatusCode::NOT_FOUND
    );

    let (s, body) = get(&app, "/api/v1/log").await;
    assert_eq!(s, StatusCode::OK);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["treeSize"], 305);
    assert_eq!(v["signedTreeHead"], latest.text.as_str());
    assert_eq!(v["treeID"], "7001");
    assert_eq!(hex32(&v["rootHash"]), latest.checkpoint.root);

    let (s, body) = get(
        &app,
        &format!(
            "/api/v1/log/proof?firstSize={}&lastSize=305",
            first.checkpoint.size
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let v: Value = serde_json::from_slice(&body).unwrap();
    let hashes: Vec<Hash> = v["hashes"].as_array().unwrap().iter().map(hex32).collect();
    verify_consistency(
        first.checkpoint.size,
        305,
        &hashes,
        &first.checkpoint.root,
        &latest.checkpoint.root,
    )
    .unwrap();
    assert_eq!(
        get(&app, "/api/v1/log/proof?firstSize=5&lastSize=900")
            .await
            .0,
        StatusCode::BAD_REQUEST
    );

    let leaf = leaf_hash(b"api-42");
    let uuid = entry_uuid(7001, &leaf);
    for uri in [
        format!("/api/v1/log/entries/{uuid}"),
        "/api/v1/log/entries?logIndex=42".to_owned(),
    ] {
        let (s, body) = get(&app, &uri).await;
        assert_eq!(s, StatusCode::OK, "{uri}");
        let v: Value = serde_json::from_slice(&body).unwrap();
        let e = &v[uuid.as_str()];
        assert_eq!(e["logIndex"], 42);
        let body = B64.decode(e["body"].as_str().unwrap()).unwrap();
        assert_eq!(body, b"api-42");
        assert_eq!(
            e["logID"],
            hex::encode(key.verifier().log_id(&crate::cfg().host))
        );
        let t = e["integratedTime"].as_i64().unwrap();
        let set = B64
            .decode(e["verification"]["signedEntryTimestamp"].as_str().unwrap())
            .unwrap();
        assert!(verify_set(
            key.verifier(),
            &crate::cfg().host,
            &body,
            t,
            42,
            &set
        ));
        let p = &e["verification"]["inclusionProof"];
        let hashes: Vec<Hash> = p["hashes"].as_array().unwrap().iter().map(hex32).collect();
        verify_inclusion(
            &leaf,
            42,
            p["treeSize"].as_u64().unwrap(),
            &hashes,
            &hex32(&p["rootHash"]),
        )
        .unwrap();
        assert_eq!(p["checkpoint"], latest.text.as_str());
    }
    let missing = entry_uuid(7001, &leaf_hash(b"never logged"));
    assert_eq!(
        get(&app, &format!("/api/v1/log/entries/{missing}")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&app, "/api/v1/log/entries/nothex").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&app, "/api/v1/log/entries?logIndex=999").await.0,
        StatusCode::BAD_REQUEST
    );
    tokio::task::spawn_blocking(move || drop(seq))
        .await
        .unwrap();
}
