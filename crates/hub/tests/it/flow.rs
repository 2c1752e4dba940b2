//! The vertical slice: push → signed revision → HF-style reads → independent verify.

use axum::http::{Method, StatusCode};
use hallmark_signing::keyless::KeylessVerifier;
use hallmark_signing::{VerifyOptions, verify_model};
use hallmark_sigstore::{IdentityPolicy, TrustedRoot};

use crate::harness::{URL, hub};

const CONFIG: &[u8] = b"{\"hidden_size\": 64}\n";

fn weights() -> Vec<u8> {
    (0..300_000u32).map(|i| (i % 251) as u8).collect()
}

#[tokio::test]
async fn push_sign_download_verify() {
    let h = hub().await;
    let w = weights();
    let files: &[(&str, &[u8])] = &[
        ("config.json", CONFIG),
        ("weights/model.safetensors", &w),
        ("empty.bin", b""),
        ("sub/.gitattributes", b"*.bin filter=lfs\n"),
    ];
    let r = h.push(&h.alice, "acme/bert", files, false).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let c = r.json();
    let commit = c["commit"].as_str().unwrap().to_owned();
    assert_eq!(commit.len(), 40);
    assert_eq!(c["signature"]["status"], "verified", "{c}");
    assert_eq!(c["signature"]["identity"], format!("{URL}/alice"));
    assert_eq!(c["signature"]["issuer"], URL);

    // repo info, HF shape + hallmark.signature
    let info = h.get("/api/models/acme/bert", None).await;
    assert_eq!(info.status, StatusCode::OK);
    let info = info.json();
    assert_eq!(info["id"], "acme/bert");
    assert_eq!(info["sha"], commit);
    let names: Vec<&str> = info["siblings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["rfilename"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "config.json",
            "empty.bin",
            "model.sig",
            "sub/.gitattributes",
            "weights/model.safetensors"
        ]
    );
    assert_eq!(info["hallmark"]["signature"]["status"], "verified");
    assert!(
        info["hallmark"]["signature"]["verify_command"]
            .as_str()
            .unwrap()
            .contains("model_signing verify sigstore")
    );
    let by_rev = h
        .get(&format!("/api/models/acme/bert/revision/{commit}"), None)
        .await
        .json();
    assert_eq!(by_rev["sha"], commit);
    assert_eq!(
        h.get("/api/models/acme/bert/revision/main", None)
            .await
            .json()["sha"],
        commit
    );
    let missing = h.get("/api/models/acme/bert/revision/nope", None).await;
    assert_eq!(
        (missing.status, missing.header("x-error-code")),
        (StatusCode::NOT_FOUND, Some("RevisionNotFound"))
    );

    // tree
    let tree = h
        .get(
            &format!("/api/models/acme/bert/tree/{commit}?recursive=true"),
            None,
        )
        .await
        .json();
    assert!(
        tree.as_array()
            .unwrap()
            .iter()
            .any(|e| e["path"] == "weights/model.safetensors" && e["lfs"]["oid"].is_string())
    );
    let top = h.get("/api/models/acme/bert/tree/main", None).await.json();
    assert!(
        top.as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "directory" && e["path"] == "weights")
    );
    assert!(
        !top.as_array()
            .unwrap()
            .iter()
            .any(|e| e["path"] == "weights/model.safetensors")
    );

    // resolve: HEAD headers, GET, Range, 304, missing entry
    let head = h
        .send(
            Method::HEAD,
            "/acme/bert/resolve/main/weights/model.safetensors",
            None,
            &[],
            vec![],
        )
        .await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.header("x-repo-commit"), Some(commit.as_str()));
    let sha = hex::encode(hallmark_crypto::sha256(&w));
    assert_eq!(
        head.header("x-linked-etag"),
        Some(format!("\"{sha}\"").as_str())
    );
    assert_eq!(
        head.header("x-linked-size"),
        Some(w.len().to_string().as_str())
    );
    assert_eq!(
        head.header("content-length"),
        Some(w.len().to_string().as_str())
    );
    assert!(head.body.is_empty());
    let got = h
        .get("/acme/bert/resolve/main/weights/model.safetensors", None)
        .await;
    assert_eq!(got.body, w);
    let part = h
        .range(
            &format!("/acme/bert/resolve/{commit}/weights/model.safetensors"),
            "bytes=10-19",
        )
        .await;
    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.body, &w[10..20]);
    assert_eq!(
        part.header("content-range"),
        Some(format!("bytes 10-19/{}", w.len()).as_str())
    );
    let bad_range = h
        .range("/acme/bert/resolve/main/config.json", "bytes=999-")
        .await;
    assert_eq!(bad_range.status, StatusCode::RANGE_NOT_SATISFIABLE);
    let etag = format!("\"{sha}\"");
    let nm = h
        .send(
            Method::GET,
            "/acme/bert/resolve/main/weights/model.safetensors",
            None,
            &[("if-none-match", &etag)],
            vec![],
        )
        .await;
    assert_eq!(nm.status, StatusCode::NOT_MODIFIED);
    let none = h.get("/acme/bert/resolve/main/nope.bin", None).await;
    assert_eq!(
        (none.status, none.header("x-error-code")),
        (StatusCode::NOT_FOUND, Some("EntryNotFound"))
    );
    assert_eq!(
        h.get("/acme/bert/resolve/main/empty.bin", None)
            .await
            .body
            .len(),
        0
    );

    // download everything and verify with the library (what `model_signing verify key` does)
    let out = tempfile::tempdir().unwrap();
    for name in &names {
        let r = h
            .get(&format!("/acme/bert/resolve/{commit}/{name}"), None)
            .await;
        let p = out.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, r.body).unwrap();
    }
    // Independent verification: keyless, with nothing but the hub's trust config, the
    // uploader's identity and the hub's issuer.
    let tc = h.get("/trust-config.json", None).await.body;
    let verifier = KeylessVerifier {
        trust: TrustedRoot::from_client_trust_config_json(&tc).unwrap(),
        policy: IdentityPolicy {
            identity: Some(format!("{URL}/alice")),
            identity_regex: None,
            issuer: URL.into(),
        },
    };
    let log_index = info["hallmark"]["signature"]["log_index"].as_u64();
    assert!(log_index.is_some(), "the signing event is logged: {info}");
    let sig = std::fs::read(out.path().join("model.sig")).unwrap();
    let opts = VerifyOptions {
        signature_path: Some(out.path().join("model.sig")),
        ..VerifyOptions::default()
    };
    verify_model(out.path(), &sig, &verifier, &opts).unwrap();
    // flip one byte: refused
    let target = out.path().join("weights/model.safetensors");
    let mut bytes = std::fs::read(&target).unwrap();
    bytes[1234] ^= 1;
    std::fs::write(&target, bytes).unwrap();
    assert!(verify_model(out.path(), &sig, &verifier, &opts).is_err());
}

#[tokio::test]
async fn revisions_are_immutable_and_signer_changes_are_flagged() {
    let h = hub().await;
    let first = h
        .push(&h.alice, "acme/m", &[("a.bin", b"one")], false)
        .await
        .json();
    let c1 = first["commit"].as_str().unwrap().to_owned();
    // identical content again: no new revision
    let same = h
        .push(&h.alice, "acme/m", &[("a.bin", b"one")], false)
        .await;
    assert_eq!(same.status, StatusCode::OK);
    assert_eq!(same.json()["unchanged"], true);
    // bob becomes maintainer and pushes: identity change is flagged
    hallmark_hub::admin::Operator::new(&*h.state.meta, "test")
        .set_member("acme", "bob", Some(hallmark_store::Role::Maintainer))
        .await
        .unwrap();
    let second = h.push(&h.bob, "acme/m", &[("a.bin", b"two")], false).await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.text());
    let second = second.json();
    let c2 = second["commit"].as_str().unwrap().to_owned();
    assert_ne!(c1, c2);
    assert_eq!(
        second["signature"]["identity_changed_from"],
        format!("{URL}/alice")
    );
    let info = h.get("/api/models/acme/m", None).await.json();
    assert_eq!(info["sha"], c2);
    assert!(
        info["hallmark"]["warnings"][0]
            .as_str()
            .unwrap()
            .contains("signer identity changed")
    );
    // the old revision still resolves to its own bytes
    assert_eq!(
        h.get(&format!("/acme/m/resolve/{c1}/a.bin"), None)
            .await
            .body,
        b"one"
    );
    assert_eq!(h.get("/acme/m/resolve/main/a.bin", None).await.body, b"two");
    let audit = h.get("/api/audit", None).await.json();
    assert_eq!(audit.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn recheck_detects_tampered_storage() {
    let h = hub().await;
    let r = h
        .push(&h.alice, "alice/m", &[("a.bin", b"payload")], false)
        .await
        .json();
    let commit = r["commit"].as_str().unwrap();
    let ok = h
        .send(
            Method::POST,
            &format!("/api/models/alice/m/verify/{commit}?rehash=true"),
            Some(&h.carol),
            &[],
            vec![],
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    assert_eq!(ok.json()["signature"]["status"], "verified");
    // anonymous callers and read tokens cannot trigger re-checks
    let anon = h
        .send(
            Method::POST,
            &format!("/api/models/alice/m/verify/{commit}"),
            None,
            &[],
            vec![],
        )
        .await;
    assert_eq!(anon.status, StatusCode::UNAUTHORIZED);
    // tamper with the stored blob
    let sha = hex::encode(hallmark_crypto::sha256(b"payload"));
    let path = h
        .dir
        .path()
        .join(format!("blobs/blobs/sha256/{}/{sha}", &sha[..2]));
    std::fs::write(&path, b"PAYLOAD").unwrap();
    let bad = h
        .send(
            Method::POST,
            &format!("/api/models/alice/m/verify/{commit}?rehash=true"),
            Some(&h.carol),
            &[],
            vec![],
        )
        .await
        .json();
    assert_eq!(bad["signature"]["status"], "failed");
    assert!(
        bad["signature"]["detail"]
            .as_str()
            .unwrap()
            .contains("altered")
    );
    assert_eq!(
        h.get("/api/models/alice/m", None).await.json()["hallmark"]["signature"]["status"],
        "failed"
    );
}
