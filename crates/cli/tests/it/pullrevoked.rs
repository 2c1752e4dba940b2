//! `hallmark pull` of a revision an open incident revokes (issue 20 §2): refused (exit 1,
//! naming the incident, its reason and time) with nothing written, unless
//! `--allow-revoked` (then pulled with a warning naming the incident); once the incident is
//! closed, a plain pull succeeds.

use serde_json::Value;

use crate::pull::{Hub, listing, model_with, scene};

/// POST `body` (JSON) to the hub as `token`: status and JSON reply.
pub(crate) fn post(hub: &Hub, path: &str, token: &str, body: &str) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut r = agent
        .post(&format!("{}{path}", hub.url))
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", "application/json")
        .send(body)
        .unwrap();
    let text = r.body_mut().read_to_string().unwrap();
    (
        r.status().as_u16(),
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[test]
fn a_revoked_revision_is_refused_unless_allowed_and_pulls_again_once_the_incident_closes() {
    let (root, hub, config, out) = scene();
    hub.push(
        &model_with(root.path(), "m", "1", "model.safetensors", &[7u8; 70_001]),
        "alice/m",
        &hub.alice,
    );
    hub.admin(&["user", "add", "root", "--admin"])
        .expect(0, &[]);
    let admin = hub.token("root");
    let reason = "alice's OIDC account was taken over";
    let body = serde_json::json!({
        "identity": hub.identity("alice"),
        "since": "2000-01-01T00:00:00Z",
        "reason": reason,
    });
    let (status, opened) = post(&hub, "/api/admin/incidents", &admin, &body.to_string());
    assert_eq!(status, 201, "{opened}");
    let id = opened["id"].as_i64().unwrap().to_string();
    let incident = format!("incident {id} (opened ");

    let refused = out.join("refused");
    hub.pull("alice/m", &refused, &config)
        .run()
        .expect(1, &[&incident, reason, "REVOKED", "--allow-revoked"]);
    assert!(!refused.exists(), "a refused pull creates no target");
    // --force into an existing empty directory: refused, left empty
    std::fs::create_dir(&refused).unwrap();
    hub.pull("alice/m", &refused, &config)
        .arg("--force")
        .run()
        .expect(1, &[&incident]);
    assert!(
        listing(&refused).is_empty(),
        "nothing written into the target"
    );
    assert_eq!(listing(&out), ["refused"], "no staging directory left");

    let allowed = out.join("allowed");
    let ok = hub
        .pull("alice/m", &allowed, &config)
        .arg("--allow-revoked")
        .run();
    ok.expect(0, &["Verified", "warning", &incident, reason]);
    assert_eq!(
        listing(&allowed),
        ["config.json", "model.safetensors", "model.sig"]
    );

    let (status, closed) = post(
        &hub,
        &format!("/api/admin/incidents/{id}/close"),
        &admin,
        "{}",
    );
    assert_eq!(status, 200, "{closed}");
    let after = out.join("after");
    let plain = hub.pull("alice/m", &after, &config).run();
    plain.expect(0, &["Verified"]);
    assert!(!plain.stderr.contains("REVOKED"), "{plain:#?}");
    assert_eq!(listing(&after), listing(&allowed));
}
