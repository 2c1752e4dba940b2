//! Web UI: pages render, login sets a session, forms need the CSRF token.

use axum::http::{Method, StatusCode};

use crate::harness::{form, hub};

#[tokio::test]
async fn pages_login_tokens_and_csrf() {
    let h = hub().await;
    h.push(&h.alice, "acme/bert", &[("config.json", b"{}")], false)
        .await;
    let index = h.get("/?q=bert", None).await;
    assert_eq!(index.status, StatusCode::OK);
    assert!(index.text().contains("acme/bert"));
    assert!(index.header("content-security-policy").is_some());
    let page = h.get("/acme/bert", None).await.text();
    assert!(page.contains("id=\"sig-status\">verified<"), "{page}");
    assert!(page.contains("http://hub.test/alice"));
    assert!(page.contains("model_signing verify sigstore"));
    assert!(page.contains("config.json"));
    let org = h.get("/acme", None).await.text();
    assert!(org.contains("acme/bert") && !org.contains("id=\"members\""));
    let org = h.get("/acme", Some(&h.alice)).await.text();
    assert!(org.contains("id=\"members\"") && org.contains("owner"));
    assert!(h.get("/audit", None).await.text().contains("acme/bert"));
    assert_eq!(
        h.get("/nobody-here", None).await.status,
        StatusCode::NOT_FOUND
    );

    // wrong password
    let ct = [("content-type", "application/x-www-form-urlencoded")];
    let bad = h
        .send(
            Method::POST,
            "/login",
            None,
            &ct,
            form(&[("username", "alice"), ("password", "nope-nope")]),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    // cross-site login refused
    let xs = h
        .send(
            Method::POST,
            "/login",
            None,
            &[ct[0], ("origin", "http://evil.test")],
            form(&[("username", "alice"), ("password", "alice-password")]),
        )
        .await;
    assert_eq!(xs.status, StatusCode::FORBIDDEN);
    let ok = h
        .send(
            Method::POST,
            "/login",
            None,
            &ct,
            form(&[("username", "alice"), ("password", "alice-password")]),
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let set = ok.header("set-cookie").unwrap().to_owned();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax"));
    let cookie = set.split(';').next().unwrap().to_owned();
    let with_cookie = |extra: Vec<(&'static str, String)>| {
        let mut v: Vec<(&str, String)> = vec![("cookie", cookie.clone())];
        v.extend(extra);
        v
    };
    let hdrs = with_cookie(vec![]);
    let hdrs: Vec<(&str, &str)> = hdrs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let tokens = h
        .send(Method::GET, "/settings/tokens", None, &hdrs, vec![])
        .await
        .text();
    let csrf = tokens
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    // missing / wrong CSRF token
    let post_hdrs = with_cookie(vec![(
        "content-type",
        "application/x-www-form-urlencoded".into(),
    )]);
    let post_hdrs: Vec<(&str, &str)> = post_hdrs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = h
        .send(
            Method::POST,
            "/settings/tokens",
            None,
            &post_hdrs,
            form(&[("csrf", "forged"), ("label", "x"), ("scope", "write")]),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = h
        .send(
            Method::POST,
            "/settings/tokens",
            None,
            &post_hdrs,
            form(&[("csrf", &csrf), ("label", "laptop"), ("scope", "read")]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let page = r.text();
    let secret = page
        .split("id=\"new-token\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    assert!(secret.starts_with("hm_"));
    let who = h.get("/api/whoami-v2", Some(&secret)).await.json();
    assert_eq!(
        (
            who["name"].as_str(),
            who["auth"]["accessToken"]["role"].as_str()
        ),
        (Some("alice"), Some("read"))
    );
    // every form goes through the same guard: a forged token is refused before anything changes
    let listed = h
        .send(Method::GET, "/settings/tokens", None, &hdrs, vec![])
        .await
        .text();
    let ids: Vec<&str> = listed
        .split("/settings/tokens/")
        .skip(1)
        .filter_map(|s| s.split_once("/revoke").map(|(id, _)| id))
        .collect();
    assert!(!ids.is_empty(), "{listed}");
    for id in ids {
        let r = h
            .send(
                Method::POST,
                &format!("/settings/tokens/{id}/revoke"),
                None,
                &post_hdrs,
                form(&[("csrf", "forged")]),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(r.text().contains("CSRF"), "{}", r.text());
    }
    assert_eq!(
        h.get("/api/whoami-v2", Some(&secret)).await.status,
        StatusCode::OK,
        "the token survives a forged revoke"
    );
    let r = h
        .send(
            Method::POST,
            "/acme/bert/verify",
            None,
            &post_hdrs,
            form(&[("csrf", "forged"), ("rev", "main")]),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // an API token has no session, so no CSRF token: it cannot drive the forms
    let ct_only = [("content-type", "application/x-www-form-urlencoded")];
    let r = h
        .send(
            Method::POST,
            "/settings/tokens",
            Some(&h.alice),
            &ct_only,
            form(&[("csrf", ""), ("label", "x"), ("scope", "write")]),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // the session cannot be used from another site without the CSRF token: logout needs it too
    let r = h
        .send(
            Method::POST,
            "/logout",
            None,
            &post_hdrs,
            form(&[("csrf", "x")]),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // re-check button works with the session
    let commit = h.get("/api/models/acme/bert", None).await.json()["sha"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = h
        .send(
            Method::POST,
            "/acme/bert/verify",
            None,
            &post_hdrs,
            form(&[("csrf", &csrf), ("rev", &commit)]),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let r = h
        .send(
            Method::POST,
            "/logout",
            None,
            &post_hdrs,
            form(&[("csrf", &csrf)]),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let after = h
        .send(Method::GET, "/settings/tokens", None, &hdrs, vec![])
        .await;
    assert_eq!(after.status, StatusCode::SEE_OTHER, "session ended");
}
