//! History, branches, tags, paths-info and short commit ids (issue 17), as
//! `huggingface_hub` calls them; bad input and unauthorised callers refused.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::harness::{Hub, hub};

async fn two_revisions(h: &Hub) -> (String, String) {
    let a = h
        .push(
            &h.alice,
            "acme/m",
            &[("config.json", b"{}"), ("w/a.bin", b"aa")],
            false,
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    let b = h
        .push(&h.alice, "acme/m", &[("config.json", b"{\"v\":2}")], false)
        .await;
    assert_eq!(b.status, StatusCode::CREATED, "{}", b.text());
    (
        a.json()["commit"].as_str().unwrap().to_owned(),
        b.json()["commit"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn commits_list_every_revision_with_its_signature() {
    let h = hub().await;
    let (c1, c2) = two_revisions(&h).await;
    let r = h.get("/api/models/acme/m/commits/main", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    let ids: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [c2.as_str(), c1.as_str()]);
    for c in v.as_array().unwrap() {
        assert_eq!(c["authors"][0]["user"], "alice");
        assert_eq!(c["hallmark"]["signature"]["status"], "verified");
        assert!(c["date"].as_str().unwrap().ends_with('Z'));
        assert!(c.get("formatted").is_none());
    }
    // At the older revision (short id): only it.
    let r = h
        .get(
            &format!("/api/models/acme/m/commits/{}?expand[]=formatted", &c1[..7]),
            None,
        )
        .await;
    let v = r.json();
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["id"], c1.as_str());
    assert!(v[0]["formatted"]["title"].is_string());
    let r = h.get("/api/models/acme/m/commits/nope", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.header("x-error-code"), Some("RevisionNotFound"));
}

#[tokio::test]
async fn branches_and_tags_are_created_listed_and_deleted_by_writers_only() {
    let h = hub().await;
    let (c1, c2) = two_revisions(&h).await;
    let tag = |t: &str| json!({ "tag": t, "message": "release" });
    // A tag at the older revision, named by a short id.
    let r = h
        .post_json(
            &format!("/api/models/acme/m/tag/{}", &c1[..8]),
            Some(&h.alice),
            tag("v1"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // Tags are immutable: the same name again is 409 (the client's exist_ok), even at another commit.
    let r = h
        .post_json("/api/models/acme/m/tag/main", Some(&h.alice), tag("v1"))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    let r = h
        .post_json(
            "/api/models/acme/m/branch/dev",
            Some(&h.alice),
            json!({ "startingPoint": "v1" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = h
        .post_json("/api/models/acme/m/branch/dev", Some(&h.alice), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // A tag and a branch share one namespace.
    let r = h
        .post_json("/api/models/acme/m/tag/main", Some(&h.alice), tag("dev"))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);

    let v = h.get("/api/models/acme/m/refs", None).await.json();
    assert_eq!(
        v["tags"],
        json!([{ "name": "v1", "ref": "refs/tags/v1", "targetCommit": c1 }])
    );
    let branches = v["branches"].as_array().unwrap();
    assert!(
        branches.contains(&json!({ "name": "main", "ref": "refs/heads/main", "targetCommit": c2 }))
    );
    assert!(
        branches.contains(&json!({ "name": "dev", "ref": "refs/heads/dev", "targetCommit": c1 }))
    );
    assert_eq!(v["converts"], json!([]));

    // Revisions by tag, branch and refs/… spelling resolve everywhere.
    for rev in ["v1", "dev", "refs%2Ftags%2Fv1"] {
        let r = h
            .get(&format!("/acme/m/resolve/{rev}/config.json"), None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{rev}");
        assert_eq!(r.header("x-repo-commit"), Some(c1.as_str()));
    }

    // Readers, anonymous callers, read tokens and non-members may not create or delete refs.
    for (tok, status) in [
        (Some(h.bob.as_str()), StatusCode::FORBIDDEN),
        (Some(h.alice_read.as_str()), StatusCode::FORBIDDEN),
        (None, StatusCode::UNAUTHORIZED),
    ] {
        let r = h
            .post_json("/api/models/acme/m/tag/main", tok, tag("v2"))
            .await;
        assert_eq!(r.status, status, "{tok:?}");
        let r = h
            .send(
                Method::DELETE,
                "/api/models/acme/m/tag/v1",
                tok,
                &[],
                Vec::new(),
            )
            .await;
        assert_eq!(r.status, status, "{tok:?}");
        let r = h
            .send(
                Method::DELETE,
                "/api/models/acme/m/branch/dev",
                tok,
                &[],
                Vec::new(),
            )
            .await;
        assert_eq!(r.status, status, "{tok:?}");
    }
    let r = h
        .post_json("/api/models/acme/m/tag/main", Some(&h.carol), tag("v2"))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Bad names and targets.
    for bad in ["../x", "a b", "deadbeef", "refs/heads/x", "x.lock"] {
        let r = h
            .post_json("/api/models/acme/m/tag/main", Some(&h.alice), tag(bad))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.text());
    }
    let r = h
        .post_json("/api/models/acme/m/tag/0000000", Some(&h.alice), tag("v3"))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.header("x-error-code"), Some("RevisionNotFound"));
    let long = "m".repeat(5000);
    let r = h
        .post_json(
            "/api/models/acme/m/tag/main",
            Some(&h.alice),
            json!({"tag": "v4", "message": long}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // Deleting: main never; a tag is not a branch; then really gone.
    let r = h
        .send(
            Method::DELETE,
            "/api/models/acme/m/branch/main",
            Some(&h.alice),
            &[],
            Vec::new(),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = h
        .send(
            Method::DELETE,
            "/api/models/acme/m/branch/v1",
            Some(&h.alice),
            &[],
            Vec::new(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    for path in ["tag/v1", "branch/dev"] {
        let r = h
            .send(
                Method::DELETE,
                &format!("/api/models/acme/m/{path}"),
                Some(&h.alice),
                &[],
                Vec::new(),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{path}");
        let r = h
            .send(
                Method::DELETE,
                &format!("/api/models/acme/m/{path}"),
                Some(&h.alice),
                &[],
                Vec::new(),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path} twice");
    }
    let v = h.get("/api/models/acme/m/refs", None).await.json();
    assert_eq!(v["tags"], json!([]));
    assert_eq!(v["branches"].as_array().unwrap().len(), 1);
    let r = h.get("/acme/m/resolve/v1/config.json", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn short_commit_ids_resolve_everywhere_and_ambiguity_is_400() {
    let h = hub().await;
    let (c1, _) = two_revisions(&h).await;
    let short = &c1[..7];
    let r = h
        .get(&format!("/acme/m/resolve/{short}/w/a.bin"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("x-repo-commit"), Some(c1.as_str()));
    assert_eq!(r.body, b"aa");
    let r = h
        .get(&format!("/api/models/acme/m/revision/{short}"), None)
        .await;
    assert_eq!(r.json()["sha"], c1.as_str());
    let r = h
        .get(
            &format!("/api/models/acme/m/tree/{}", &c1[..12].to_uppercase()),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = h.get(&format!("/acme/m?rev={short}"), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains(&c1));
    // Six characters are not a short id.
    let r = h
        .get(&format!("/acme/m/resolve/{}/w/a.bin", &c1[..6]), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.header("x-error-code"), Some("RevisionNotFound"));

    // Ambiguity: two revisions recorded with ids sharing 7 characters (unsigned records
    // written to the store directly: pushing until ids collide is impractical).
    let repo = h.state.meta.repo("acme", "m").await.unwrap().unwrap();
    let mut parent = repo.head.clone();
    for id in ["abcdef0111", "abcdef0222"] {
        let commit = format!("{id}{}", "0".repeat(30));
        let rev = hallmark_store::NewRevision {
            repo_id: repo.id,
            commit: commit.clone(),
            parent: parent.clone(),
            uploader_id: h.state.meta.account("alice").await.unwrap().unwrap().id,
            summary: "x".into(),
            files: vec![],
            signature: hallmark_store::SignatureState {
                status: hallmark_store::SigStatus::Unsigned,
                method: None,
                identity: None,
                issuer: None,
                log_index: None,
                detail: None,
                checked_at: None,
            },
            identity_changed_from: None,
            upload_id: None,
            scan: None,
            claims: Vec::new(),
        };
        h.state.meta.commit_revision(&rev, 1).await.unwrap();
        parent = Some(commit);
    }
    let r = h.get("/acme/m/resolve/abcdef0/config.json", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(r.header("x-error-code"), Some("AmbiguousRevision"));
    assert!(r.text().contains("ambiguous"), "{}", r.text());
    let r = h.get("/api/models/acme/m/revision/abcdef02", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["sha"], format!("abcdef0222{}", "0".repeat(30)));
}

#[tokio::test]
async fn paths_info_answers_form_and_json_and_leaves_out_what_is_missing() {
    let h = hub().await;
    let (c1, _) = two_revisions(&h).await;
    let body = b"paths=config.json&paths=w&paths=missing&paths=.git%2Fconfig&expand=False".to_vec();
    let r = h
        .send(
            Method::POST,
            &format!("/api/models/acme/m/paths-info/{}", &c1[..7]),
            None,
            &[("content-type", "application/x-www-form-urlencoded")],
            body,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v.as_array().unwrap().len(), 2, "{v}");
    assert_eq!(v[0]["type"], "file");
    assert_eq!(v[0]["path"], "config.json");
    assert_eq!(v[0]["size"], 2);
    assert_eq!(
        v[1],
        json!({ "type": "directory", "oid": "", "size": 0, "path": "w" })
    );
    let r = h
        .post_json(
            &format!("/api/models/acme/m/paths-info/{c1}"),
            None,
            json!({"paths": ["w/a.bin"]}),
        )
        .await;
    assert_eq!(r.json()[0]["lfs"]["size"], 2);
    let r = h
        .post_json(
            "/api/models/acme/m/paths-info/main",
            None,
            json!({"paths": 5}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let many = "paths=a&".repeat(1001).into_bytes();
    let r = h
        .send(
            Method::POST,
            "/api/models/acme/m/paths-info/main",
            None,
            &[],
            many,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text().contains("1000"), "{}", r.text());
}

#[tokio::test]
async fn private_repo_history_and_refs_are_hidden() {
    let h = hub().await;
    let r = h
        .push(&h.alice, "acme/secret", &[("a.txt", b"x")], true)
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    for uri in [
        "/api/models/acme/secret/refs",
        "/api/models/acme/secret/commits/main",
    ] {
        assert_eq!(
            h.get(uri, None).await.status,
            StatusCode::UNAUTHORIZED,
            "{uri}"
        );
        assert_eq!(
            h.get(uri, Some(&h.carol)).await.status,
            StatusCode::NOT_FOUND,
            "{uri}"
        );
        assert_eq!(
            h.get(uri, Some(&h.bob)).await.status,
            StatusCode::OK,
            "{uri}"
        );
    }
    let r = h
        .post_json(
            "/api/models/acme/secret/tag/main",
            Some(&h.carol),
            json!({"tag": "t"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn git_clone_is_answered_with_a_pointer_to_hf_download() {
    let h = hub().await;
    let r = h
        .get("/acme/m.git/info/refs?service=git-upload-pack", None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.header("content-type"),
        Some("application/x-git-upload-pack-advertisement")
    );
    let t = r.text();
    assert!(t.starts_with("001e# service=git-upload-pack\n0000"), "{t}");
    assert!(
        t.contains("ERR this hub does not serve git clones") && t.contains("hf download acme/m"),
        "{t}"
    );
    let r = h
        .get("/acme/m.git/info/refs?service=git-receive-pack", None)
        .await;
    assert!(r.text().contains("hf upload acme/m"));
    let r = h.get("/acme/m.git/info/refs", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.text().contains("hf download"));
}
