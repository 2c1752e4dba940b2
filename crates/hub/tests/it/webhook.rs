//! The incident webhook (issue 20 §2, "affected owners are notified"): a local receiver
//! gets one POST per event, naming the incident and the affected revisions with their
//! owners (revoke on open, restore on close); the URL's secret appears in no Debug
//! output of the configuration or the state.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use axum::http::StatusCode;
use serde_json::Value;

use crate::claims::FILES;
use crate::harness::hub_with;
use crate::incidentkit::root_token;

const SECRET: &str = "hook-secret-7f3a9c";

/// Accepts `n` requests on `listener`, answering 200; sends (request line, JSON body).
fn receiver(listener: TcpListener, n: usize) -> mpsc::Receiver<(String, Value)> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for _ in 0..n {
            let Ok((mut sock, _)) = listener.accept() else {
                return;
            };
            let mut r = BufReader::new(sock.try_clone().unwrap());
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            let mut len = 0;
            loop {
                let mut h = String::new();
                r.read_line(&mut h).unwrap();
                if h.trim().is_empty() {
                    break;
                }
                if let Some((k, v)) = h.split_once(':')
                    && k.eq_ignore_ascii_case("content-length")
                {
                    len = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; len];
            r.read_exact(&mut body).unwrap();
            sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .unwrap();
            let _ = tx.send((line, serde_json::from_slice(&body).unwrap()));
        }
    });
    rx
}

#[tokio::test]
async fn the_webhook_names_the_incident_and_the_affected_owners_and_never_shows_its_secret() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let got = receiver(listener, 2);
    let url = format!("http://hook:{SECRET}@127.0.0.1:{port}/hooks/{SECRET}?token={SECRET}");
    let h = hub_with(|c| c.incident_webhook = Some(url.parse().unwrap())).await;
    for shown in [format!("{:?}", h.state.config), format!("{:?}", h.state)] {
        assert!(!shown.contains(SECRET), "the secret is in Debug: {shown}");
        assert!(shown.contains(&format!("127.0.0.1:{port}")), "{shown}");
    }
    let root = root_token(&h).await;
    h.push(&h.alice, "alice/a", FILES, false).await;
    h.push(&h.alice, "acme/b", FILES, false).await;
    h.push(&h.bob, "bob/c", FILES, false).await;
    let reason = "alice's OIDC account was taken over";
    let id = h.open_incident(&root, reason).await["id"].as_i64().unwrap();

    let (line, v) = got.recv_timeout(Duration::from_secs(60)).unwrap();
    assert!(
        line.starts_with(&format!("POST /hooks/{SECRET}?token={SECRET} ")),
        "{line}"
    );
    assert_eq!(v["event"], "incident.revoke", "{v}");
    assert_eq!(v["incident"]["id"], id);
    assert_eq!(v["incident"]["reason"], reason);
    let mut affected: Vec<(String, String)> = v["affected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            assert_eq!(a["revision"].as_str().unwrap().len(), 40, "{a}");
            (
                a["repo"].as_str().unwrap().into(),
                a["owner"].as_str().unwrap().into(),
            )
        })
        .collect();
    affected.sort();
    assert_eq!(
        affected,
        [
            ("acme/b".into(), "acme".into()),
            ("alice/a".into(), "alice".into())
        ],
        "bob's revision is not affected: {v}"
    );

    let r = h.close_incident(&root, id).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let (_, v) = got.recv_timeout(Duration::from_secs(60)).unwrap();
    assert_eq!(v["event"], "incident.restore", "{v}");
    assert_eq!(v["affected"].as_array().unwrap().len(), 2, "{v}");
    assert!(v["incident"]["closed_at"].is_string(), "{v}");
}
