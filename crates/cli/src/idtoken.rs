//! The OIDC identity token `hallmark sign sigstore` signs with: where it comes from
//! (model_signing's precedence: `--identity_token`, then ambient CI credentials when
//! `--use_ambient_credentials`, then the interactive OAuth flow) and the checks made
//! before it is sent anywhere (expiry, not-before, audience), so a stale or misdirected
//! token fails with one line naming what is wrong instead of a certificate authority's 401.
//!
//! A token is a bearer credential: [`IdentityToken`] never shows it in `Debug`, and no
//! message here quotes it.

use std::fmt;
use std::path::Path;

use anyhow::{anyhow, bail};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use zeroize::Zeroizing;

use crate::util::read_input;

/// The audience (and OAuth client id) Sigstore's certificate authorities expect.
pub(crate) const DEFAULT_CLIENT_ID: &str = "sigstore";

/// An identity token (a JWT). `Debug` shows only the issuer and subject.
pub(crate) struct IdentityToken {
    jwt: Zeroizing<String>,
    claims: Claims,
}

impl fmt::Debug for IdentityToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityToken")
            .field("iss", &self.claims.iss)
            .field("sub", &self.claims.sub)
            .finish_non_exhaustive()
    }
}

/// The claims that are checked before signing (read without verifying the signature:
/// the certificate authority verifies it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Claims {
    pub(crate) iss: String,
    pub(crate) sub: String,
    pub(crate) aud: Vec<String>,
    pub(crate) exp: u64,
    pub(crate) nbf: Option<u64>,
    pub(crate) email: Option<String>,
}

/// Seconds of clock skew tolerated on `exp` and `nbf` (sigstore-python allows 5).
const LEEWAY: u64 = 5;

impl IdentityToken {
    /// Parses `jwt` (from `source`, e.g. "--identity-token" or "GitHub Actions") and checks
    /// it is a JWT for `audience`, valid at `now` (seconds since the epoch).
    pub(crate) fn new(jwt: String, source: &str, audience: &str, now: u64) -> anyhow::Result<Self> {
        let jwt = Zeroizing::new(jwt.trim().to_owned());
        let claims =
            decode_claims(&jwt).map_err(|e| anyhow!("identity token from {source}: {e:#}"))?;
        claims.check(audience, now).map_err(|e| {
            anyhow!(
                "identity token from {source} (issuer {}): {e:#}",
                claims.iss
            )
        })?;
        Ok(Self { jwt, claims })
    }

    /// The JWT, to send to the certificate authority.
    pub(crate) fn jwt(&self) -> &str {
        &self.jwt
    }

    /// The claims read from it.
    pub(crate) fn claims(&self) -> &Claims {
        &self.claims
    }
}

/// Reads the payload of a compact JWS without verifying it.
fn decode_claims(jwt: &str) -> anyhow::Result<Claims> {
    let mut parts = jwt.split('.');
    let (Some(_), Some(payload), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        bail!("not a JWT (three base64url parts separated by dots)");
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| anyhow!("not a JWT: its payload is not base64url"))?;
    let v: Value = serde_json::from_slice(&bytes)
        .map_err(|_| anyhow!("not a JWT: its payload is not JSON"))?;
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let n = |k: &str| v.get(k).and_then(Value::as_u64);
    let aud = match v.get("aud") {
        Some(Value::String(a)) => vec![a.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    Ok(Claims {
        iss: s("iss").ok_or_else(|| anyhow!("the token has no `iss` (issuer) claim"))?,
        sub: s("sub").ok_or_else(|| anyhow!("the token has no `sub` (subject) claim"))?,
        exp: n("exp").ok_or_else(|| anyhow!("the token has no `exp` (expiry) claim"))?,
        nbf: n("nbf"),
        email: s("email"),
        aud,
    })
}

impl Claims {
    fn check(&self, audience: &str, now: u64) -> anyhow::Result<()> {
        if self.exp.saturating_add(LEEWAY) < now {
            bail!(
                "the token expired at {} ({} s ago); get a new one",
                rfc3339(self.exp),
                now - self.exp
            );
        }
        if let Some(nbf) = self.nbf
            && nbf > now.saturating_add(LEEWAY)
        {
            bail!("the token is not valid before {}", rfc3339(nbf));
        }
        if !self.aud.iter().any(|a| a == audience) {
            bail!(
                "the token's audience is {}, not {audience:?} (the client id; see --client-id)",
                if self.aud.is_empty() {
                    "missing".to_owned()
                } else {
                    format!("{:?}", self.aud)
                }
            );
        }
        Ok(())
    }
}

fn rfc3339(secs: u64) -> String {
    i64::try_from(secs)
        .ok()
        .and_then(|s| jiff::Timestamp::from_second(s).ok())
        .map_or_else(|| secs.to_string(), |t| t.to_string())
}

/// Seconds since the epoch.
pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// An explicitly given token: `--identity-token`, `--identity-token-file`, else
/// `$SIGSTORE_ID_TOKEN` outside GitLab CI (where that variable is the ambient credential,
/// used only with `--use-ambient-credentials`). `None`: none given.
pub(crate) fn explicit(
    arg: Option<&str>,
    file: Option<&Path>,
) -> anyhow::Result<Option<(String, String)>> {
    if let Some(t) = arg {
        return Ok(Some((t.to_owned(), "--identity-token".into())));
    }
    if let Some(p) = file {
        let bytes = Zeroizing::new(read_input("identity token file", p)?);
        let text = String::from_utf8(bytes.to_vec())
            .map_err(|_| anyhow!("identity token file {} is not UTF-8", p.display()))?;
        return Ok(Some((text, format!("identity token file {}", p.display()))));
    }
    if std::env::var_os("GITLAB_CI").is_none()
        && let Ok(t) = std::env::var("SIGSTORE_ID_TOKEN")
        && !t.trim().is_empty()
    {
        return Ok(Some((t, "$SIGSTORE_ID_TOKEN".into())));
    }
    Ok(None)
}

/// How to get the token (the `sign sigstore` flags).
pub(crate) struct TokenOptions<'a> {
    pub(crate) identity_token: Option<&'a str>,
    pub(crate) identity_token_file: Option<&'a Path>,
    pub(crate) use_ambient: bool,
    pub(crate) force_oob: bool,
    pub(crate) client_id: &'a str,
    pub(crate) client_secret: &'a str,
}

/// The identity token, by model_signing's precedence: an explicit token, then (with
/// `use_ambient`) the CI's, then the interactive flow against the OIDC issuer that the
/// ClientTrustConfig `tc` (named `origin` in errors) lists.
pub(crate) fn obtain(
    o: &TokenOptions<'_>,
    tc: &Value,
    origin: &str,
) -> anyhow::Result<IdentityToken> {
    let aud = o.client_id;
    if let Some((jwt, source)) = explicit(o.identity_token, o.identity_token_file)? {
        return IdentityToken::new(jwt, &source, aud, now());
    }
    if o.use_ambient {
        if let Some(a) = crate::ambient::detect(aud)? {
            return IdentityToken::new(
                a.token.to_string(),
                &format!("{} (ambient)", a.provider),
                aud,
                now(),
            );
        }
        errln!("note: no ambient credentials detected; falling back to the interactive login");
    }
    let issuer = oidc_issuer(tc, now()).ok_or_else(|| {
        anyhow!(
            "{origin} names no OIDC issuer valid now (signingConfig.oidcUrls) to log in with; \
             pass --identity-token or --use-ambient-credentials"
        )
    })?;
    let jwt = crate::oauth::Client {
        issuer: &issuer,
        client_id: aud,
        client_secret: o.client_secret,
        force_oob: o.force_oob,
    }
    .identity_token()?;
    let token = IdentityToken::new(
        jwt.to_string(),
        &format!("the OAuth login at {issuer}"),
        aud,
        now(),
    )?;
    if token.claims().iss.trim_end_matches('/') != issuer.trim_end_matches('/') {
        bail!(
            "the OAuth login at {issuer} returned a token issued by {}, not by that issuer",
            token.claims().iss
        );
    }
    Ok(token)
}

/// The OIDC issuer a signing config selects: among `oidcUrls` with API major version 1
/// (the only one defined), those whose `validFor` contains `now`, the newest start.
pub(crate) fn oidc_issuer(tc: &Value, now: u64) -> Option<String> {
    let sc = tc
        .get("signingConfig")
        .or_else(|| tc.get("signing_config"))?;
    let list = sc
        .get("oidcUrls")
        .or_else(|| sc.get("oidc_urls"))?
        .as_array()?;
    let secs = |v: Option<&Value>| -> Option<i64> {
        v?.as_str()?
            .parse::<jiff::Timestamp>()
            .ok()
            .map(|t| t.as_second())
    };
    let now = i64::try_from(now).unwrap_or(i64::MAX);
    list.iter()
        .filter(|s| {
            s.get("majorApiVersion")
                .or_else(|| s.get("major_api_version"))
                .and_then(Value::as_u64)
                .is_none_or(|v| v == 1)
        })
        .filter_map(|s| {
            let vf = s.get("validFor").or_else(|| s.get("valid_for"));
            let start = secs(vf.and_then(|v| v.get("start"))).unwrap_or(i64::MIN);
            let end = secs(vf.and_then(|v| v.get("end")));
            (start <= now && end.is_none_or(|e| now < e))
                .then(|| {
                    Some((
                        start,
                        s.get("url")?.as_str()?.trim_end_matches('/').to_owned(),
                    ))
                })
                .flatten()
        })
        .max_by_key(|(start, _)| *start)
        .map(|(_, url)| url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &str) -> String {
        format!(
            "{}.{}.c2ln",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"ES256"}"#),
            URL_SAFE_NO_PAD.encode(claims)
        )
    }

    #[test]
    fn picks_the_current_newest_oidc_issuer() {
        let tc = serde_json::json!({ "signingConfig": { "oidcUrls": [
            { "url": "https://old/", "majorApiVersion": 1, "validFor": { "start": "2020-01-01T00:00:00Z", "end": "2021-01-01T00:00:00Z" } },
            { "url": "https://v2", "majorApiVersion": 2, "validFor": { "start": "2022-01-01T00:00:00Z" } },
            { "url": "https://current", "majorApiVersion": 1, "validFor": { "start": "2020-06-01T00:00:00Z" } },
            { "url": "https://future", "majorApiVersion": 1, "validFor": { "start": "2099-01-01T00:00:00Z" } },
        ]}});
        let jan_2020_06 = 1_591_000_000;
        assert_eq!(
            oidc_issuer(&tc, jan_2020_06).as_deref(),
            Some("https://current")
        );
        assert_eq!(
            oidc_issuer(&tc, 1_580_000_000).as_deref(),
            Some("https://old")
        );
        assert_eq!(oidc_issuer(&serde_json::json!({}), 0), None);
        let prod: Value = serde_json::from_str(hallmark_sigstore::PUBLIC_GOOD_TRUST_CONFIG_JSON)
            .unwrap_or_default();
        assert_eq!(
            oidc_issuer(&prod, now()).as_deref(),
            Some("https://oauth2.sigstore.dev/auth")
        );
    }

    #[test]
    fn accepts_a_current_token_for_the_audience() {
        let t = IdentityToken::new(
            jwt(r#"{"iss":"https://i","sub":"s","aud":["x","sigstore"],"exp":1000,"nbf":900}"#),
            "test",
            "sigstore",
            950,
        );
        let t = t.unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(t.claims().iss, "https://i");
        let debug = format!("{t:?}");
        assert!(
            !debug.contains(t.jwt()) && !debug.contains("c2ln"),
            "{debug}"
        );
    }

    #[test]
    fn refuses_expired_wrong_audience_and_garbage_naming_the_source() {
        let cases = [
            (
                jwt(r#"{"iss":"https://i","sub":"s","aud":"sigstore","exp":100}"#),
                "expired at 1970-01-01T00:01:40Z",
            ),
            (
                jwt(r#"{"iss":"https://i","sub":"s","aud":"other","exp":10000}"#),
                r#"audience is ["other"], not "sigstore""#,
            ),
            (
                jwt(r#"{"iss":"https://i","sub":"s","aud":"sigstore","exp":10000,"nbf":5000}"#),
                "not valid before",
            ),
            (
                jwt(r#"{"sub":"s","aud":"sigstore","exp":10000}"#),
                "no `iss`",
            ),
            ("abc.def".to_owned(), "not a JWT"),
        ];
        for (token, want) in cases {
            let e = IdentityToken::new(token.clone(), "--identity-token", "sigstore", 1000)
                .map(|_| ())
                .expect_err(want);
            let msg = format!("{e:#}");
            assert!(
                msg.contains(want) && msg.contains("--identity-token"),
                "{msg}"
            );
            assert!(!msg.contains(&token), "the message quotes the token: {msg}");
        }
    }
}
