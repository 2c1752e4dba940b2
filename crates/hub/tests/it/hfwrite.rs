//! The Hugging Face write API (issue 17) as `huggingface_hub` speaks it: create, preupload,
//! LFS batch (basic and multipart), commit, delete; every commit a signed revision.

use axum::http::{Method, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::harness::{Hub, Resp, URL, hub};

pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex::encode(hallmark_crypto::sha256(data))
}

/// The request path of a URL the hub handed out.
pub(crate) fn path_of(href: &str) -> String {
    href.strip_prefix(URL).unwrap().to_owned()
}

/// NDJSON of `lines`, one JSON value per line.
pub(crate) fn ndjson(lines: &[Value]) -> Vec<u8> {
    lines
        .iter()
        .map(|l| format!("{l}\n"))
        .collect::<String>()
        .into_bytes()
}

pub(crate) fn header(summary: &str) -> Value {
    json!({"key": "header", "value": {"summary": summary, "description": ""}})
}

pub(crate) fn file_line(path: &str, data: &[u8]) -> Value {
    json!({"key": "file", "value": {"path": path, "content": STANDARD.encode(data), "encoding": "base64"}})
}

pub(crate) fn lfs_line(path: &str, data: &[u8]) -> Value {
    json!({"key": "lfsFile", "value": {"path": path, "algo": "sha256", "oid": sha256_hex(data), "size": data.len()}})
}

impl Hub {
    pub(crate) async fn hf_commit(&self, token: &str, repo: &str, body: Vec<u8>) -> Resp {
        self.send(
            Method::POST,
            &format!("/api/models/{repo}/commit/main"),
            Some(token),
            &[("content-type", "application/x-ndjson")],
            body,
        )
        .await
    }

    pub(crate) async fn lfs_batch(&self, token: &str, repo: &str, objects: &[&[u8]]) -> Resp {
        let objects: Vec<Value> = objects
            .iter()
            .map(|d| json!({"oid": sha256_hex(d), "size": d.len()}))
            .collect();
        self.send(
            Method::POST,
            &format!("/{repo}.git/info/lfs/objects/batch"),
            Some(token),
            &[("content-type", "application/vnd.git-lfs+json")],
            json!({"operation": "upload", "transfers": ["basic", "multipart"], "objects": objects,
                   "hash_algo": "sha256", "ref": {"name": "main"}})
            .to_string()
            .into_bytes(),
        )
        .await
    }

    /// Uploads `data` as the client does (batch, then PUT or parts + completion, then
    /// verify); returns the batch answer's object.
    pub(crate) async fn lfs_upload(&self, token: &str, repo: &str, data: &[u8]) -> Value {
        let r = self.lfs_batch(token, repo, &[data]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(
            r.header("content-type"),
            Some("application/vnd.git-lfs+json")
        );
        let obj = r.json()["objects"][0].clone();
        let Some(actions) = obj.get("actions") else {
            return obj;
        };
        let up = &actions["upload"];
        let href = path_of(up["href"].as_str().unwrap());
        if let Some(chunk) = up["header"].get("chunk_size") {
            let chunk: usize = chunk.as_str().unwrap().parse().unwrap();
            let mut parts = Vec::new();
            for (i, piece) in data.chunks(chunk).enumerate() {
                let url = path_of(up["header"][(i + 1).to_string()].as_str().unwrap());
                let r = self
                    .send(Method::PUT, &url, None, &[], piece.to_vec())
                    .await;
                assert_eq!(r.status, StatusCode::OK, "{}", r.text());
                parts.push(json!({"partNumber": i + 1, "etag": r.header("etag").unwrap()}));
            }
            let r = self
                .post_json(
                    &href,
                    None,
                    json!({"oid": sha256_hex(data), "parts": parts}),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        } else {
            let r = self
                .send(Method::PUT, &href, None, &[], data.to_vec())
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        }
        let verify = path_of(actions["verify"]["href"].as_str().unwrap());
        let r = self
            .post_json(
                &verify,
                Some(token),
                json!({"oid": sha256_hex(data), "size": data.len()}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        obj
    }

    pub(crate) async fn signing_events(&self) -> usize {
        self.state.meta.signing_events(10_000).await.unwrap().len()
    }

    pub(crate) async fn head(&self, repo: &str) -> Option<String> {
        let (o, n) = repo.split_once('/').unwrap();
        self.state
            .meta
            .repo(o, n)
            .await
            .unwrap()
            .and_then(|r| r.head)
    }
}

#[tokio::test]
async fn create_upload_commit_is_a_signed_revision() {
    let h = hub().await;
    let r = h
        .post_json(
            "/api/repos/create",
            Some(&h.alice),
            json!({"name": "demo", "organization": "acme"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["url"], format!("{URL}/acme/demo"));
    let again = h
        .post_json(
            "/api/repos/create",
            Some(&h.alice),
            json!({"name": "demo", "organization": "acme"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(
        again.json()["url"],
        format!("{URL}/acme/demo"),
        "exist_ok reads url"
    );

    let pre = h
        .post_json(
            "/api/models/acme/demo/preupload/main",
            Some(&h.alice),
            json!({"files": [
                {"path": "config.json", "sample": STANDARD.encode(b"{}"), "size": 2},
                {"path": "w.bin", "sample": STANDARD.encode([0u8, 1, 2]), "size": 3},
                {"path": ".gitattributes", "sample": "", "size": 10},
            ]}),
        )
        .await;
    assert_eq!(pre.status, StatusCode::OK, "{}", pre.text());
    let files = pre.json()["files"].clone();
    assert_eq!(files[0]["uploadMode"], "regular");
    assert_eq!(files[1]["uploadMode"], "lfs");
    assert_eq!(
        files[2]["shouldIgnore"], true,
        "the hub skips what model_signing skips"
    );

    // 17 MiB: two parts of the 16 MiB chunk.
    let big: Vec<u8> = (0..17 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let obj = h.lfs_upload(&h.alice, "acme/demo", &big).await;
    assert!(
        obj["actions"]["upload"]["header"]["chunk_size"].is_string(),
        "{obj}"
    );
    let small = b"\x00small weights".to_vec();
    h.lfs_upload(&h.alice, "acme/demo", &small).await;
    // Uploaded objects are "already present" for their uploader afterwards.
    let r = h.lfs_batch(&h.alice, "acme/demo", &[&small]).await;
    assert!(
        r.json()["objects"][0].get("actions").is_none(),
        "{}",
        r.text()
    );

    let events = h.signing_events().await;
    let r = h
        .hf_commit(
            &h.alice,
            "acme/demo",
            ndjson(&[
                header("first"),
                file_line("config.json", b"{}"),
                lfs_line("weights/big.bin", &big),
                lfs_line("w.bin", &small),
            ]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let out = r.json();
    let commit = out["commitOid"].as_str().unwrap().to_owned();
    assert_eq!(out["commitUrl"], format!("{URL}/acme/demo/commit/{commit}"));
    assert_eq!(out["hallmark"]["signature"]["status"], "verified", "{out}");
    assert_eq!(
        out["hallmark"]["signature"]["identity"],
        format!("{URL}/alice")
    );
    assert_eq!(h.signing_events().await, events + 1, "one log entry");
    assert_eq!(h.head("acme/demo").await.as_deref(), Some(commit.as_str()));
    let got = h.get("/acme/demo/resolve/main/weights/big.bin", None).await;
    assert_eq!(got.status, StatusCode::OK);
    assert!(
        got.body == big,
        "the assembled multipart object is served whole"
    );

    // A second commit changes one file and deletes one; the rest carries over.
    let r = h
        .hf_commit(
            &h.alice,
            "acme/demo",
            ndjson(&[
                json!({"key": "header", "value": {"summary": "second", "description": "", "parentCommit": commit}}),
                file_line("config.json", b"{\"a\": 1}"),
                json!({"key": "deletedFile", "value": {"path": "w.bin"}}),
            ]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let info = h.get("/api/models/acme/demo", None).await.json();
    let names: Vec<&str> = info["siblings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["rfilename"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["config.json", "model.sig", "weights/big.bin"]);
    assert_eq!(info["hallmark"]["signature"]["status"], "verified");
    assert_eq!(h.signing_events().await, events + 2);
}

#[tokio::test]
async fn repos_are_created_and_deleted_with_the_right_roles() {
    let h = hub().await;
    // bob reads acme only: no repo there for him; carol's own namespace is hers.
    let r = h
        .post_json(
            "/api/repos/create",
            Some(&h.bob),
            json!({"name": "x", "organization": "acme"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let r = h
        .post_json("/api/repos/create", None, json!({"name": "x"}))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = h
        .post_json(
            "/api/repos/create",
            Some(&h.carol),
            json!({"name": "mine", "visibility": "private"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        h.get("/api/models/carol/mine", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = h
        .post_json(
            "/api/repos/create",
            Some(&h.carol),
            json!({"name": "ds", "type": "dataset"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = h
        .post_json("/api/repos/create", Some(&h.carol), json!({"name": "../x"}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let del = |tok: String, body: Value| {
        let h = &h;
        async move {
            h.send(
                Method::DELETE,
                "/api/repos/delete",
                Some(&tok),
                &[("content-type", "application/json")],
                body.to_string().into_bytes(),
            )
            .await
        }
    };
    // alice may not even see carol's private repo; an admin-less stranger gets 404.
    let r = del(
        h.alice.clone(),
        json!({"name": "mine", "organization": "carol"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.header("x-error-code"), Some("RepoNotFound"));
    let r = del(
        h.alice_read.clone(),
        json!({"name": "demo", "organization": "acme"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "no such repo yet");
    assert_eq!(
        h.push(&h.alice, "acme/demo", &[("a.bin", b"a")], false)
            .await
            .status,
        StatusCode::CREATED
    );
    let r = del(
        h.bob.clone(),
        json!({"name": "demo", "organization": "acme"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "a reader may not delete");
    let r = del(
        h.alice_read.clone(),
        json!({"name": "demo", "organization": "acme"}),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "a read token may not delete"
    );
    let r = del(h.carol.clone(), json!({"name": "mine"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = del(
        h.alice.clone(),
        json!({"name": "demo", "organization": "acme"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        h.get("/api/models/acme/demo", Some(&h.alice)).await.status,
        StatusCode::NOT_FOUND
    );
    let events = h.state.meta.admin_events(10).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.action == "repo.delete" && e.actor == "alice" && e.target == "acme/demo")
    );
    let r = h
        .post_json(
            "/api/repos/move",
            Some(&h.alice),
            json!({"fromRepo": "a/b", "toRepo": "a/c"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_IMPLEMENTED);
}

#[tokio::test]
async fn validate_yaml_reports_errors_the_client_shows() {
    let h = hub().await;
    let ok = h
        .post_json(
            "/api/validate-yaml",
            Some(&h.alice),
            json!({"content": "---\nlicense: mit\ntags: [a]\n---\n# x", "repoType": "model"}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    assert_eq!(ok.json()["warnings"], json!([]));
    let none = h
        .post_json("/api/validate-yaml", None, json!({"content": "# x"}))
        .await;
    assert_eq!(none.status, StatusCode::OK);
    assert_eq!(none.json()["warnings"].as_array().unwrap().len(), 1);
    for bad in ["---\nlicense: [mit\n---\n", "---\n- a\n- b\n---\n"] {
        let r = h
            .post_json("/api/validate-yaml", None, json!({"content": bad}))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(r.json()["errors"][0]["message"].is_string());
    }
}

#[tokio::test]
async fn validate_yaml_stops_an_alias_bomb_with_the_card_parsers_budget() {
    let mut y = String::from(
        "---\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for w in names.windows(2) {
        let refs = vec![format!("*{}", w[0]); 9].join(",");
        y.push_str(&format!("{}: &{} [{refs}]\n", w[1], w[1]));
    }
    y.push_str("---\n# boom\n");
    let h = hub().await;
    let r = h
        .post_json("/api/validate-yaml", None, json!({"content": y}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    let message = r.json()["errors"][0]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("not valid YAML"), "{message}");
}
