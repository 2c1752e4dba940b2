//! Issue 16: the background scrubber (§2), the admin re-scan and the org refusal setting
//! through the API and the org page (§1).

use axum::http::{Method, StatusCode};
use hallmark_hub::admin;
use hallmark_hub::rescan::{RescanScope, rescan};
use hallmark_hub::scrub::scrub_pass;
use hallmark_store::{ScanResult, ScanVerdict};
use serde_json::json;

use crate::harness::{FORM, Hub, form, hub};
use crate::integrity::{big, flip_byte};
use crate::scans::pickle_payload;

async fn admin_token(h: &Hub) -> String {
    let op = admin::Operator::new(&*h.state.meta, "test");
    op.add_user("root", None, None, true).await.unwrap();
    op.new_token(&admin::NewToken {
        user: "root",
        scope: hallmark_store::TokenScope::Write,
        label: "test",
        lifetime: hallmark_hub::auth::TokenLifetime::Default,
    })
    .await
    .unwrap()
    .0
}

async fn admin_events(h: &Hub, action: &str) -> Vec<hallmark_store::AdminEvent> {
    let all = h.state.meta.admin_events(1000).await.unwrap();
    all.into_iter().filter(|e| e.action == action).collect()
}

/// A blob flipped in storage is found by a scrub pass, without any download: the
/// revision is `failed` naming the file in the API, the UI and both audit logs, and keeps
/// its signer, log entry and Sigstore verify command.
#[tokio::test]
async fn a_scrub_pass_fails_the_revision_of_an_altered_blob_naming_the_file() {
    let h = hub().await;
    let data = big();
    let r = h
        .push(
            &h.alice,
            "alice/m",
            &[("a.bin", &data), ("b.bin", b"untouched")],
            false,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let before = h.get("/api/models/alice/m", None).await.json()["hallmark"]["signature"].clone();
    assert_eq!(before["status"], "verified");

    // intact: three blobs (two files and model.sig), nothing bad, nothing recorded
    let clean = scrub_pass(&h.state, None).await.unwrap();
    assert_eq!((clean.blobs, clean.bad_blobs), (3, 0), "{clean:?}");
    assert!(admin_events(&h, "blobs.scrub").await.is_empty());

    flip_byte(&h, &data, 12_345);
    let found = scrub_pass(&h.state, None).await.unwrap();
    assert_eq!(
        (found.blobs, found.bad_blobs, found.failed_revisions),
        (3, 1, 1),
        "{found:?}"
    );

    let sig = h.get("/api/models/alice/m", None).await.json()["hallmark"]["signature"].clone();
    assert_eq!(sig["status"], "failed", "{sig}");
    let detail = sig["detail"].as_str().unwrap();
    assert!(
        detail.contains("a.bin") && detail.contains("altered"),
        "{detail}"
    );
    for k in [
        "identity",
        "issuer",
        "log_index",
        "method",
        "verify_command",
    ] {
        assert_eq!(sig[k], before[k], "{k} kept on failure");
    }
    let cmd = sig["verify_command"].as_str().unwrap();
    assert!(
        cmd.contains("verify sigstore") && !cmd.contains("signing-key.pem"),
        "{cmd}"
    );
    // the signing audit log (API and page) and the operator audit log
    let audit = h.get("/api/audit", None).await.json();
    assert_eq!(audit[0]["status"], "failed");
    assert!(audit[0]["detail"].as_str().unwrap().contains("a.bin"));
    let events = admin_events(&h, "blob.altered").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].actor, hallmark_hub::scrub::SCRUB_ACTOR);
    assert!(events[0].target.starts_with("alice/m@"), "{:?}", events[0]);
    assert!(events[0].detail.starts_with("a.bin: "), "{:?}", events[0]);
    assert_eq!(admin_events(&h, "blobs.scrub").await.len(), 1);
    let page = h.get("/alice/m", None).await.text();
    assert!(page.contains(r#"id="sig-status">failed<"#), "{page}");
    assert!(page.contains("stored content of a.bin altered"), "{page}");
    assert!(page.contains("verify sigstore"));
    let audit_page = h.get("/audit", None).await.text();
    assert!(audit_page.contains("stored content of a.bin altered"));

    // the verification is gone: a range of the altered file is refused
    let part = h.range("/alice/m/resolve/main/a.bin", "bytes=0-9").await;
    assert_eq!(part.status, StatusCode::INTERNAL_SERVER_ERROR);

    // the next pass finds it again but records nothing new
    let again = scrub_pass(&h.state, None).await.unwrap();
    assert_eq!((again.bad_blobs, again.failed_revisions), (1, 0));
    assert_eq!(admin_events(&h, "blob.altered").await.len(), 1);
}

/// A blob deleted from storage fails its revision too ("unreadable").
#[tokio::test]
async fn a_scrub_pass_fails_the_revision_of_a_missing_blob() {
    let h = hub().await;
    let r = h
        .push(&h.alice, "alice/m", &[("gone.bin", b"soon gone")], false)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let sha = hex::encode(hallmark_crypto::sha256(b"soon gone"));
    std::fs::remove_file(h.state.blobs.local_path(&sha).unwrap()).unwrap();
    let found = scrub_pass(&h.state, None).await.unwrap();
    assert_eq!((found.bad_blobs, found.failed_revisions), (1, 1));
    let sig = h.get("/api/models/alice/m", None).await.json()["hallmark"]["signature"].clone();
    assert_eq!(sig["status"], "failed");
    assert!(
        sig["detail"]
            .as_str()
            .unwrap()
            .contains("stored content of gone.bin unreadable"),
        "{sig}"
    );
}

/// The scrubber's pace: 3 MiB at 24 MiB/s cannot take less than 125 ms (a lower bound
/// only, so a loaded machine cannot fail it).
#[tokio::test]
async fn a_paced_rehash_keeps_to_its_rate() {
    let h = hub().await;
    let data = big();
    let stored = h.state.blobs.put_bytes(data.into()).await.unwrap();
    let t = std::time::Instant::now();
    let d = h
        .state
        .blobs
        .rehash_paced(&stored.sha256, Some(24 << 20))
        .await
        .unwrap();
    assert_eq!(d, stored.sha256);
    assert!(
        t.elapsed() >= std::time::Duration::from_millis(125),
        "{:?}",
        t.elapsed()
    );
}

/// A revision judged by an older policy (here: recorded `clean` under policy "0") is
/// re-scanned with the current one: verdict updated, findings replaced, the change in
/// the operator audit log; a second run skips it.
#[tokio::test]
async fn rescan_updates_verdicts_of_stored_revisions_and_audits_each_change() {
    let h = hub().await;
    let payload = pickle_payload();
    let r = h
        .push(
            &h.alice,
            "alice/evil",
            &[("pytorch_model.bin", &payload)],
            false,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let commit = r.json()["commit"].as_str().unwrap().to_owned();
    let r = h
        .push(&h.alice, "alice/fine", &[("a.txt", b"hi")], false)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let repo = h.state.meta.repo("alice", "evil").await.unwrap().unwrap();
    let old = ScanResult {
        verdict: ScanVerdict::Clean,
        policy_version: "0".into(),
        findings: Vec::new(),
    };
    h.state
        .meta
        .replace_scan(repo.id, &commit, &old)
        .await
        .unwrap();
    let info = h.get("/api/models/alice/evil", None).await.json();
    assert_eq!(info["hallmark"]["scan"]["verdict"], "clean", "old verdict");

    let s = &h.state;
    let report = rescan(
        &*s.meta,
        &s.blobs,
        &s.scanner,
        "cli:test",
        RescanScope::All,
        false,
    )
    .await
    .unwrap();
    assert_eq!((report.examined, report.rescanned), (2, 1), "{report:?}");
    assert_eq!(report.changed.len(), 1);
    assert_eq!(report.changed[0].to, ScanVerdict::Dangerous);
    let scan = h.get("/api/models/alice/evil", None).await.json()["hallmark"]["scan"].clone();
    assert_eq!(scan["verdict"], "dangerous", "{scan}");
    assert_eq!(scan["policy_version"], hallmark_scan::POLICY_VERSION);
    assert_eq!(scan["findings"][0]["path"], "pytorch_model.bin", "{scan}");
    let events = admin_events(&h, "revision.rescan").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].target, format!("alice/evil@{commit}"));
    assert!(
        events[0]
            .detail
            .starts_with("verdict clean -> dangerous, policy 0 -> "),
        "{:?}",
        events[0]
    );
    assert!(events[0].detail.contains("pytorch_model.bin HM-PKL-001"));
    assert_eq!(admin_events(&h, "scan.rescan").await.len(), 1);

    // current policy everywhere now: nothing to do, nothing changed
    let again = rescan(
        &*s.meta,
        &s.blobs,
        &s.scanner,
        "cli:test",
        RescanScope::All,
        false,
    )
    .await
    .unwrap();
    assert_eq!((again.examined, again.rescanned), (2, 0));
    // --force on one repo scans again, finds the same, records no change
    let forced = rescan(
        &*s.meta,
        &s.blobs,
        &s.scanner,
        "cli:test",
        RescanScope::Repo(&repo),
        true,
    )
    .await
    .unwrap();
    assert_eq!((forced.examined, forced.rescanned), (1, 1));
    assert!(forced.changed.is_empty());
    assert_eq!(admin_events(&h, "revision.rescan").await.len(), 1);
}

/// `POST /api/admin/rescan`: administrators only, one repo or all.
#[tokio::test]
async fn rescan_through_the_admin_api() {
    let h = hub().await;
    let root = admin_token(&h).await;
    let r = h
        .push(&h.alice, "alice/fine", &[("a.txt", b"hi")], false)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let body = json!({"repo": "alice/fine", "force": true});
    let r = h
        .post_json("/api/admin/rescan", Some(&h.alice), body.clone())
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let r = h.post_json("/api/admin/rescan", Some(&root), body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["rescanned"], 1);
    let r = h
        .post_json("/api/admin/rescan", Some(&root), json!({"all": true}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        (r.json()["examined"].clone(), r.json()["rescanned"].clone()),
        (json!(1), json!(0))
    );
    let r = h
        .post_json(
            "/api/admin/rescan",
            Some(&root),
            json!({"repo": "alice/none"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    let r = h
        .post_json("/api/admin/rescan", Some(&root), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
}

/// The org refusal setting through the API: owners only; the setting then refuses a
/// dangerous push with 422.
#[tokio::test]
async fn org_owners_set_the_scan_refusal_through_the_api() {
    let h = hub().await;
    let uri = "/api/orgs/acme/settings";
    let put = |tok: Option<String>, level: &'static str| {
        let h = &h;
        async move {
            h.send(
                Method::PUT,
                uri,
                tok.as_deref(),
                &[("content-type", "application/json")],
                json!({ "refuse_scan": level }).to_string().into_bytes(),
            )
            .await
        }
    };
    assert_eq!(
        put(None, "dangerous").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        put(Some(h.carol.clone()), "dangerous").await.status,
        StatusCode::NOT_FOUND,
        "a non-member does not learn of the org"
    );
    let r = put(Some(h.bob.clone()), "dangerous").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "a reader is not an owner");
    let r = put(Some(h.alice_read.clone()), "dangerous").await;
    assert_ne!(r.status, StatusCode::OK, "a read token cannot write");
    assert_eq!(
        put(Some(h.alice.clone()), "harmless").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let r = put(Some(h.alice.clone()), "dangerous").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json(), json!({"org": "acme", "refuse_scan": "dangerous"}));
    let got = h.get(uri, Some(&h.alice)).await;
    assert_eq!(got.json()["refuse_scan"], "dangerous");
    assert_eq!(h.get(uri, Some(&h.bob)).await.status, StatusCode::FORBIDDEN);
    let events = admin_events(&h, "org.set").await;
    assert_eq!(
        (events[0].actor.as_str(), events[0].detail.as_str()),
        ("alice", "refuse-scan dangerous")
    );
    let payload = pickle_payload();
    let r = h
        .push(&h.alice, "acme/evil", &[("model.bin", &payload)], false)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("model.bin"), "{}", r.text());
    let r = put(Some(h.alice.clone()), "off").await;
    assert_eq!(r.json()["refuse_scan"], serde_json::Value::Null);
}

/// The org page shows the setting to owners only, and its form (CSRF-checked) changes it.
#[tokio::test]
async fn org_owners_set_the_scan_refusal_on_the_org_page() {
    let h = hub().await;
    let op = admin::Operator::new(&*h.state.meta, "test");
    op.reset_password("bob", "bob-password".into())
        .await
        .unwrap();
    let alice = h.session("alice", "alice-password").await;
    let bob = h.session("bob", "bob-password").await;
    let page = |cookie: String| {
        let h = &h;
        async move {
            h.send(Method::GET, "/acme", None, &[("cookie", &cookie)], vec![])
                .await
                .text()
        }
    };
    let mine = page(alice.clone()).await;
    assert!(mine.contains(r#"id="refuse-scan""#), "{mine}");
    assert!(mine.contains(r#"<option value="off" selected>"#), "{mine}");
    let csrf = mine
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let theirs = page(bob.clone()).await;
    assert!(
        !theirs.contains(r#"id="refuse-scan""#),
        "readers see no setting"
    );

    let post = |cookie: String, csrf: String| {
        let h = &h;
        async move {
            h.send(
                Method::POST,
                "/settings/orgs/acme/scan",
                None,
                &[("cookie", &cookie), FORM],
                form(&[("csrf", &csrf), ("refuse_scan", "suspicious")]),
            )
            .await
        }
    };
    let forged = post(alice.clone(), "forged".into()).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let org = h.state.meta.account("acme").await.unwrap().unwrap();
    assert_eq!(h.state.meta.scan_refusal(org.id).await.unwrap(), None);
    let bob_page = page(bob.clone()).await;
    let bob_csrf = bob_page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .map(|s| s.split('"').next().unwrap().to_owned())
        .unwrap_or_default();
    let r = post(bob, bob_csrf).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert_eq!(h.state.meta.scan_refusal(org.id).await.unwrap(), None);

    let r = post(alice.clone(), csrf).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(
        h.state.meta.scan_refusal(org.id).await.unwrap(),
        Some(ScanVerdict::Suspicious)
    );
    assert!(
        page(alice)
            .await
            .contains(r#"<option value="suspicious" selected>"#)
    );
}
