//! Issue 15 finding 2: checking one entry cost verifiers × 2 × SHA-256 of the payload,
//! with repeated verifiers allowed, on the async workers: two 11 MB requests froze
//! `/healthz` for 18.8 s. Performed here against a loopback server with ONE async
//! worker (the strictest case: any CPU work on it stalls every other request): the
//! issue's attack, then the most work an entry may now cost (16 MiB envelope, 8
//! signatures, 8 certificates of this CA), four at once, while `/checkpoint` is polled.
//! Alone in its test binary, so no other test competes for the cores.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::*;
use hallmark_crypto::{Curve, SigningKey};
use hallmark_instance::router;
use serde_json::json;

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(300)))
        .build()
        .new_agent()
}

fn post(url: &str, body: &[u8]) -> u16 {
    agent()
        .post(format!("{url}/api/v1/log/entries"))
        .header("content-type", "application/json")
        .send(body)
        .unwrap()
        .status()
        .as_u16()
}

/// Sends `bodies` at once; returns their statuses and how long the slowest took.
fn attack(url: &str, bodies: Vec<Vec<u8>>) -> (Vec<u16>, Duration) {
    let t = Instant::now();
    let threads: Vec<_> = bodies
        .into_iter()
        .map(|b| {
            let url = url.to_owned();
            std::thread::spawn(move || post(&url, &b))
        })
        .collect();
    let statuses = threads.into_iter().map(|t| t.join().unwrap()).collect();
    (statuses, t.elapsed())
}

/// The issue's request: an 8 MiB payload, one signature that verifies with nothing,
/// and 1,000 copies of one public key as verifiers.
fn issue_attack_body() -> Vec<u8> {
    let key = SigningKey::generate(Curve::P256).unwrap();
    let payload = vec![b'x'; 8 << 20];
    let env = json!({"payload": STANDARD.encode(&payload), "payloadType": "application/vnd.in-toto+json",
        "signatures": [{"sig": STANDARD.encode(key.sign(b"something else").unwrap())}]});
    let pk = STANDARD.encode(key.public_key().to_pem());
    let verifiers = vec![pk; 1000];
    json!({"kind": "dsse", "apiVersion": "0.0.1", "spec": {"proposedContent": {"envelope": env.to_string(), "verifiers": verifiers}}})
        .to_string()
        .into_bytes()
}

#[test]
fn cpu_heavy_entries_leave_other_requests_answered() {
    let d = tempfile::tempdir().unwrap();
    let inst = instance(d.path());
    let app = router(Arc::clone(&inst), unlimited());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let l = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(l, app.into_make_service_with_connect_info::<SocketAddr>())
                .with_graceful_shutdown(async {
                    let _ = stop_rx.await;
                })
                .await
                .unwrap();
        });
    });

    // The most work an entry may cost now: four of them, each a 16 MiB envelope with 8
    // signatures by 8 keys certified by this instance's CA.
    let signers: Vec<(SigningKey, String)> = (0..8)
        .map(|i| certified(d.path(), email(&format!("u{i}@example.com"))))
        .collect();
    let keys: Vec<&SigningKey> = signers.iter().map(|(k, _)| k).collect();
    let pems: Vec<&str> = signers.iter().map(|(_, c)| c.as_str()).collect();
    let heavy: Vec<Vec<u8>> = (0..4u8)
        .map(|n| {
            let mut payload = vec![b'y'; 11 << 20];
            payload[0] = b'0' + n;
            dsse_request(&payload, &keys, &pems)
        })
        .collect();
    let issue_bodies = vec![issue_attack_body(), issue_attack_body()];

    // Poll /checkpoint throughout, recording the slowest answer.
    let stop = Arc::new(AtomicBool::new(false));
    let slowest = Arc::new(Mutex::new((Duration::ZERO, 0u32)));
    let pinger = {
        let (stop, slowest, url) = (Arc::clone(&stop), Arc::clone(&slowest), url.clone());
        std::thread::spawn(move || {
            let a = agent();
            while !stop.load(Ordering::SeqCst) {
                let t = Instant::now();
                let s = a.get(format!("{url}/checkpoint")).call().unwrap().status();
                assert_eq!(s.as_u16(), 200);
                let mut g = slowest.lock().unwrap();
                g.0 = g.0.max(t.elapsed());
                g.1 += 1;
                drop(g);
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    std::thread::sleep(Duration::from_millis(200));

    let (issue_statuses, issue_took) = attack(&url, issue_bodies);
    let (heavy_statuses, heavy_took) = attack(&url, heavy);
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::SeqCst);
    pinger.join().unwrap();
    let _ = stop_tx.send(());
    server.join().unwrap();

    let (worst, pings) = *slowest.lock().unwrap();
    eprintln!(
        "issue's attack (2 × {} MiB, 1,000 repeated verifiers): {issue_statuses:?} in {issue_took:?}; \
         4 heaviest allowed entries: {heavy_statuses:?} in {heavy_took:?}; \
         {pings} polls of /checkpoint, the slowest answered in {worst:?}",
        8 * 4 / 3
    );
    assert!(
        issue_statuses.iter().all(|s| *s == 400),
        "{issue_statuses:?}"
    );
    assert!(
        heavy_statuses.iter().all(|s| *s == 201),
        "{heavy_statuses:?}"
    );
    assert!(
        worst < Duration::from_secs(5),
        "/checkpoint took {worst:?} to answer while entries were checked"
    );
}
