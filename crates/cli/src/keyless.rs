//! The HTTP client side of keyless signing (`hallmark sign sigstore`, `attest train
//! --trust-config`): Fulcio v2 + Rekor v1 against any instance that a ClientTrustConfig
//! describes.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hallmark_crypto::{Curve, SigningKey, load_certificates_pem};
use hallmark_signing::{KeylessSignature, KeylessSigner, SignError};
use serde_json::{Value, json};

use crate::util::read_input;

/// The environment variable with the write token of a log that requires one
/// (`hallmark sigstore serve --log-write-token-file`).
const LOG_WRITE_TOKEN_ENV: &str = "HALLMARK_LOG_WRITE_TOKEN";

/// Signs against the Fulcio and Rekor that a ClientTrustConfig names.
pub(crate) struct HttpKeylessSigner {
    fulcio: String,
    rekor: String,
    token: String,
    log_token: Option<String>,
}

impl std::fmt::Debug for HttpKeylessSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpKeylessSigner")
            .field("fulcio", &self.fulcio)
            .field("rekor", &self.rekor)
            .finish_non_exhaustive()
    }
}

fn first_url(tc: &Value, list: &str) -> Option<String> {
    let sc = tc
        .get("signingConfig")
        .or_else(|| tc.get("signing_config"))?;
    let services = sc
        .get(list)
        .or_else(|| sc.get(to_snake(list)))?
        .as_array()?;
    services
        .iter()
        .find(|s| {
            s.get("majorApiVersion")
                .or_else(|| s.get("major_api_version"))
                .and_then(Value::as_u64)
                .is_none_or(|v| v == 1)
        })
        .and_then(|s| s.get("url")?.as_str())
        .map(|u| u.trim_end_matches('/').to_owned())
}

fn to_snake(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

impl HttpKeylessSigner {
    pub(crate) fn from_trust_config(path: &Path, token: String) -> anyhow::Result<Self> {
        let tc: Value = serde_json::from_slice(&read_input("trust config", path)?)
            .with_context(|| format!("trust config {}", path.display()))?;
        Self::from_trust_config_json(&tc, &format!("trust config {}", path.display()), token)
    }

    /// From a parsed ClientTrustConfig; `origin` names it in errors.
    pub(crate) fn from_trust_config_json(
        tc: &Value,
        origin: &str,
        token: String,
    ) -> anyhow::Result<Self> {
        let fulcio = first_url(tc, "caUrls").with_context(|| {
            format!("{origin} lists no certificate authority (signingConfig.caUrls)")
        })?;
        let rekor = first_url(tc, "rekorTlogUrls").with_context(|| {
            format!("{origin} lists no Rekor v1 log (signingConfig.rekorTlogUrls)")
        })?;
        Ok(Self {
            fulcio,
            rekor,
            token,
            log_token: std::env::var(LOG_WRITE_TOKEN_ENV)
                .ok()
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty()),
        })
    }

    fn post(&self, url: &str, body: &Value, bearer: Option<&str>) -> Result<Value, SignError> {
        let agent = crate::http::agent(Duration::from_secs(60));
        let mut req = agent.post(url).header("Content-Type", "application/json");
        if let Some(t) = bearer {
            req = req.header("Authorization", &format!("Bearer {t}"));
        }
        let mut resp = req
            .send(body.to_string())
            .map_err(|e| SignError::Keyless(format!("POST {url}: {e}").into()))?;
        let status = resp.status();
        let text = resp
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_string()
            .map_err(|e| {
                SignError::Keyless(format!("POST {url}: reading the answer: {e}").into())
            })?;
        if !status.is_success() {
            let msg = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or(text);
            return Err(SignError::Keyless(
                format!("POST {url}: {status}: {msg}").into(),
            ));
        }
        serde_json::from_str(&text)
            .map_err(|e| SignError::Keyless(format!("POST {url}: answer is not JSON: {e}").into()))
    }
}

fn hex_to_b64(h: &Value) -> Option<String> {
    hex::decode(h.as_str()?).ok().map(|b| STANDARD.encode(b))
}

/// Converts a Rekor v1 `LogEntry` answer into a bundle `tlogEntries[]` element.
fn bundle_entry(answer: &Value) -> Option<Value> {
    let (_, e) = answer.as_object()?.iter().next()?;
    let proof = e.pointer("/verification/inclusionProof")?;
    let body = e.get("body")?.as_str()?;
    let kind: Value = serde_json::from_slice(&STANDARD.decode(body).ok()?).ok()?;
    Some(json!({
        "logIndex": e.get("logIndex")?.as_u64()?.to_string(),
        "logId": { "keyId": hex_to_b64(e.get("logID")?)? },
        "kindVersion": { "kind": kind.get("kind")?.as_str()?, "version": kind.get("apiVersion")?.as_str()? },
        "integratedTime": e.get("integratedTime")?.as_i64()?.to_string(),
        "inclusionPromise": { "signedEntryTimestamp": e.pointer("/verification/signedEntryTimestamp")?.as_str()? },
        "inclusionProof": {
            "logIndex": proof.get("logIndex")?.as_u64()?.to_string(),
            "rootHash": hex_to_b64(proof.get("rootHash")?)?,
            "treeSize": proof.get("treeSize")?.as_u64()?.to_string(),
            "hashes": proof.get("hashes")?.as_array()?.iter().map(hex_to_b64).collect::<Option<Vec<_>>>()?,
            "checkpoint": { "envelope": proof.get("checkpoint")?.as_str()? },
        },
        "canonicalizedBody": body,
    }))
}

impl KeylessSigner for HttpKeylessSigner {
    fn sign(&self, payload: &[u8], pae: &[u8]) -> Result<KeylessSignature, SignError> {
        let key = SigningKey::generate(Curve::P256)?;
        let csr = hallmark_ca::csr::build_csr(&key).map_err(|e| SignError::Keyless(e.into()))?;
        let answer = self.post(
            &format!("{}/api/v2/signingCert", self.fulcio),
            &json!({ "certificateSigningRequest": STANDARD.encode(csr) }),
            Some(&self.token),
        )?;
        let chain = answer
            .pointer("/signedCertificateEmbeddedSct/chain/certificates")
            .and_then(Value::as_array)
            .and_then(|c| c.first())
            .and_then(Value::as_str)
            .ok_or_else(|| {
                SignError::Keyless(
                    "the certificate authority answered without signedCertificateEmbeddedSct.chain"
                        .into(),
                )
            })?;
        let leaf = load_certificates_pem(chain.as_bytes())?
            .into_iter()
            .next()
            .ok_or_else(|| SignError::Keyless("empty certificate chain".into()))?;
        if leaf.public_key()? != key.public_key() {
            return Err(SignError::Keyless(
                "the certificate authority certified another key".into(),
            ));
        }
        let signature = key.sign(pae)?;
        let envelope = json!({
            "payload": STANDARD.encode(payload),
            "payloadType": hallmark_format::dsse::IN_TOTO_PAYLOAD_TYPE,
            "signatures": [{ "sig": STANDARD.encode(&signature) }],
        });
        let leaf_pem = hallmark_ca::material::pem("CERTIFICATE", leaf.der());
        let entry = self.post(
            &format!("{}/api/v1/log/entries", self.rekor),
            &json!({ "apiVersion": "0.0.1", "kind": "dsse", "spec": { "proposedContent": { "envelope": envelope.to_string(), "verifiers": [STANDARD.encode(leaf_pem)] } } }),
            self.log_token.as_deref(),
        )?;
        let tlog = bundle_entry(&entry).ok_or_else(|| {
            SignError::Keyless("the transparency log's answer is not a Rekor v1 log entry".into())
        })?;
        Ok(KeylessSignature {
            certificate_der: leaf.der().to_vec(),
            signature,
            tlog_entries: vec![tlog],
            timestamp_verification_data: Some(json!({})),
        })
    }
}
