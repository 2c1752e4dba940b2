//! Ambient OIDC credentials (`--use-ambient-credentials`): the workload identity of the CI
//! job hallmark runs in, detected as sigstore-python's `id` package (1.6.1) does, in its
//! order: GitHub Actions, Google Cloud, Buildkite, GitLab, CircleCI. The first provider
//! whose environment is recognised answers; one that is recognised but cannot produce a
//! token is an error naming the provider and what is missing (no fall-through, like `id`).
//! `Ok(None)`: no CI recognised.
//!
//! The tokens are bearer credentials: no message here quotes one, nor the request token
//! GitHub Actions hands the job.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use serde_json::Value;
use zeroize::Zeroizing;

use crate::http::{agent, encode, json_answer};

/// Timeout of each request to a CI token endpoint (`id` uses 30 s).
const TIMEOUT: Duration = Duration::from_secs(30);

/// A detected token and the provider it came from.
pub(crate) struct Ambient {
    pub(crate) token: Zeroizing<String>,
    pub(crate) provider: &'static str,
}

fn env(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.is_empty())
}

/// Detects the CI's credential for `audience`.
pub(crate) fn detect(audience: &str) -> anyhow::Result<Option<Ambient>> {
    type Detector = fn(&str) -> anyhow::Result<Option<String>>;
    let detectors: [(&'static str, Detector); 5] = [
        ("GitHub Actions", github),
        ("Google Cloud", gcp),
        ("Buildkite", buildkite),
        ("GitLab CI", gitlab),
        ("CircleCI", circleci),
    ];
    for (provider, detect) in detectors {
        if let Some(token) =
            detect(audience).map_err(|e| anyhow!("ambient credentials: {provider}: {e:#}"))?
        {
            return Ok(Some(Ambient {
                token: Zeroizing::new(token),
                provider,
            }));
        }
    }
    Ok(None)
}

/// GitHub Actions (`GITHUB_ACTIONS`): GET `$ACTIONS_ID_TOKEN_REQUEST_URL&audience=…` with
/// `Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN`; the token is the answer's `value`.
fn github(audience: &str) -> anyhow::Result<Option<String>> {
    if env("GITHUB_ACTIONS").is_none() {
        return Ok(None);
    }
    let (Some(url), Some(req_token)) = (
        env("ACTIONS_ID_TOKEN_REQUEST_URL"),
        env("ACTIONS_ID_TOKEN_REQUEST_TOKEN").map(Zeroizing::new),
    ) else {
        bail!(
            "ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN must both be set: \
             give the workflow `permissions: id-token: write`"
        );
    };
    let sep = if url.contains('?') { '&' } else { '?' };
    let full = format!("{url}{sep}audience={}", encode(audience));
    let what = format!("GET {url}");
    let answer = json_answer(
        &what,
        agent(TIMEOUT)
            .get(&full)
            .header("Authorization", &format!("bearer {}", req_token.as_str()))
            .call(),
    )?;
    answer
        .get("value")
        .and_then(Value::as_str)
        .map(|v| Some(v.to_owned()))
        .ok_or_else(|| anyhow!("{what}: the answer has no string `value`"))
}

/// Google Cloud: with `GOOGLE_SERVICE_ACCOUNT_NAME`, impersonate that service account
/// (metadata-server access token, then IAM `generateIdToken`); else, on a GCE machine
/// (DMI product name "Google" or "Google Compute Engine"), the metadata server's identity
/// token. `GCE_METADATA_HOST` moves the metadata server (Google's libraries honour it too).
fn gcp(audience: &str) -> anyhow::Result<Option<String>> {
    let metadata = format!(
        "http://{}/computeMetadata/v1/instance/service-accounts/default",
        env("GCE_METADATA_HOST").unwrap_or_else(|| "metadata.google.internal".into())
    );
    let a = agent(TIMEOUT);
    if let Some(account) = env("GOOGLE_SERVICE_ACCOUNT_NAME") {
        let url = format!("{metadata}/token");
        let what = format!("GET {url}");
        let access = json_answer(
            &what,
            a.get(&url).header("Metadata-Flavor", "Google").call(),
        )?;
        let access = Zeroizing::new(
            access
                .get("access_token")
                .and_then(Value::as_str)
                .ok_or_else(|| anyhow!("{what}: the answer has no `access_token`"))?
                .to_owned(),
        );
        let url = format!(
            "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/{}:generateIdToken",
            encode(&account)
        );
        let what = format!("POST {url}");
        let body = serde_json::json!({ "audience": audience, "includeEmail": true });
        let answer = json_answer(
            &what,
            a.post(&url)
                .header("Authorization", &format!("Bearer {}", access.as_str()))
                .header("Content-Type", "application/json")
                .send(body.to_string()),
        )?;
        return answer
            .get("token")
            .and_then(Value::as_str)
            .map(|t| Some(t.to_owned()))
            .ok_or_else(|| anyhow!("{what}: the answer has no `token`"));
    }
    let product =
        std::fs::read_to_string(Path::new("/sys/class/dmi/id/product_name")).unwrap_or_default();
    if !matches!(product.trim(), "Google" | "Google Compute Engine") {
        return Ok(None);
    }
    let url = format!(
        "{metadata}/identity?audience={}&format=full",
        encode(audience)
    );
    let mut resp = a
        .get(&url)
        .header("Metadata-Flavor", "Google")
        .call()
        .map_err(|e| anyhow!("GET {url}: {e}"))?;
    let status = resp.status();
    let text = resp
        .body_mut()
        .with_config()
        .limit(crate::http::MAX_SMALL_ANSWER)
        .read_to_string()
        .with_context(|| format!("GET {url}"))?;
    if !status.is_success() {
        bail!("GET {url}: HTTP {status} from the metadata server");
    }
    Ok(Some(text.trim().to_owned()))
}

/// Buildkite (`BUILDKITE`): `buildkite-agent oidc request-token --audience AUD`.
fn buildkite(audience: &str) -> anyhow::Result<Option<String>> {
    if env("BUILDKITE").is_none() {
        return Ok(None);
    }
    run_tool(
        "buildkite-agent",
        &["oidc", "request-token", "--audience", audience],
    )
    .map(Some)
}

/// GitLab CI (`GITLAB_CI`): the job's ID token in `<AUD>_ID_TOKEN` (declared under
/// `id_tokens:` in `.gitlab-ci.yml`; `SIGSTORE_ID_TOKEN` for the audience `sigstore`).
fn gitlab(audience: &str) -> anyhow::Result<Option<String>> {
    if env("GITLAB_CI").is_none() {
        return Ok(None);
    }
    let var = gitlab_variable(audience);
    env(&var).map(Some).ok_or_else(|| {
        anyhow!(
            "${var} is not set: declare it in .gitlab-ci.yml as `id_tokens: {var}: aud: {audience}`"
        )
    })
}

/// `<AUD>_ID_TOKEN`: the audience upper-cased, characters outside `[A-Z0-9_]` as `_`, and a
/// leading digit prefixed with `_` (as `id` derives it).
fn gitlab_variable(audience: &str) -> String {
    let mut v: String = audience
        .chars()
        .map(|c| {
            let c = c.to_ascii_uppercase();
            if c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if v.starts_with(|c: char| c.is_ascii_digit()) {
        v.insert(0, '_');
    }
    v + "_ID_TOKEN"
}

/// CircleCI (`CIRCLECI`): `circleci run oidc get --claims {"aud":AUD} --root-issuer`.
fn circleci(audience: &str) -> anyhow::Result<Option<String>> {
    if env("CIRCLECI").is_none() {
        return Ok(None);
    }
    let claims = serde_json::json!({ "aud": audience }).to_string();
    run_tool(
        "circleci",
        &["run", "oidc", "get", "--claims", &claims, "--root-issuer"],
    )
    .map(Some)
}

/// Runs a CI agent's token command; its stdout is the token.
fn run_tool(tool: &str, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(tool)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| anyhow!("cannot run `{tool}` ({e}): it must be on PATH"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        bail!(
            "`{tool} {}` failed ({}): {}",
            args.first().copied().unwrap_or_default(),
            out.status,
            err.lines()
                .next()
                .unwrap_or("")
                .chars()
                .take(200)
                .collect::<String>()
        );
    }
    let token =
        String::from_utf8(out.stdout).map_err(|_| anyhow!("`{tool}` printed no UTF-8 token"))?;
    let token = token.trim().to_owned();
    if token.is_empty() {
        bail!("`{tool}` printed no token");
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gitlab_variable_as_id_derives_it() {
        assert_eq!(gitlab_variable("sigstore"), "SIGSTORE_ID_TOKEN");
        assert_eq!(gitlab_variable("my-aud.example"), "MY_AUD_EXAMPLE_ID_TOKEN");
        assert_eq!(gitlab_variable("9lives"), "_9LIVES_ID_TOKEN");
    }
}
