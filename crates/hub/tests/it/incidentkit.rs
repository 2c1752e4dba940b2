//! The set-up the incident, query-page, webhook and export tests share: an administrator's
//! token, revisions pushed with a provenance naming their datasets and base model (a
//! lineage: alice/base trained on [`D`], bob/ft fine-tuned from it, alice/secret private),
//! and incidents opened on alice's identity and closed.

use axum::http::{Method, StatusCode};
use hallmark_hub::admin::{NewToken, Operator};
use hallmark_hub::auth::TokenLifetime;
use hallmark_store::TokenScope;
use serde_json::{Value, json};

use crate::claims::{FILES, new_key};
use crate::harness::{Hub, Resp, URL};

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
        let root = model_root(repo.split_once('/').unwrap().1, files);
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

pub(crate) fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
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

/// The root digest of model `name` made of `files`: the subject of its statements.
pub(crate) fn model_root(name: &str, files: &[(&str, &[u8])]) -> String {
    let entries: Vec<hallmark_store::FileEntry> = files
        .iter()
        .map(|(p, d)| hallmark_store::FileEntry {
            path: (*p).into(),
            sha256: hex::encode(hallmark_crypto::sha256(d)),
            size: d.len() as u64,
        })
        .collect();
    hallmark_hub::claims::statement::root_digest(
        &hallmark_hub::signer::revision_manifest(name, &entries).unwrap(),
    )
}

/// The bytes of alice/secret's one file (see [`Hub::lineage`]).
pub(crate) const SECRET_WEIGHTS: &[u8] = b"secret weights";

/// An incident on alice's identity since 2000 (every revision she signed), for `reason`.
pub(crate) fn alice_incident(reason: &str) -> Value {
    json!({"identity": format!("{URL}/alice"), "since": "2000-01-01T00:00:00Z", "reason": reason})
}

impl Hub {
    /// The lineage: alice/base trained on [`D`] (its commit is returned), bob/ft
    /// fine-tuned from it, alice/secret (private, [`SECRET_WEIGHTS`]) trained on [`D`].
    pub(crate) async fn lineage(&self) -> String {
        let base = self
            .trained(&self.alice, "alice/base", FILES, false, &[D], None)
            .await;
        let tuned: &[(&str, &[u8])] = &[("config.json", b"{}"), ("w.bin", b"fine-tuned")];
        self.trained(
            &self.bob,
            "bob/ft",
            tuned,
            false,
            &[],
            Some("pkg:huggingface/alice/base"),
        )
        .await;
        let secret: &[(&str, &[u8])] = &[("w.bin", SECRET_WEIGHTS)];
        self.trained(&self.alice, "alice/secret", secret, true, &[D], None)
            .await;
        base
    }

    /// Opens [`alice_incident`] as `root`; the hub's answer (`id`, `affected`, `log_index`).
    pub(crate) async fn open_incident(&self, root: &str, reason: &str) -> Value {
        let r = self
            .post_json("/api/admin/incidents", Some(root), alice_incident(reason))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        r.json()
    }

    /// Closes incident `id` as `root`.
    pub(crate) async fn close_incident(&self, root: &str, id: i64) -> Resp {
        self.post_json(
            &format!("/api/admin/incidents/{id}/close"),
            Some(root),
            json!({}),
        )
        .await
    }
}
