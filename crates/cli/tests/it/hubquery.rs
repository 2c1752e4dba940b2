//! `hallmark hub query signatures|revisions` against a live hub (issue 20 §1): the table
//! and the JSON name the repository, revision, identity and log index of alice's push,
//! and nothing of bob's.

use serde_json::Value;

use crate::Cmd;
use crate::pull::{model_with, scene};

#[test]
fn hub_query_finds_signatures_by_identity_and_revisions_by_file_digest() {
    let (root, hub, _config, _out) = scene();
    hub.push(
        &model_with(root.path(), "a", "1", "model.safetensors", &[3u8; 50_007]),
        "alice/m",
        &hub.alice,
    );
    hub.push(
        &model_with(root.path(), "b", "2", "model.safetensors", &[4u8; 50_009]),
        "bob/n",
        &hub.bob,
    );
    let alice = hub.identity("alice");
    let query = |args: &[&str]| {
        Cmd::new(["hub", "query"])
            .args(args)
            .opt("--hub", &hub.url)
            .run()
    };

    let table = query(&["signatures", "--identity", &alice]);
    table.expect(0, &["REPO", "LOG INDEX", "alice/m", &alice]);
    assert!(!table.stdout.contains("bob/n"), "{table:#?}");
    let j = query(&["signatures", "--identity-regex", ".*/alice", "--json"]);
    j.expect(0, &[]);
    let rows = j.json();
    let rows = rows.as_array().unwrap();
    assert!(!rows.is_empty(), "{rows:?}");
    assert!(
        rows.iter()
            .all(|r| r["repo"] == "alice/m" && r["identity"] == alice.as_str())
    );
    assert!(
        rows.iter().all(|r| r["log_index"].as_u64().is_some()),
        "{rows:?}"
    );

    let text = ureq::get(&format!("{}/api/models/bob/n/revision/main", hub.url))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let info: Value = serde_json::from_str(&text).unwrap();
    let weights = info["siblings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["rfilename"] == "model.safetensors")
        .unwrap()["lfs"]["sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    let hit = query(&["revisions", "--sha256", &weights, "--json"]);
    hit.expect(0, &[]);
    let v = hit.json();
    assert_eq!(v.as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(v[0]["repo"], "bob/n");
    assert_eq!(v[0]["revision"], info["sha"], "{v}");
    // A selector is required.
    query(&["revisions"]).expect(2, &["--sha256"]);
}
