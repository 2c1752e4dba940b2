//! Accounts an operator can run (issue 15, findings 9 and 15): disabling stops tokens,
//! sessions and signing at once; tokens expire; the admin API is for administrators with
//! a write token; every operator action is in the audit log; org members are hidden from
//! non-members.

use axum::http::{Method, StatusCode};
use hallmark_hub::admin::{NewToken, Operator};
use hallmark_hub::auth::{TokenLifetime, secret_hash};
use hallmark_store::TokenScope;
use serde_json::json;

use crate::harness::{Hub, Resp, hub};

const CT_FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

/// An administrator `root` (made as `hub admin user add root --admin` does) and its write
/// and read tokens.
async fn root(h: &Hub) -> (String, String) {
    let op = Operator::new(&*h.state.meta, "cli:test");
    op.add_user("root", None, None, true).await.unwrap();
    let tok = |scope| NewToken {
        user: "root",
        scope,
        label: "ops",
        lifetime: TokenLifetime::Default,
    };
    let write = op.new_token(&tok(TokenScope::Write)).await.unwrap().0;
    let read = op.new_token(&tok(TokenScope::Read)).await.unwrap().0;
    (write, read)
}

/// Logs alice in; returns her session cookie (`hm_session=…`).
async fn login(h: &Hub) -> Resp {
    h.send(
        Method::POST,
        "/login",
        None,
        &[CT_FORM],
        b"username=alice&password=alice-password".to_vec(),
    )
    .await
}

async fn with_cookie(h: &Hub, method: Method, uri: &str, cookie: &str) -> Resp {
    h.send(method, uri, None, &[("cookie", cookie)], Vec::new())
        .await
}

async fn admin_call(
    h: &Hub,
    method: Method,
    uri: &str,
    token: &str,
    body: serde_json::Value,
) -> Resp {
    h.send(
        method,
        uri,
        Some(token),
        &[("content-type", "application/json")],
        body.to_string().into_bytes(),
    )
    .await
}

fn log_size(h: &Hub) -> u64 {
    h.state.signer.log_health().unwrap().unwrap().size
}

#[tokio::test]
async fn a_disabled_user_is_refused_at_once_and_works_again_when_enabled() {
    let h = hub().await;
    let (root_w, _) = root(&h).await;
    let first = h
        .push(&h.alice, "acme/m", &[("a.bin", b"one")], false)
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    let cookie = login(&h).await.header("set-cookie").unwrap().to_owned();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    assert_eq!(
        with_cookie(&h, Method::GET, "/settings/tokens", &cookie)
            .await
            .status,
        StatusCode::OK
    );
    // an upload opened before the operator acts
    let open = h
        .post_json("/api/models/acme/m/uploads", Some(&h.alice), json!({}))
        .await;
    assert_eq!(open.status, StatusCode::CREATED);
    let upload = open.json()["upload_id"].as_str().unwrap().to_owned();

    let r = admin_call(
        &h,
        Method::POST,
        "/api/admin/users/alice/disable",
        &root_w,
        json!({}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    // token: 401 naming why, on reads and writes
    let who = h.get("/api/whoami-v2", Some(&h.alice)).await;
    assert_eq!(who.status, StatusCode::UNAUTHORIZED);
    assert!(who.text().contains("disabled"), "{}", who.text());
    let push = h
        .push(&h.alice, "acme/m", &[("a.bin", b"two")], false)
        .await;
    assert_eq!(push.status, StatusCode::UNAUTHORIZED, "{}", push.text());
    let commit = h
        .post_json(
            &format!("/api/models/acme/m/uploads/{upload}/commit"),
            Some(&h.alice),
            json!({"summary": "late"}),
        )
        .await;
    assert_eq!(commit.status, StatusCode::UNAUTHORIZED);
    // session: gone (the account page sends her to the login form), login refused
    let page = with_cookie(&h, Method::GET, "/settings/tokens", &cookie).await;
    assert_ne!(page.status, StatusCode::OK);
    assert_eq!(login(&h).await.status, StatusCode::UNAUTHORIZED);
    // certificate: the hub's signer issues none for her, and logs nothing
    let alice = h.state.meta.account("alice").await.unwrap().unwrap();
    let manifest = hallmark_hub::signer::revision_manifest("m", &[]).unwrap();
    let before = log_size(&h);
    let signed = h.state.signer.sign_revision(&alice, &manifest).await;
    assert!(
        matches!(
            signed,
            Err(hallmark_hub::HubError::Refused(
                hallmark_hub::Refusal::UserDisabled(_)
            ))
        ),
        "{signed:?}"
    );
    assert_eq!(log_size(&h), before, "no log entry for a disabled user");

    let r = admin_call(
        &h,
        Method::POST,
        "/api/admin/users/alice/enable",
        &root_w,
        json!({}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        h.get("/api/whoami-v2", Some(&h.alice)).await.status,
        StatusCode::OK
    );
    let again = h
        .push(&h.alice, "acme/m", &[("a.bin", b"two")], false)
        .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text());
    assert_eq!(login(&h).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn tokens_expire_by_default_or_per_token_and_expired_ones_get_401() {
    let h = hub().await;
    let meta = &*h.state.meta;
    let alice = meta.account("alice").await.unwrap().unwrap();
    let secret = "hm_expired-token-of-alice".to_owned();
    let hash = secret_hash(secret.clone()).await.unwrap();
    let now = hallmark_hub::time::now();
    meta.create_token(alice.id, "old", TokenScope::Write, &hash, Some(now - 1))
        .await
        .unwrap();
    let r = h.get("/api/whoami-v2", Some(&secret)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.text().contains("token expired at"), "{}", r.text());
    let push = h.push(&secret, "acme/x", &[("a.bin", b"x")], false).await;
    assert_eq!(push.status, StatusCode::UNAUTHORIZED);

    let op = Operator::new(meta, "cli:test");
    op.set_default_token_days(Some(30)).await.unwrap();
    let new = |lifetime| NewToken {
        user: "alice",
        scope: TokenScope::Read,
        label: "t",
        lifetime,
    };
    let (tok, _, exp) = op.new_token(&new(TokenLifetime::Default)).await.unwrap();
    let exp = exp.expect("the default applies");
    assert!(
        (30 * 86_400..=30 * 86_400 + 60).contains(&(exp - now)),
        "{exp}"
    );
    assert_eq!(
        h.get("/api/whoami-v2", Some(&tok)).await.status,
        StatusCode::OK
    );
    let (_, _, exp) = op.new_token(&new(TokenLifetime::Days(2))).await.unwrap();
    assert!((2 * 86_400..=2 * 86_400 + 60).contains(&(exp.unwrap() - now)));
    let (_, _, exp) = op.new_token(&new(TokenLifetime::Never)).await.unwrap();
    assert_eq!(exp, None);
    assert!(op.new_token(&new(TokenLifetime::Days(0))).await.is_err());
    assert!(op.set_default_token_days(Some(0)).await.is_err());
}

#[tokio::test]
async fn the_admin_api_needs_an_administrators_write_token_and_every_action_is_audited() {
    let h = hub().await;
    let (root_w, root_r) = root(&h).await;
    let users = "/api/admin/users";
    assert_eq!(h.get(users, None).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        h.get(users, Some("hm_bogus")).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        h.get(users, Some(&h.alice)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        h.get(users, Some(&root_r)).await.status,
        StatusCode::FORBIDDEN
    );
    let r = admin_call(
        &h,
        Method::POST,
        "/api/admin/users/carol/disable",
        &h.alice,
        json!({}),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "a non-admin disables no one"
    );
    let r = admin_call(
        &h,
        Method::DELETE,
        "/api/admin/repos/acme/m",
        &h.alice,
        json!({}),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let list = h.get(users, Some(&root_w)).await;
    assert_eq!(list.status, StatusCode::OK);
    let names: Vec<_> = list
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(names.contains(&"alice".to_owned()) && names.contains(&"root".to_owned()));

    h.push(&h.alice, "acme/m", &[("a.bin", b"one")], false)
        .await;
    let blobs = h.blob_count();
    let calls: &[(Method, &str, serde_json::Value, StatusCode)] = &[
        (
            Method::POST,
            users,
            json!({"name": "dave", "password": "dave-password"}),
            StatusCode::CREATED,
        ),
        (
            Method::POST,
            "/api/admin/users/dave/disable",
            json!({}),
            StatusCode::OK,
        ),
        (
            Method::POST,
            "/api/admin/users/dave/enable",
            json!({}),
            StatusCode::OK,
        ),
        (
            Method::PUT,
            "/api/admin/users/dave/admin",
            json!({"admin": true}),
            StatusCode::OK,
        ),
        (
            Method::PUT,
            "/api/admin/users/dave/password",
            json!({"password": "new-password"}),
            StatusCode::OK,
        ),
        (
            Method::DELETE,
            "/api/admin/users/dave/sessions",
            json!({}),
            StatusCode::OK,
        ),
        (
            Method::POST,
            "/api/admin/users/dave/tokens",
            json!({"scope": "read", "expires_in_days": 3}),
            StatusCode::CREATED,
        ),
        (
            Method::PUT,
            "/api/admin/settings/token-lifetime",
            json!({"days": 90}),
            StatusCode::OK,
        ),
        (
            Method::DELETE,
            "/api/admin/repos/acme/m",
            json!({}),
            StatusCode::OK,
        ),
        (
            Method::DELETE,
            "/api/admin/repos/acme/m",
            json!({}),
            StatusCode::NOT_FOUND,
        ),
        (
            Method::POST,
            "/api/admin/users/nobody/disable",
            json!({}),
            StatusCode::NOT_FOUND,
        ),
    ];
    for (m, uri, body, want) in calls {
        let r = admin_call(&h, m.clone(), uri, &root_w, body.clone()).await;
        assert_eq!(r.status, *want, "{m} {uri}: {}", r.text());
    }
    // the deleted repo is gone with its revisions; its blobs wait for the collector
    assert_eq!(
        h.get("/api/models/acme/m", Some(&h.alice)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(h.blob_count(), blobs);
    let again = h
        .push(&h.alice, "acme/m", &[("b.bin", b"fresh")], false)
        .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text());
    let repo = h.state.meta.repo("acme", "m").await.unwrap().unwrap();
    let revs = h.state.meta.revisions(repo.id, 10).await.unwrap();
    assert_eq!(
        revs.len(),
        1,
        "a fresh repo, no revision of the deleted one"
    );
    assert_eq!(revs[0].parent, None);

    let audit = h.get("/api/admin/audit", Some(&root_w)).await;
    assert_eq!(audit.status, StatusCode::OK);
    let seen: Vec<(String, String, String)> = audit
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap().to_owned();
            (s("actor"), s("action"), s("target"))
        })
        .collect();
    for (action, target) in [
        ("user.add", "dave"),
        ("user.disable", "dave"),
        ("user.enable", "dave"),
        ("user.admin.grant", "dave"),
        ("user.password", "dave"),
        ("user.sessions.revoke", "dave"),
        ("token.create", "dave"),
        ("token.lifetime", "hub"),
        ("repo.delete", "acme/m"),
    ] {
        assert!(
            seen.contains(&("root".into(), action.into(), target.into())),
            "{action} {target} not in {seen:?}"
        );
    }
    assert!(seen.contains(&("cli:test".into(), "user.add".into(), "root".into())));
    assert!(!audit.text().contains("new-password") && !audit.text().contains("hm_"));
    assert_eq!(
        h.get("/api/admin/audit", Some(&h.alice)).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn org_members_are_shown_to_members_only() {
    let h = hub().await;
    let (root_w, _) = root(&h).await;
    for (who, sees) in [
        (None, false),
        (Some(h.carol.as_str()), false),
        (Some(h.bob.as_str()), true),
        (Some(h.alice.as_str()), true),
        (Some(root_w.as_str()), true),
    ] {
        let page = h.get("/acme", who).await;
        assert_eq!(page.status, StatusCode::OK);
        let text = page.text();
        assert_eq!(text.contains("id=\"members\""), sees, "{who:?}");
        assert_eq!(text.contains(">reader<"), sees, "{who:?}: roles");
    }
}
