//! The HTTP client side of keyless signing (`hallmark sign sigstore`, `attest train
//! --trust-config`): Fulcio, Rekor v1 or v2 and RFC 3161 timestamp authorities, chosen by
//! the SigningConfig v0.2 rules ([`hallmark_sigstore::signing_config`]) from the
//! ClientTrustConfig. Rekor v2 and TSA calls: [`crate::keyless_v2`].

use std::path::Path;
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hallmark_crypto::{Curve, SigningKey, load_certificates_pem};
use hallmark_signing::{KeylessSignature, KeylessSigner, SignError};
use hallmark_sigstore::signing_config::{Supported, select_services};
use serde_json::{Value, json};

use crate::util::read_input;

/// The environment variable with the write token of a log that requires one
/// (`hallmark sigstore serve --log-write-token-file`).
const LOG_WRITE_TOKEN_ENV: &str = "HALLMARK_LOG_WRITE_TOKEN";

/// Signs against the Fulcio and Rekor that a ClientTrustConfig names.
pub(crate) struct HttpKeylessSigner {
    fulcio: String,
    rekor: String,
    /// The selected log's Rekor API version (1 or 2).
    rekor_version: u32,
    /// Full RFC 3161 endpoints of the selected TSAs.
    tsas: Vec<String>,
    token: String,
    log_token: Option<String>,
}

impl std::fmt::Debug for HttpKeylessSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpKeylessSigner")
            .field("fulcio", &self.fulcio)
            .field("rekor", &self.rekor)
            .field("rekor_version", &self.rekor_version)
            .field("tsas", &self.tsas)
            .finish_non_exhaustive()
    }
}

impl HttpKeylessSigner {
    pub(crate) fn from_trust_config(path: &Path, token: String) -> anyhow::Result<Self> {
        let tc: Value = serde_json::from_slice(&read_input("trust config", path)?)
            .with_context(|| format!("trust config {}", path.display()))?;
        Self::from_trust_config_json(&tc, &format!("trust config {}", path.display()), token)
    }

    /// From a parsed ClientTrustConfig; `origin` names it in errors. The services are
    /// chosen by the SigningConfig v0.2 rules.
    pub(crate) fn from_trust_config_json(
        tc: &Value,
        origin: &str,
        token: String,
    ) -> anyhow::Result<Self> {
        let selected = select_services(tc, SystemTime::now(), Supported::HALLMARK)
            .with_context(|| origin.to_owned())?;
        let tlog = &selected.tlogs[0];
        if tlog.major_api_version == 2 && selected.tsas.is_empty() {
            anyhow::bail!(
                "{origin}: the Rekor v2 log {} needs a timestamp authority, and signingConfig.tsaUrls lists none valid now",
                tlog.url
            );
        }
        Ok(Self {
            fulcio: selected.ca.url,
            rekor: tlog.url.clone(),
            rekor_version: tlog.major_api_version,
            tsas: selected.tsas.into_iter().map(|t| t.url).collect(),
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
        // Timestamps first (as sigstore-python does): a failing TSA stops the signing
        // before anything is logged.
        let timestamps = self
            .tsas
            .iter()
            .map(|url| crate::keyless_v2::timestamp(url, &signature))
            .collect::<Result<Vec<_>, _>>()?;
        let tlog = if self.rekor_version == 2 {
            let url = format!("{}/api/v2/log/entries", self.rekor);
            let answer = self.post(
                &url,
                &crate::keyless_v2::hashedrekord_request(pae, &signature, leaf.der()),
                self.log_token.as_deref(),
            )?;
            crate::keyless_v2::bundle_entry(answer, &url)?
        } else {
            let leaf_pem = hallmark_ca::material::pem("CERTIFICATE", leaf.der());
            let entry = self.post(
                &format!("{}/api/v1/log/entries", self.rekor),
                &json!({ "apiVersion": "0.0.1", "kind": "dsse", "spec": { "proposedContent": { "envelope": envelope.to_string(), "verifiers": [STANDARD.encode(leaf_pem)] } } }),
                self.log_token.as_deref(),
            )?;
            bundle_entry(&entry).ok_or_else(|| {
                SignError::Keyless(
                    "the transparency log's answer is not a Rekor v1 log entry".into(),
                )
            })?
        };
        let timestamp_verification_data = if timestamps.is_empty() {
            json!({})
        } else {
            json!({ "rfc3161Timestamps": timestamps })
        };
        Ok(KeylessSignature {
            certificate_der: leaf.der().to_vec(),
            signature,
            tlog_entries: vec![tlog],
            timestamp_verification_data: Some(timestamp_verification_data),
        })
    }
}
