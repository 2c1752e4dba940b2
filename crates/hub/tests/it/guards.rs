//! Authorization, privacy and input validation.

use axum::http::{Method, StatusCode};

use crate::harness::hub;

#[tokio::test]
async fn non_members_and_readers_cannot_publish_and_nothing_is_stored() {
    let h = hub().await;
    let before = h.blob_count();
    for (who, token) in [
        ("carol", &h.carol),
        ("bob (reader)", &h.bob),
        ("alice read token", &h.alice_read),
    ] {
        let r = h
            .post_json(
                "/api/models/acme/new-model/uploads",
                Some(token),
                serde_json::json!({}),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{who}: {}", r.text());
    }
    let anon = h
        .post_json(
            "/api/models/acme/new-model/uploads",
            None,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(anon.status, StatusCode::UNAUTHORIZED);
    // a direct PUT without a session of one's own is refused before the body is read
    h.push(&h.alice, "acme/existing", &[("a", b"a")], false)
        .await;
    let open = h
        .post_json(
            "/api/models/acme/existing/uploads",
            Some(&h.alice),
            serde_json::json!({}),
        )
        .await
        .json();
    let id = open["upload_id"].as_str().unwrap();
    let r = h
        .send(
            Method::PUT,
            &format!("/api/models/acme/existing/uploads/{id}/files/x.bin"),
            Some(&h.carol),
            &[],
            b"evil".to_vec(),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = h
        .post_json(
            "/api/models/acme/existing/uploads",
            Some(&h.carol),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        h.get("/api/models/acme/new-model", Some(&h.alice))
            .await
            .status,
        StatusCode::NOT_FOUND,
        "no repo created"
    );
    assert_eq!(
        h.blob_count(),
        before + 3,
        "only alice's file, signature and scan claim were stored"
    );
}

#[tokio::test]
async fn private_repos_leak_nothing() {
    let h = hub().await;
    let r = h
        .push(&h.alice, "acme/secret", &[("w.bin", b"secret bytes")], true)
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    for uri in [
        "/api/models/acme/secret",
        "/acme/secret/resolve/main/w.bin",
        "/api/models/acme/secret/tree/main",
    ] {
        let anon = h.get(uri, None).await;
        assert_eq!(anon.status, StatusCode::UNAUTHORIZED, "{uri}");
        assert_eq!(anon.header("x-error-code"), Some("RepoNotFound"));
        assert!(!anon.text().contains("secret bytes"));
        let carol = h.get(uri, Some(&h.carol)).await;
        assert_eq!(carol.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(carol.header("x-error-code"), Some("RepoNotFound"));
        // indistinguishable from a repo that does not exist
        let ghost = h.get(&uri.replace("secret", "ghost"), Some(&h.carol)).await;
        assert_eq!(
            (ghost.status, ghost.header("x-error-code")),
            (carol.status, carol.header("x-error-code"))
        );
        assert_eq!(
            h.get(uri, Some(&h.bob)).await.status,
            StatusCode::OK,
            "reader member sees it: {uri}"
        );
    }
    assert_eq!(
        h.get("/acme/secret/resolve/main/w.bin", Some(&h.alice_read))
            .await
            .body,
        b"secret bytes"
    );
    let list = h.get("/api/models", None).await.json();
    assert!(list.as_array().unwrap().is_empty());
    assert_eq!(
        h.get("/api/models", Some(&h.bob))
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(
        h.get("/api/audit", None)
            .await
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert!(!h.get("/", None).await.text().contains("acme/secret"));
    // a bogus or revoked token is rejected outright
    assert_eq!(
        h.get("/api/models/acme/secret", Some("hm_bogus"))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let op = hallmark_hub::admin::Operator::new(&*h.state.meta, "test");
    let (tok, id, _) = op
        .new_token(&hallmark_hub::admin::NewToken {
            user: "bob",
            scope: hallmark_store::TokenScope::Read,
            label: "t",
            lifetime: hallmark_hub::auth::TokenLifetime::Default,
        })
        .await
        .unwrap();
    assert_eq!(
        h.get("/api/models/acme/secret", Some(&tok)).await.status,
        StatusCode::OK
    );
    op.revoke_token("bob", id).await.unwrap();
    assert_eq!(
        h.get("/api/models/acme/secret", Some(&tok)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn unsafe_paths_and_bad_input_are_refused() {
    let h = hub().await;
    let open = h
        .post_json(
            "/api/models/alice/m/uploads",
            Some(&h.alice),
            serde_json::json!({}),
        )
        .await
        .json();
    let id = open["upload_id"].as_str().unwrap();
    for p in [
        "../evil",
        "a/../../evil",
        "%2e%2e/evil",
        "a//b",
        // `model.sig` itself is a publisher's signature (tests/it/claims.rs); its
        // look-alikes are refused.
        "Model.SIG",
        "model.sig/x",
        ".git/config",
        "a%5Cb",
        "%2Fetc%2Fpasswd",
        "x%00y",
    ] {
        let r = h
            .send(
                Method::PUT,
                &format!("/api/models/alice/m/uploads/{id}/files/{p}"),
                Some(&h.alice),
                &[],
                b"x".to_vec(),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{p}: {}",
            r.text()
        );
    }
    // announced digest must match
    let r = h
        .send(
            Method::PUT,
            &format!("/api/models/alice/m/uploads/{id}/files/a.bin"),
            Some(&h.alice),
            &[("x-content-sha256", &"0".repeat(64))],
            b"x".to_vec(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // nothing uploaded: nothing to commit, and no revision appears
    let r = h
        .post_json(
            &format!("/api/models/alice/m/uploads/{id}/commit"),
            Some(&h.alice),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(h.get("/api/models/alice/m", Some(&h.alice)).await.json()["sha"].is_null());
    // bad names
    let r = h
        .post_json(
            "/api/models/alice/..x/uploads",
            Some(&h.alice),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        h.post_json(
            "/api/models/nobody/x/uploads",
            Some(&h.alice),
            serde_json::json!({})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn oversized_headers_are_refused() {
    let h = hub().await;
    let big = "a".repeat(100_000);
    let r = h
        .send(Method::GET, "/api/models", None, &[("x-big", &big)], vec![])
        .await;
    assert_eq!(r.status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    assert_eq!(h.get("/api/models", None).await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_names_the_failing_dependency_and_nothing_more() {
    let h = hub().await;
    assert_eq!(h.get("/healthz", None).await.status, StatusCode::OK);
    let r = h.get("/readyz", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["status"], "ready");
    assert_eq!(
        (v["database"].as_str(), v["blob_store"].as_str()),
        (Some("ok"), Some("ok"))
    );
    assert_eq!(v["log"]["size"], 0);
    assert_eq!(v["log"]["sequencing"], true);
    let r = h
        .push(&h.alice, "alice/m", &[("w.bin", b"weights")], false)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    // The revision's signature and its scan claim.
    assert_eq!(h.get("/readyz", None).await.json()["log"]["size"], 2);
    // The log's public checkpoint disappears: not ready, and the answer says which part
    // failed without paths or error text.
    let cp = h.dir.path().join("sigstore/log/public/checkpoint");
    std::fs::remove_file(&cp).unwrap();
    let r = h.get("/readyz", None).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    let v = r.json();
    assert_eq!(
        (v["status"].as_str(), v["log"].as_str()),
        (Some("unready"), Some("failed"))
    );
    assert_eq!(v["database"], "ok");
    assert!(!r.text().contains("sigstore"), "{}", r.text());
}

/// Issue 15 finding 6: the log's disk fills up. A push answers 507 with a clear message
/// (no path), `/readyz` answers 503 naming the cause; once space returns the sequencer
/// recovers by itself and the next push is signed and logged, no restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_log_disk_answers_507_and_unready_until_space_returns() {
    use hallmark_instance::{Instance, InstanceConfig, LogBackend};
    use hallmark_tlog::mem::{MemLock, MemTiles};
    use std::sync::Arc;
    let h = hub().await;
    let tiles = Arc::new(MemTiles::new());
    let (dir, t2) = (h.dir.path().join("sigstore-mem"), Arc::clone(&tiles));
    let inst = tokio::task::spawn_blocking(move || {
        Instance::open_with_log(
            InstanceConfig::new(&dir, crate::harness::URL),
            LogBackend::Single {
                store: t2,
                lock: Arc::new(MemLock::default()),
            },
        )
    })
    .await
    .unwrap()
    .unwrap();
    let signer = hallmark_hub::keyless::KeylessRevisionSigner::new(Arc::new(inst));
    let state = hallmark_hub::with_parts(
        Arc::clone(&h.state.meta),
        h.state.blobs.clone(),
        Arc::new(signer),
        h.state.config.clone(),
    );
    let h = crate::harness::Hub {
        app: hallmark_hub::app(state.clone()),
        state,
        ..h
    };
    let r = h
        .push(&h.alice, "alice/m", &[("w.bin", b"weights")], false)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(h.get("/readyz", None).await.status, StatusCode::OK);

    tiles.set_capacity(Some(tiles.bytes() + 500));
    let r = h
        .push(&h.alice, "alice/m", &[("w.bin", b"weights 2")], false)
        .await;
    assert_eq!(r.status, StatusCode::INSUFFICIENT_STORAGE, "{}", r.text());
    assert!(r.text().contains("storage is full"), "{}", r.text());
    assert!(
        !r.text().contains("tile/") && !r.text().contains("/tmp"),
        "{}",
        r.text()
    );
    let r = h.get("/readyz", None).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    let v = r.json();
    assert_eq!(
        (v["log"].as_str(), v["log_reason"].as_str()),
        (Some("failed"), Some("log storage full"))
    );

    tiles.set_capacity(None);
    // The sequencer retries every ≤ 2 s: 60 s is 30× headroom on a loaded machine.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while h.get("/readyz", None).await.status != StatusCode::OK {
        assert!(std::time::Instant::now() < deadline, "never ready again");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let r = h
        .push(&h.alice, "alice/m", &[("w.bin", b"weights 3")], false)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    // Two revisions, each logged twice: its signature and its scan claim.
    assert_eq!(h.get("/readyz", None).await.json()["log"]["size"], 4);
}
