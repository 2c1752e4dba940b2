//! Keyless signing where users are (issue 18): `hallmark sign MODEL` (Sigstore by default)
//! with ambient GitHub Actions credentials against `hallmark sigstore serve`; the OAuth
//! authorization-code + PKCE flow against a hub's issuer, driven headlessly by this test
//! acting as the browser (loopback redirect, and out of band); the bad inputs (expired or
//! wrong-audience token, no issuer, unreachable CA), each exit 2 with no `model.sig`, and
//! no token in any output.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::{Cmd, Out};

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `hallmark sigstore serve` on a fresh data directory; killed on drop.
struct Instance {
    child: Child,
    url: String,
    data: PathBuf,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Instance {
    fn start(root: &Path) -> Self {
        let data = root.join("instance");
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_hallmark"))
            .args([
                "sigstore",
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--data-dir",
            ])
            .arg(&data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let url = format!("http://127.0.0.1:{port}");
        let inst = Self { child, url, data };
        for _ in 0..300 {
            if inst.data.join("trust-config.json").exists()
                && get(&format!("{}/trust-config.json", inst.url)).0 == 200
            {
                return inst;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("the instance did not start");
    }

    fn token(&self, email: &str) -> String {
        let out = Cmd::new(["sigstore", "token", "--email", email, "--data-dir"])
            .arg(&self.data)
            .run();
        out.expect(0, &[]);
        out.stdout.trim().to_owned()
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

/// GET: status and body.
fn get(url: &str) -> (u16, String) {
    match agent().get(url).call() {
        Ok(mut r) => (
            r.status().as_u16(),
            r.body_mut().read_to_string().unwrap_or_default(),
        ),
        Err(_) => (0, String::new()),
    }
}

fn model(root: &Path) -> PathBuf {
    let m = root.join("model");
    std::fs::create_dir_all(&m).unwrap();
    std::fs::write(m.join("config.json"), b"{\"hidden\": 8}\n").unwrap();
    std::fs::write(m.join("weights.bin"), vec![7u8; 4096]).unwrap();
    m
}

/// An unsigned JWT with these claims (enough for the client-side checks, which run first).
fn fake_jwt(claims: &str) -> String {
    format!(
        "{}.{}.c2lnbmF0dXJl",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"ES256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims)
    )
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Serves one GitHub Actions OIDC token request: checks the request token and the
/// audience, answers `{"value": token}`. Returns the port and what the request looked like.
fn actions_endpoint(token: String) -> (u16, std::thread::JoinHandle<String>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let h = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut head = String::new();
        let mut r = BufReader::new(s.try_clone().unwrap());
        loop {
            let mut line = String::new();
            if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
            head.push_str(&line);
        }
        let ok = head.contains("audience=sigstore")
            && head
                .to_ascii_lowercase()
                .contains("authorization: bearer actions-request-secret");
        let body = if ok {
            format!("{{\"value\":\"{token}\"}}")
        } else {
            "{}".into()
        };
        let status = if ok { "200 OK" } else { "403 Forbidden" };
        let _ = write!(
            s,
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        head
    });
    (port, h)
}

fn assert_no_secret(out: &Out, secrets: &[&str]) {
    for s in secrets {
        assert!(
            !out.stdout.contains(s) && !out.stderr.contains(s),
            "a secret appears in the output: {out:#?}"
        );
    }
}

#[test]
fn ambient_github_actions_credentials_sign_and_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let inst = Instance::start(tmp.path());
    let tc = inst.data.join("trust-config.json");
    let token = inst.token("alice@example.com");
    let (port, request) = actions_endpoint(token.clone());
    let sig = tmp.path().join("model.sig");
    let m = model(tmp.path());
    let out = Cmd::new(["sign".as_ref(), m.as_os_str()])
        .opt("--trust_config", &tc)
        .arg("--use_ambient_credentials")
        .opt("--signature", &sig)
        .env("XDG_CONFIG_HOME", tmp.path())
        .env("GITHUB_ACTIONS", "true")
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            format!("http://127.0.0.1:{port}/token?api-version=2.0"),
        )
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "actions-request-secret")
        .run();
    out.expect(0, &["Signing succeeded"]);
    assert_no_secret(&out, &[&token, "actions-request-secret"]);
    let head = request.join().unwrap();
    assert!(head.contains("api-version=2.0&audience=sigstore"), "{head}");
    // `verify MODEL` defaults to sigstore, as model_signing's does.
    Cmd::new(["verify".as_ref(), m.as_os_str()])
        .opt("--signature", &sig)
        .opt("--trust_config", &tc)
        .opt("--identity", "alice@example.com")
        .opt("--identity_provider", &inst.url)
        .run()
        .expect(0, &["Verification succeeded"]);

    // GitHub Actions without `id-token: write`: exit 2 naming the provider and the variable.
    let sig2 = tmp.path().join("none.sig");
    Cmd::new(["sign".as_ref(), m.as_os_str()])
        .opt("--trust_config", &tc)
        .arg("--use_ambient_credentials")
        .opt("--signature", &sig2)
        .env("GITHUB_ACTIONS", "true")
        .env("ACTIONS_ID_TOKEN_REQUEST_URL", "")
        .run()
        .expect(
            2,
            &[
                "GitHub Actions",
                "ACTIONS_ID_TOKEN_REQUEST_URL",
                "id-token: write",
            ],
        );
    assert!(!sig2.exists());
    // GitLab: the job's SIGSTORE_ID_TOKEN.
    let sig3 = tmp.path().join("gitlab.sig");
    let bob = inst.token("bob@example.com");
    let out = Cmd::new(["sign".as_ref(), "sigstore".as_ref(), m.as_os_str()])
        .opt("--trust-config", &tc)
        .arg("--use-ambient-credentials")
        .opt("--signature", &sig3)
        .env("GITLAB_CI", "true")
        .env("SIGSTORE_ID_TOKEN", &bob)
        .run();
    out.expect(0, &["Signing succeeded"]);
    assert_no_secret(&out, &[&bob]);
    Cmd::verify_sigstore(&m, &sig3, "bob@example.com", &inst.url, &tc)
        .run()
        .expect(0, &[]);
}

#[test]
fn bad_tokens_and_unreachable_services_exit_2_without_a_signature() {
    let tmp = tempfile::tempdir().unwrap();
    let m = model(tmp.path());
    let sig = tmp.path().join("model.sig");
    // A trust config whose CA and log listen nowhere, and which names no OIDC issuer.
    let dead = format!("http://127.0.0.1:{}", free_port());
    let mut tc: serde_json::Value =
        serde_json::from_str(hallmark_sigstore::PUBLIC_GOOD_TRUST_CONFIG_JSON).unwrap();
    for list in ["caUrls", "rekorTlogUrls"] {
        tc["signingConfig"][list][0]["url"] = dead.clone().into();
    }
    tc["signingConfig"]["oidcUrls"] = serde_json::json!([]);
    let tc_path = tmp.path().join("tc.json");
    std::fs::write(&tc_path, tc.to_string()).unwrap();
    let exp = now() + 600;
    let cases = [
        (
            fake_jwt(&format!(
                r#"{{"iss":"https://issuer.example","sub":"a","aud":"sigstore","exp":{}}}"#,
                now() - 3600
            )),
            vec!["expired at", "--identity-token", "https://issuer.example"],
        ),
        (
            fake_jwt(&format!(
                r#"{{"iss":"https://issuer.example","sub":"a","aud":"other","exp":{exp}}}"#
            )),
            vec![r#"audience is ["other"], not "sigstore""#],
        ),
        (
            fake_jwt(&format!(
                r#"{{"iss":"https://issuer.example","sub":"a","aud":"sigstore","exp":{exp}}}"#
            )),
            vec![dead.as_str(), "api/v2/signingCert"],
        ),
    ];
    for (token, words) in cases {
        let out = Cmd::new(["sign".as_ref(), m.as_os_str()])
            .opt("--trust_config", &tc_path)
            .opt("--identity_token", &token)
            .opt("--signature", &sig)
            .run();
        out.expect(2, &words);
        assert_no_secret(&out, &[&token]);
        assert_eq!(out.stderr.trim().lines().count(), 1, "one line: {out:#?}");
        assert!(!sig.exists(), "a failed signing wrote {}", sig.display());
    }
    // No token and no issuer to log in with.
    Cmd::new(["sign".as_ref(), m.as_os_str()])
        .opt("--trust_config", &tc_path)
        .opt("--signature", &sig)
        .env("SIGSTORE_ID_TOKEN", "")
        .run()
        .expect(2, &["names no OIDC issuer", "tc.json"]);
    assert!(!sig.exists());
}

/// A hub with user alice (password known); killed on drop.
struct Hub {
    child: Child,
    url: String,
    data: PathBuf,
}

impl Drop for Hub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const ALICE_PASSWORD: &str = "alice-correct-horse";

impl Hub {
    fn start(root: &Path) -> Self {
        let data = root.join("hub");
        let (child, url) = crate::hubproc::spawn_hub(&data);
        let mut add = Command::new(env!("CARGO_BIN_EXE_hallmark"))
            .args(["hub", "admin", "--data-dir"])
            .arg(&data)
            .args(["user", "add", "alice", "--password-stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        writeln!(add.stdin.take().unwrap(), "{ALICE_PASSWORD}").unwrap();
        assert!(add.wait().unwrap().success());
        Self { child, url, data }
    }
}

/// The query of `url` as pairs (decoded).
fn query_of(url: &str) -> Vec<(String, String)> {
    let q = url.split_once('?').map_or("", |(_, q)| q);
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), percent_decode(v)))
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (b[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

fn form(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            let enc: String = v
                .bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                        char::from(b).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect();
            format!("{k}={enc}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Acts as the user's browser: opens the authorization URL, logs in as alice and allows.
/// Returns the status and Location (or body) of the answer to the consent post.
fn browser_login(auth_url: &str, password: &str) -> (u16, String) {
    let (status, page) = get(auth_url);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Sign models as"), "{page}");
    let base = auth_url.split_once('?').unwrap().0;
    let mut fields = query_of(auth_url);
    fields.push(("username".into(), "alice".into()));
    fields.push(("password".into(), password.into()));
    fields.push(("decision".into(), "allow".into()));
    let mut r = agent()
        .post(base)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(form(&fields))
        .unwrap();
    let status = r.status().as_u16();
    let loc = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = r.body_mut().read_to_string().unwrap_or_default();
    (status, loc.unwrap_or(body))
}

/// Runs `hallmark sign MODEL --trust_config TC [extra]` with stderr piped; returns the
/// child and the authorization URL it printed.
fn start_interactive(
    model: &Path,
    tc: &Path,
    sig: &Path,
    extra: &[&str],
) -> (Child, String, std::thread::JoinHandle<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hallmark"))
        .arg("sign")
        .arg(model)
        .arg("--trust_config")
        .arg(tc)
        .arg("--signature")
        .arg(sig)
        .args(extra)
        .env("BROWSER", "true")
        .env_remove("SIGSTORE_ID_TOKEN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    let url = loop {
        let mut line = String::new();
        assert!(
            err.read_line(&mut line).unwrap() > 0,
            "no URL printed: {seen}"
        );
        seen.push_str(&line);
        if let Some(u) = line
            .trim()
            .strip_prefix("http")
            .filter(|_| line.starts_with("    "))
        {
            break format!("http{u}");
        }
    };
    let rest = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        seen + &s
    });
    (child, url, rest)
}

#[test]
fn oauth_login_at_the_hub_signs_as_the_hub_identity() {
    let tmp = tempfile::tempdir().unwrap();
    let hub = Hub::start(tmp.path());
    let tc = tmp.path().join("hub-tc.json");
    let (status, body) = get(&format!("{}/trust-config.json", hub.url));
    assert_eq!(status, 200);
    std::fs::write(&tc, body).unwrap();
    let m = model(tmp.path());
    let identity = format!("{}/alice", hub.url);

    // Browser flow: the redirect goes to hallmark's loopback listener.
    let sig = tmp.path().join("browser.sig");
    let (mut child, url, stderr) = start_interactive(&m, &tc, &sig, &[]);
    assert!(
        url.starts_with(&format!("{}/oauth/authorize?", hub.url)),
        "{url}"
    );
    assert!(url.contains("code_challenge_method=S256"), "{url}");
    let (status, location) = browser_login(&url, ALICE_PASSWORD);
    assert!(matches!(status, 302 | 303), "{status} {location}");
    assert!(
        location.starts_with("http://localhost:") && location.contains("code="),
        "{location}"
    );
    let code = query_of(&location)
        .into_iter()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1;
    let (cb, _) = get(&location.replacen("localhost", "127.0.0.1", 1));
    assert_eq!(cb, 200);
    let status = child.wait().unwrap();
    let err = stderr.join().unwrap();
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert!(status.success(), "{err}\n{out}");
    assert!(!err.contains(&code) && !out.contains(&code));
    Cmd::verify_sigstore(&m, &sig, &identity, &hub.url, &tc)
        .run()
        .expect(0, &[]);

    // The code was spent by hallmark: exchanging it again fails.
    let replay = agent()
        .post(&format!("{}/oauth/token", hub.url))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(form(&[
            ("grant_type".into(), "authorization_code".into()),
            ("code".into(), code),
            ("client_id".into(), "sigstore".into()),
            ("redirect_uri".into(), "x".into()),
            ("code_verifier".into(), "a".repeat(43)),
        ]))
        .unwrap();
    assert_eq!(replay.status().as_u16(), 400);

    // Out of band: the hub shows the code, the user pastes it.
    let sig = tmp.path().join("oob.sig");
    let (mut child, url, stderr) = start_interactive(&m, &tc, &sig, &["--oauth_force_oob"]);
    assert!(
        url.contains("redirect_uri=urn%3Aietf%3Awg%3Aoauth%3A2.0%3Aoob"),
        "{url}"
    );
    let (status, page) = browser_login(&url, ALICE_PASSWORD);
    assert_eq!(status, 200, "{page}");
    let code = page
        .split("<pre id=\"code\">")
        .nth(1)
        .unwrap()
        .split("</pre>")
        .next()
        .unwrap()
        .to_owned();
    writeln!(child.stdin.take().unwrap(), "{code}").unwrap();
    let status = child.wait().unwrap();
    let err = stderr.join().unwrap();
    assert!(status.success(), "{err}");
    Cmd::verify_sigstore(&m, &sig, &identity, &hub.url, &tc)
        .run()
        .expect(0, &[]);
}

#[test]
fn hub_authorize_refuses_foreign_redirects_wrong_verifiers_and_password_guessing() {
    let tmp = tempfile::tempdir().unwrap();
    let hub = Hub::start(tmp.path());
    let challenge = "8pll96DTsY99AnyYMjAaSfsnLOw8A5aeAPcUg70ZITs";
    let authorize = |redirect: &str| {
        format!(
            "{}/oauth/authorize?{}",
            hub.url,
            form(&[
                ("response_type".into(), "code".into()),
                ("client_id".into(), "sigstore".into()),
                ("redirect_uri".into(), redirect.into()),
                ("code_challenge".into(), challenge.into()),
                ("code_challenge_method".into(), "S256".into()),
                ("state".into(), "st".into()),
            ])
        )
    };
    // A redirect to another host is refused before any login (no open redirect).
    assert_eq!(get(&authorize("https://evil.example/cb")).0, 400);
    let (status, loc) = browser_login(&authorize("http://127.0.0.1:9/cb"), ALICE_PASSWORD);
    assert_eq!(status, 303, "{loc}");
    let code = query_of(&loc)
        .into_iter()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1;
    let exchange = |code: &str, verifier: &str| {
        let mut r = agent()
            .post(&format!("{}/oauth/token", hub.url))
            .header("Authorization", "Basic c2lnc3RvcmU6") // sigstore:
            .header("Content-Type", "application/x-www-form-urlencoded")
            .send(form(&[
                ("grant_type".into(), "authorization_code".into()),
                ("code".into(), code.into()),
                ("redirect_uri".into(), "http://127.0.0.1:9/cb".into()),
                ("code_verifier".into(), verifier.into()),
            ]))
            .unwrap();
        (
            r.status().as_u16(),
            r.body_mut().read_to_string().unwrap_or_default(),
        )
    };
    // A wrong verifier is refused and burns the code; the right one then fails too.
    assert_eq!(exchange(&code, &"x".repeat(43)).0, 400);
    assert_eq!(
        exchange(&code, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWjOsjZ8").0,
        400
    );
    // With a fresh code and the right verifier: a token for {hub}/alice, audience sigstore.
    let (_, loc) = browser_login(&authorize("http://127.0.0.1:9/cb"), ALICE_PASSWORD);
    let code = query_of(&loc)
        .into_iter()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1;
    let (status, body) = exchange(&code, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWjOsjZ8");
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let jwt = v["access_token"].as_str().unwrap();
    assert_eq!(v["id_token"].as_str(), Some(jwt));
    let claims: serde_json::Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(jwt.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["sub"], format!("{}/alice", hub.url));
    assert_eq!(claims["iss"], hub.url.as_str());
    assert_eq!(claims["aud"], "sigstore");
    assert!(
        claims["exp"].as_u64().unwrap() <= now() + 900,
        "short-lived: {claims}"
    );
    // Password guessing through the consent page hits the login throttle.
    let mut codes = Vec::new();
    for _ in 0..30 {
        codes.push(browser_login(&authorize("http://127.0.0.1:9/cb"), "wrong").0);
        if codes.last() == Some(&429) {
            break;
        }
    }
    // The login form's throttle: measured 6 × 401, then 429 (without it: 30 × 401).
    assert!(codes.len() <= 7, "{codes:?}");
    assert_eq!(
        codes.last(),
        Some(&429),
        "no throttle after {} wrong passwords: {codes:?}",
        codes.len()
    );
}

#[test]
fn login_stores_a_checked_hub_token_owner_only() {
    use std::os::unix::fs::PermissionsExt as _;
    let tmp = tempfile::tempdir().unwrap();
    let hub = Hub::start(tmp.path());
    let out = Cmd::new(["hub", "admin", "--data-dir"])
        .arg(&hub.data)
        .args(["token", "alice", "--scope", "write"])
        .run();
    out.expect(0, &[]);
    let token = out.stdout.trim().to_owned();
    let config = tmp.path().join("config");
    Cmd::new(["login", "--hub", &hub.url, "--token", "hm_wrong"])
        .env("XDG_CONFIG_HOME", &config)
        .run()
        .expect(2, &["whoami-v2", "401"]);
    assert!(!config.join("hallmark/tokens.json").exists());
    let out = Cmd::new(["login", "--hub", &hub.url])
        .env("XDG_CONFIG_HOME", &config)
        .env("HF_TOKEN", &token)
        .run();
    out.expect(0, &["as alice"]);
    assert_no_secret(&out, &[&token]);
    let file = config.join("hallmark/tokens.json");
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let stored: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(stored[&hub.url].as_str(), Some(token.as_str()));
}

#[test]
fn buildkite_and_circleci_agents_hand_out_the_token() {
    use std::os::unix::fs::PermissionsExt as _;
    let tmp = tempfile::tempdir().unwrap();
    let inst = Instance::start(tmp.path());
    let tc = inst.data.join("trust-config.json");
    let m = model(tmp.path());
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // Fake CI agents: print the token only when asked for the sigstore audience.
    let token = inst.token("carol@example.com");
    for (tool, want) in [
        ("buildkite-agent", "oidc request-token --audience sigstore"),
        (
            "circleci",
            r#"run oidc get --claims {"aud":"sigstore"} --root-issuer"#,
        ),
    ] {
        let script = bin.join(tool);
        std::fs::write(
            &script,
            format!("#!/bin/sh\n[ \"$*\" = '{want}' ] || {{ echo \"bad arguments: $*\" >&2; exit 3; }}\necho '{token}'\n"),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    for (provider, var) in [("buildkite", "BUILDKITE"), ("circleci", "CIRCLECI")] {
        let sig = tmp.path().join(format!("{provider}.sig"));
        let out = Cmd::new(["sign".as_ref(), m.as_os_str()])
            .opt("--trust_config", &tc)
            .arg("--use_ambient_credentials")
            .opt("--signature", &sig)
            .env("GITHUB_ACTIONS", "")
            .env("GITLAB_CI", "")
            .env(var, "true")
            .env("PATH", &path)
            .run();
        out.expect(0, &["Signing succeeded"]);
        assert_no_secret(&out, &[&token]);
        Cmd::verify_sigstore(&m, &sig, "carol@example.com", &inst.url, &tc)
            .run()
            .expect(0, &[]);
    }
    // Buildkite recognised, its agent missing: exit 2 naming both, nothing written.
    let sig = tmp.path().join("missing.sig");
    Cmd::new(["sign".as_ref(), m.as_os_str()])
        .opt("--trust_config", &tc)
        .arg("--use_ambient_credentials")
        .opt("--signature", &sig)
        .env("GITHUB_ACTIONS", "")
        .env("BUILDKITE", "true")
        .env("PATH", tmp.path().join("nothing-here"))
        .run()
        .expect(2, &["Buildkite", "buildkite-agent"]);
    assert!(!sig.exists());
}
