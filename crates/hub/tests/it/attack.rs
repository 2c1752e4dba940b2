//! Attacks on the hub's HTTP application (issue 15), each performed and bounded.

use axum::http::{Method, StatusCode};

use crate::harness::hub;

/// Finding 11: a cross-site page can make the browser post to the JSON API with the session
/// cookie attached; such writes are refused, bearer-token writes still work.
#[tokio::test]
async fn cookie_only_api_writes_are_refused() {
    let h = hub().await;
    let cookie = h.session("alice", "alice-password").await;
    let before = h.blob_count();
    let body = serde_json::json!({}).to_string().into_bytes();
    let json = ("content-type", "application/json");
    let forged = h
        .send(
            Method::POST,
            "/api/models/acme/csrf-model/uploads",
            None,
            &[json, ("cookie", &cookie)],
            body.clone(),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.text());
    assert!(forged.text().contains("bearer token"), "{}", forged.text());
    for method in [Method::PUT, Method::DELETE, Method::PATCH] {
        let r = h
            .send(
                method.clone(),
                "/api/models/acme/csrf-model/uploads/1",
                None,
                &[("cookie", &cookie)],
                vec![],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{method}");
    }
    // reads with the cookie still work; writes with a bearer token (and a stray cookie) too
    let who = h
        .send(
            Method::GET,
            "/api/whoami-v2",
            None,
            &[("cookie", &cookie)],
            vec![],
        )
        .await;
    assert_eq!(who.status, StatusCode::OK);
    let r = h
        .send(
            Method::POST,
            "/api/models/acme/csrf-model/uploads",
            Some(&h.alice),
            &[json, ("cookie", &cookie)],
            body,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(h.blob_count(), before);
}
