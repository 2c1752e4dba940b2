//! The first "Done when" of issue 20 at its stated size: a hub seeded by 3 users with 20
//! revisions whose provenance claims name 2 datasets (directly, or through chains of
//! fine-tuned-from links up to 4 deep). A dataset query returns exactly the revisions
//! that name it, directly or transitively, at the right depth; an identity query in a
//! window returns exactly the signatures made in it, and each cited log index is the
//! log entry of that revision's signature: the entry the log serves at that index is
//! the bundle's, and the bundle verifies (with its inclusion proof) as the signer's.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::StatusCode;
use hallmark_signing::keyless::KeylessVerifier;
use hallmark_signing::verify::EnvelopeVerifier;
use hallmark_sigstore::{IdentityPolicy, TrustedRoot};
use serde_json::Value;

use crate::harness::{Hub, URL, hub};
use crate::incidentkit::enc;

const D1: &str = "pkg:generic/corpus-a@1";
const D2: &str = "pkg:generic/corpus-b@2";

/// (user, repo, datasets, base model repo); the last four are pushed after the window opens.
const SEED: [(&str, &str, &[&str], Option<&str>); 20] = [
    ("alice", "alice/a-base", &[D1], None),
    ("alice", "alice/a-mix", &[D1, D2], None),
    ("alice", "alice/a-two", &[D2], None),
    ("alice", "alice/a-ft", &[], Some("alice/a-two")),
    ("alice", "alice/a-clean", &["pkg:generic/other@1"], None),
    ("bob", "bob/b-ft", &[], Some("alice/a-base")),
    ("bob", "bob/b-ft2", &[], Some("bob/b-ft")),
    ("bob", "bob/b-two", &[D2], None),
    ("bob", "bob/b-clean", &[], None),
    ("bob", "bob/b-ftmix", &[], Some("alice/a-mix")),
    ("carol", "carol/c-ft3", &[], Some("bob/b-ft2")),
    ("carol", "carol/c-d2ft", &[], Some("bob/b-two")),
    ("carol", "carol/c-plain", &[], None),
    ("carol", "carol/c-d1", &[D1], None),
    ("carol", "carol/c-deep", &[], Some("carol/c-ft3")),
    ("carol", "carol/c-x", &[], Some("nobody/none")),
    // after the window opens
    ("alice", "alice/a-late1", &[D1], None),
    ("alice", "alice/a-late2", &[], Some("bob/b-ft")),
    ("bob", "bob/b-late", &[D2], None),
    ("carol", "carol/c-late", &[], Some("alice/a-late1")),
];
const LATE: usize = 16;

fn token<'a>(h: &'a Hub, user: &str) -> &'a str {
    match user {
        "alice" => &h.alice,
        "bob" => &h.bob,
        _ => &h.carol,
    }
}

async fn seed(h: &Hub, entries: &[(&str, &str, &[&str], Option<&str>)]) -> Vec<String> {
    let mut commits = Vec::new();
    for (user, repo, datasets, base) in entries {
        let weights = format!("weights of {repo}").into_bytes();
        let files: &[(&str, &[u8])] = &[("config.json", b"{}"), ("w.bin", &weights)];
        let base = base.map(|b| format!("pkg:huggingface/{b}"));
        let c = h
            .trained(
                token(h, user),
                repo,
                files,
                false,
                datasets,
                base.as_deref(),
            )
            .await;
        commits.push(c);
    }
    commits
}

fn found(rows: &[Value]) -> BTreeSet<String> {
    rows.iter()
        .map(|r| format!("{}@{}", r["repo"].as_str().unwrap(), r["depth"]))
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn a_seeded_hub_answers_dataset_and_windowed_identity_queries_exactly() {
    let h = hub().await;
    let early = seed(&h, &SEED[..LATE]).await;
    // Open the window at the next whole second: every earlier signature is before it.
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    tokio::time::sleep(
        Duration::from_millis(1_050) - Duration::from_nanos(now.subsec_nanos().into()),
    )
    .await;
    let since = now.as_secs() + 1;
    let late = seed(&h, &SEED[LATE..]).await;
    assert_eq!(early.len() + late.len(), 20);

    let d1 = h
        .rows(&format!("/api/query/revisions?dataset={}", enc(D1)), None)
        .await;
    assert_eq!(
        found(&d1),
        set(&[
            "alice/a-base@0",
            "alice/a-mix@0",
            "carol/c-d1@0",
            "alice/a-late1@0",
            "bob/b-ft@1",
            "bob/b-ftmix@1",
            "carol/c-late@1",
            "bob/b-ft2@2",
            "alice/a-late2@2",
            "carol/c-ft3@3",
            "carol/c-deep@4",
        ])
    );
    assert_eq!(d1.len(), 11, "each revision once: {d1:?}");
    let d2 = h
        .rows("/api/query/revisions?dataset=pkg:generic/corpus-b", None)
        .await;
    assert_eq!(
        found(&d2),
        set(&[
            "alice/a-mix@0",
            "alice/a-two@0",
            "bob/b-two@0",
            "bob/b-late@0",
            "alice/a-ft@1",
            "bob/b-ftmix@1",
            "carol/c-d2ft@1",
        ])
    );

    // Alice's signatures in the window: exactly her two late revisions' hub signatures.
    let alice = format!("{URL}/alice");
    let q = format!(
        "/api/query/signatures?identity={}&since={since}",
        enc(&alice)
    );
    let sigs = h.rows(&q, None).await;
    let got: BTreeSet<(String, String)> = sigs
        .iter()
        .map(|s| {
            (
                s["repo"].as_str().unwrap().into(),
                s["revision"].as_str().unwrap().into(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String)> = [
        ("alice/a-late1".to_owned(), late[0].clone()),
        ("alice/a-late2".to_owned(), late[1].clone()),
    ]
    .into();
    assert_eq!(got, want, "{sigs:?}");
    assert_eq!(sigs.len(), 2, "{sigs:?}");
    let before = format!(
        "/api/query/signatures?identity={}&until={}",
        enc(&alice),
        since - 1
    );
    assert_eq!(
        h.rows(&before, None).await.len(),
        5,
        "her 5 early signatures"
    );

    let tc = h.get("/trust-config.json", None).await.body;
    let verifier = KeylessVerifier {
        trust: TrustedRoot::from_client_trust_config_json(&tc).unwrap(),
        policy: IdentityPolicy {
            identity: Some(alice.clone()),
            identity_regex: None,
            issuer: URL.into(),
        },
    };
    for s in &sigs {
        assert_eq!(s["kind"], "hub-signature", "{s}");
        assert_eq!(s["identity"], alice.as_str(), "{s}");
        assert!(
            s["integrated_time"].as_i64().unwrap() >= since as i64,
            "{s}"
        );
        let index = s["log_index"].as_i64().unwrap();
        let uri = format!(
            "/{}/resolve/{}/model.sig",
            s["repo"].as_str().unwrap(),
            s["revision"].as_str().unwrap()
        );
        let r = h.get(&uri, None).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}");
        let bundle_bytes = r.body;
        let logged = hallmark_hub::claims::statement::bundle_log_entry(&bundle_bytes).unwrap();
        assert_eq!(logged.index as i64, index, "{s}");
        // The bundle verifies as alice's, its inclusion proof against the log's key ...
        let bundle =
            hallmark_format::bundle::Bundle::parse(&bundle_bytes, &Default::default()).unwrap();
        verifier.authenticate(&bundle, &bundle_bytes).unwrap();
        // ... and the entry the log serves at that index is the bundle's.
        let entry = h
            .get(&format!("/api/v1/log/entries?logIndex={index}"), None)
            .await;
        assert_eq!(entry.status, StatusCode::OK, "{}", entry.text());
        let entry = entry.json();
        let entry = entry.as_object().unwrap().values().next().unwrap();
        assert_eq!(entry["logIndex"], index, "{entry}");
        assert!(
            entry["verification"]["inclusionProof"].is_object(),
            "{entry}"
        );
        let b: Value = serde_json::from_slice(&bundle_bytes).unwrap();
        assert_eq!(
            entry["body"], b["verificationMaterial"]["tlogEntries"][0]["canonicalizedBody"],
            "{entry}"
        );
    }
}
