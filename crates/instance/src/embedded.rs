//! Keyless signing inside the process that runs the instance (the hub's sign-on-upload):
//! the same token → certificate → signature → log-entry steps as over HTTP, without the
//! network hops.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hallmark_ca::SanIdentity;
use hallmark_crypto::{Curve, SigningKey};
use hallmark_signing::{KeylessSignature, KeylessSigner, SignError};
use hallmark_tlog::rekor::{EntryProof, dsse_body};
use serde_json::json;

use crate::state::Instance;

/// Signs as `subject` (a URL, certified as a URI SAN) or `email`, through the embedded
/// issuer, CA and log. Blocking: run it on a blocking thread, never an async worker.
#[derive(Debug)]
pub struct EmbeddedSigner {
    instance: Arc<Instance>,
    subject: String,
    email: Option<String>,
}

impl EmbeddedSigner {
    /// A signer for one principal the caller has authenticated.
    #[must_use]
    pub fn new(instance: Arc<Instance>, subject: &str, email: Option<&str>) -> Self {
        Self {
            instance,
            subject: subject.to_owned(),
            email: email.map(str::to_owned),
        }
    }
}

fn err(e: impl std::fmt::Display) -> SignError {
    SignError::Keyless(e.to_string().into())
}

impl KeylessSigner for EmbeddedSigner {
    fn sign(&self, payload: &[u8], pae: &[u8]) -> Result<KeylessSignature, SignError> {
        let i = &self.instance;
        // Mint and validate a token exactly as an external client's would be.
        let token = i
            .mint_token(&self.subject, self.email.as_deref())
            .map_err(err)?;
        let claims = i
            .token_validator()
            .map_err(err)?
            .validate(&token)
            .map_err(err)?;
        let identity = SanIdentity::from_claims(&claims).map_err(err)?;
        let key = SigningKey::generate(Curve::P256)?;
        let issued =
            i.ca.issue(
                key.public_key().spki_der(),
                &identity,
                &claims.iss,
                std::time::SystemTime::now(),
            )
            .map_err(err)?;
        let signature = key.sign(pae)?;
        let envelope = json!({
            "payload": STANDARD.encode(payload),
            "payloadType": hallmark_format::dsse::IN_TOTO_PAYLOAD_TYPE,
            "signatures": [{ "sig": STANDARD.encode(&signature) }],
        });
        let leaf_pem = hallmark_ca::material::pem("CERTIFICATE", &issued.leaf_der);
        let body = dsse_body(&envelope.to_string(), &[leaf_pem.as_str()]).map_err(err)?;
        // Kept typed: callers map a full log ([`hallmark_tlog::Error::StorageFull`]) to 507.
        let appended = i
            .append_witnessed(body.clone())
            .map_err(|e| SignError::Keyless(Box::new(e)))?;
        let set = appended
            .sign_set(&i.log_key, &i.log_cfg, &body)
            .map_err(err)?;
        let entry = EntryProof {
            body: &body,
            index: appended.index,
            integrated_time: appended.integrated_time,
            log_id: i.log_id(),
            set: &set,
            proof: &appended.proof,
            checkpoint: &appended.checkpoint,
        }
        .bundle_tlog_entry();
        Ok(KeylessSignature {
            certificate_der: issued.leaf_der,
            signature,
            tlog_entries: vec![entry],
            timestamp_verification_data: Some(json!({})),
        })
    }
}

/// Where the log holds an entry appended with [`Instance::log_dsse`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoggedEntry {
    /// Leaf index.
    pub index: u64,
    /// When its batch was integrated (Unix seconds).
    pub integrated_time: i64,
}

impl Instance {
    /// Appends a `dsse` entry for a DSSE envelope (its JSON text) someone else signed,
    /// checked against the PEM verifiers (certificates or public keys) as the log's HTTP
    /// API would: the hub logs the statements it keeps about revisions. Blocking.
    ///
    /// # Errors
    /// [`hallmark_tlog::Error::InvalidEntry`] when a signature does not verify with the
    /// verifiers or the envelope is malformed; the log's own errors (full, stopped).
    pub fn log_dsse(
        &self,
        envelope_json: &str,
        verifiers_pem: &[&str],
    ) -> Result<LoggedEntry, hallmark_tlog::Error> {
        let body = dsse_body(envelope_json, verifiers_pem)?;
        let appended = self.append_witnessed(body)?;
        Ok(LoggedEntry {
            index: appended.index,
            integrated_time: appended.integrated_time,
        })
    }
}
