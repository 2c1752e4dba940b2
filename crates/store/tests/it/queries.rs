//! The incident-response queries (issue 20 §1) on every database, answer by answer: the
//! distinct signers an identity pattern is matched against (sorted, per issuer, capped),
//! signatures by identity / issuer in a window (newest first, capped, only the repos the
//! caller may see), revisions by what their claims name (in revision order, capped,
//! citing the claim and the revision's hub-signature log index), the root digests of a
//! list of revisions, and revisions by file digest or scanner rule (citing the hub
//! signature or scan claim, or none when the revision has no such claim).

use hallmark_store::{
    ClaimKind, ClaimRef, ClaimRefKind, ClaimStatus, FileEntry, MetaStore, NewClaim, NewRevision,
    QueryHit, ScanFinding, ScanResult, ScanVerdict, SignatureQuery, Visibility,
};

use crate::backends::{Db, on_every_backend};

on_every_backend!(incident_queries);

const HUB: &str = "https://hub.example";
const CI: &str = "ci@example";
const T0: i64 = 1_700_000_000;

fn claim(kind: ClaimKind, signer: &str, issuer: &str, log: i64, at: i64) -> NewClaim {
    NewClaim {
        kind,
        predicate_type: "https://example.com/p/v1".into(),
        signer: signer.into(),
        issuer: Some(issuer.into()),
        status: ClaimStatus::Verified,
        log_index: Some(log),
        integrated_time: Some(at),
        bundle_sha256: "b".repeat(64),
        asserts: String::new(),
    }
}

/// Revision `n` of `repo` (commit `n` repeated, on revision `parent`), signed by `signer` at `T0 + n`, with a
/// provenance claim naming `dataset` and the root digest `r<n>`, a file `w<n>.bin` whose
/// digest is `n` repeated, and (for `flagged`) a scan finding of rule `bad.rule`; no hub
/// signature when `signer` is `None`.
async fn revision(
    s: &dyn MetaStore,
    (repo, user): (i64, i64),
    (n, parent): (char, Option<char>),
    signer: Option<&str>,
    dataset: &str,
    flagged: bool,
) -> String {
    let commit = n.to_string().repeat(40);
    let at = T0 + i64::from(n.to_digit(10).unwrap());
    let log = i64::from(n.to_digit(10).unwrap()) * 10;
    let scan = ScanResult {
        verdict: if flagged {
            ScanVerdict::Dangerous
        } else {
            ScanVerdict::Clean
        },
        policy_version: "t".into(),
        findings: flagged
            .then(|| ScanFinding {
                path: format!("w{n}.bin"),
                rule: "bad.rule".into(),
                severity: "dangerous".into(),
                message: "m".into(),
            })
            .into_iter()
            .collect(),
    };
    let claims = signer
        .map(|s| claim(ClaimKind::HubSignature, s, HUB, log, at))
        .into_iter()
        .collect();
    s.commit_revision(
        &NewRevision {
            repo_id: repo,
            commit: commit.clone(),
            parent: parent.map(|p| p.to_string().repeat(40)),
            uploader_id: user,
            summary: String::new(),
            files: vec![FileEntry {
                path: format!("w{n}.bin"),
                sha256: n.to_string().repeat(64),
                size: 1,
            }],
            signature: crate::unsigned(),
            identity_changed_from: None,
            upload_id: None,
            scan: Some(scan),
            claims,
        },
        at,
    )
    .await
    .unwrap();
    let ci = claim(ClaimKind::Provenance, CI, "https://ci.example", log + 1, at);
    s.add_claim(repo, &commit, &ci).await.unwrap();
    let id = s.claims(repo, &commit).await.unwrap().last().unwrap().id;
    let refs = [
        (ClaimRefKind::Dataset, dataset.to_owned()),
        (ClaimRefKind::Model, format!("r{n}")),
    ]
    .map(|(kind, value)| ClaimRef { kind, value });
    s.add_claim_refs(repo, &commit, id, &refs).await.unwrap();
    commit
}

/// (repo, first 8 characters of the revision, claim kind, matched, revision log index).
type Row = (String, String, Option<String>, String, Option<i64>);

fn rows(hits: &[QueryHit]) -> Vec<Row> {
    hits.iter()
        .map(|h| {
            (
                h.repo.clone(),
                h.revision[..8].to_owned(),
                h.claim.clone(),
                h.matched.clone(),
                h.revision_log_index,
            )
        })
        .collect()
}

fn row(repo: &str, n: char, claim: Option<&str>, matched: &str, log: Option<i64>) -> Row {
    (
        repo.into(),
        n.to_string().repeat(8),
        claim.map(Into::into),
        matched.into(),
        log,
    )
}

async fn incident_queries(db: &Db) {
    let s = db.open().await;
    let alice = s.create_user("alice", None, None, false).await.unwrap();
    let bob = s.create_user("bob", None, None, false).await.unwrap();
    let open = s.create_repo(alice.id, "open", false).await.unwrap();
    let secret = s.create_repo(alice.id, "secret", true).await.unwrap();
    let theirs = s.create_repo(bob.id, "theirs", false).await.unwrap();
    let (a, b) = ("https://hub.example/alice", "https://hub.example/bob");
    let o = (open.id, alice.id);
    let p = (secret.id, alice.id);
    let t = (theirs.id, bob.id);
    revision(&*s, o, ('1', None), Some(a), "d1", false).await;
    revision(&*s, p, ('2', None), Some(a), "d1", true).await;
    revision(&*s, t, ('3', None), Some(b), "d1", true).await;
    revision(&*s, o, ('4', Some('1')), Some(a), "d2", false).await;
    revision(&*s, t, ('5', Some('3')), None, "d1", false).await;
    revision(&*s, o, ('6', Some('4')), Some(a), "d1", true).await;

    let anon = Visibility::default();
    let owner = Visibility {
        viewer: Some(alice.id),
        admin: false,
    };
    let all = Visibility::all();

    // Distinct signers, sorted, of an issuer or of any, capped.
    assert_eq!(s.claim_signers(Some(HUB), 100).await.unwrap(), [a, b]);
    assert_eq!(s.claim_signers(Some(HUB), 1).await.unwrap(), [a]);
    assert_eq!(s.claim_signers(None, 100).await.unwrap(), [CI, a, b]);
    assert_eq!(s.claim_signers(None, 2).await.unwrap(), [CI, a]);
    assert!(
        s.claim_signers(Some("https://none"), 9)
            .await
            .unwrap()
            .is_empty()
    );

    // Signatures: newest first, only what the caller may see, in the window, capped.
    let sigs = |identities: Option<&[&str]>, since, until, limit| SignatureQuery {
        identities: identities.map(|i| i.iter().map(|s| (*s).to_owned()).collect()),
        issuer: Some(HUB.into()),
        since,
        until,
        limit,
    };
    let got = |hits: Vec<QueryHit>| -> Vec<(String, char)> {
        hits.iter()
            .map(|h| (h.repo.clone(), h.revision.chars().next().unwrap()))
            .collect()
    };
    let alice_q = sigs(Some(&[a]), None, None, 100);
    let s_ = &*s;
    let q = |query: SignatureQuery, v| async move { got(s_.query_signatures(&query, v).await.unwrap()) };
    let (ao, asec) = ("alice/open".to_owned(), "alice/secret".to_owned());
    let bt = "bob/theirs".to_owned();
    assert_eq!(
        q(alice_q.clone(), anon).await,
        [(ao.clone(), '6'), (ao.clone(), '4'), (ao.clone(), '1')]
    );
    assert_eq!(
        q(alice_q.clone(), owner).await,
        [
            (ao.clone(), '6'),
            (ao.clone(), '4'),
            (asec.clone(), '2'),
            (ao.clone(), '1')
        ]
    );
    let window = sigs(Some(&[a, b]), Some(T0 + 2), Some(T0 + 4), 100);
    assert_eq!(
        q(window, all).await,
        [(ao.clone(), '4'), (bt.clone(), '3'), (asec.clone(), '2')]
    );
    let capped = sigs(None, Some(T0 + 1), Some(T0 + 6), 2);
    assert_eq!(
        q(capped, anon).await,
        [(ao.clone(), '6'), (ao.clone(), '4')]
    );
    let hits = s
        .query_signatures(&sigs(Some(&[b]), None, None, 10), anon)
        .await
        .unwrap();
    assert_eq!(
        (hits.len(), hits[0].log_index, hits[0].integrated_time),
        (1, Some(30), Some(T0 + 3))
    );
    assert_eq!(
        (hits[0].claim.as_deref(), hits[0].matched.as_str()),
        (Some("hub-signature"), b)
    );

    // What claims name: in revision order, citing the provenance claim and the revision's
    // hub signature (none for revision 5), capped.
    let prov = Some("provenance");
    let d1 = ["d1".to_owned()];
    let want = [
        row("alice/open", '1', prov, "d1", Some(10)),
        row("alice/open", '6', prov, "d1", Some(60)),
        row("bob/theirs", '3', prov, "d1", Some(30)),
        row("bob/theirs", '5', prov, "d1", None),
    ];
    let named = s
        .query_refs(ClaimRefKind::Dataset, &d1, anon, 100)
        .await
        .unwrap();
    assert_eq!(rows(&named), want);
    assert_eq!(named[0].log_index, Some(11), "the provenance claim's entry");
    let capped = s
        .query_refs(ClaimRefKind::Dataset, &d1, anon, 2)
        .await
        .unwrap();
    assert_eq!(rows(&capped), want[..2]);
    let both = ["d2".to_owned(), "d1".to_owned()];
    let named = s
        .query_refs(ClaimRefKind::Dataset, &both, owner, 100)
        .await
        .unwrap();
    let order: Vec<char> = named
        .iter()
        .map(|h| h.revision.chars().next().unwrap())
        .collect();
    assert_eq!(order, ['1', '4', '6', '2', '3', '5']);
    assert!(
        s.query_refs(ClaimRefKind::Builder, &d1, all, 100)
            .await
            .unwrap()
            .is_empty()
    );

    // Root digests of a list of revisions (one absent).
    let c = |n: char| n.to_string().repeat(40);
    let mut digests = s
        .model_refs(&[(open.id, c('6')), (theirs.id, c('3')), (open.id, c('3'))])
        .await
        .unwrap();
    digests.sort();
    let mut want = vec![
        (open.id, c('6'), "r6".to_owned()),
        (theirs.id, c('3'), "r3".to_owned()),
    ];
    want.sort();
    assert_eq!(digests, want);

    // Files and rules: citing the hub signature or scan claim (none recorded here).
    let hub = Some("hub-signature");
    let found = s.query_file(&"3".repeat(64), anon, 10).await.unwrap();
    assert_eq!(
        rows(&found),
        [row("bob/theirs", '3', hub, "w3.bin", Some(30))]
    );
    let found = s.query_file(&"5".repeat(64), anon, 10).await.unwrap();
    assert_eq!(rows(&found), [row("bob/theirs", '5', None, "w5.bin", None)]);
    assert!(
        s.query_file(&"2".repeat(64), anon, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.query_file(&"2".repeat(64), owner, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    let flagged = s.query_rule("bad.rule", all, 10).await.unwrap();
    assert_eq!(
        rows(&flagged),
        [
            row("alice/open", '6', None, "w6.bin", Some(60)),
            row("alice/secret", '2', None, "w2.bin", Some(20)),
            row("bob/theirs", '3', None, "w3.bin", Some(30)),
        ]
    );
    assert_eq!(s.query_rule("bad.rule", anon, 1).await.unwrap().len(), 1);
}
