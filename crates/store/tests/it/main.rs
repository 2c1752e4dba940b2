//! Behavioural tests for `MetaStore`, one suite run on every database (see `backends`),
//! and for `BlobStore` on a local directory.

#![allow(clippy::unwrap_used, missing_docs)]

use std::time::Duration;

mod backends;
mod claims;
mod gc;
mod log_backends;
mod pg;
mod pg_log;
mod queries;
mod s3;
mod watch;

use hallmark_store::{
    BlobStore, FileEntry, MetaStore, NewRevision, PART_SIZE, RepoQuery, Role, ScanFinding,
    ScanResult, ScanVerdict, SigStatus, SignatureState, SqliteStore, StoreError, TokenScope,
};

use crate::backends::{Db, on_every_backend};

on_every_backend!(
    meta_conformance,
    names_are_case_insensitive,
    operator_actions
);

fn unsigned() -> SignatureState {
    SignatureState {
        status: SigStatus::Unsigned,
        method: None,
        identity: None,
        issuer: None,
        log_index: None,
        detail: None,
        checked_at: None,
    }
}

fn file(path: &str, sha: char, size: u64) -> FileEntry {
    FileEntry {
        path: path.into(),
        sha256: sha.to_string().repeat(64),
        size,
    }
}

/// The conformance suite every backend must pass.
async fn conformance(s: &dyn MetaStore) {
    let alice = s
        .create_user("alice", Some("a@x"), Some("h"), false)
        .await
        .unwrap();
    let bob = s.create_user("bob", None, None, false).await.unwrap();
    assert!(matches!(
        s.create_user("ALICE", None, None, false).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(s.count_users().await.unwrap(), 2);
    assert_eq!(
        s.password_hash(alice.id).await.unwrap().as_deref(),
        Some("h")
    );
    let org = s.create_org("acme", alice.id).await.unwrap();
    assert!(matches!(
        s.create_org("bob", alice.id).await,
        Err(StoreError::Conflict(_))
    ));
    s.set_membership(org.id, bob.id, Role::Reader)
        .await
        .unwrap();
    s.set_membership(org.id, bob.id, Role::Maintainer)
        .await
        .unwrap();
    let members = s.members_of(org.id).await.unwrap();
    assert_eq!(members.len(), 2);
    assert_eq!(
        s.memberships_of(bob.id).await.unwrap()[0].1,
        Role::Maintainer
    );
    assert!(s.remove_membership(org.id, bob.id).await.unwrap());
    assert!(!s.remove_membership(org.id, bob.id).await.unwrap());

    // tokens
    let t = s
        .create_token(alice.id, "ci", TokenScope::Write, "hash1", None)
        .await
        .unwrap();
    let (found, user) = s.token_by_hash("hash1").await.unwrap().unwrap();
    assert_eq!((found.id, user.id), (t.id, alice.id));
    assert!(
        !s.revoke_token(bob.id, t.id).await.unwrap(),
        "only the owner revokes"
    );
    assert!(s.revoke_token(alice.id, t.id).await.unwrap());
    assert!(s.token_by_hash("hash1").await.unwrap().is_none());

    // sessions
    s.create_session("sess", alice.id, "csrf", 100)
        .await
        .unwrap();
    assert_eq!(
        s.session("sess", 50).await.unwrap().unwrap().0.csrf_token,
        "csrf"
    );
    assert!(s.session("sess", 100).await.unwrap().is_none(), "expired");
    s.delete_session("sess").await.unwrap();

    // repos, uploads, revisions
    let repo = s.create_repo(org.id, "model", true).await.unwrap();
    assert!(matches!(
        s.create_repo(org.id, "Model", false).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(s.repo("ACME", "model").await.unwrap().unwrap().id, repo.id);
    let public = RepoQuery {
        limit: 10,
        ..RepoQuery::default()
    };
    assert!(
        s.list_repos(&public).await.unwrap().is_empty(),
        "private hidden"
    );
    let as_alice = RepoQuery {
        viewer: Some(alice.id),
        limit: 10,
        ..RepoQuery::default()
    };
    assert_eq!(s.list_repos(&as_alice).await.unwrap().len(), 1);
    let search = RepoQuery {
        search: Some("ME/MOD".into()),
        ..as_alice.clone()
    };
    assert_eq!(s.list_repos(&search).await.unwrap().len(), 1);

    s.create_upload("up1", repo.id, alice.id).await.unwrap();
    s.add_upload_file("up1", &file("a.bin", 'a', 1))
        .await
        .unwrap();
    s.add_upload_file("up1", &file("a.bin", 'b', 2))
        .await
        .unwrap();
    s.add_upload_file("up1", &file("c/d.bin", 'c', 3))
        .await
        .unwrap();
    assert!(matches!(
        s.add_upload_file("nope", &file("x", 'a', 1)).await,
        Err(StoreError::NotFound(_))
    ));
    let files = s.upload_files("up1").await.unwrap();
    assert_eq!(files, vec![file("a.bin", 'b', 2), file("c/d.bin", 'c', 3)]);
    let mut rev = NewRevision {
        repo_id: repo.id,
        commit: "1".repeat(40),
        parent: None,
        uploader_id: alice.id,
        summary: "first".into(),
        files,
        signature: unsigned(),
        identity_changed_from: None,
        upload_id: Some("up1".into()),
        scan: None,
        claims: Vec::new(),
    };
    let r1 = s.commit_revision(&rev, 10).await.unwrap();
    assert_eq!(
        (r1.file_count, r1.total_size, r1.uploader.as_str()),
        (2, 5, "alice")
    );
    assert!(
        s.upload("up1").await.unwrap().is_none(),
        "upload closed with the commit"
    );
    assert_eq!(
        s.resolve_ref(repo.id, "main").await.unwrap(),
        Some("1".repeat(40))
    );
    // a stale parent is refused
    rev.commit = "2".repeat(40);
    rev.upload_id = None;
    assert!(matches!(
        s.commit_revision(&rev, 11).await,
        Err(StoreError::Conflict(_))
    ));
    rev.parent = Some("1".repeat(40));
    let finding = |path: &str, rule: &str| ScanFinding {
        path: path.into(),
        rule: rule.into(),
        severity: "dangerous".into(),
        message: format!("{path}: os.system"),
    };
    rev.scan = Some(ScanResult {
        verdict: ScanVerdict::Dangerous,
        policy_version: "p1".into(),
        findings: vec![
            finding("c/d.bin", "HM-PKL-001"),
            finding("a.bin", "HM-PKL-006"),
        ],
    });
    let r2 = s.commit_revision(&rev, 11).await.unwrap();
    assert_eq!(
        (r2.scan_verdict, r2.scan_policy.as_deref()),
        (Some(ScanVerdict::Dangerous), Some("p1"))
    );
    assert_eq!(r1.scan_verdict, None, "not scanned: no verdict");
    assert_eq!(
        s.scan_findings(repo.id, &"2".repeat(40)).await.unwrap(),
        rev.scan.as_ref().unwrap().findings,
        "findings kept in order"
    );
    assert!(
        s.scan_findings(repo.id, &"1".repeat(40))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.scan_refusal(org.id).await.unwrap(), None);
    s.set_scan_refusal(org.id, Some(ScanVerdict::Suspicious))
        .await
        .unwrap();
    assert_eq!(
        s.scan_refusal(org.id).await.unwrap(),
        Some(ScanVerdict::Suspicious)
    );
    s.set_scan_refusal(org.id, Some(ScanVerdict::Clean))
        .await
        .unwrap();
    assert_eq!(
        s.scan_refusal(org.id).await.unwrap(),
        None,
        "clean is never refused"
    );
    assert_eq!(s.revisions(repo.id, 10).await.unwrap().len(), 2);
    assert_eq!(
        s.revision_files(repo.id, &"2".repeat(40))
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(
        s.revision_file(repo.id, &"2".repeat(40), "c/d.bin")
            .await
            .unwrap()
            .is_some()
    );
    let mut v = unsigned();
    v.status = SigStatus::Failed;
    v.detail = Some("bad".into());
    s.set_signature_state(repo.id, &"2".repeat(40), &v)
        .await
        .unwrap();
    let got = s.revision(repo.id, &"2".repeat(40)).await.unwrap().unwrap();
    assert_eq!(got.signature, v);
    assert_eq!(s.signing_events(10).await.unwrap().len(), 2);
    assert_eq!(
        s.repo("acme", "model").await.unwrap().unwrap().head,
        Some("2".repeat(40))
    );

    s.create_upload("old", repo.id, alice.id).await.unwrap();
    assert_eq!(s.sweep_uploads(i64::MAX).await.unwrap(), 1);
}

async fn meta_conformance(db: &Db) {
    conformance(&*db.open().await).await;
    // a second process or replica sees the same data (migrations are idempotent)
    assert_eq!(db.open().await.count_users().await.unwrap(), 2);
}

#[tokio::test]
async fn sqlite_in_memory_conformance() {
    conformance(&SqliteStore::in_memory().await.unwrap()).await;
}

/// Names are unique, found and sorted without regard to case, on every database.
async fn names_are_case_insensitive(db: &Db) {
    let s = db.open().await;
    let bob = s.create_user("bob", None, None, false).await.unwrap();
    let alice = s.create_user("Alice", None, None, false).await.unwrap();
    let carol = s.create_user("carol", None, None, false).await.unwrap();
    assert!(matches!(
        s.create_user("BOB", None, None, false).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(s.account("aLiCe").await.unwrap().unwrap().id, alice.id);
    let org = s.create_org("Zeta", bob.id).await.unwrap();
    for u in [&carol, &alice] {
        s.set_membership(org.id, u.id, Role::Reader).await.unwrap();
    }
    let members: Vec<String> = s
        .members_of(org.id)
        .await
        .unwrap()
        .into_iter()
        .map(|(a, _)| a.name)
        .collect();
    assert_eq!(members, ["Alice", "bob", "carol"]);
    s.create_repo(org.id, "Model", false).await.unwrap();
    s.create_repo(alice.id, "model", false).await.unwrap();
    assert!(matches!(
        s.create_repo(org.id, "MODEL", false).await,
        Err(StoreError::Conflict(_))
    ));
    let of_zeta = RepoQuery {
        owner: Some("zETA".into()),
        limit: 10,
        ..RepoQuery::default()
    };
    let found = s.list_repos(&of_zeta).await.unwrap();
    assert_eq!(
        found.iter().map(|r| r.full_name()).collect::<Vec<_>>(),
        ["Zeta/Model"]
    );
    // a search matches a substring of owner/name, not a pattern
    let search = |q: &str| RepoQuery {
        search: Some(q.into()),
        limit: 10,
        ..RepoQuery::default()
    };
    assert_eq!(s.list_repos(&search("/MOD")).await.unwrap().len(), 2);
    assert!(s.list_repos(&search("%")).await.unwrap().is_empty());
}

#[tokio::test]
async fn blobs_are_content_addressed_and_deduplicated() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = BlobStore::local(dir.path(), false).unwrap();
    // small blob: written straight to its key
    let a = blobs.put_bytes("hello".into()).await.unwrap();
    assert_eq!(
        a.sha256,
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    );
    assert!(!a.deduplicated);
    assert!(blobs.put_bytes("hello".into()).await.unwrap().deduplicated);
    assert_eq!(blobs.size(&a.sha256).await.unwrap(), Some(5));
    // large blob: multipart to staging, then renamed
    let big: Vec<u8> = (0..PART_SIZE * 2 + 123).map(|i| (i % 251) as u8).collect();
    let mut w = blobs.writer(u64::MAX).unwrap();
    for chunk in big.chunks(65536) {
        w.write(chunk).await.unwrap();
    }
    let b = w.finish(None).await.unwrap();
    assert_eq!(b.size, big.len() as u64);
    assert_eq!(blobs.rehash(&b.sha256).await.unwrap(), b.sha256);
    let range = blobs.read_all(&b.sha256).await.unwrap();
    assert_eq!(range.as_ref(), big.as_slice());
    assert_eq!(
        std::fs::read_dir(dir.path().join("staging"))
            .map(|d| d.count())
            .unwrap_or(0),
        0
    );
    // a wrong announced digest stores nothing
    let mut w = blobs.writer(u64::MAX).unwrap();
    w.write(&big).await.unwrap();
    assert!(matches!(
        w.finish(Some(&"0".repeat(64))).await,
        Err(StoreError::DigestMismatch { .. })
    ));
    // the size limit
    let mut w = blobs.writer(3).unwrap();
    assert!(matches!(
        w.write(b"abcd").await,
        Err(StoreError::TooLarge { .. })
    ));
    assert_eq!(blobs.sweep_staging(Duration::ZERO).await.unwrap(), 0);
}

/// What an operator does: disable (ending sessions, refusing login), admin flag, token
/// expiry, ending sessions, deleting a repo with its revisions, the record of actions and
/// hub-wide settings.
async fn operator_actions(db: &Db) {
    let s = db.open().await;
    let alice = s
        .create_user("alice", None, Some("h"), false)
        .await
        .unwrap();
    let bob = s.create_user("bob", None, None, false).await.unwrap();
    let org = s.create_org("acme", alice.id).await.unwrap();
    let names: Vec<String> = s
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(names, ["alice", "bob"], "users only, by name");

    s.create_session("s1", alice.id, "c", i64::MAX)
        .await
        .unwrap();
    s.create_session("s2", alice.id, "c", i64::MAX)
        .await
        .unwrap();
    s.create_token(alice.id, "t", TokenScope::Write, "th", Some(123))
        .await
        .unwrap();
    s.set_disabled(alice.id, true).await.unwrap();
    let a = s.account("alice").await.unwrap().unwrap();
    let first = a.disabled_at.expect("disabled");
    assert!(s.session("s1", 0).await.unwrap().is_none());
    assert!(
        s.password_hash(alice.id).await.unwrap().is_none(),
        "no login"
    );
    // the token is still found (the hub refuses it, saying why) and carries its expiry
    let (t, u) = s.token_by_hash("th").await.unwrap().unwrap();
    assert_eq!((t.expires_at, u.disabled_at), (Some(123), Some(first)));
    assert!(t.expired_at(123) && !t.expired_at(122));
    s.set_disabled(alice.id, true).await.unwrap();
    assert_eq!(
        s.account_by_id(alice.id)
            .await
            .unwrap()
            .unwrap()
            .disabled_at,
        Some(first)
    );
    s.set_disabled(alice.id, false).await.unwrap();
    assert!(!s.account("alice").await.unwrap().unwrap().is_disabled());
    assert_eq!(
        s.password_hash(alice.id).await.unwrap().as_deref(),
        Some("h")
    );
    assert!(
        s.session("s1", 0).await.unwrap().is_none(),
        "sessions stay ended"
    );
    assert!(matches!(
        s.set_disabled(org.id, true).await,
        Err(StoreError::NotFound(_))
    ));

    s.set_admin(bob.id, true).await.unwrap();
    assert!(s.account("bob").await.unwrap().unwrap().is_admin);
    assert!(matches!(
        s.set_admin(org.id, true).await,
        Err(StoreError::NotFound(_))
    ));

    s.create_session("s3", bob.id, "c", i64::MAX).await.unwrap();
    s.create_session("s4", bob.id, "c", i64::MAX).await.unwrap();
    assert_eq!(s.delete_sessions_of(bob.id).await.unwrap(), 2);
    assert!(s.session("s3", 0).await.unwrap().is_none());

    // a repo with a revision and an open upload goes with everything it holds
    let repo = s.create_repo(org.id, "m", false).await.unwrap();
    let keep = s.create_repo(org.id, "keep", false).await.unwrap();
    for (r, sha) in [(&repo, 'a'), (&keep, 'c')] {
        s.commit_revision(
            &NewRevision {
                repo_id: r.id,
                commit: sha.to_string().repeat(40),
                parent: None,
                uploader_id: alice.id,
                summary: String::new(),
                files: vec![file("w.bin", sha, 1)],
                signature: unsigned(),
                identity_changed_from: None,
                upload_id: None,
                scan: None,
                claims: Vec::new(),
            },
            1,
        )
        .await
        .unwrap();
    }
    s.create_upload("up", repo.id, alice.id).await.unwrap();
    s.add_upload_file("up", &file("x.bin", 'b', 2))
        .await
        .unwrap();
    let mut digests = s.delete_repo(repo.id).await.unwrap().unwrap();
    digests.sort();
    assert_eq!(digests, ["a".repeat(64), "b".repeat(64)]);
    assert!(s.repo("acme", "m").await.unwrap().is_none());
    assert!(s.upload("up").await.unwrap().is_none());
    assert!(
        s.revision(repo.id, &"a".repeat(40))
            .await
            .unwrap()
            .is_none()
    );
    assert!(s.delete_repo(repo.id).await.unwrap().is_none());
    assert!(
        s.repo("acme", "keep")
            .await
            .unwrap()
            .unwrap()
            .head
            .is_some()
    );

    s.record_admin_event("cli:root", "user.disable", "alice", "")
        .await
        .unwrap();
    s.record_admin_event("bob", "repo.delete", "acme/m", "2 blobs")
        .await
        .unwrap();
    let ev = s.admin_events(10).await.unwrap();
    let seen: Vec<_> = ev
        .iter()
        .map(|e| (e.actor.as_str(), e.action.as_str(), e.target.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("bob", "repo.delete", "acme/m"),
            ("cli:root", "user.disable", "alice")
        ]
    );
    assert_eq!(s.admin_events(1).await.unwrap().len(), 1);

    assert_eq!(s.setting("token_lifetime_days").await.unwrap(), None);
    s.set_setting("token_lifetime_days", Some("30"))
        .await
        .unwrap();
    s.set_setting("token_lifetime_days", Some("7"))
        .await
        .unwrap();
    assert_eq!(
        s.setting("token_lifetime_days").await.unwrap().as_deref(),
        Some("7")
    );
    s.set_setting("token_lifetime_days", None).await.unwrap();
    assert_eq!(s.setting("token_lifetime_days").await.unwrap(), None);
}
