//! `hallmark login --hub URL`: checks an API token against the hub (`/api/whoami-v2`) and
//! stores it for `push` and `pull` (`$XDG_CONFIG_HOME/hallmark/tokens.json`, mode 0600).
//! The token comes from `--token`, `$HF_TOKEN`, or a line on standard input; it is never
//! printed.

use std::io::BufRead as _;

use anyhow::{Context as _, anyhow, bail};
use serde_json::Value;
use zeroize::Zeroizing;

use crate::args::remote::LoginArgs;
use crate::hubclient::store_token;
use crate::util::{OrExit as _, Outcome};

pub(crate) fn run(a: &LoginArgs) -> Outcome {
    let token = token(a).or_input()?;
    let who = whoami(&a.hub, &token).or_input()?;
    let path = store_token(&a.hub, &token).or_input()?;
    outln!(
        "Logged in to {} as {who}; token stored in {}",
        a.hub,
        path.display()
    );
    Ok(0)
}

fn token(a: &LoginArgs) -> anyhow::Result<Zeroizing<String>> {
    if let Some(t) = a
        .token
        .as_deref()
        .or(std::env::var("HF_TOKEN").ok().as_deref())
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        return Ok(Zeroizing::new(t.to_owned()));
    }
    errln!(
        "Paste an API token of {} (Settings → Tokens) and press Enter:",
        a.hub
    );
    let mut line = Zeroizing::new(String::new());
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the token from standard input")?;
    let t = line.trim();
    if t.is_empty() {
        bail!("no token given");
    }
    Ok(Zeroizing::new(t.to_owned()))
}

fn whoami(hub: &str, token: &str) -> anyhow::Result<String> {
    let url = format!("{}/api/whoami-v2", hub.trim_end_matches('/'));
    let answer = crate::http::json_answer(
        &format!("GET {url}"),
        crate::http::agent(std::time::Duration::from_secs(30))
            .get(&url)
            .header("Authorization", &format!("Bearer {token}"))
            .call(),
    )
    .context("the hub did not accept the token")?;
    answer
        .get("name")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("GET {url}: the answer names no user"))
}
