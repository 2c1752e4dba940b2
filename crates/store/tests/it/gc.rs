//! Commit claims (one push per repo signed at a time) and blob garbage collection.

use std::time::{Duration, SystemTime};

use hallmark_store::{
    BlobStore, DEFAULT_GRACE, FileEntry, MetaStore, NewRevision, SqliteStore, StoreError,
    collect_unreferenced_blobs,
};

use crate::backends::{Db, on_every_backend};

on_every_backend!(commit_claims);

async fn commit_claims(db: &Db) {
    let s = db.open().await;
    let alice = s.create_user("alice", None, None, false).await.unwrap();
    let repo = s.create_repo(alice.id, "m", false).await.unwrap();
    for id in ["u1", "u2", "u3"] {
        s.create_upload(id, repo.id, alice.id).await.unwrap();
    }
    s.claim_commit(repo.id, "u1", None, 100, 400).await.unwrap();
    // Claiming again (a retried commit) is fine; another upload is refused while it lasts.
    s.claim_commit(repo.id, "u1", None, 101, 401).await.unwrap();
    let held = s.claim_commit(repo.id, "u2", None, 102, 402).await;
    assert!(
        matches!(&held, Err(StoreError::Conflict(m)) if m.contains("being signed")),
        "{held:?}"
    );
    // A stale parent is refused before the claim is looked at.
    let stale = s.claim_commit(repo.id, "u2", Some("x"), 102, 402).await;
    assert!(
        matches!(&stale, Err(StoreError::Conflict(m)) if m.contains("main moved")),
        "{stale:?}"
    );
    // Released: the next upload gets it.
    s.release_commit(repo.id, "u1").await.unwrap();
    s.claim_commit(repo.id, "u2", None, 103, 403).await.unwrap();
    // Expired: taken over.
    s.claim_commit(repo.id, "u3", None, 404, 704).await.unwrap();
    // Committing u3 ends its claim (with the upload).
    let f = FileEntry {
        path: "a".into(),
        sha256: "a".repeat(64),
        size: 1,
    };
    s.add_upload_file("u3", &f).await.unwrap();
    s.commit_revision(
        &NewRevision {
            repo_id: repo.id,
            commit: "1".repeat(40),
            parent: None,
            uploader_id: alice.id,
            summary: String::new(),
            files: vec![f],
            signature: crate::unsigned(),
            identity_changed_from: None,
            upload_id: Some("u3".into()),
            scan: None,
            claims: Vec::new(),
        },
        405,
    )
    .await
    .unwrap();
    let moved = s.claim_commit(repo.id, "u1", None, 406, 706).await;
    assert!(matches!(moved, Err(StoreError::Conflict(_))), "{moved:?}");
    s.claim_commit(repo.id, "u1", Some(&"1".repeat(40)), 406, 706)
        .await
        .unwrap();
    // An aborted upload takes its claim with it.
    s.delete_upload("u1").await.unwrap();
    s.claim_commit(repo.id, "u2", Some(&"1".repeat(40)), 407, 707)
        .await
        .unwrap();
    // References: the revision's digest and the open upload's.
    s.add_upload_file(
        "u2",
        &FileEntry {
            path: "b".into(),
            sha256: "b".repeat(64),
            size: 1,
        },
    )
    .await
    .unwrap();
    let asked = ["a", "b", "c"].map(|c| c.repeat(64)).to_vec();
    let mut got: Vec<String> = s
        .referenced_blobs(&asked)
        .await
        .unwrap()
        .into_iter()
        .collect();
    got.sort();
    assert_eq!(got, ["a".repeat(64), "b".repeat(64)]);
    assert!(s.referenced_blobs(&[]).await.unwrap().is_empty());
}

fn age(dir: &std::path::Path, digest: &str, by: Duration) {
    let p = dir.join(format!("blobs/sha256/{}/{digest}", &digest[..2]));
    let f = std::fs::File::options().write(true).open(p).unwrap();
    f.set_modified(SystemTime::now() - by).unwrap();
}

#[tokio::test]
async fn gc_collects_old_unreferenced_blobs_only() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = BlobStore::local(dir.path(), false).unwrap();
    let meta = SqliteStore::open(&dir.path().join("hub.db")).await.unwrap();
    let alice = meta.create_user("alice", None, None, false).await.unwrap();
    let repo = meta.create_repo(alice.id, "m", false).await.unwrap();
    meta.create_upload("up", repo.id, alice.id).await.unwrap();
    let put = |b: &'static [u8]| {
        let blobs = blobs.clone();
        async move { blobs.put_bytes(b.into()).await.unwrap() }
    };
    let orphan = put(b"orphan").await;
    let in_upload = put(b"in an open upload").await;
    let fresh = put(b"just written, not yet recorded").await;
    let reused = put(b"orphan, then uploaded again").await;
    meta.add_upload_file(
        "up",
        &FileEntry {
            path: "x".into(),
            sha256: in_upload.sha256.clone(),
            size: in_upload.size,
        },
    )
    .await
    .unwrap();
    let old = DEFAULT_GRACE + Duration::from_secs(3600);
    for b in [&orphan, &in_upload, &reused] {
        age(dir.path(), &b.sha256, old);
    }
    // An upload of content already stored (but old) makes it fresh again.
    assert!(put(b"orphan, then uploaded again").await.deduplicated);
    let report = collect_unreferenced_blobs(&meta, &blobs, DEFAULT_GRACE)
        .await
        .unwrap();
    assert_eq!((report.examined, report.deleted), (2, 1), "{report:?}");
    assert_eq!(report.bytes_freed, 6);
    assert_eq!(blobs.size(&orphan.sha256).await.unwrap(), None);
    for kept in [&in_upload, &fresh, &reused] {
        assert!(blobs.size(&kept.sha256).await.unwrap().is_some());
    }
    let short = collect_unreferenced_blobs(&meta, &blobs, Duration::from_secs(60)).await;
    assert!(matches!(short, Err(StoreError::Config(_))), "{short:?}");
}
