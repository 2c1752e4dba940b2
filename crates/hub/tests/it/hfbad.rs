//! Bad input to the Hugging Face write API (issue 17): each refused with the status the
//! client shows, nothing half-committed, nothing signed or logged; and attacks on the
//! LFS upload URLs, each performed and bounded.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Hub, hub, hub_with};
use crate::hfwrite::{file_line, header, lfs_line, ndjson, path_of, sha256_hex};

/// A repo with one signed revision; returns its head.
async fn seeded(h: &Hub) -> String {
    let r = h
        .push(&h.alice, "acme/demo", &[("a.bin", b"a")], false)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()["commit"].as_str().unwrap().to_owned()
}

/// Asserts the commit was refused with `status`, and nothing changed.
async fn refused(h: &Hub, body: Vec<u8>, status: StatusCode, says: &str) -> Value {
    refused_after(h, body, status, says, 0).await
}

/// [`refused`], for a refusal that comes after `stored` regular files' bytes were stored
/// (unreferenced: left to the blob GC).
async fn refused_after(
    h: &Hub,
    body: Vec<u8>,
    status: StatusCode,
    says: &str,
    stored: usize,
) -> Value {
    let (head, events, blobs) = (
        h.head("acme/demo").await,
        h.signing_events().await,
        h.blob_count(),
    );
    let r = h.hf_commit(&h.alice, "acme/demo", body).await;
    assert_eq!(r.status, status, "{}", r.text());
    assert!(r.text().contains(says), "{} should say {says:?}", r.text());
    assert_eq!(h.head("acme/demo").await, head, "nothing committed");
    assert_eq!(h.signing_events().await, events, "nothing signed or logged");
    assert_eq!(h.blob_count(), blobs + stored);
    r.json()
}

#[tokio::test]
async fn malformed_ndjson_is_refused_naming_the_line() {
    let h = hub().await;
    seeded(&h).await;
    refused(
        &h,
        b"{not json\n".to_vec(),
        StatusCode::BAD_REQUEST,
        "NDJSON line 1",
    )
    .await;
    refused(
        &h,
        ndjson(&[file_line("x.txt", b"x")]),
        StatusCode::BAD_REQUEST,
        "first line must be the header",
    )
    .await;
    refused(
        &h,
        ndjson(&[header("h"), json!({"key": "rename", "value": {}})]),
        StatusCode::BAD_REQUEST,
        "line 2",
    )
    .await;
    refused(
        &h,
        ndjson(&[header("h"), header("again")]),
        StatusCode::BAD_REQUEST,
        "second header",
    )
    .await;
    refused(
        &h,
        ndjson(&[
            header("h"),
            json!({"key": "file", "value": {"path": "x", "content": "!!!", "encoding": "base64"}}),
        ]),
        StatusCode::BAD_REQUEST,
        "content of x",
    )
    .await;
    refused(&h, Vec::new(), StatusCode::BAD_REQUEST, "no header line").await;
    let mut lfs = lfs_line("w.bin", b"w");
    lfs["value"]["oid"] = json!("XYZ");
    refused(
        &h,
        ndjson(&[header("h"), lfs]),
        StatusCode::BAD_REQUEST,
        "oid must be",
    )
    .await;
}

#[tokio::test]
async fn lfs_objects_never_uploaded_are_refused() {
    let h = hub().await;
    seeded(&h).await;
    refused(
        &h,
        ndjson(&[header("h"), lfs_line("w.bin", b"never uploaded")]),
        StatusCode::UNPROCESSABLE_ENTITY,
        "never uploaded",
    )
    .await;
    // Attack: name a blob another owner stored privately (its digest is known) to commit
    // it into one's own repo and download it. Refused: the object is not the caller's.
    let secret = b"alice's private weights".to_vec();
    let r = h
        .push(&h.alice, "acme/secret", &[("w.bin", &secret)], true)
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = h
        .post_json(
            "/api/repos/create",
            Some(&h.carol),
            json!({"name": "steal"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let events = h.signing_events().await;
    let r = h
        .hf_commit(
            &h.carol,
            "carol/steal",
            ndjson(&[header("h"), lfs_line("w.bin", &secret)]),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(h.signing_events().await, events);
    assert_eq!(
        h.get("/carol/steal/resolve/main/w.bin", Some(&h.carol))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // … and the batch API does not say the object exists: it asks for the bytes.
    let r = h.lfs_batch(&h.carol, "carol/steal", &[&secret]).await;
    assert!(
        r.json()["objects"][0]["actions"]["upload"].is_object(),
        "{}",
        r.text()
    );
    // Alice's verify of an object she did not upload to this repo fails too.
    let r = h
        .post_json(
            "/api/models/acme/demo/lfs-verify",
            Some(&h.alice),
            json!({"oid": sha256_hex(b"zzz"), "size": 3}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_wrong_parent_commit_is_refused() {
    let h = hub().await;
    let head = seeded(&h).await;
    let with_parent = |p: &str| {
        ndjson(&[
            json!({"key": "header", "value": {"summary": "s", "parentCommit": p}}),
            file_line("x.txt", b"x"),
        ])
    };
    refused(
        &h,
        with_parent(&"0".repeat(40)),
        StatusCode::PRECONDITION_FAILED,
        "not the head of main",
    )
    .await;
    refused(
        &h,
        with_parent(&head[..6]),
        StatusCode::PRECONDITION_FAILED,
        "not the head",
    )
    .await;
    let r = h
        .hf_commit(&h.alice, "acme/demo", with_parent(&head[..7]))
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "a 7-character prefix of the head names it: {}",
        r.text()
    );
}

#[tokio::test]
async fn lfs_bytes_not_matching_their_oid_are_refused() {
    let h = hub().await;
    seeded(&h).await;
    let claimed = b"the bytes announced".to_vec();
    let r = h.lfs_batch(&h.alice, "acme/demo", &[&claimed]).await;
    let href = path_of(
        r.json()["objects"][0]["actions"]["upload"]["href"]
            .as_str()
            .unwrap(),
    );
    let blobs = h.blob_count();
    let other = b"other bytes, same len".to_vec();
    assert_eq!(other.len(), claimed.len() + 2);
    let r = h
        .send(
            Method::PUT,
            &href,
            None,
            &[],
            b"THE BYTES ANNOUNCED".to_vec(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(
        r.text().contains("digest") || r.text().contains("match"),
        "{}",
        r.text()
    );
    // longer than announced: stopped at the announced size (413), shorter: 400
    let r = h.send(Method::PUT, &href, None, &[], other).await;
    assert!(
        matches!(
            r.status,
            StatusCode::BAD_REQUEST | StatusCode::PAYLOAD_TOO_LARGE
        ),
        "{}",
        r.text()
    );
    let r = h
        .send(Method::PUT, &href, None, &[], b"short".to_vec())
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(h.blob_count(), blobs, "nothing stored");
    refused(
        &h,
        ndjson(&[header("h"), lfs_line("w.bin", &claimed)]),
        StatusCode::UNPROCESSABLE_ENTITY,
        "never uploaded",
    )
    .await;
}

#[tokio::test]
async fn refused_paths_answer_422_naming_them() {
    let h = hub().await;
    seeded(&h).await;
    for p in [
        "model.sig",
        "../evil",
        "a/../../evil",
        ".git/config",
        "/etc/passwd",
        "a\\b",
        "MODEL.SIG",
    ] {
        refused(
            &h,
            ndjson(&[header("h"), file_line(p, b"x")]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "refused",
        )
        .await;
        let r = h
            .post_json(
                "/api/models/acme/demo/preupload/main",
                Some(&h.alice),
                json!({"files": [{"path": p, "sample": "", "size": 1}]}),
            )
            .await;
        let ignored = r.status == StatusCode::OK && r.json()["files"][0]["shouldIgnore"] == true;
        assert!(
            r.status == StatusCode::UNPROCESSABLE_ENTITY || ignored,
            "{p}: {}",
            r.text()
        );
    }
    // Two paths one case-insensitive disk cannot hold apart: refused at commit (422).
    let clash = ndjson(&[
        header("h"),
        file_line("X.txt", b"1"),
        file_line("x.txt", b"2"),
    ]);
    refused_after(&h, clash, StatusCode::UNPROCESSABLE_ENTITY, "same file", 2).await;
    refused(
        &h,
        ndjson(&[
            header("h"),
            json!({"key": "deletedFile", "value": {"path": "missing.bin"}}),
        ]),
        StatusCode::NOT_FOUND,
        "does not exist",
    )
    .await;
}

#[tokio::test]
async fn oversized_commits_are_refused_before_signing() {
    let h = hub_with(|c| c.revision_limits.max_files = 3).await;
    seeded(&h).await;
    let lines: Vec<Value> = std::iter::once(header("h"))
        .chain((0..4).map(|i| file_line(&format!("f{i}.txt"), format!("{i}").as_bytes())))
        .collect();
    let (events, head) = (h.signing_events().await, h.head("acme/demo").await);
    let r = h.hf_commit(&h.alice, "acme/demo", ndjson(&lines)).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text());
    assert!(r.text().contains("at most 3 files"), "{}", r.text());
    assert_eq!(
        (h.signing_events().await, h.head("acme/demo").await),
        (events, head)
    );
    // More operations than twice the file limit: refused while reading.
    let many: Vec<Value> = std::iter::once(header("h"))
        .chain((0..7).map(|_| json!({"key": "deletedFile", "value": {"path": "a.bin"}})))
        .collect();
    refused(
        &h,
        ndjson(&many),
        StatusCode::PAYLOAD_TOO_LARGE,
        "at most 6 operations",
    )
    .await;
    // A line over the bound is refused once the bound is passed, not buffered whole.
    let long = format!(
        "{{\"key\": \"header\", \"value\": {{\"summary\": \"{}",
        "a".repeat(3 << 20)
    );
    refused(
        &h,
        long.into_bytes(),
        StatusCode::PAYLOAD_TOO_LARGE,
        "longer than",
    )
    .await;
}

#[tokio::test]
async fn every_write_needs_push_rights() {
    let h = hub().await;
    seeded(&h).await;
    let body = ndjson(&[header("h"), file_line("x.txt", b"x")]);
    for (tok, want) in [
        (None, StatusCode::UNAUTHORIZED),
        (Some(h.bob.clone()), StatusCode::FORBIDDEN),
        (Some(h.alice_read.clone()), StatusCode::FORBIDDEN),
        (Some(h.carol.clone()), StatusCode::FORBIDDEN),
    ] {
        let t = tok.as_deref();
        let r = h
            .send(
                Method::POST,
                "/api/models/acme/demo/commit/main",
                t,
                &[],
                body.clone(),
            )
            .await;
        assert_eq!(r.status, want, "commit {}", r.text());
        let r = h
            .post_json(
                "/api/models/acme/demo/preupload/main",
                t,
                json!({"files": []}),
            )
            .await;
        assert_eq!(r.status, want, "preupload");
        let r = h
            .post_json(
                "/acme/demo.git/info/lfs/objects/batch",
                t,
                json!({"operation": "upload", "objects": []}),
            )
            .await;
        assert_eq!(r.status, want, "batch");
        let r = h
            .post_json(
                "/api/models/acme/demo/lfs-verify",
                t,
                json!({"oid": "0", "size": 0}),
            )
            .await;
        assert_eq!(r.status, want, "verify");
    }
    // create_pr and other branches are refused cleanly.
    let r = h
        .send(
            Method::POST,
            "/api/models/acme/demo/commit/main?create_pr=1",
            Some(&h.alice),
            &[],
            body.clone(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text().contains("pull requests are not supported"));
    let r = h
        .send(
            Method::POST,
            "/api/models/acme/demo/commit/dev",
            Some(&h.alice),
            &[],
            body,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.header("x-error-code"), Some("RevisionNotFound"));
}

/// Attacks on the token-less upload URLs: a forged ticket stores nothing; a body over the
/// announced size is cut off at it (bytes stored ≤ announced); a multipart completion
/// with a part that was not uploaded, or out of range, is refused.
#[tokio::test]
async fn lfs_upload_urls_are_bounded_capabilities() {
    let h = hub().await;
    seeded(&h).await;
    let data = vec![7u8; 1000];
    let oid = sha256_hex(&data);
    let blobs = h.blob_count();
    let r = h
        .send(
            Method::PUT,
            &format!("/api/lfs/lfs-forged/{oid}/1000"),
            None,
            &[],
            data.clone(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // A native upload session id is no ticket either.
    let up = h
        .post_json("/api/models/acme/demo/uploads", Some(&h.alice), json!({}))
        .await
        .json();
    let native = up["upload_id"].as_str().unwrap();
    let r = h
        .send(
            Method::PUT,
            &format!("/api/lfs/{native}/{oid}/1000"),
            None,
            &[],
            data.clone(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = h.lfs_batch(&h.alice, "acme/demo", &[&data]).await;
    let href = path_of(
        r.json()["objects"][0]["actions"]["upload"]["href"]
            .as_str()
            .unwrap(),
    );
    // 10 MB sent against 1000 announced: refused at the bound.
    let r = h
        .send(Method::PUT, &href, None, &[], vec![7u8; 10_000_000])
        .await;
    assert!(
        matches!(
            r.status,
            StatusCode::BAD_REQUEST | StatusCode::PAYLOAD_TOO_LARGE
        ),
        "{}",
        r.text()
    );
    // The size in the URL is bounded by the file limit, not trusted.
    let r = h
        .send(
            Method::PUT,
            &format!("{}/{}", href.rsplit_once('/').unwrap().0, u64::MAX),
            None,
            &[],
            vec![1],
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text());
    assert_eq!(h.blob_count(), blobs, "nothing stored");
    // Multipart: a completion naming parts never uploaded, and parts out of range.
    let big_len: u64 = 40 << 20;
    let fake_oid = "a".repeat(64);
    let r = h
        .send(Method::POST, "/acme/demo.git/info/lfs/objects/batch", Some(&h.alice), &[("content-type", "application/json")],
            json!({"operation": "upload", "transfers": ["multipart"], "objects": [{"oid": fake_oid, "size": big_len}]}).to_string().into_bytes())
        .await;
    let up = r.json()["objects"][0]["actions"]["upload"].clone();
    assert_eq!(up["header"]["chunk_size"], (16u64 << 20).to_string());
    assert!(
        up["header"].get("3").is_some() && up["header"].get("4").is_none(),
        "{up}"
    );
    let href = path_of(up["href"].as_str().unwrap());
    let r = h
        .send(Method::PUT, &format!("{href}/4"), None, &[], vec![0])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    let r = h
        .send(Method::PUT, &format!("{href}/0"), None, &[], vec![0])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    let parts: Vec<Value> = (1..=3)
        .map(|n| json!({"partNumber": n, "etag": "0".repeat(64)}))
        .collect();
    let r = h
        .post_json(&href, None, json!({"oid": fake_oid, "parts": parts}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(r.text().contains("part 1"), "{}", r.text());
    assert_eq!(h.blob_count(), blobs, "nothing stored");
}
