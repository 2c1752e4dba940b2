//! Issue 22, log side: the instance asks its witnesses to cosign each new checkpoint and
//! publishes the cosigned note at `/checkpoint`; a witness that is down, slow or refusing
//! never blocks the log (it shows in `/readyz`); a witness that knows another size gets
//! a proof from that size (409 path); a second history of the log (a copy of its data
//! directory that appended something else) is refused by the witness.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::witness::cosigners;
use common::witness::{Down, Honest};
use hallmark_instance::{CheckpointWitness, Instance};
use tower::ServiceExt as _;

fn open(dir: &Path, witnesses: Vec<Arc<dyn CheckpointWitness>>) -> Arc<Instance> {
    common::witness::witnessed_instance(dir, witnesses)
}

/// Signs a one-file model through the embedded instance: one log entry.
fn sign(inst: &Arc<Instance>, dir: &Path, n: u32) {
    let model = dir.join(format!("model{n}"));
    std::fs::create_dir_all(&model).unwrap();
    std::fs::write(model.join("w.bin"), format!("weights {n}")).unwrap();
    let signer = hallmark_signing::Signer::Keyless(Box::new(
        hallmark_instance::EmbeddedSigner::new(Arc::clone(inst), "http://hub.test/alice", None),
    ));
    hallmark_signing::sign_model(&model, &signer, &hallmark_signing::SignOptions::default())
        .unwrap();
}

async fn get(app: &axum::Router, path: &str) -> (StatusCode, String) {
    let req = Request::get(path).body(Body::empty()).unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let b = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, String::from_utf8(b.to_vec()).unwrap())
}

fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(f).join().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn checkpoints_go_out_with_the_cosignatures_they_got() {
    let d = tempfile::tempdir().unwrap();
    let (a, b) = (Honest::new("alpha"), Honest::new("beta"));
    let inst = open(
        &d.path().join("data"),
        vec![
            a.clone() as Arc<dyn CheckpointWitness>,
            b.clone(),
            Arc::new(Down),
        ],
    );
    let (i2, dd) = (Arc::clone(&inst), d.path().to_owned());
    blocking(move || (1..=3).for_each(|n| sign(&i2, &dd, n)));
    let app = hallmark_instance::router(Arc::clone(&inst), hallmark_instance::LogWrites::open());
    let (s, note) = get(&app, "/checkpoint").await;
    assert_eq!(s, StatusCode::OK);
    assert!(note.starts_with("hub.test - "), "{note}");
    assert_eq!(note.lines().nth(1), Some("3"), "{note}");
    assert_eq!(cosigners(&note), ["alpha", "beta"], "{note}");
    // Both witnesses checked consistency proofs up to size 3.
    assert_eq!(a.state.lock().unwrap().unwrap().0, 3);
    assert_eq!(b.state.lock().unwrap().unwrap().0, 3);
    // The policy clients may pin names both logs by vkey and URL, then the witnesses.
    let (s, policy) = get(&app, "/witness-policy").await;
    assert_eq!(s, StatusCode::OK);
    let logs: Vec<&str> = policy.lines().filter(|l| l.starts_with("log ")).collect();
    assert_eq!(logs.len(), 2, "{policy}");
    assert!(logs[0].starts_with("log hub.test+") && logs[0].ends_with(" http://hub.test"));
    assert!(logs[1].ends_with(" http://hub.test/rekor2"), "{policy}");
    let v1 = hallmark_tlog::NoteVerifier::from_vkey(logs[0].split(' ').nth(1).unwrap()).unwrap();
    assert_eq!(v1.log_id(), inst.log_id());
    // Each log's vkey carries its key type (v1 ECDSA, v2 Ed25519 by default) and the ID
    // the trust root publishes for it.
    let v2 = hallmark_tlog::NoteVerifier::from_vkey(logs[1].split(' ').nth(1).unwrap()).unwrap();
    let tlogs = inst.trust_config()["trustedRoot"]["tlogs"].clone();
    for (v, t, kind) in [
        (&v1, &tlogs[0], hallmark_instance::DEFAULT_V1_KEY_TYPE),
        (&v2, &tlogs[1], hallmark_instance::DEFAULT_V2_KEY_TYPE),
    ] {
        assert_eq!(v.verifier().key_type(), kind);
        assert_eq!(t["publicKey"]["keyDetails"], kind.key_details());
        let id = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, v.log_id());
        assert_eq!(t["logId"]["keyId"], id.as_str());
    }
    assert!(policy.contains("\nquorum all\n"), "{policy}");
    let health = hallmark_instance::health_router(Arc::clone(&inst));
    let (s, ready) = get(&health, "/readyz").await;
    assert_eq!(
        s,
        StatusCode::OK,
        "a missing witness degrades, it does not fail"
    );
    let v: serde_json::Value = serde_json::from_str(&ready).unwrap();
    assert_eq!(v["witnesses"]["status"], "degraded", "{v}");
    assert_eq!(
        v["witnesses"]["missing"],
        serde_json::json!(["down"]),
        "{v}"
    );
    assert_eq!(v["witnesses"]["configured"], 3, "{v}");
    assert!(
        v["witnesses"]["failures_total"].as_u64().unwrap() >= 3,
        "{v}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_witness_does_not_hold_the_log_and_its_late_cosignature_is_added() {
    let d = tempfile::tempdir().unwrap();
    let (a, slow) = (Honest::new("alpha"), Honest::new("slow"));
    let inst = open(
        &d.path().join("data"),
        vec![a.clone() as Arc<dyn CheckpointWitness>, slow.clone()],
    );
    // The first round (the empty log at start) is through before the witness stalls.
    let (i2, dd) = (Arc::clone(&inst), d.path().to_owned());
    blocking(move || sign(&i2, &dd, 1));
    *slow.hold.lock().unwrap() = true;
    let (i2, dd) = (Arc::clone(&inst), d.path().to_owned());
    // Returns although "slow" never answers while held (no time bound: it would hang).
    blocking(move || sign(&i2, &dd, 2));
    let app = hallmark_instance::router(Arc::clone(&inst), hallmark_instance::LogWrites::open());
    let (_, note) = get(&app, "/checkpoint").await;
    assert_eq!(note.lines().nth(1), Some("2"));
    assert_eq!(cosigners(&note), ["alpha"], "{note}");
    *slow.hold.lock().unwrap() = false;
    let mut late = Vec::new();
    for _ in 0..400 {
        late = cosigners(&get(&app, "/checkpoint").await.1);
        if late.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(late, ["alpha", "slow"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restarted_log_resyncs_by_409_and_a_forked_copy_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let w = Honest::new("alpha");
    let inst = open(&data, vec![w.clone() as Arc<dyn CheckpointWitness>]);
    let (i2, dd) = (Arc::clone(&inst), d.path().to_owned());
    blocking(move || (1..=2).for_each(|n| sign(&i2, &dd, n)));
    drop(inst);
    // A copy of the data directory at size 2: the same origin and key.
    let fork = d.path().join("fork");
    copy_dir(&data, &fork);
    // Restarted (a new cosigner that starts from old size 0): 409 → proof from size 2.
    let inst = open(&data, vec![w.clone() as Arc<dyn CheckpointWitness>]);
    let (i2, dd) = (Arc::clone(&inst), d.path().to_owned());
    blocking(move || sign(&i2, &dd, 3));
    assert!(*w.conflicts.lock().unwrap() >= 1);
    assert_eq!(w.state.lock().unwrap().unwrap().0, 3);
    let good_root = w.state.lock().unwrap().unwrap().1;
    drop(inst);
    // The copy appends something else at size 3: the witness refuses it.
    let forked = open(&fork, vec![w.clone() as Arc<dyn CheckpointWitness>]);
    let (i2, dd) = (Arc::clone(&forked), d.path().to_owned());
    blocking(move || sign(&i2, &dd, 4));
    let app = hallmark_instance::router(Arc::clone(&forked), hallmark_instance::LogWrites::open());
    let (_, note) = get(&app, "/checkpoint").await;
    assert_eq!(note.lines().nth(1), Some("3"));
    assert!(
        cosigners(&note).is_empty(),
        "the fork got a cosignature: {note}"
    );
    assert_eq!(w.state.lock().unwrap().unwrap(), (3, good_root));
    let r = forked.witness_report().unwrap();
    assert_eq!(r.missing, ["alpha"]);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

/// The log's HTTP witness client against a real `hallmark-witness` server on loopback,
/// and the published checkpoint checked by the client's policy (both logs' vkeys from
/// `/witness-policy`): accepted with the witness's cosignature, refused once it is gone.
#[tokio::test(flavor = "multi_thread")]
async fn a_real_witness_cosigns_and_the_served_policy_accepts_the_checkpoint() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    // The log's identity first (what the witness must be told).
    let first = common::instance(&data);
    let origin = first.log_reader().config().origin();
    let own = first.witness_policy();
    let vkey = own.lines().find(|l| l.starts_with("log ")).unwrap();
    let vkey = vkey.split(' ').nth(1).unwrap().to_owned();
    drop(first);
    let logs = hallmark_witness::LogsConfig::parse(&format!("log {origin} {vkey}\n")).unwrap();
    let w = Arc::new(hallmark_witness::Witness::open(&d.path().join("w"), "w.test", logs).unwrap());
    let wkey = w.key().vkey().to_string();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        axum::serve(listener, hallmark_witness::server::router(w))
            .await
            .unwrap();
    });
    let text = format!(
        "witness alpha {} http://{addr}\ngroup g 1 alpha\nquorum g\n",
        wkey
    );
    let mut cfg = hallmark_instance::InstanceConfig::new(&data, common::URL);
    cfg.witnessing = hallmark_instance::witness_config(&text, Duration::from_secs(5)).unwrap();
    let inst = Arc::new(Instance::open(cfg).unwrap());
    let (i2, dd) = (Arc::clone(&inst), d.path().to_owned());
    blocking(move || (1..=2).for_each(|n| sign(&i2, &dd, n)));
    let app = hallmark_instance::router(Arc::clone(&inst), hallmark_instance::LogWrites::open());
    let (_, note) = get(&app, "/checkpoint").await;
    let (_, policy) = get(&app, "/witness-policy").await;
    let policy = hallmark_witness::Policy::parse(&policy).unwrap();
    let v = policy.check(&note).unwrap();
    assert_eq!(v.checkpoint.size, 2);
    assert_eq!(v.cosigned, ["alpha"]);
    // Without the witness the next checkpoint goes out uncosigned: the policy refuses it.
    server.abort();
    let _ = server.await;
    let (i2, dd) = (Arc::clone(&inst), d.path().to_owned());
    blocking(move || sign(&i2, &dd, 3));
    let (_, note) = get(&app, "/checkpoint").await;
    assert_eq!(note.lines().nth(1), Some("3"));
    let e = policy.check(&note).unwrap_err();
    assert!(e.to_string().contains("quorum"), "{e}");
}
