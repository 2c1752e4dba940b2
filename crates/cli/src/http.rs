//! The HTTP client settings every command shares: TLS through rustls on aws-lc-rs with the
//! WebPKI roots (`hallmark_tlog::https_tls`, the same as for logs and witnesses), HTTP
//! status codes returned (not turned into errors), bounded timeouts, and bounded JSON
//! answers.

use std::time::Duration;

use anyhow::{Context as _, anyhow};
use serde_json::Value;

/// Characters left as they are in a query value or form field (RFC 3986 unreserved).
const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes a query value or form field.
pub(crate) fn encode(v: &str) -> String {
    percent_encoding::utf8_percent_encode(v, UNRESERVED).to_string()
}

/// `k=v&…`, each value percent-encoded.
pub(crate) fn query(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Largest JSON answer read from an identity provider or CI token endpoint.
pub(crate) const MAX_SMALL_ANSWER: u64 = 1024 * 1024;

/// An agent whose every request ends within `timeout`.
pub(crate) fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .tls_config(hallmark_tlog::https_tls())
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build()
        .into()
}

/// Reads a JSON answer of at most [`MAX_SMALL_ANSWER`] bytes; `what` names the request in
/// errors (method and URL). A non-2xx status is an error quoting the answer's `error`,
/// `message` or text (its first 200 characters).
pub(crate) fn json_answer(
    what: &str,
    resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> anyhow::Result<Value> {
    let mut resp = resp.map_err(|e| anyhow!("{what}: {e}"))?;
    let status = resp.status();
    let text = resp
        .body_mut()
        .with_config()
        .limit(MAX_SMALL_ANSWER)
        .read_to_string()
        .with_context(|| format!("{what}: reading the answer"))?;
    let json: Option<Value> = serde_json::from_str(&text).ok();
    if !status.is_success() {
        let msg = json
            .as_ref()
            .and_then(|v| {
                let e = v
                    .get("error_description")
                    .or_else(|| v.get("message"))
                    .or_else(|| v.get("error"))?;
                e.as_str().map(str::to_owned)
            })
            .unwrap_or_else(|| text.chars().take(200).collect());
        return Err(anyhow!("{what}: HTTP {status}: {}", msg.trim()));
    }
    json.ok_or_else(|| anyhow!("{what}: the answer is not JSON"))
}
