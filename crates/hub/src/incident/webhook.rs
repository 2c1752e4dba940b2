//! The incident webhook's URL and the call (`hub serve --incident-webhook URL`). The URL
//! may carry a secret (a token in its path, query or user info): [`WebhookUrl`] shows
//! only its host in `Debug` and `Display`, and failures name the host and a kind of
//! error, never the URL. A leaf: it imports nothing from the hub.

use std::time::Duration;

use serde_json::Value;

/// How long one webhook call may take, connect to last byte.
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(5);

/// The webhook's URL. It may carry a secret (a token in its path, query or user
/// info), so its `Debug` and `Display` show the host only, and nothing else prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    /// The full URL, to call it.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for WebhookUrl {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.trim().to_owned()))
    }
}

impl std::fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WebhookUrl({} <rest redacted>)", host_of(&self.0))
    }
}

impl std::fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the webhook at {}", host_of(&self.0))
    }
}

/// The host of `url`, for messages (never its path or query).
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    host.rsplit_once('@').map_or(host, |(_, h)| h)
}

/// POSTs `body` to `url` (no redirects, [`WEBHOOK_TIMEOUT`]); failures are printed
/// naming the host only.
pub fn post(url: &WebhookUrl, body: &Value) {
    let url = url.expose();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .tls_config(hallmark_tlog::https_tls())
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(WEBHOOK_TIMEOUT))
        .build()
        .into();
    let host = host_of(url);
    match agent
        .post(url)
        .header("content-type", "application/json")
        .send(body.to_string())
    {
        Ok(r) if r.status().is_success() => {}
        Ok(r) => eprintln!(
            "hallmark hub: webhook at {host} answered {}",
            r.status().as_u16()
        ),
        Err(e) => eprintln!("hallmark hub: webhook at {host} failed: {}", kind_of(&e)),
    }
}

/// A webhook failure in words that cannot contain the URL.
fn kind_of(e: &ureq::Error) -> &'static str {
    match e {
        ureq::Error::Timeout(_) => "timed out",
        ureq::Error::Io(_) => "connection failed",
        ureq::Error::HostNotFound => "host not found",
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) => "TLS failed",
        _ => "request failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_host_is_shown() {
        assert_eq!(
            host_of("https://user:secret@hooks.example:8443/t/SECRET?k=SECRET"),
            "hooks.example:8443"
        );
        assert_eq!(host_of("http://127.0.0.1:9/x"), "127.0.0.1:9");
    }

    #[test]
    fn the_url_shows_its_host_only() {
        let u: WebhookUrl = "https://user:PASS@hooks.example/t/TOKEN?k=KEY"
            .parse()
            .unwrap();
        for shown in [format!("{u:?}"), u.to_string()] {
            assert!(shown.contains("hooks.example"), "{shown}");
            for secret in ["PASS", "TOKEN", "KEY", "user"] {
                assert!(!shown.contains(secret), "{shown}");
            }
        }
        assert_eq!(u.expose(), "https://user:PASS@hooks.example/t/TOKEN?k=KEY");
    }
}
