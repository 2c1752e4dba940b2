//! Pushes as an attacker or an unlucky user makes them (issue 15 findings 7, 8, 13, 14):
//! visibility mismatches, the deduplication oracle, revisions too large to sign,
//! concurrent pushes, and the blob garbage collector.

use std::time::{Duration, SystemTime};

use axum::http::{Method, StatusCode};
use hallmark_store::Role;
use serde_json::{Value, json};

use crate::harness::{FORM, Hub, Resp, form, hub, hub_with};

impl Hub {
    async fn open_upload(&self, token: &str, repo: &str, body: Value) -> Resp {
        self.post_json(&format!("/api/models/{repo}/uploads"), Some(token), body)
            .await
    }

    async fn put(&self, token: &str, repo: &str, id: &str, path: &str, data: &[u8]) -> Resp {
        let uri = format!("/api/models/{repo}/uploads/{id}/files/{path}");
        self.send(Method::PUT, &uri, Some(token), &[], data.to_vec())
            .await
    }

    async fn commit(&self, token: &str, repo: &str, id: &str) -> Resp {
        let uri = format!("/api/models/{repo}/uploads/{id}/commit");
        self.post_json(&uri, Some(token), json!({})).await
    }

    async fn settings(&self, token: Option<&str>, repo: &str, body: Value) -> Resp {
        let uri = format!("/api/models/{repo}/settings");
        self.send(
            Method::PUT,
            &uri,
            token,
            &[("content-type", "application/json")],
            body.to_string().into_bytes(),
        )
        .await
    }

    /// The transparency log's size (its public checkpoint).
    pub(crate) async fn log_size(&self) -> u64 {
        let signer = std::sync::Arc::clone(&self.state.signer);
        tokio::task::spawn_blocking(move || signer.log_health())
            .await
            .unwrap()
            .expect("keyless hubs have a log")
            .unwrap()
            .size
    }
}

fn id_of(r: &Resp) -> String {
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()["upload_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_private_push_into_a_public_repo_is_refused_and_visibility_has_an_endpoint() {
    let h = hub().await;
    let first = h
        .push(&h.alice, "acme/pub", &[("a.bin", b"public bytes")], false)
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    let head = first.json()["commit"].as_str().unwrap().to_owned();
    let blobs_before = h.blob_count();
    // The attack: `push --private` into the existing public repo.
    let r = h
        .push(
            &h.alice,
            "acme/pub",
            &[("secret.bin", b"meant private")],
            true,
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    let msg = r.json()["error"].as_str().unwrap().to_owned();
    assert!(
        msg.contains("acme/pub is public") && msg.contains("/settings"),
        "{msg}"
    );
    // Nothing was uploaded; the repo is public with the files it had.
    assert_eq!(h.blob_count(), blobs_before);
    let info = h.get("/api/models/acme/pub", None).await.json();
    assert_eq!(
        (info["private"].as_bool(), info["sha"].as_str()),
        (Some(false), Some(head.as_str()))
    );
    let secret = h.get("/acme/pub/resolve/main/secret.bin", None).await;
    assert_eq!(secret.status, StatusCode::NOT_FOUND);

    // Changing visibility: readers and outsiders may not, maintainers and owners may.
    let private = json!({"private": true});
    let anon = h.settings(None, "acme/pub", private.clone()).await;
    assert_eq!(anon.status, StatusCode::UNAUTHORIZED, "{}", anon.text());
    let reader = h.settings(Some(&h.bob), "acme/pub", private.clone()).await;
    assert_eq!(reader.status, StatusCode::FORBIDDEN, "{}", reader.text());
    let outsider = h
        .settings(Some(&h.carol), "acme/pub", private.clone())
        .await;
    assert_eq!(outsider.status, StatusCode::FORBIDDEN);
    let read_token = h
        .settings(Some(&h.alice_read), "acme/pub", private.clone())
        .await;
    assert_eq!(read_token.status, StatusCode::FORBIDDEN);
    let other = h
        .settings(Some(&h.alice), "acme/pub", json!({"gated": "auto"}))
        .await;
    assert!(other.status.is_client_error(), "{}", other.status);
    let carol = h.state.meta.account("carol").await.unwrap().unwrap();
    let acme = h.state.meta.account("acme").await.unwrap().unwrap();
    h.state
        .meta
        .set_membership(acme.id, carol.id, Role::Maintainer)
        .await
        .unwrap();
    let both = h
        .settings(
            Some(&h.carol),
            "acme/pub",
            json!({"private": true, "visibility": "public"}),
        )
        .await;
    assert_eq!(both.status, StatusCode::BAD_REQUEST);
    let ok = h.settings(Some(&h.carol), "acme/pub", private).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    assert_eq!(ok.json()["private"], true);
    let events = h.state.meta.admin_events(10).await.unwrap();
    let e = &events[0];
    assert_eq!(
        (
            e.actor.as_str(),
            e.action.as_str(),
            e.target.as_str(),
            e.detail.as_str()
        ),
        ("carol", "repo.visibility", "acme/pub", "public -> private")
    );
    assert_eq!(
        h.get("/api/models/acme/pub", None).await.status,
        StatusCode::UNAUTHORIZED,
        "anonymous callers no longer see it"
    );
    assert_eq!(
        h.get("/acme/pub/resolve/main/a.bin", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    // Now the private push goes through, and a push that asks for public is refused.
    let r = h
        .push(
            &h.alice,
            "acme/pub",
            &[("secret.bin", b"meant private")],
            true,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let public = h
        .open_upload(&h.alice, "acme/pub", json!({"private": false}))
        .await;
    assert_eq!(public.status, StatusCode::CONFLICT);

    // The repo page's form: owners see it, and it needs the session's CSRF token.
    let cookie = h.session("alice", "alice-password").await;
    let page = h
        .send(
            Method::GET,
            "/acme/pub",
            None,
            &[("cookie", &cookie)],
            vec![],
        )
        .await
        .text();
    assert!(
        page.contains("id=\"set-visibility\">Make public<"),
        "{page}"
    );
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let post = |csrf: String| {
        let cookie = cookie.clone();
        let h = &h;
        async move {
            h.send(
                Method::POST,
                "/acme/pub/settings",
                None,
                &[FORM, ("cookie", &cookie)],
                form(&[("csrf", &csrf), ("private", "false")]),
            )
            .await
        }
    };
    assert_eq!(post("forged".into()).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        h.get("/api/models/acme/pub", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(post(csrf).await.status, StatusCode::SEE_OTHER);
    assert_eq!(
        h.get("/api/models/acme/pub", None).await.status,
        StatusCode::OK
    );
    // Newer huggingface_hub releases send `visibility`.
    let v = h
        .settings(Some(&h.alice), "acme/pub", json!({"visibility": "private"}))
        .await;
    assert_eq!(
        (v.status, v.json()["private"].as_bool()),
        (StatusCode::OK, Some(true))
    );
    assert_eq!(
        h.get("/api/models/acme/pub", None).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_upload_answer_does_not_tell_whether_content_exists_elsewhere() {
    let h = hub().await;
    let secret: &[u8] = b"weights only acme has";
    let r = h
        .push(&h.alice, "acme/private", &[("w.bin", secret)], true)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    // carol, in no org, probes with the same bytes in her own repo.
    let id = id_of(&h.open_upload(&h.carol, "carol/probe", json!({})).await);
    let put = h
        .put(&h.carol, "carol/probe", &id, "guess.bin", secret)
        .await;
    assert_eq!(put.status, StatusCode::OK);
    let keys: Vec<String> = put.json().as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["path", "sha256", "size"], "{}", put.text());
}

#[tokio::test]
async fn a_revision_too_large_to_sign_is_refused_before_its_blobs_are_sent() {
    // The default limit, as the report's 100,000-file push would state it.
    let h = hub().await;
    let max = hallmark_hub::limits::default_max_files();
    let r = h
        .open_upload(
            &h.alice,
            "acme/huge",
            json!({"files": 100_000, "path_bytes": 2_000_000}),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text());
    assert!(
        r.text().contains(&format!("at most {max} files")),
        "{}",
        r.text()
    );
    assert!(h.state.meta.repo("acme", "huge").await.unwrap().is_none());
    // Short of the file limit, long paths can still overflow the statement.
    let r = h
        .open_upload(
            &h.alice,
            "acme/huge",
            json!({"files": 40_000, "path_bytes": 40_000_000}),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text());
    assert!(r.text().contains("12582144-byte limit"), "{}", r.text());

    // A low configured limit, so the commit-time check is quick to reach.
    let h = hub_with(|c| c.revision_limits.max_files = 10).await;
    let r = h
        .open_upload(&h.alice, "acme/m", json!({"files": 11, "path_bytes": 50}))
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text());
    assert!(r.text().contains("at most 10 files"), "{}", r.text());
    assert_eq!(h.blob_count(), 0, "no blob was sent");
    // A client that does not state the count is stopped at commit, before signing.
    let log = h.log_size().await;
    let id = id_of(&h.open_upload(&h.alice, "acme/m", json!({})).await);
    for i in 0..11 {
        let p = h.put(&h.alice, "acme/m", &id, &format!("f{i}"), &[i]).await;
        assert_eq!(p.status, StatusCode::OK);
    }
    let c = h.commit(&h.alice, "acme/m", &id).await;
    assert_eq!(c.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", c.text());
    assert_eq!(h.log_size().await, log, "nothing was logged");
    // Ten files are fine.
    let r = h
        .push(&h.alice, "acme/ten", &[("a", b"1"), ("b", b"2")], false)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_pushes_log_only_what_becomes_a_revision() {
    concurrent_pushes(&hub().await).await;
}

/// The same on PostgreSQL (the claim is a row lock there), with the shared log.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_pushes_on_postgres_log_only_what_becomes_a_revision() {
    let Some(url) = crate::scaleout::fresh_database("concurrent_pushes").await else {
        return;
    };
    concurrent_pushes(&hub_with(|c| c.database = Some(url)).await).await;
}

async fn concurrent_pushes(h: &Hub) {
    let r = h
        .push(&h.alice, "acme/race", &[("v.bin", b"v0")], false)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let log_before = h.log_size().await;
    // Five pushes built on the same head, committed at once.
    let mut ids = Vec::new();
    for i in 0..5u8 {
        let id = id_of(&h.open_upload(&h.alice, "acme/race", json!({})).await);
        let p = h
            .put(&h.alice, "acme/race", &id, "v.bin", &[b'v', b'1', i])
            .await;
        assert_eq!(p.status, StatusCode::OK);
        ids.push(id);
    }
    let answers =
        futures_util::future::join_all(ids.iter().map(|id| h.commit(&h.alice, "acme/race", id)))
            .await;
    let won = answers
        .iter()
        .filter(|a| a.status == StatusCode::CREATED)
        .count();
    let lost = answers
        .iter()
        .filter(|a| a.status == StatusCode::CONFLICT)
        .count();
    // One wins; the others were built on a head that moved (one more could win if it
    // read the head only after the first commit).
    assert!(
        won >= 1 && won + lost == 5,
        "{:?}",
        answers.iter().map(Resp::text).collect::<Vec<_>>()
    );
    let repo = h.state.meta.repo("acme", "race").await.unwrap().unwrap();
    let revisions = h.state.meta.revisions(repo.id, 100).await.unwrap().len() as u64;
    let entries = h.log_size().await;
    println!(
        "5 concurrent pushes: {} log entries for {revisions} revisions",
        entries
    );
    assert_eq!(revisions, 1 + won as u64);
    assert_eq!(
        entries - log_before,
        2 * won as u64,
        "two log entries (signature, scan claim) per new revision, none for a lost push"
    );
    assert_eq!(entries, 2 * revisions);

    // The losers' blobs: referenced while their uploads are open, collected once they are
    // abandoned and older than the grace period; the winner's stay.
    for id in &ids {
        let uri = format!("/api/models/acme/race/uploads/{id}");
        h.send(Method::DELETE, &uri, Some(&h.alice), &[], vec![])
            .await;
    }
    let all = h.blob_count();
    let old = SystemTime::now() - Duration::from_secs(3 * 86_400);
    age_all(&h.dir.path().join("blobs/blobs"), old);
    let fresh = h
        .state
        .blobs
        .put_bytes(b"in flight"[..].into())
        .await
        .unwrap();
    let report = hallmark_hub::gc::collect_garbage(
        &*h.state.meta,
        &h.state.blobs,
        hallmark_store::DEFAULT_GRACE,
        "cli:test",
    )
    .await
    .unwrap();
    let events = h.state.meta.admin_events(1).await.unwrap();
    assert_eq!(
        (events[0].actor.as_str(), events[0].action.as_str()),
        ("cli:test", "blobs.gc")
    );
    assert!(
        events[0].detail.contains(&format!("deleted {lost} of")),
        "{}",
        events[0].detail
    );
    assert_eq!(report.deleted, lost as u64, "{report:?}");
    assert_eq!(h.blob_count(), all + 1 - lost);
    assert!(h.state.blobs.size(&fresh.sha256).await.unwrap().is_some());
    for file in ["v.bin", "model.sig"] {
        let got = h
            .get(&format!("/acme/race/resolve/main/{file}"), None)
            .await;
        assert_eq!(got.status, StatusCode::OK, "{file}");
    }
}

fn age_all(dir: &std::path::Path, to: SystemTime) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_dir() {
            age_all(&e.path(), to);
        } else {
            let f = std::fs::File::options().write(true).open(e.path()).unwrap();
            f.set_modified(to).unwrap();
        }
    }
}
