//! Revision claims and the signers an org trusts (issue 16 §3), one suite on every
//! database: claims recorded with a revision and after it, read back exactly (every kind
//! and status, absent issuer and log entry), refused for a revision that does not exist,
//! scoped to their repo, keeping their bundle blobs from the collector and going with
//! their repo; trust entries listed oldest first, unique per kind and label, removable
//! only by their own account.

use hallmark_store::{
    ClaimKind, ClaimStatus, FileEntry, MetaStore, NewClaim, NewRevision, StoreError, TrustKind,
};

use crate::backends::{Db, on_every_backend};

on_every_backend!(claims_and_trust);

fn claim(kind: ClaimKind, status: ClaimStatus, bundle: char) -> NewClaim {
    NewClaim {
        kind,
        predicate_type: format!("https://example.com/{kind}/v1"),
        signer: format!("{kind} signer"),
        issuer: None,
        status,
        log_index: None,
        integrated_time: None,
        bundle_sha256: bundle.to_string().repeat(64),
        asserts: format!("what the {kind} says"),
    }
}

async fn commit(s: &dyn MetaStore, repo_id: i64, user: i64, c: char, claims: Vec<NewClaim>) {
    s.commit_revision(
        &NewRevision {
            repo_id,
            commit: c.to_string().repeat(40),
            parent: None,
            uploader_id: user,
            summary: String::new(),
            files: vec![FileEntry {
                path: "w.bin".into(),
                sha256: c.to_string().repeat(64),
                size: 1,
            }],
            signature: crate::unsigned(),
            identity_changed_from: None,
            upload_id: None,
            scan: None,
            claims,
        },
        1,
    )
    .await
    .unwrap();
}

async fn claims_and_trust(db: &Db) {
    let s = db.open().await;
    let alice = s.create_user("alice", None, None, false).await.unwrap();
    let org = s.create_org("acme", alice.id).await.unwrap();
    let other = s.create_org("other", alice.id).await.unwrap();
    let repo = s.create_repo(org.id, "m", false).await.unwrap();
    let elsewhere = s.create_repo(other.id, "m", false).await.unwrap();

    // Recorded with the revision (one transaction), then one more after it.
    let hub = NewClaim {
        issuer: Some("https://hub.example".into()),
        log_index: Some(0),
        integrated_time: Some(1_700_000_000),
        ..claim(ClaimKind::HubSignature, ClaimStatus::Verified, 'b')
    };
    let publisher = NewClaim {
        issuer: Some("https://ci.example".into()),
        log_index: Some(i64::from(u32::MAX) + 7),
        ..claim(ClaimKind::PublisherSignature, ClaimStatus::Untrusted, 'c')
    };
    commit(
        &*s,
        repo.id,
        alice.id,
        '1',
        vec![hub.clone(), publisher.clone()],
    )
    .await;
    let rev = "1".repeat(40);
    let later = [
        claim(ClaimKind::Scan, ClaimStatus::Verified, 'd'),
        claim(ClaimKind::Bom, ClaimStatus::Failed, 'e'),
        claim(ClaimKind::Provenance, ClaimStatus::Untrusted, 'f'),
    ];
    for c in &later {
        s.add_claim(repo.id, &rev, c).await.unwrap();
    }
    let got = s.claims(repo.id, &rev).await.unwrap();
    let recorded: Vec<NewClaim> = got.iter().map(|c| c.claim.clone()).collect();
    let mut want = vec![hub, publisher];
    want.extend(later);
    assert_eq!(recorded, want, "every field back as recorded, oldest first");
    assert!(got.iter().all(|c| c.commit == rev && c.created_at > 0));
    assert!(got.windows(2).all(|w| w[0].id < w[1].id));

    // By id, only within its repo.
    let first = &got[0];
    assert_eq!(
        s.claim(repo.id, first.id).await.unwrap().as_ref(),
        Some(first)
    );
    assert_eq!(s.claim(elsewhere.id, first.id).await.unwrap(), None);
    assert_eq!(s.claim(repo.id, i64::MAX).await.unwrap(), None);

    // A claim for a revision the repo does not have is refused (the foreign key), and
    // another revision's list stays empty.
    let orphan = claim(ClaimKind::Bom, ClaimStatus::Verified, 'a');
    assert!(
        s.add_claim(repo.id, &"9".repeat(40), &orphan)
            .await
            .is_err()
    );
    assert!(s.add_claim(elsewhere.id, &rev, &orphan).await.is_err());
    assert!(s.claims(elsewhere.id, &rev).await.unwrap().is_empty());
    assert!(s.claims(repo.id, &"9".repeat(40)).await.unwrap().is_empty());

    // Bundle blobs are referenced while their claim exists, and a deleted repo returns
    // them to the collector with its files' digests, taking its claims with it.
    let bundles: Vec<String> = "bcdef".chars().map(|c| c.to_string().repeat(64)).collect();
    let mut asked = bundles.clone();
    asked.push("0".repeat(64));
    let referenced = s.referenced_blobs(&asked).await.unwrap();
    assert_eq!(referenced.len(), 5, "{referenced:?}");
    assert!(bundles.iter().all(|b| referenced.contains(b)));
    commit(&*s, elsewhere.id, alice.id, '2', Vec::new()).await;
    let mut digests = s.delete_repo(repo.id).await.unwrap().unwrap();
    digests.sort();
    let mut expected = bundles.clone();
    expected.push("1".repeat(64));
    expected.sort();
    assert_eq!(digests, expected);
    assert!(s.claims(repo.id, &rev).await.unwrap().is_empty());
    assert_eq!(s.claim(repo.id, first.id).await.unwrap(), None);
    assert!(s.referenced_blobs(&bundles).await.unwrap().is_empty());

    // Trust entries.
    assert!(s.trust_entries(org.id).await.unwrap().is_empty());
    let key_pem = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
    s.add_trust_entry(org.id, TrustKind::PublicKey, key_pem, None, "sha256:k1")
        .await
        .unwrap();
    s.add_trust_entry(
        org.id,
        TrustKind::Identity,
        "https://ci.example/builder",
        Some("https://ci.example"),
        "https://ci.example/builder",
    )
    .await
    .unwrap();
    // The same label under another kind, or in another org, is another entry.
    s.add_trust_entry(
        org.id,
        TrustKind::CertificateChain,
        "PEM",
        None,
        "sha256:k1",
    )
    .await
    .unwrap();
    s.add_trust_entry(other.id, TrustKind::PublicKey, key_pem, None, "sha256:k1")
        .await
        .unwrap();
    let dup = s
        .add_trust_entry(org.id, TrustKind::PublicKey, "other PEM", None, "sha256:k1")
        .await;
    assert!(
        matches!(&dup, Err(StoreError::Conflict(m)) if m.contains("sha256:k1")),
        "{dup:?}"
    );
    let list = s.trust_entries(org.id).await.unwrap();
    let seen: Vec<_> = list
        .iter()
        .map(|t| {
            (
                t.kind,
                t.value.as_str(),
                t.issuer.as_deref(),
                t.label.as_str(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (TrustKind::PublicKey, key_pem, None, "sha256:k1"),
            (
                TrustKind::Identity,
                "https://ci.example/builder",
                Some("https://ci.example"),
                "https://ci.example/builder"
            ),
            (TrustKind::CertificateChain, "PEM", None, "sha256:k1"),
        ]
    );
    assert!(list.iter().all(|t| t.created_at > 0));
    // Removal: only through the entry's own account, once.
    let id = list[1].id;
    assert!(!s.remove_trust_entry(other.id, id).await.unwrap());
    assert!(s.remove_trust_entry(org.id, id).await.unwrap());
    assert!(!s.remove_trust_entry(org.id, id).await.unwrap());
    let left: Vec<i64> = s
        .trust_entries(org.id)
        .await
        .unwrap()
        .iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(left, [list[0].id, list[2].id]);
    assert_eq!(s.trust_entries(other.id).await.unwrap().len(), 1);
    // A second process sees the same.
    assert_eq!(
        db.open().await.trust_entries(org.id).await.unwrap().len(),
        2
    );
}
