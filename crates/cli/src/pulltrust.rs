//! What `hallmark pull` trusts: the trust config, signer identity and issuer (or public
//! key) the user gave on the command line, else the ones pinned for the repository on its
//! first verified pull, else (first use) what the hub serves. The hub's own report of who
//! signed is never believed: the identity compared with the pin is the one in the
//! signature's certificate, and verification then checks it cryptographically.

use anyhow::{Context as _, anyhow};
use aws_lc_rs::digest::{SHA256, digest};
use hallmark_crypto::{Certificate, PublicKey};
use hallmark_format::bundle::{Bundle, VerificationMaterial};
use hallmark_format::limits::Limits;
use hallmark_signing::keyless::KeylessVerifier;
use hallmark_signing::verify::{EnvelopeVerifier, KeyVerifier};
use hallmark_sigstore::{IdentityPolicy, TrustedRoot};
use serde_json::Value;

use crate::args::remote::PullArgs;
use crate::hubclient::Client;
use crate::pins::{Pin, Pins};
use crate::util::{Failure, OrExit as _, read_input};

/// The verifier to run and the pin that verification, once passed, establishes.
pub(crate) struct Decision {
    pub(crate) verifier: Box<dyn EnvelopeVerifier>,
    /// Verifies what the hub signs itself (its `scan` claims): the pinned key, or the
    /// pinned trust root with the hub's own identity (`{hub}/.well-known/hallmark-hub`).
    pub(crate) hub: Box<dyn EnvelopeVerifier>,
    /// What to record for the repository, or `None` when the pins file stays as it is.
    pub(crate) new_pin: Option<Pin>,
}

/// Where the value came from: the command line wins over the pin, the pin over the hub.
fn pick(flag: Option<&String>, pinned: Option<&String>, hub: &str) -> String {
    flag.or(pinned).cloned().unwrap_or_else(|| hub.to_owned())
}

/// Exit-1 refusal naming the pinned and the new value, and how to accept the new one.
fn changed(repo: &str, what: &str, pinned: &str, now: &str, pins: &Pins, flag: &str) -> Failure {
    Failure::failed(anyhow!(
        "{repo}: the {what} changed: pinned {pinned:?}, this revision {now:?}. \
         Nothing was written. If you trust the new {what}, run again with \
         --accept-new-signer (re-pins it in {}) or pass {flag}",
        pins.path().display()
    ))
}

fn sha256_hex(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(digest(&SHA256, bytes)))
}

/// Chooses the verifier for `bundle_bytes` (the downloaded `model.sig`) of `repo`.
/// `sig` is the hub's `hallmark.signature` report: used only for where the trust config
/// lives and, on first use, the issuer to expect (verification then checks it).
pub(crate) fn decide(
    a: &PullArgs,
    client: &Client,
    pins: &Pins,
    repo: &str,
    sig: &Value,
    bundle_bytes: &[u8],
) -> Result<Decision, Failure> {
    let bundle = Bundle::parse(bundle_bytes, &Limits::default())
        .context("model.sig is not a signature bundle")
        .or_failed()?;
    let method = bundle.material.method();
    let pin = pins.get(repo).filter(|_| !a.accept_new_signer);
    if let Some(p) = &pin
        && p.method != method
    {
        return Err(changed(
            repo,
            "signing method",
            &p.method,
            method,
            pins,
            "--public-key or --trust-config",
        ));
    }
    let hub_str = |k: &str| sig.get(k).and_then(Value::as_str).unwrap_or_default();
    let (verifier, hub, now): (Box<dyn EnvelopeVerifier>, Box<dyn EnvelopeVerifier>, Pin) =
        match &bundle.material {
            VerificationMaterial::Certificate(der) => {
                let tc_bytes = match &a.trust_config {
                    Some(p) => read_input("trust config", p).or_input()?,
                    None => fetch_trust_config(client, hub_str("trust_config_url")).or_failed()?,
                };
                let tc = sha256_hex(&tc_bytes);
                if a.trust_config.is_none()
                    && let Some(pinned) = pin.as_ref().and_then(|p| p.trust_config.as_ref())
                    && *pinned != tc
                {
                    return Err(changed(
                        repo,
                        "trust root (trust config)",
                        pinned,
                        &tc,
                        pins,
                        "--trust-config FILE",
                    ));
                }
                let signed_by = Certificate::from_der(der)
                    .ok()
                    .and_then(|c| c.san_values().into_iter().next())
                    .unwrap_or_default();
                let identity = pick(
                    a.identity.as_ref(),
                    pin.as_ref().and_then(|p| p.identity.as_ref()),
                    &signed_by,
                );
                if identity != signed_by {
                    if a.identity.is_some() {
                        return Err(Failure::failed(anyhow!(
                            "{repo}: model.sig is signed by {signed_by:?}, not the required \
                         --identity {identity:?}. Nothing was written"
                        )));
                    }
                    return Err(changed(
                        repo,
                        "signer identity",
                        &identity,
                        &signed_by,
                        pins,
                        "--identity ID",
                    ));
                }
                let claimed_issuer = hub_str("issuer");
                let issuer = pick(
                    a.identity_provider.as_ref(),
                    pin.as_ref().and_then(|p| p.issuer.as_ref()),
                    claimed_issuer,
                );
                if a.identity_provider.is_none() && issuer != claimed_issuer {
                    return Err(changed(
                        repo,
                        "signer's issuer",
                        &issuer,
                        claimed_issuer,
                        pins,
                        "--identity-provider URL",
                    ));
                }
                let trust = TrustedRoot::from_client_trust_config_json(&tc_bytes)
                    .context("trust config")
                    .or_failed()?;
                let now = Pin {
                    method: method.to_owned(),
                    trust_config: Some(tc),
                    public_key: None,
                    identity: Some(identity.clone()),
                    issuer: Some(issuer.clone()),
                };
                let hub_trust = TrustedRoot::from_client_trust_config_json(&tc_bytes)
                    .context("trust config")
                    .or_failed()?;
                let hub = KeylessVerifier {
                    trust: hub_trust,
                    policy: IdentityPolicy {
                        identity: Some(hub_identity(client, hub_str("trust_config_url"))),
                        identity_regex: None,
                        issuer: issuer.clone(),
                    },
                };
                let policy = IdentityPolicy {
                    identity: Some(identity),
                    identity_regex: None,
                    issuer,
                };
                (
                    Box::new(KeylessVerifier { trust, policy }),
                    Box::new(hub),
                    now,
                )
            }
            _ => {
                let pem = match &a.public_key {
                    Some(p) => read_input("public key", p).or_input()?,
                    None => client
                        .get_bytes("/api/signing-key.pem", 1 << 20)
                        .or_failed()?,
                };
                let key = PublicKey::from_pem(&pem)
                    .context("hub public key")
                    .or_failed()?;
                let fp = key.fingerprint();
                if a.public_key.is_none()
                    && let Some(pinned) = pin.as_ref().and_then(|p| p.public_key.as_ref())
                    && *pinned != fp
                {
                    return Err(changed(
                        repo,
                        "signing key",
                        pinned,
                        &fp,
                        pins,
                        "--public-key FILE",
                    ));
                }
                let now = Pin {
                    method: method.to_owned(),
                    public_key: Some(fp),
                    ..Pin::default()
                };
                let hub = KeyVerifier { key: key.clone() };
                (Box::new(KeyVerifier { key }), Box::new(hub), now)
            }
        };
    let new_pin = match pins.get(repo) {
        Some(old) if old == now => None,
        Some(_) if !a.accept_new_signer => None,
        _ => Some(now),
    };
    Ok(Decision {
        verifier,
        hub,
        new_pin,
    })
}

/// The hub's trust config. Published as `{public URL}/trust-config.json`; a replica reached
/// at its own address (not the load balancer's) serves the same document at the same path,
/// so only the URL's path is used, on the hub pulled from.
fn fetch_trust_config(client: &Client, url: &str) -> anyhow::Result<Vec<u8>> {
    let path = match url {
        "" => "/trust-config.json",
        u => u.strip_prefix(&client.base).unwrap_or_else(|| url_path(u)),
    };
    client.get_bytes(path, 16 << 20)
}

/// The identity a keyless hub signs its own claims with: `{public URL}/.well-known/hallmark-hub`,
/// the public URL being where its trust config is published (else the address pulled from).
fn hub_identity(client: &Client, trust_config_url: &str) -> String {
    let base = trust_config_url
        .strip_suffix("/trust-config.json")
        .filter(|b| b.contains("://"))
        .unwrap_or(&client.base);
    format!("{}/.well-known/hallmark-hub", base.trim_end_matches('/'))
}

/// The path (and query) of an absolute `http(s)://host/path` URL; a relative one as is.
pub(crate) fn url_path(url: &str) -> &str {
    match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => url,
    }
}

#[cfg(test)]
mod url_tests {
    use super::url_path;

    #[test]
    fn trust_config_path_of_a_public_url() {
        assert_eq!(
            url_path("https://hub.example.com/trust-config.json"),
            "/trust-config.json"
        );
        assert_eq!(url_path("http://127.0.0.1:8080"), "/");
        assert_eq!(url_path("/trust-config.json"), "/trust-config.json");
    }
}
