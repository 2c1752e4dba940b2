//! The CI line of issue 20 §3: the monitor, run against a running hub's transparency log,
//! stays silent on normal pushes and reports a signature for a watched identity made
//! outside the hub's issuer (exit 1, naming identity, issuer and log index); the hub's own
//! monitor shows the same alert for the org (API and org page, members only), once,
//! across restarts and a replica re-judging the same entries.
//!
//! The injection: the hub's log API takes only certificates its own CA issued, and the
//! hub holds its log's lock while it runs. So the hub is stopped and `hallmark sigstore
//! serve --log-accept-foreign-certificates` is run on the hub's instance directory (the
//! same log, key and URL): what an operator (or an intruder with the log's files) who
//! reconfigures the instance can do. A second instance (another issuer) certifies
//! `HUB/alice`; `hallmark sign sigstore` gets its certificate there and logs the
//! signature through the hub's instance API. Then the hub starts again.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

use crate::Cmd;
use crate::keyless::free_port;
use crate::pull::model_with;

/// Bounded waits: 600 × 100 ms (the hub polls every second).
const TRIES: usize = 600;

/// A child process killed on drop.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// GET `url` (as `token` if given): status and body.
fn get(url: &str, token: Option<&str>) -> (u16, String) {
    let mut req = agent().get(url);
    if let Some(t) = token {
        req = req.header("Authorization", &format!("Bearer {t}"));
    }
    match req.call() {
        Ok(mut r) => (
            r.status().as_u16(),
            r.body_mut().read_to_string().unwrap_or_default(),
        ),
        Err(_) => (0, String::new()),
    }
}

fn get_json(url: &str, token: Option<&str>) -> Value {
    let (status, body) = get(url, token);
    assert_eq!(status, 200, "{url}: {body}");
    serde_json::from_str(&body).unwrap()
}

fn put_json(url: &str, token: &str, body: &Value) -> (u16, Value) {
    let mut r = agent()
        .put(url)
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", "application/json")
        .send(body.to_string())
        .unwrap();
    let text = r.body_mut().read_to_string().unwrap();
    (
        r.status().as_u16(),
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Waits until `url` answers 200.
fn wait_up(url: &str) {
    for _ in 0..TRIES {
        if get(url, None).0 == 200 {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{url} did not come up");
}

fn hallmark(args: &[&str], dir: &Path) -> Proc {
    Proc(
        Command::new(env!("CARGO_BIN_EXE_hallmark"))
            .args(args)
            .arg("--data-dir")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// A hub on a fixed port (it keeps its URL, hence its identities and log, across
/// restarts), polling its log every second.
struct Hub {
    data: PathBuf,
    port: u16,
    url: String,
}

impl Hub {
    fn start(&self) -> Proc {
        self.start_with(&[])
    }

    fn start_with(&self, extra: &[&str]) -> Proc {
        let listen = format!("127.0.0.1:{}", self.port);
        let mut args = vec![
            "hub",
            "serve",
            "--listen",
            &listen,
            "--public-url",
            &self.url,
            "--monitor-interval",
            "1",
        ];
        args.extend_from_slice(extra);
        let p = hallmark(&args, &self.data);
        wait_up(&format!("{}/readyz", self.url));
        p
    }

    fn admin(&self, args: &[&str]) -> String {
        let out = Cmd::new(["hub", "admin", "--data-dir"])
            .arg(&self.data)
            .args(args)
            .run();
        out.expect(0, &[]);
        out.stdout.trim().to_owned()
    }

    fn push(&self, root: &Path, version: &str, token: &str) {
        let dir = model_with(root, &format!("m{version}"), version, "w.bin", &[7; 1000]);
        Cmd::new(["push".as_ref(), dir.as_os_str(), "acme/m".as_ref()])
            .opt("--hub", &self.url)
            .opt("--token", token)
            .arg("-q")
            .run()
            .expect(0, &[]);
    }

    /// The size of the log's checkpoint now.
    fn log_size(&self) -> u64 {
        let (status, note) = get(&format!("{}/checkpoint", self.url), None);
        assert_eq!(status, 200, "{note}");
        note.lines().nth(1).unwrap().parse().unwrap()
    }

    /// Waits until the hub's monitor has judged the whole log for acme; its alerts.
    fn judged(&self, token: &str) -> Vec<Value> {
        let size = self.log_size();
        for _ in 0..TRIES {
            let w = get_json(&format!("{}/api/orgs/acme/watch", self.url), Some(token));
            if w["tree_size"].as_u64() == Some(size) {
                let a = get_json(
                    &format!("{}/api/orgs/acme/watch/alerts", self.url),
                    Some(token),
                );
                return a.as_array().unwrap().clone();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the hub's monitor did not reach tree size {size}");
    }
}

/// The log key (PEM) from a trust config.
fn log_key_pem(tc: &Value) -> String {
    let der = B64
        .decode(
            tc["trustedRoot"]["tlogs"][0]["publicKey"]["rawBytes"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    let b64 = B64.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        lines.join("\n")
    )
}

fn monitor(hub: &Hub, root: &Path) -> crate::Out {
    Cmd::new(["log", "monitor"])
        .arg(&hub.url)
        .opt("--public-key", root.join("log.pub"))
        .opt("--state", root.join("monitor-state.json"))
        .opt("--identity", format!("{}/alice", hub.url))
        .opt("--expected-issuer", &hub.url)
        .run()
}

#[test]
fn a_signature_for_a_watched_identity_from_another_issuer_is_reported_by_both_monitors() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let port = free_port();
    let hub = Hub {
        data: root.join("hub"),
        port,
        url: format!("http://127.0.0.1:{port}"),
    };
    let alice_id = format!("{}/alice", hub.url);
    let running = hub.start();
    hub.admin(&["user", "add", "alice"]);
    hub.admin(&["user", "add", "bob"]);
    hub.admin(&["org", "add", "acme", "--owner", "alice"]);
    let alice = hub.admin(&["token", "alice", "--scope", "write"]);
    let bob = hub.admin(&["token", "bob", "--scope", "write"]);

    // The owner watches her identity: only the hub's issuer may sign for it.
    let watch_url = format!("{}/api/orgs/acme/watch", hub.url);
    let rules = json!({"rules": [{"name": "alice via the hub", "identity": alice_id,
        "expected_issuer": hub.url}]});
    assert_eq!(put_json(&watch_url, &bob, &rules).0, 404, "not a member");
    let long = json!({"rules": [{"identity_regex": "a".repeat(300)}]});
    let (status, refused) = put_json(&watch_url, &alice, &long);
    assert_eq!(status, 400, "{refused}");
    assert!(refused.to_string().contains("identity_regex"), "{refused}");
    let (status, set) = put_json(&watch_url, &alice, &rules);
    assert_eq!(status, 200, "{set}");
    assert_eq!(set["rules"][0]["identity"], alice_id.as_str());
    assert_eq!(get(&format!("{watch_url}/alerts"), Some(&bob)).0, 404);

    // Normal pushes: both monitors stay silent.
    hub.push(root, "1", &alice);
    hub.push(root, "2", &alice);
    let hub_tc: Value = get_json(&format!("{}/trust-config.json", hub.url), None);
    std::fs::write(root.join("log.pub"), log_key_pem(&hub_tc)).unwrap();
    let quiet = monitor(&hub, root);
    quiet.expect(0, &["\"status\":\"ok\""]);
    assert!(!quiet.stdout.contains("\"alert\""), "{quiet:#?}");
    assert_eq!(hub.judged(&alice), Vec::<Value>::new());
    drop(running);

    // Another issuer certifies HUB/alice; the signature goes into the hub's log through
    // its instance API, run with foreign certificates accepted.
    let other_port = free_port();
    let other_url = format!("http://127.0.0.1:{other_port}");
    let _other = hallmark(
        &[
            "sigstore",
            "serve",
            "--listen",
            &format!("127.0.0.1:{other_port}"),
        ],
        &root.join("other"),
    );
    wait_up(&format!("{other_url}/trust-config.json"));
    let hub_listen = format!("127.0.0.1:{port}");
    let hub_log = hallmark(
        &[
            "sigstore",
            "serve",
            "--listen",
            &hub_listen,
            "--public-url",
            &hub.url,
            "--log-accept-foreign-certificates",
        ],
        &hub.data.join("sigstore"),
    );
    wait_up(&format!("{}/trust-config.json", hub.url));
    let mut tc: Value = get_json(&format!("{other_url}/trust-config.json"), None);
    tc["trustedRoot"]["tlogs"] = json!([hub_tc["trustedRoot"]["tlogs"][0]]);
    tc["signingConfig"]["rekorTlogUrls"] = json!([{"url": hub.url, "majorApiVersion": 1,
        "validFor": hub_tc["signingConfig"]["rekorTlogUrls"][0]["validFor"]}]);
    let tc_path = root.join("mixed-trust-config.json");
    std::fs::write(&tc_path, tc.to_string()).unwrap();
    let token = Cmd::new(["sigstore", "token", "--subject", &alice_id, "--data-dir"])
        .arg(root.join("other"))
        .run();
    token.expect(0, &[]);
    let model = model_with(root, "evil", "3", "w.bin", &[9; 1000]);
    let sig = root.join("evil.sig");
    Cmd::new(["sign".as_ref(), "sigstore".as_ref(), model.as_os_str()])
        .opt("--trust-config", &tc_path)
        .opt("--identity-token", token.stdout.trim())
        .opt("--signature", &sig)
        .run()
        .expect(0, &[]);
    let bundle: Value = serde_json::from_slice(&std::fs::read(&sig).unwrap()).unwrap();
    let index = bundle["verificationMaterial"]["tlogEntries"][0]["logIndex"]
        .as_str()
        .unwrap()
        .to_owned();
    drop(hub_log);

    // The hub again (with a webhook whose URL holds a token): the CLI monitor reports
    // the entry and exits 1.
    let (hook_url, hook) = webhook_receiver();
    let running = hub.start_with(&["--incident-webhook", &hook_url]);
    let loud = monitor(&hub, root);
    loud.expect(
        1,
        &[
            "unexpected-issuer",
            &alice_id,
            &other_url,
            &format!("\"log_index\":{index}"),
        ],
    );
    // The hub's monitor reports the same entry for acme, once.
    let alerts = hub.judged(&alice);
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let a = &alerts[0];
    assert_eq!(a["alert"], "unexpected-issuer", "{a}");
    assert_eq!(a["identity"], alice_id.as_str());
    assert_eq!(a["issuer"], other_url.as_str());
    assert_eq!(a["expected_issuer"], hub.url.as_str());
    assert_eq!(a["log_index"].to_string(), index);
    // On the org page for members, not for anyone else.
    let page = get(&format!("{}/acme", hub.url), Some(&alice)).1;
    assert!(
        page.contains("monitor-alerts") && page.contains(&alice_id),
        "{page}"
    );
    let anonymous = get(&format!("{}/acme", hub.url), None).1;
    assert!(!anonymous.contains("monitor-alerts"), "{anonymous}");
    // The webhook got it, naming the org and the alert.
    let posted: Value = serde_json::from_str(&hook.join().unwrap()).unwrap();
    assert_eq!(posted["event"], "monitor.alert", "{posted}");
    assert_eq!(posted["org"], "acme");
    assert_eq!(posted["alerts"][0]["identity"], alice_id.as_str());

    // Restarted, pushed to, and re-judged by a "replica" from the old state: still one
    // alert and one audit entry; the CLI monitor is silent again.
    drop(running);
    let running = hub.start();
    hub.push(root, "4", &alice);
    assert_eq!(hub.judged(&alice).len(), 1);
    drop(running);
    rewind_monitor_state(&hub.data.join("hub.db"));
    let _running = hub.start();
    assert_eq!(hub.judged(&alice).len(), 1);
    assert_eq!(audit_alerts(&hub.data.join("hub.db")), 1);
    monitor(&hub, root).expect(0, &[]);

    // The operator's command shows and changes the same list, under the same limits.
    let shown = hub.admin(&["org", "watch", "acme"]);
    assert!(shown.contains("alice via the hub"), "{shown}");
    Cmd::new(["hub", "admin", "--data-dir"])
        .arg(&hub.data)
        .args([
            "org",
            "watch",
            "acme",
            "--identity-regex",
            "(((a{100}){100}){100})",
        ])
        .run()
        .expect(2, &["rule 0: identity_regex"]);
    let set = hub.admin(&["org", "watch", "acme", "--identity", "x", "--first-signer"]);
    assert!(set.contains("\"first_signer\": true"), "{set}");
}

fn db(path: &Path) -> (tokio::runtime::Runtime, sqlx::SqlitePool) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let pool = rt
        .block_on(sqlx::SqlitePool::connect(&format!(
            "sqlite://{}",
            path.display()
        )))
        .unwrap();
    (rt, pool)
}

/// Sets acme's monitor state back to before its first poll, as a replica that had not
/// seen the others' progress.
fn rewind_monitor_state(path: &Path) {
    let (rt, pool) = db(path);
    rt.block_on(sqlx::query("UPDATE org_watch SET state_json = NULL").execute(&pool))
        .unwrap();
}

fn audit_alerts(path: &Path) -> i64 {
    let (rt, pool) = db(path);
    let row: (i64,) = rt
        .block_on(
            sqlx::query_as("SELECT count(*) FROM admin_events WHERE action = 'monitor.alert'")
                .fetch_one(&pool),
        )
        .unwrap();
    row.0
}

/// A one-shot webhook receiver on loopback: its URL (with a token in the path) and the
/// body of the first POST.
fn webhook_receiver() -> (String, std::thread::JoinHandle<String>) {
    use std::io::{BufRead as _, BufReader, Read as _, Write as _};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/hook/SECRET-TOKEN-123",
        listener.local_addr().unwrap()
    );
    let handle = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(conn.try_clone().unwrap());
        let mut len = 0usize;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap();
            }
            if line == "\r\n" || line.is_empty() {
                break;
            }
        }
        let mut body = vec![0; len.min(1 << 20)];
        reader.read_exact(&mut body).unwrap();
        conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
            .unwrap();
        String::from_utf8(body).unwrap()
    });
    (url, handle)
}
