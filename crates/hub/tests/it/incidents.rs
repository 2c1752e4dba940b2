//! Incident response (issue 20 §1–2) against a live hub: queries by dataset (direct and
//! fine-tuned descendants), identity (exact, pattern, window), file digest; private
//! repos hidden; a pathological identity pattern refused; an incident on alice's
//! identity revokes her revisions (and her next push), is signed into the log, and
//! closing it restores them.

use std::time::Instant;

use axum::http::{Method, StatusCode};
use hallmark_hub::admin::{NewToken, Operator};
use hallmark_hub::auth::TokenLifetime;
use hallmark_signing::keyless::KeylessVerifier;
use hallmark_signing::verify::EnvelopeVerifier;
use hallmark_sigstore::{IdentityPolicy, TrustedRoot};
use hallmark_store::TokenScope;
use serde_json::{Value, json};

use crate::claims::{FILES, new_key};
use crate::harness::{Hub, URL, hub};

pub(crate) const D: &str = "pkg:generic/poisoned-corpus@3";

fn provenance(root: &str, datasets: &[&str], base: Option<&str>) -> Vec<u8> {
    let mut deps: Vec<Value> = datasets
        .iter()
        .map(|d| json!({"uri": d, "annotations": {"role": "trainedOn"}}))
        .collect();
    if let Some(b) = base {
        deps.push(json!({"uri": b, "annotations": {"role": "baseModel"}}));
    }
    json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "m", "digest": {"sha256": root}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {"buildType": "x", "externalParameters": {}, "resolvedDependencies": deps},
            "runDetails": {"builder": {"id": "https://ci.example/trainer"}},
        },
    })
    .to_string()
    .into_bytes()
}

impl Hub {
    /// Pushes `files` to `repo` and attaches a provenance naming `datasets` / `base`.
    pub(crate) async fn trained(
        &self,
        token: &str,
        repo: &str,
        files: &[(&str, &[u8])],
        private: bool,
        datasets: &[&str],
        base: Option<&str>,
    ) -> String {
        let r = self.push(token, repo, files, private).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let commit = r.json()["commit"].as_str().unwrap().to_owned();
        let entries: Vec<hallmark_store::FileEntry> = files
            .iter()
            .map(|(p, d)| hallmark_store::FileEntry {
                path: (*p).into(),
                sha256: hex::encode(hallmark_crypto::sha256(d)),
                size: d.len() as u64,
            })
            .collect();
        let name = repo.split_once('/').unwrap().1;
        let root = hallmark_hub::claims::statement::root_digest(
            &hallmark_hub::signer::revision_manifest(name, &entries).unwrap(),
        );
        let (key, _) = new_key();
        let body =
            hallmark_provenance::sign_payload(provenance(&root, datasets, base), &key).unwrap();
        let uri = format!("/api/models/{repo}/attach/{commit}");
        let r = self.send(Method::POST, &uri, Some(token), &[], body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        commit
    }

    pub(crate) async fn rows(&self, uri: &str, token: Option<&str>) -> Vec<Value> {
        let r = self.get(uri, token).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.text());
        r.json().as_array().unwrap().clone()
    }
}

fn repos(rows: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = rows
        .iter()
        .map(|r| format!("{}@{}", r["repo"].as_str().unwrap(), r["depth"]))
        .collect();
    v.sort();
    v
}

pub(crate) fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[tokio::test]
async fn queries_find_datasets_transitively_identities_and_files_and_hide_private_repos() {
    let h = hub().await;
    let other: &[(&str, &[u8])] = &[("config.json", b"{}"), ("w.bin", b"fine-tuned")];
    let third: &[(&str, &[u8])] = &[("config.json", b"{}"), ("w.bin", b"grandchild")];
    let secret: &[(&str, &[u8])] = &[("w.bin", b"secret weights")];
    let base = h
        .trained(&h.alice, "alice/base", FILES, false, &[D], None)
        .await;
    h.trained(
        &h.bob,
        "bob/ft",
        other,
        false,
        &[],
        Some("pkg:huggingface/alice/base"),
    )
    .await;
    h.trained(
        &h.carol,
        "carol/ft2",
        third,
        false,
        &[],
        Some("pkg:huggingface/bob/ft"),
    )
    .await;
    h.trained(&h.alice, "alice/secret", secret, true, &[D], None)
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
    let d = hex::encode(hallmark_crypto::sha256(b"secret weights"));
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

pub(crate) async fn root_token(h: &Hub) -> String {
    let op = Operator::new(&*h.state.meta, "cli:test");
    op.add_user("root", None, None, true).await.unwrap();
    op.new_token(&NewToken {
        user: "root",
        scope: TokenScope::Write,
        label: "ops",
        lifetime: TokenLifetime::Default,
    })
    .await
    .unwrap()
    .0
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
    let body = json!({"identity": format!("{URL}/alice"), "since": "2000-01-01T00:00:00Z",
        "reason": "alice's OIDC account was taken over"});
    // Only administrators open incidents.
    let r = h
        .post_json("/api/admin/incidents", Some(&h.alice), body.clone())
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let r = h.post_json("/api/admin/incidents", Some(&root), body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let opened = r.json();
    let id = opened["id"].as_i64().unwrap();
    assert_eq!(opened["affected"].as_array().unwrap().len(), 1, "{opened}");
    assert_eq!(opened["affected"][0]["repo"], "alice/a");
    let sig = status_of(&h, "alice/a", &h.alice).await;
    assert_eq!(sig["status"], "revoked", "{sig}");
    assert_eq!(sig["incident"]["id"], id);
    assert_eq!(
        sig["incident"]["reason"],
        "alice's OIDC account was taken over"
    );
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
    let r = h
        .post_json(
            &format!("/api/admin/incidents/{id}/close"),
            Some(&root),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.json()["close_log_index"].as_i64() > opened["log_index"].as_i64());
    assert_eq!(
        status_of(&h, "alice/a", &h.alice).await["status"],
        "verified"
    );
    let r = h
        .post_json(
            &format!("/api/admin/incidents/{id}/close"),
            Some(&root),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
}
