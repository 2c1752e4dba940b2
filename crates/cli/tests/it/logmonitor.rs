//! `hallmark log monitor` against logs made here: entries signed by alice and bob through
//! the expected issuer and another one; watch rules, first-signer, forks and rollbacks,
//! and a log serving oversized tiles.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hallmark_ca::{Ca, CaMaterial, SanIdentity};
use hallmark_crypto::{Curve, SigningKey};
use hallmark_tlog::{DirLock, DirStore, LogConfig, LogKey, Options, Sequencer, TileStorage};
use serde_json::{Value, json};

use crate::Cmd;

const HUB: &str = "https://hub.test";
const ALICE: &str = "https://hub.test/alice";
const BOB: &str = "https://hub.test/bob";

struct Log {
    dir: tempfile::TempDir,
    key: Arc<LogKey>,
    seq: Sequencer,
    ca: Ca,
}

impl Log {
    fn new(cfg: LogConfig) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let key = Arc::new(LogKey::generate(hallmark_tlog::LogKeyType::EcdsaP256).unwrap());
        Self::with_key(dir, key, cfg)
    }

    fn with_key(dir: tempfile::TempDir, key: Arc<LogKey>, cfg: LogConfig) -> Self {
        let store = Arc::new(DirStore::open(dir.path().join("public")).unwrap());
        let lock = Arc::new(DirLock::open(dir.path().join("lock")).unwrap());
        let seq = Sequencer::open(
            cfg,
            Arc::clone(&key),
            store as Arc<dyn TileStorage>,
            lock,
            Options::default(),
        )
        .unwrap();
        std::fs::write(dir.path().join("log.pub"), key.verifier().to_pem()).unwrap();
        let ca = Ca::new(
            CaMaterial::load_or_create(&dir.path().join("ca"), "Test").unwrap(),
            Duration::from_secs(600),
        );
        Self { dir, key, seq, ca }
    }

    fn cert(&self, identity: &str, issuer: &str) -> Vec<u8> {
        let k = SigningKey::generate(Curve::P256).unwrap();
        let san = SanIdentity::Uri(identity.into());
        self.ca
            .issue(k.public_key().spki_der(), &san, issuer, SystemTime::now())
            .unwrap()
            .leaf_der
    }

    /// A Rekor v1 `dsse` entry signed by `identity` certified for `issuer`.
    fn dsse(&self, identity: &str, issuer: &str) {
        let pem = hallmark_ca::material::pem("CERTIFICATE", &self.cert(identity, issuer));
        let body = json!({"apiVersion": "0.0.1", "kind": "dsse", "spec": {
            "signatures": [{"signature": "c2ln", "verifier": B64.encode(pem)}]}});
        self.seq.append(body.to_string().into_bytes()).unwrap();
    }

    /// A Rekor v2 `hashedrekord` 0.0.2 entry.
    fn hashedrekord_v2(&self, identity: &str, issuer: &str) {
        let der = self.cert(identity, issuer);
        let body = json!({"apiVersion": "0.0.2", "kind": "hashedrekord", "spec": {
            "hashedRekordV002": {"data": {"algorithm": "SHA2_256", "digest": "AA=="},
            "signature": {"content": "c2ln", "verifier": {"keyDetails": "PKIX_ECDSA_P256_SHA_256",
            "x509Certificate": {"rawBytes": B64.encode(der)}}}}}});
        self.seq.append(body.to_string().into_bytes()).unwrap();
    }

    fn public(&self) -> PathBuf {
        self.dir.path().join("public")
    }

    fn monitor(&self, state: &Path) -> Cmd {
        Cmd::new(["log", "monitor"])
            .arg(self.public())
            .opt("--public-key", self.dir.path().join("log.pub"))
            .opt("--state", state)
    }
}

fn cfg() -> LogConfig {
    LogConfig {
        host: "log.test".into(),
        tree_id: 5,
    }
}

/// The JSON lines of a run: (alerts, status line).
fn lines(stdout: &str) -> (Vec<Value>, Value) {
    let all: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (status, alerts): (Vec<_>, Vec<_>) = all.into_iter().partition(|v| v["status"] == "ok");
    assert_eq!(status.len(), 1, "{stdout}");
    (alerts, status.into_iter().next().unwrap())
}

#[test]
fn watch_rules_report_unexpected_issuers_and_watched_identities() {
    let log = Log::new(cfg());
    let state = log.dir.path().join("state.json");
    // Alice from the CLI with her issuer; any entry by a "b…" identity from a file.
    let rules = log.dir.path().join("rules.json");
    let file = json!({"rules": [{"name": "b-team", "identity_regex": r"https://hub\.test/b.*"}]});
    std::fs::write(&rules, file.to_string()).unwrap();
    let run = |c: Cmd| {
        c.opt("--identity", ALICE)
            .opt("--expected-issuer", HUB)
            .opt("--watch", &rules)
            .run()
    };
    log.dsse(ALICE, HUB);
    log.dsse(ALICE, HUB);
    let out = run(log.monitor(&state).arg("--once"));
    out.expect(0, &[]);
    let (alerts, status) = lines(&out.stdout);
    assert!(alerts.is_empty(), "{}", out.stdout);
    assert_eq!(
        (status["tree_size"].as_u64(), status["entries"].as_u64()),
        (Some(2), Some(2))
    );
    // Alice's identity certified by another issuer, and bob (watched by regex).
    log.dsse(ALICE, "https://evil.test");
    log.dsse(BOB, HUB);
    let out = run(log.monitor(&state));
    out.expect(1, &[]);
    let (alerts, _) = lines(&out.stdout);
    assert_eq!(alerts.len(), 2, "{}", out.stdout);
    assert_eq!(alerts[0]["alert"], "unexpected-issuer");
    assert_eq!(alerts[0]["log_index"], 2);
    assert_eq!(alerts[0]["identity"], ALICE);
    assert_eq!(alerts[0]["issuer"], "https://evil.test");
    assert_eq!(alerts[0]["expected_issuer"], HUB);
    assert_eq!(alerts[1]["alert"], "watched-identity");
    assert_eq!(
        (
            alerts[1]["log_index"].as_u64(),
            alerts[1]["identity"].as_str()
        ),
        (Some(3), Some(BOB))
    );
    assert_eq!(alerts[1]["rule"], "b-team");
    assert_eq!(alerts[1]["origin"], "log.test - 5");
    // Remembered: the next poll reads nothing new and is silent.
    let out = run(log.monitor(&state));
    out.expect(0, &[]);
    assert_eq!(lines(&out.stdout).1["entries"], 0);
}

#[test]
fn first_signer_alerts_on_a_new_issuer_for_an_identity_on_a_rekor_v2_log() {
    let log = Log::new(LogConfig::rekor_v2("rekor.test"));
    let state = log.dir.path().join("state.json");
    log.hashedrekord_v2(ALICE, HUB);
    log.hashedrekord_v2(BOB, HUB);
    log.monitor(&state)
        .arg("--first-signer")
        .run()
        .expect(0, &[]);
    let saved: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert_eq!(saved["signers"][format!("identity:{ALICE}")], json!([HUB]));
    log.hashedrekord_v2(ALICE, HUB);
    log.hashedrekord_v2(ALICE, "https://accounts.other.test");
    let out = log.monitor(&state).arg("--first-signer").run();
    out.expect(1, &[]);
    let (alerts, status) = lines(&out.stdout);
    assert_eq!(status["origin"], "rekor.test");
    assert_eq!(
        alerts,
        [
            json!({"alert": "first-signer", "log_index": 3, "subject": format!("identity:{ALICE}"),
            "signer": "https://accounts.other.test", "previous_signers": [HUB],
            "origin": "rekor.test"})
        ]
    );
}

#[test]
fn a_fork_or_rollback_is_an_alert_naming_both_trees() {
    let log = Log::new(cfg());
    let state = log.dir.path().join("state.json");
    for _ in 0..3 {
        log.dsse(ALICE, HUB);
    }
    log.monitor(&state).run().expect(0, &[]);
    // Another tree under the same key and origin: same size (fork), bigger and not
    // extending it (fork), smaller (rollback).
    let other_dir = tempfile::tempdir().unwrap();
    let other = Log::with_key(other_dir, Arc::clone(&log.key), cfg());
    let run = |expect_reason: &str, size: u64| {
        let out = Cmd::new(["log", "monitor"])
            .arg(other.public())
            .opt("--public-key", log.dir.path().join("log.pub"))
            .opt("--state", &state)
            .run();
        out.expect(1, &[]);
        let (alerts, _) = lines(&out.stdout);
        assert_eq!(alerts.len(), 1, "{}", out.stdout);
        let a = &alerts[0];
        assert_eq!(a["alert"], "inconsistent-log");
        assert_eq!(a["reason"], expect_reason);
        assert_eq!(
            (a["saved_size"].as_u64(), a["log_size"].as_u64()),
            (Some(3), Some(size))
        );
        assert_eq!(a["saved_root"].as_str().unwrap().len(), 64);
        assert_ne!(a["saved_root"], a["log_root"]);
    };
    other.dsse(BOB, HUB);
    run("rollback", 1);
    other.dsse(BOB, HUB);
    other.dsse(BOB, HUB);
    run("fork", 3);
    other.dsse(BOB, HUB);
    run("fork", 4);
    // The saved checkpoint was kept: the real log still verifies from it.
    log.monitor(&state).run().expect(0, &[]);
}

/// A log whose tiles are endless: the monitor stops reading at the tile's size limit.
#[test]
fn a_log_serving_huge_tiles_is_bounded() {
    let log = Log::new(cfg());
    for _ in 0..3 {
        log.dsse(ALICE, HUB);
    }
    let public = log.public();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let written = Arc::new(AtomicU64::new(0));
    let w = Arc::clone(&written);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut s) = conn else { return };
            let mut req = [0u8; 4096];
            let n = s.read(&mut req).unwrap_or(0);
            let req = String::from_utf8_lossy(&req[..n]).to_string();
            let path = req.split(' ').nth(1).unwrap_or("/").trim_start_matches('/');
            // The checkpoint and entry bundles as stored; hash tiles endless.
            if path == "checkpoint" || path.starts_with("tile/entries/") {
                let body = std::fs::read(public.join(path)).unwrap_or_default();
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(head.as_bytes());
                let _ = s.write_all(&body);
                continue;
            }
            // A 1 GiB "hash tile", written until the client hangs up.
            let _ = s.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-length: 1073741824\r\nconnection: close\r\n\r\n",
            );
            let chunk = vec![0u8; 64 * 1024];
            while s.write_all(&chunk).is_ok() {
                w.fetch_add(chunk.len() as u64, Ordering::SeqCst);
                if w.load(Ordering::SeqCst) >= 1 << 30 {
                    break;
                }
            }
        }
    });
    let state = log.dir.path().join("state.json");
    let out = Cmd::new(["log", "monitor"])
        .arg(format!("http://{addr}"))
        .opt("--public-key", log.dir.path().join("log.pub"))
        .opt("--state", &state)
        .run();
    out.expect(2, &["larger than", "limit"]);
    std::thread::sleep(Duration::from_millis(200));
    let sent = written.load(Ordering::SeqCst);
    eprintln!("bytes the server wrote before the monitor hung up: {sent}");
    // Before the per-object limits the monitor read 16.7 MB (256 maximal entries) of any
    // object; a hash tile is now cut at 8 KiB (what the server wrote beyond that sat in
    // the loopback socket buffers).
    assert!(sent < 12 * 1024 * 1024, "{sent} bytes");
    assert!(!state.exists(), "nothing verified, nothing saved");
}

/// Alerts are POSTed to the webhook; an unreachable webhook is reported without its URL
/// (which may hold a token) and does not change the verdict.
#[test]
fn alerts_go_to_the_webhook_and_its_url_is_never_printed() {
    let log = Log::new(cfg());
    log.dsse(ALICE, "https://evil.test");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let got = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        while let Ok(n) = s.read(&mut chunk) {
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&buf);
            if let Some(i) = text.find("\r\n\r\n")
                && text[i + 4..].ends_with('}')
            {
                break;
            }
        }
        let _ = s.write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n");
        String::from_utf8_lossy(&buf).into_owned()
    });
    let state = log.dir.path().join("state.json");
    let secret = "s3cr3t-hook-token";
    let out = log
        .monitor(&state)
        .opt("--identity", ALICE)
        .opt("--expected-issuer", HUB)
        .opt("--webhook", format!("http://{addr}/hook/{secret}"))
        .run();
    out.expect(1, &["unexpected-issuer"]);
    let request = got.join().unwrap();
    assert!(
        request.starts_with(&format!("POST /hook/{secret} ")),
        "{request}"
    );
    assert!(
        request.contains(r#""alert":"unexpected-issuer""#),
        "{request}"
    );
    // A webhook nobody listens on: reported, URL withheld, same verdict.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_addr = dead.local_addr().unwrap();
    drop(dead);
    std::fs::remove_file(&state).unwrap();
    let out = log
        .monitor(&state)
        .opt("--identity", ALICE)
        .opt("--expected-issuer", HUB)
        .opt("--webhook", format!("http://{dead_addr}/hook/{secret}"))
        .run();
    out.expect(1, &["webhook not delivered"]);
    assert!(
        !out.stdout.contains(secret) && !out.stderr.contains(secret),
        "{out:#?}"
    );
}
