//! Keyless sign-on-upload (issue 6 + 7): the hub is its own Sigstore instance. For each
//! revision its OIDC issuer mints a token for the uploader, its CA certifies an ephemeral
//! key for `{public-url}/{username}` (URI SAN, issuer extension = `{public-url}`), the
//! statement is signed and the event logged in the hub's transparency log; `model.sig` is
//! then an ordinary keyless bundle that stock `model_signing verify sigstore` accepts with
//! the hub's `/trust-config.json`.

use std::sync::Arc;

use async_trait::async_trait;
use hallmark_format::Manifest;
use hallmark_format::bundle::Bundle;
use hallmark_instance::{EmbeddedSigner, Instance};
use hallmark_signing::keyless::KeylessVerifier;
use hallmark_signing::verify::{EnvelopeVerifier, SignerInfo};
use hallmark_signing::{Signer, sign_manifest};
use hallmark_sigstore::{IdentityPolicy, TrustedRoot};
use hallmark_store::Account;

use crate::auth::blocking;
use crate::error::HubError;
use crate::signer::{BundleSigner, RevisionSigner, SignedClaim, SignedRevision};

/// The path under the hub's URL of the identity the hub signs its own claims as (no
/// account name can start with a dot, so no user has it).
pub const HUB_IDENTITY_PATH: &str = ".well-known/hallmark-hub";

/// Signs revisions keylessly through the embedded Sigstore instance.
#[derive(Debug)]
pub struct KeylessRevisionSigner {
    instance: Arc<Instance>,
}

impl KeylessRevisionSigner {
    /// Wraps an opened instance (whose public URL is the hub's).
    #[must_use]
    pub fn new(instance: Arc<Instance>) -> Self {
        Self { instance }
    }

    /// The embedded instance (its routes are served by the hub).
    #[must_use]
    pub fn instance(&self) -> &Arc<Instance> {
        &self.instance
    }

    fn trust_root(&self) -> Result<TrustedRoot, String> {
        TrustedRoot::from_client_trust_config_json(
            self.instance.trust_config().to_string().as_bytes(),
        )
        .map_err(|e| e.to_string())
    }
}

#[async_trait]
impl RevisionSigner for KeylessRevisionSigner {
    fn method(&self) -> &'static str {
        "sigstore"
    }

    async fn sign_revision(
        &self,
        uploader: &Account,
        manifest: &Manifest,
    ) -> Result<SignedRevision, HubError> {
        // No certificate for a disabled user.
        crate::signer::refuse_disabled(uploader)?;
        let identity = self.identity_of(&uploader.name);
        let signer = Signer::Keyless(Box::new(EmbeddedSigner::new(
            Arc::clone(&self.instance),
            &identity,
            None,
        )));
        let manifest = manifest.clone();
        // Certificate issuance, signing and the durable log append block: not on a worker.
        let signed =
            blocking(move || sign_manifest(manifest, &signer).map_err(HubError::Sign)).await??;
        let bundle = Bundle::parse(
            &signed.bundle_json,
            &hallmark_format::limits::Limits::default(),
        )
        .map_err(HubError::Bundle)?;
        let log_index = bundle
            .tlog_entries
            .first()
            .and_then(|e| e.get("logIndex"))
            .and_then(|v| {
                v.as_str()
                    .and_then(|s| s.parse().ok())
                    .or_else(|| v.as_u64())
            });
        Ok(SignedRevision {
            bundle_json: signed.bundle_json,
            identity,
            issuer: self.issuer(),
            log_index,
        })
    }

    fn sign_claim(&self, payload: Vec<u8>) -> Result<SignedClaim, HubError> {
        let identity = format!("{}/{HUB_IDENTITY_PATH}", self.instance.public_url());
        let signer = Signer::Keyless(Box::new(EmbeddedSigner::new(
            Arc::clone(&self.instance),
            &identity,
            None,
        )));
        let bundle_json = crate::claims::statement::sign(payload, &signer)?;
        let logged = crate::claims::statement::bundle_log_entry(&bundle_json);
        Ok(SignedClaim {
            bundle_json,
            signer: identity,
            issuer: self.issuer(),
            logged,
        })
    }

    fn log_envelope(
        &self,
        envelope_json: &str,
        verifiers_pem: &[&str],
    ) -> Result<Option<hallmark_instance::LoggedEntry>, HubError> {
        self.instance
            .log_dsse(envelope_json, verifiers_pem)
            .map(Some)
            .map_err(|e| HubError::Sign(hallmark_signing::SignError::Keyless(Box::new(e))))
    }

    fn trust_root(&self) -> Option<TrustedRoot> {
        KeylessRevisionSigner::trust_root(self).ok()
    }

    fn authenticate(
        &self,
        bundle: &Bundle,
        bundle_bytes: &[u8],
        expected_identity: &str,
    ) -> Result<BundleSigner, String> {
        let v = KeylessVerifier {
            trust: self.trust_root()?,
            policy: IdentityPolicy {
                identity: Some(expected_identity.to_owned()),
                identity_regex: None,
                issuer: self.issuer(),
            },
        };
        let auth = v
            .authenticate(bundle, bundle_bytes)
            .map_err(|e| e.to_string())?;
        match auth.signer {
            SignerInfo::Keyless {
                identity,
                issuer,
                log_index,
                ..
            } => Ok(BundleSigner {
                identity,
                issuer,
                log_index,
            }),
            other => Err(format!("unexpected signer {other:?}")),
        }
    }

    fn identity_of(&self, username: &str) -> String {
        format!("{}/{username}", self.instance.public_url())
    }

    fn issuer(&self) -> String {
        self.instance.public_url().to_owned()
    }

    fn trust_config_url(&self) -> Option<String> {
        Some(format!("{}/trust-config.json", self.instance.public_url()))
    }

    fn identity_token(&self, username: &str) -> Option<Result<String, String>> {
        Some(
            self.instance
                .mint_token(&self.identity_of(username), None)
                .map_err(|e| e.to_string()),
        )
    }

    fn public_key_pem(&self) -> Option<String> {
        None
    }

    fn routes(&self) -> Option<axum::Router> {
        // The hub appends its own entries in-process (EmbeddedSigner). Over HTTP the log
        // takes only entries whose certificate this hub's CA issued and that is valid now,
        // i.e. signatures of users who logged in through `/oauth/authorize` moments ago
        // (rate-limited per client): users sign on their own machines with their hub identity.
        Some(hallmark_instance::router(
            Arc::clone(&self.instance),
            hallmark_instance::LogWrites::open(),
        ))
    }

    fn shutdown(&self) {
        self.instance.shutdown();
    }

    fn log_target(&self) -> Option<hallmark_tlog::monitor::LogTarget> {
        Some(self.instance.log_monitor_target())
    }

    fn log_health(&self) -> Option<Result<hallmark_instance::LogReadiness, &'static str>> {
        Some(hallmark_instance::log_readiness(&self.instance))
    }
}
