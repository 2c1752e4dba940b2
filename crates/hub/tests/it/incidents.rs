//! Incident response (issue 20 §1–2) against a live hub: queries by dataset (direct and
//! fine-tuned descendants), identity (exact, pattern, window), file digest; private
//! repos hidden; a pathological identity pattern refused; an incident on alice's
//! identity revokes her revisions (and her next push), is signed into the log, and
//! closing it restores them.

use std::time::Instant;

use axum::http::StatusCode;
use hallmark_signing::keyless::KeylessVerifier;
use hallmark_signing::verify::EnvelopeVerifier;
use hallmark_sigstore::{IdentityPolicy, TrustedRoot};
use serde_json::Value;

use crate::claims::FILES;
use crate::harness::{Hub, URL, hub};
use crate::incidentkit::{D, SECRET_WEIGHTS, alice_incident, enc, root_token};

fn repos(rows: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = rows
        .iter()
        .map(|r| format!("{}@{}", r["repo"].as_str().unwrap(), r["depth"]))
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn queries_find_datasets_transitively_identities_and_files_and_hide_private_repos() {
    let h = hub().await;
    let third: &[(&str, &[u8])] = &[("config.json", b"{}"), ("w.bin", b"grandchild")];
    let base = h.lineage().await;
    h.trained(
        &h.carol,
        "carol/ft2",
        third,
        false,
        &[],
        Some("pkg:huggingface/bob/ft"),
    )
    .await;
    h.trained(
        &h.carol,
        "carol/clean",
        &[("a.bin", b"clean")],
        false,
        &["pkg:generic/ok@1"],
        None,
    )
    .await;

    // Dataset D by purl: the model trained on it and its fine-tuned descendants.
    let q = format!("/api/query/revisions?dataset={}", enc(D));
    let anon = h.rows(&q, None).await;
    assert_eq!(repos(&anon), ["alice/base@0", "bob/ft@1", "carol/ft2@2"]);
    let ft = anon.iter().find(|r| r["repo"] == "bob/ft").unwrap();
    assert_eq!(ft["via"], format!("alice/base@{base}").as_str());
    assert!(
        anon.iter().all(|r| r["revision_log_index"].is_i64()),
        "{anon:?}"
    );
    // Alice also sees her private model; bob does not.
    let by_alice = h.rows(&q, Some(&h.alice)).await;
    assert_eq!(
        repos(&by_alice),
        ["alice/base@0", "alice/secret@0", "bob/ft@1", "carol/ft2@2"]
    );
    assert_eq!(repos(&h.rows(&q, Some(&h.bob)).await), repos(&anon));
    let direct = h.rows(&format!("{q}&direct=true"), None).await;
    assert_eq!(repos(&direct), ["alice/base@0"]);
    let builder = format!(
        "/api/query/revisions?builder={}",
        enc("https://ci.example/trainer")
    );
    assert_eq!(
        h.rows(&format!("{builder}&direct=true"), None).await.len(),
        4
    );

    // Signatures by identity, exact and by pattern, in a window; each cites the log.
    let alice_id = format!("{URL}/alice");
    let q = format!("/api/query/signatures?identity={}", enc(&alice_id));
    let sigs = h.rows(&q, None).await;
    assert_eq!(sigs.len(), 1, "{sigs:?}");
    assert_eq!(sigs[0]["repo"], "alice/base");
    assert_eq!(sigs[0]["kind"], "hub-signature");
    assert!(sigs[0]["log_index"].is_i64() && sigs[0]["integrated_time"].is_i64());
    assert_eq!(h.rows(&q, Some(&h.alice)).await.len(), 2);
    let re = format!(
        "/api/query/signatures?identity_regex={}",
        enc(&format!("{URL}/(alice|bob)"))
    );
    assert_eq!(h.rows(&re, None).await.len(), 2);
    let later = format!("{q}&since=2999-01-01T00:00:00Z");
    assert!(h.rows(&later, Some(&h.alice)).await.is_empty());
    let r = h.get(&format!("{q}&since=yesterday"), None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());

    // Files by digest: the private repo only for its owner.
    let d = hex::encode(hallmark_crypto::sha256(SECRET_WEIGHTS));
    let q = format!("/api/query/revisions?sha256={d}");
    assert!(h.rows(&q, None).await.is_empty());
    assert!(h.rows(&q, Some(&h.carol)).await.is_empty());
    assert_eq!(repos(&h.rows(&q, Some(&h.alice)).await), ["alice/secret@0"]);
    let r = h.get("/api/query/revisions?sha256=x&dataset=y", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_pathological_identity_pattern_is_refused_before_it_burns_cpu() {
    let h = hub().await;
    h.push(&h.alice, "alice/m", FILES, false).await;
    // A nested counted repetition compiles to a program far above the size budget;
    // without the limit it takes seconds and hundreds of MB to build.
    let evil = "((((((a{50}){50}){50}){50}){50}){50})";
    let t = Instant::now();
    let r = h
        .get(
            &format!("/api/query/signatures?identity_regex={}", enc(evil)),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(r.text().contains("identity_regex refused"), "{}", r.text());
    assert!(t.elapsed().as_secs() < 10, "{:?}", t.elapsed());
    let long = "a".repeat(300);
    let r = h
        .get(
            &format!("/api/query/signatures?identity_regex={long}"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    // Catastrophic-backtracking shapes are linear in regex-lite: answered, empty.
    let r = h
        .get(
            &format!("/api/query/signatures?identity_regex={}", enc("(a+)+$")),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

async fn status_of(h: &Hub, repo: &str, token: &str) -> Value {
    h.get(&format!("/api/models/{repo}"), Some(token))
        .await
        .json()["hallmark"]["signature"]
        .clone()
}

#[tokio::test]
async fn an_incident_revokes_an_identitys_revisions_in_the_log_until_closed() {
    let h = hub().await;
    let root = root_token(&h).await;
    h.push(&h.alice, "alice/a", FILES, false).await;
    h.push(&h.bob, "bob/b", FILES, false).await;
    let reason = "alice's OIDC account was taken over";
    // Only administrators open incidents.
    let r = h
        .post_json(
            "/api/admin/incidents",
            Some(&h.alice),
            alice_incident(reason),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let opened = h.open_incident(&root, reason).await;
    let id = opened["id"].as_i64().unwrap();
    assert_eq!(opened["affected"].as_array().unwrap().len(), 1, "{opened}");
    assert_eq!(opened["affected"][0]["repo"], "alice/a");
    let sig = status_of(&h, "alice/a", &h.alice).await;
    assert_eq!(sig["status"], "revoked", "{sig}");
    assert_eq!(sig["incident"]["id"], id);
    assert_eq!(sig["incident"]["reason"], reason);
    assert_eq!(status_of(&h, "bob/b", &h.bob).await["status"], "verified");
    // Her next push is revoked as it is recorded.
    let r = h
        .push(&h.alice, "alice/a", &[("new.bin", b"after")], false)
        .await;
    assert_eq!(r.json()["signature"]["status"], "revoked", "{}", r.text());
    // The UI says so, with the reason.
    let page = h.get("/alice/a", Some(&h.alice)).await.text();
    assert!(
        page.contains("revoked") && page.contains("taken over"),
        "{page}"
    );
    // The opening statement is signed by the hub and in its log.
    let shown = h
        .get(&format!("/api/admin/incidents/{id}"), Some(&root))
        .await
        .json();
    assert_eq!(shown["affected"].as_array().unwrap().len(), 2, "{shown}");
    let bundle_bytes = shown["bundle"].to_string().into_bytes();
    let logged = hallmark_hub::claims::statement::bundle_log_entry(&bundle_bytes).unwrap();
    assert_eq!(Some(logged.index as i64), opened["log_index"].as_i64());
    let bundle =
        hallmark_format::bundle::Bundle::parse(&bundle_bytes, &Default::default()).unwrap();
    let tc = h.get("/trust-config.json", None).await.body;
    KeylessVerifier {
        trust: TrustedRoot::from_client_trust_config_json(&tc).unwrap(),
        policy: IdentityPolicy {
            identity: Some(format!("{URL}/.well-known/hallmark-hub")),
            identity_regex: None,
            issuer: URL.into(),
        },
    }
    .authenticate(&bundle, &bundle_bytes)
    .unwrap();
    let st: Value = serde_json::from_slice(&bundle.envelope.payload).unwrap();
    assert_eq!(st["predicate"]["action"], "open");
    assert_eq!(st["predicate"]["incident"], id);
    // Owners were told through the audit log.
    let audit = h.get("/api/admin/audit", Some(&root)).await.text();
    assert!(
        audit.contains("incident.revoke") && audit.contains("alice/a@"),
        "{audit}"
    );
    // Closing is logged too and restores the statuses.
    let r = h.close_incident(&root, id).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.json()["close_log_index"].as_i64() > opened["log_index"].as_i64());
    assert_eq!(
        status_of(&h, "alice/a", &h.alice).await["status"],
        "verified"
    );
    let r = h.close_incident(&root, id).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
}
