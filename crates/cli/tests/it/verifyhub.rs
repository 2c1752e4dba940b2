//! `hallmark verify … --hub URL` (issue 20 §2): a model whose signature verifies is still
//! refused (exit 1, naming the incident, its reason and time) when the hub reports the
//! revision it signs revoked, unless `--allow-revoked`; an unrevoked revision (bob's) is
//! accepted; the revision is found from the signature itself or named with
//! `--repo`/`--revision`; a signature the hub holds nowhere is refused.

use std::path::Path;

use serde_json::Value;

use crate::Cmd;
use crate::pull::{Hub, model_with, scene};
use crate::pullrevoked::post;

fn get(url: &str) -> Value {
    let mut r = ureq::get(url).call().unwrap();
    serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap()
}

/// `verify sigstore DIR --signature DIR/model.sig` with the hub's trust config, as `user`.
fn verify(hub: &Hub, dir: &Path, user: &str, issuer: &str, tc: &Path) -> Cmd {
    Cmd::verify_sigstore(dir, dir.join("model.sig"), &hub.identity(user), issuer, tc)
}

#[test]
fn verify_with_hub_refuses_a_revoked_revision_whose_signature_verifies() {
    let (root, hub, config, out) = scene();
    hub.push(
        &model_with(root.path(), "m", "1", "model.safetensors", &[3u8; 4_001]),
        "alice/m",
        &hub.alice,
    );
    hub.push(
        &model_with(root.path(), "n", "1", "model.safetensors", &[4u8; 4_003]),
        "bob/n",
        &hub.bob,
    );
    let (a, b) = (out.join("a"), out.join("b"));
    hub.pull("alice/m", &a, &config).run().expect(0, &[]);
    hub.pull("bob/n", &b, &config).run().expect(0, &[]);
    let info = get(&format!("{}/api/models/alice/m", hub.url));
    let commit = info["sha"].as_str().unwrap().to_owned();
    let issuer = info["hallmark"]["signature"]["issuer"]
        .as_str()
        .unwrap()
        .to_owned();
    let tc = root.path().join("tc.json");
    let mut r = ureq::get(&format!("{}/trust-config.json", hub.url))
        .call()
        .unwrap();
    std::fs::write(&tc, r.body_mut().read_to_string().unwrap()).unwrap();

    // Not revoked: accepted, the revision found from the signature.
    let ok = verify(&hub, &a, "alice", &issuer, &tc)
        .opt("--hub", &hub.url)
        .json()
        .run();
    ok.expect(0, &[]);
    let v = ok.json();
    assert_eq!(v["verified"], true, "{v}");
    assert_eq!(v["hub"]["revisions"][0]["repo"], "alice/m", "{v}");
    assert_eq!(v["hub"]["revisions"][0]["revision"], commit.as_str(), "{v}");
    assert_eq!(v["hub"]["revisions"][0]["status"], "verified", "{v}");

    hub.admin(&["user", "add", "root", "--admin"])
        .expect(0, &[]);
    let admin = hub.token("root");
    let reason = "alice's signing identity was phished";
    let body = serde_json::json!({
        "identity": hub.identity("alice"), "since": "2000-01-01T00:00:00Z", "reason": reason,
    });
    let (status, opened) = post(&hub, "/api/admin/incidents", &admin, &body.to_string());
    assert_eq!(status, 201, "{opened}");
    let id = opened["id"].as_i64().unwrap().to_string();
    let incident = format!("incident {id} (opened ");

    // The signature itself still verifies ...
    verify(&hub, &a, "alice", &issuer, &tc)
        .run()
        .expect(0, &["Verification succeeded"]);
    // ... but the hub says the revision is revoked: refused, naming the incident.
    let refused = verify(&hub, &a, "alice", &issuer, &tc)
        .opt("--hub", &hub.url)
        .run();
    refused.expect(
        1,
        &[&incident, reason, "REVOKED", "--allow-revoked", &commit],
    );
    assert!(!refused.stdout.contains("succeeded"), "{refused:#?}");
    let named = verify(&hub, &a, "alice", &issuer, &tc)
        .opt("--hub", &hub.url)
        .opt("--repo", "alice/m")
        .opt("--revision", "main")
        .json()
        .run();
    named.expect(1, &[&incident]);
    assert_eq!(named.json()["verified"], false, "{named:#?}");
    let allowed = verify(&hub, &a, "alice", &issuer, &tc)
        .opt("--hub", &hub.url)
        .arg("--allow-revoked")
        .run();
    allowed.expect(0, &["Verification succeeded", "warning", &incident, reason]);

    // Bob's revision is not affected.
    verify(&hub, &b, "bob", &issuer, &tc)
        .opt("--hub", &hub.url)
        .run()
        .expect(0, &["Verification succeeded", "bob/n at"]);
    // A signature no revision of the named repo holds: its status is unknown, refused.
    verify(&hub, &b, "bob", &issuer, &tc)
        .opt("--hub", &hub.url)
        .opt("--repo", "alice/m")
        .run()
        .expect(1, &["no revision of alice/m has this signature"]);
}
