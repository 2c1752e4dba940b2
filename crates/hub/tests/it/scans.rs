//! Scan on upload (issue 16, item 1): every revision is scanned at commit, the verdict
//! and findings are in repo info and on the model page, and an organisation can refuse
//! dangerous uploads before anything is signed, logged or stored.

use axum::http::StatusCode;
use hallmark_hub::admin;
use hallmark_store::ScanVerdict;
use serde_json::Value;

use crate::harness::{Hub, hub, hub_with};

/// A `torch.load`-able pickle that runs `os.system("id")` when loaded: GLOBAL os system,
/// MARK, BINUNICODE "id", TUPLE, REDUCE, STOP.
pub(crate) fn pickle_payload() -> Vec<u8> {
    let mut p = b"\x80\x02cos\nsystem\n(X\x02\x00\x00\x00id".to_vec();
    p.extend_from_slice(b"tR.");
    p
}

/// A pickle of `{"a": 1}` (benign; a handful of opcodes).
fn benign_pickle() -> Vec<u8> {
    b"\x80\x02}q\x00X\x01\x00\x00\x00aq\x01K\x01s.".to_vec()
}

/// A valid safetensors file: one F32 tensor of shape [2].
fn safetensors() -> Vec<u8> {
    let header = br#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;
    let mut v = (header.len() as u64).to_le_bytes().to_vec();
    v.extend_from_slice(header);
    v.extend_from_slice(&[0u8; 8]);
    v
}

impl Hub {
    async fn scan_of(&self, repo: &str) -> Value {
        let r = self
            .get(&format!("/api/models/{repo}"), Some(&self.alice))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        r.json()["hallmark"]["scan"].clone()
    }
}

#[tokio::test]
async fn a_pickle_payload_is_dangerous_and_the_finding_names_the_file() {
    let h = hub().await;
    let payload = pickle_payload();
    let r = h
        .push(
            &h.alice,
            "alice/evil",
            &[("pytorch_model.bin", &payload), ("config.json", b"{}")],
            false,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let commit = r.json()["commit"].as_str().unwrap().to_owned();
    let scan = h.scan_of("alice/evil").await;
    assert_eq!(scan["verdict"], "dangerous", "{scan}");
    assert_eq!(scan["policy_version"], hallmark_scan::POLICY_VERSION);
    let findings = scan["findings"].as_array().unwrap();
    let f = findings
        .iter()
        .find(|f| f["severity"] == "dangerous")
        .unwrap_or_else(|| panic!("no dangerous finding: {scan}"));
    assert_eq!(f["path"], "pytorch_model.bin", "{f}");
    assert_eq!(f["rule"], "HM-PKL-001", "{f}");
    assert!(f["message"].as_str().unwrap().contains("os"), "{f}");
    // The revision endpoint says the same; the model page shows the badge per revision
    // and per file.
    let r = h
        .get(&format!("/api/models/alice/evil/revision/{commit}"), None)
        .await;
    assert_eq!(r.json()["hallmark"]["scan"]["verdict"], "dangerous");
    let page = h.get("/alice/evil", None).await.text();
    assert!(page.contains(r#"id="scan-verdict">dangerous<"#), "{page}");
    assert!(page.contains(r#"<span class="badge scan-dangerous">dangerous</span></td><td>push"#));
    assert!(page.contains("HM-PKL-001"));
    assert_eq!(
        page.matches(r#"class="badge scan-clean">clean<"#).count(),
        1,
        "config.json"
    );
}

#[tokio::test]
async fn a_benign_safetensors_revision_is_clean() {
    let h = hub().await;
    let st = safetensors();
    let r = h
        .push(&h.alice, "alice/good", &[("model.safetensors", &st)], false)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let scan = h.scan_of("alice/good").await;
    assert_eq!(scan["verdict"], "clean", "{scan}");
    assert_eq!(scan["findings"], Value::Array(vec![]));
}

#[tokio::test]
async fn an_org_that_refuses_dangerous_uploads_stores_nothing() {
    let h = hub().await;
    admin::Operator::new(&*h.state.meta, "test")
        .set_scan_refusal("acme", Some(ScanVerdict::Dangerous))
        .await
        .unwrap();
    let before = h.log_size().await;
    let payload = pickle_payload();
    let r = h
        .push(
            &h.alice,
            "acme/evil",
            &[("pytorch_model.bin", &payload)],
            false,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let msg = r.json()["error"].as_str().unwrap().to_owned();
    assert!(
        msg.contains("pytorch_model.bin")
            && msg.contains("HM-PKL-001")
            && msg.contains("dangerous"),
        "{msg}"
    );
    let info = h.get("/api/models/acme/evil", Some(&h.alice)).await.json();
    assert_eq!(info["sha"], Value::Null, "no revision: {info}");
    assert_eq!(h.log_size().await, before, "no log entry");
    let repo = h.state.meta.repo("acme", "evil").await.unwrap().unwrap();
    assert!(
        h.state
            .meta
            .revisions(repo.id, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // A clean upload to the same org still goes through, and the setting is audited.
    let st = safetensors();
    let r = h
        .push(&h.alice, "acme/evil", &[("model.safetensors", &st)], false)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    // Its signature and its scan claim.
    assert_eq!(h.log_size().await, before + 2);
    let events = h.state.meta.admin_events(10).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.action == "org.set" && e.detail == "refuse-scan dangerous")
    );
    // Users' own namespaces are unaffected by acme's setting.
    let r = h
        .push(
            &h.alice,
            "alice/evil",
            &[("pytorch_model.bin", &payload)],
            false,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
}

#[tokio::test]
async fn a_scanner_limit_makes_the_revision_unverified_never_clean() {
    let h = hub_with(|c| c.scan.limits.max_opcodes = 2).await;
    let p = benign_pickle();
    let r = h
        .push(
            &h.alice,
            "alice/limited",
            &[("pytorch_model.bin", &p)],
            false,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let scan = h.scan_of("alice/limited").await;
    assert_eq!(scan["verdict"], "unverified", "{scan}");
    let f = &scan["findings"][0];
    assert_eq!(
        (f["path"].as_str(), f["rule"].as_str()),
        (Some("pytorch_model.bin"), Some("HM-GEN-001")),
        "{scan}"
    );
    // The same file under the default limits is clean.
    let h = hub().await;
    let r = h
        .push(
            &h.alice,
            "alice/limited",
            &[("pytorch_model.bin", &p)],
            false,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(h.scan_of("alice/limited").await["verdict"], "clean");
}
