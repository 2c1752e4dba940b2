//! The interactive OAuth 2.0 authorization-code flow with PKCE (RFC 7636, S256) that
//! gets an identity token from the issuer a signing config names, as sigstore-python 4.5
//! runs it: discovery at `{issuer}/.well-known/openid-configuration`, then either
//!
//! * a browser (`$BROWSER`, else `xdg-open` / `open`) sent to the authorization endpoint
//!   with a loopback redirect `http://localhost:PORT/auth/callback` served here for one
//!   request (its `state` checked), or
//! * out of band (`--oauth-force-oob`): redirect `urn:ietf:wg:oauth:2.0:oob`; the user opens
//!   the printed URL anywhere and pastes the code the issuer shows;
//!
//! then the code and the PKCE verifier are exchanged at the token endpoint (HTTP Basic
//! `client_id:client_secret`). The answer's `access_token` (else `id_token`) is the token.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::Value;
use zeroize::Zeroizing;

use crate::http::{agent, json_answer, query};

/// Timeout of each request to the issuer.
const TIMEOUT: Duration = Duration::from_secs(30);
/// How long the loopback redirect is awaited.
const BROWSER_WAIT: Duration = Duration::from_secs(300);
/// Largest request line + headers read from the loopback (a browser's is ~1–2 KiB).
const MAX_CALLBACK_REQUEST: u64 = 16 * 1024;
/// Redirect URI of the out-of-band flow.
const OOB_REDIRECT: &str = "urn:ietf:wg:oauth:2.0:oob";

/// The client: who we are to the issuer.
pub(crate) struct Client<'a> {
    pub(crate) issuer: &'a str,
    pub(crate) client_id: &'a str,
    pub(crate) client_secret: &'a str,
    pub(crate) force_oob: bool,
}

/// The endpoints discovery names.
struct Endpoints {
    authorization: String,
    token: String,
}

fn discover(issuer: &str) -> anyhow::Result<Endpoints> {
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let doc = json_answer(&format!("GET {url}"), agent(TIMEOUT).get(&url).call())
        .map_err(|e| anyhow!("OIDC discovery for issuer {issuer}: {e:#}"))?;
    let s = |k: &str| {
        doc.get(k)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("OIDC discovery at {url}: no `{k}`"))
    };
    Ok(Endpoints {
        authorization: s("authorization_endpoint")?,
        token: s("token_endpoint")?,
    })
}

fn random_b64url(n: usize) -> anyhow::Result<String> {
    let mut b = Zeroizing::new(vec![0u8; n]);
    hallmark_crypto::random_fill(&mut b).map_err(|e| anyhow!("no randomness: {e}"))?;
    Ok(URL_SAFE_NO_PAD.encode(&*b))
}

/// The S256 challenge of a PKCE verifier (RFC 7636 §4.2).
pub(crate) fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest(&SHA256, verifier.as_bytes()).as_ref())
}

impl Client<'_> {
    /// Runs the flow; returns the JWT.
    pub(crate) fn identity_token(&self) -> anyhow::Result<Zeroizing<String>> {
        let ep = discover(self.issuer)?;
        let verifier = Zeroizing::new(random_b64url(32)?);
        let state = random_b64url(16)?;
        let auth_url = |redirect: &str| {
            let sep = if ep.authorization.contains('?') {
                '&'
            } else {
                '?'
            };
            format!(
                "{}{sep}{}",
                ep.authorization,
                query(&[
                    ("response_type", "code"),
                    ("client_id", self.client_id),
                    ("scope", "openid email"),
                    ("redirect_uri", redirect),
                    ("code_challenge", &challenge(&verifier)),
                    ("code_challenge_method", "S256"),
                    ("state", &state),
                ])
            )
        };
        let (code, redirect) = if self.force_oob {
            let url = auth_url(OOB_REDIRECT);
            errln!("Go to the following link in a browser:\n\n    {url}\n");
            crate::util::write_stderr(format_args!("Enter verification code: "));
            let _ = std::io::stderr().flush();
            let mut line = Zeroizing::new(String::new());
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("cannot read the verification code from standard input")?;
            let code = Zeroizing::new(line.trim().to_owned());
            if code.is_empty() {
                bail!("no verification code was entered");
            }
            (code, OOB_REDIRECT.to_owned())
        } else {
            let listener = TcpListener::bind("127.0.0.1:0")
                .context("cannot listen on 127.0.0.1 for the OAuth redirect")?;
            let port = listener.local_addr()?.port();
            let redirect = format!("http://localhost:{port}/auth/callback");
            let url = auth_url(&redirect);
            open_browser(&url);
            errln!(
                "Waiting for the browser (log in at {}); if none opened, visit:\n\n    {url}\n",
                self.issuer
            );
            (await_callback(&listener, &state)?, redirect)
        };
        self.exchange(&ep, &code, &redirect, &verifier)
    }

    fn exchange(
        &self,
        ep: &Endpoints,
        code: &str,
        redirect: &str,
        verifier: &str,
    ) -> anyhow::Result<Zeroizing<String>> {
        let basic =
            Zeroizing::new(STANDARD.encode(format!("{}:{}", self.client_id, self.client_secret)));
        let form = Zeroizing::new(query(&[
            ("grant_type", "authorization_code"),
            ("redirect_uri", redirect),
            ("code", code),
            ("code_verifier", verifier),
        ]));
        let what = format!("POST {}", ep.token);
        let answer = json_answer(
            &what,
            agent(TIMEOUT)
                .post(&ep.token)
                .header("Authorization", &format!("Basic {}", basic.as_str()))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .send(form.as_bytes()),
        )
        .map_err(|e| anyhow!("OAuth code exchange: {e:#}"))?;
        if let Some(e) = answer.get("error").and_then(Value::as_str) {
            bail!("{what}: the issuer refused the code: {e}");
        }
        answer
            .get("access_token")
            .or_else(|| answer.get("id_token"))
            .and_then(Value::as_str)
            .map(|t| Zeroizing::new(t.to_owned()))
            .ok_or_else(|| anyhow!("{what}: the answer has no access_token or id_token"))
    }
}

/// Starts the user's browser at `url` (`$BROWSER`, else the desktop's opener); failure is
/// not an error (the URL is printed as well).
fn open_browser(url: &str) {
    let opener = std::env::var("BROWSER")
        .ok()
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| {
            if cfg!(target_os = "macos") {
                "open"
            } else {
                "xdg-open"
            }
            .to_owned()
        });
    let _ = std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
}

/// Serves the loopback redirect until a request to `/auth/callback` with our `state`
/// arrives (or [`BROWSER_WAIT`] passes); other requests get 404 and are ignored.
fn await_callback(listener: &TcpListener, state: &str) -> anyhow::Result<Zeroizing<String>> {
    let deadline = Instant::now() + BROWSER_WAIT;
    listener.set_nonblocking(true)?;
    loop {
        if Instant::now() > deadline {
            bail!(
                "no OAuth redirect arrived within {} s (use --oauth-force-oob without a browser)",
                BROWSER_WAIT.as_secs()
            );
        }
        let stream = match listener.accept() {
            Ok((s, _)) => s,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
            Err(e) => return Err(e).context("OAuth redirect listener"),
        };
        if let Some(result) = handle_callback(stream, state) {
            return result;
        }
    }
}

/// One loopback request: `None` to keep waiting.
fn handle_callback(
    mut stream: TcpStream,
    state: &str,
) -> Option<anyhow::Result<Zeroizing<String>>> {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut line = String::new();
    let mut reader = BufReader::new((&stream).take(MAX_CALLBACK_REQUEST));
    reader.read_line(&mut line).ok()?;
    let target = line.split_whitespace().nth(1)?.to_owned();
    let (path, q) = target.split_once('?').unwrap_or((&target, ""));
    let reply = |stream: &mut TcpStream, status: &str, body: &str| {
        let _ = write!(
            stream,
            "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
    };
    if path != "/auth/callback" {
        reply(&mut stream, "404 Not Found", "not found");
        return None;
    }
    let params: Vec<(String, String)> = q
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| {
            let v = v.replace('+', " ");
            (
                k.to_owned(),
                percent_encoding::percent_decode_str(&v)
                    .decode_utf8_lossy()
                    .into_owned(),
            )
        })
        .collect();
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if get("state") != Some(state) {
        reply(
            &mut stream,
            "400 Bad Request",
            "state mismatch: this is not the login hallmark started",
        );
        return None;
    }
    if let Some(e) = get("error") {
        reply(
            &mut stream,
            "200 OK",
            "Authentication failed; return to the terminal.",
        );
        let desc = get("error_description").unwrap_or("");
        return Some(Err(anyhow!("the issuer refused the login: {e} {desc}")));
    }
    let Some(code) = get("code").filter(|c| !c.is_empty()) else {
        reply(&mut stream, "400 Bad Request", "no code");
        return None;
    };
    reply(
        &mut stream,
        "200 OK",
        "<!doctype html><title>hallmark</title><p>Authentication complete. You may close this window and return to the terminal.</p>",
    );
    Some(Ok(Zeroizing::new(code.to_owned())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_an_independent_implementation() {
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWjOsjZ8"),
            "8pll96DTsY99AnyYMjAaSfsnLOw8A5aeAPcUg70ZITs"
        );
    }

    #[test]
    fn callback_checks_state_and_takes_the_code() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let client = std::thread::spawn(move || {
            for path in [
                "/favicon.ico",
                "/auth/callback?code=evil&state=other",
                "/auth/callback?code=c%2B1&state=S1",
            ] {
                let mut s = TcpStream::connect(addr).unwrap_or_else(|e| panic!("{e}"));
                let _ = write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
                let mut out = String::new();
                let _ = s.read_to_string(&mut out);
            }
        });
        let code = await_callback(&listener, "S1").unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(code.as_str(), "c+1");
        let _ = client.join();
    }
}
