//! The HTTP client side of the hub commands (`push`, `pull`): connection settings,
//! URL building, error answers.

use std::io::IsTerminal as _;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;

use crate::args::remote::HubArgs;

/// A configured client.
pub(crate) struct Client {
    pub(crate) base: String,
    pub(crate) token: Option<String>,
    pub(crate) agent: ureq::Agent,
}

impl Client {
    pub(crate) fn new(args: &HubArgs) -> Self {
        let agent = ureq::Agent::config_builder()
            .tls_config(hallmark_tlog::https_tls())
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(30)))
            .max_idle_connections_per_host(args.jobs.max(1) * 2)
            .build()
            .into();
        Self {
            base: args.hub.trim_end_matches('/').to_owned(),
            token: args
                .token
                .clone()
                .or_else(|| std::env::var("HF_TOKEN").ok())
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .or_else(|| stored_token(&args.hub)),
            agent,
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub(crate) fn auth<B>(&self, req: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        match &self.token {
            Some(t) => req.header("Authorization", &format!("Bearer {t}")),
            None => req,
        }
    }

    /// GET returning JSON.
    pub(crate) fn get_json(&self, path: &str) -> anyhow::Result<Value> {
        let url = self.url(path);
        let resp = self
            .auth(self.agent.get(&url))
            .call()
            .with_context(|| format!("GET {url}"))?;
        json_answer("GET", &url, resp)
    }

    /// GET returning at most `limit` bytes of the body.
    pub(crate) fn get_bytes(&self, path: &str, limit: u64) -> anyhow::Result<Vec<u8>> {
        let url = self.url(path);
        let mut resp = self
            .auth(self.agent.get(&url))
            .call()
            .with_context(|| format!("GET {url}"))?;
        if !resp.status().is_success() {
            bail!("GET {url}: {}", resp.status());
        }
        resp.body_mut()
            .with_config()
            .limit(limit)
            .read_to_vec()
            .with_context(|| format!("GET {url}"))
    }

    /// POST a JSON body, returning JSON.
    pub(crate) fn post_json(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        let url = self.url(path);
        let resp = self
            .auth(
                self.agent
                    .post(&url)
                    .header("Content-Type", "application/json"),
            )
            .send(body.to_string())
            .with_context(|| format!("POST {url}"))?;
        json_answer("POST", &url, resp)
    }
}

/// Reads a JSON answer; non-2xx become the server's `error` message.
pub(crate) fn json_answer(
    method: &str,
    url: &str,
    mut resp: ureq::http::Response<ureq::Body>,
) -> anyhow::Result<Value> {
    let status = resp.status();
    let text = resp
        .body_mut()
        .with_config()
        .limit(256 * 1024 * 1024)
        .read_to_string()
        .with_context(|| format!("{method} {url}: reading the answer"))?;
    let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if status.is_success() {
        return Ok(v);
    }
    let msg = v
        .get("error")
        .and_then(Value::as_str)
        .unwrap_or(text.trim());
    bail!("{method} {url}: {status}: {msg}")
}

/// Percent-encodes each segment of a repo-relative path (keeps `/`).
pub(crate) fn encode_path(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    for b in p.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Splits `owner/name`.
pub(crate) fn split_repo(repo: &str) -> anyhow::Result<(&str, &str)> {
    match repo.split_once('/') {
        Some((o, n)) if !o.is_empty() && !n.is_empty() && !n.contains('/') => Ok((o, n)),
        _ => Err(anyhow!("repository must be owner/name, got {repo:?}")),
    }
}

/// A byte progress bar on a terminal (hidden otherwise or with `--quiet`).
pub(crate) fn bar(quiet: bool, total: u64, verb: &str) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() || std::env::var_os("NO_PROGRESS").is_some() {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    b.set_style(
        ProgressStyle::with_template(&format!(
            "{{spinner}} {verb} [{{bar:30}}] {{bytes}}/{{total_bytes}} {{binary_bytes_per_sec}} ETA {{eta}} {{msg}}"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    b.enable_steady_tick(Duration::from_millis(120));
    b
}

/// Runs `work(i)` for `0..n` on `jobs` threads; stops at the first error.
pub(crate) fn parallel(
    n: usize,
    jobs: usize,
    work: impl Fn(usize) -> anyhow::Result<()> + Sync,
) -> anyhow::Result<()> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let first_err: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..jobs.clamp(1, 64).min(n.max(1)) {
            s.spawn(|| {
                while !failed.load(Ordering::SeqCst) {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= n {
                        break;
                    }
                    if let Err(e) = work(i) {
                        failed.store(true, Ordering::SeqCst);
                        if let Ok(mut g) = first_err.lock() {
                            g.get_or_insert(e);
                        }
                    }
                }
            });
        }
    });
    match first_err.into_inner().ok().flatten() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// `$XDG_CONFIG_HOME/hallmark/tokens.json`: hub URL → API token (`hallmark login`), mode 0600.
fn tokens_path() -> anyhow::Result<std::path::PathBuf> {
    Ok(crate::util::config_dir("hub tokens file")?.join("tokens.json"))
}

fn hub_key(hub: &str) -> String {
    hub.trim_end_matches('/').to_owned()
}

/// The token `hallmark login` stored for `hub`, if any.
pub(crate) fn stored_token(hub: &str) -> Option<String> {
    let bytes = std::fs::read(tokens_path().ok()?).ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    v.get(hub_key(hub))?.as_str().map(str::to_owned)
}

/// Stores `token` for `hub` (owner-only file, written atomically); returns the file.
pub(crate) fn store_token(hub: &str, token: &str) -> anyhow::Result<std::path::PathBuf> {
    use std::os::unix::fs::PermissionsExt as _;
    let path = tokens_path()?;
    let mut v: serde_json::Map<String, Value> = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    v.insert(hub_key(hub), Value::String(token.to_owned()));
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o600))
        .context("cannot restrict the tokens file")?;
    std::io::Write::write_all(
        &mut tmp,
        serde_json::to_vec_pretty(&Value::Object(v))?.as_slice(),
    )?;
    tmp.persist(&path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}
