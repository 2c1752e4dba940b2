//! `hallmark._native.verify`: the three verifiers of `verifying.Config`.

use std::path::PathBuf;

use hallmark_crypto::{ChainPolicy, ChainTime, PublicKey};
use hallmark_format::{HashAlgorithm, Serialization};
use hallmark_signing::keyless::KeylessVerifier;
use hallmark_signing::verify::{CertificateVerifier, KeyVerifier};
use hallmark_signing::{EnvelopeVerifier, Verified, VerifyOptions, verify_model};
use hallmark_sigstore::{IdentityPolicy, TrustedRoot};
use pyo3::prelude::*;

use crate::errors::{value_error, verification_error, verify_error};
use crate::hashing::HashingOptions;
use crate::sign::{certificates, read};

/// The verifier chosen with `use_elliptic_key_verifier`, `use_certificate_verifier` or
/// `use_sigstore_verifier`.
#[derive(Debug, FromPyObject)]
#[pyo3(from_item_all)]
pub(crate) struct VerifierSpec {
    /// `key`, `certificate` or `sigstore`.
    method: String,
    /// PEM public key (`key`).
    public_key: Option<PathBuf>,
    /// PEM trust anchors (`certificate`).
    certificate_chain: Vec<PathBuf>,
    /// Expected signer identity (`sigstore`).
    identity: Option<String>,
    /// Expected OIDC issuer (`sigstore`).
    oidc_issuer: Option<String>,
    /// ClientTrustConfig of a private instance (`sigstore`; else the public-good root).
    trust_config: Option<PathBuf>,
}

impl VerifierSpec {
    fn verifier(&self) -> PyResult<Box<dyn EnvelopeVerifier + Send + Sync>> {
        match self.method.as_str() {
            "key" => {
                let path = self
                    .public_key
                    .as_deref()
                    .ok_or_else(|| value_error("key verifier", "no public_key"))?;
                let key = PublicKey::from_pem(&read("public key", path)?)
                    .map_err(|e| value_error(&format!("public key {}", path.display()), e))?;
                Ok(Box::new(KeyVerifier { key }))
            }
            "certificate" => {
                let mut anchors = Vec::new();
                for p in &self.certificate_chain {
                    anchors.extend(certificates("certificate chain", p)?);
                }
                if anchors.is_empty() {
                    return Err(value_error(
                        "certificate verifier",
                        "certificate_chain names no trusted certificate (the operating system's roots are not used)",
                    ));
                }
                Ok(Box::new(CertificateVerifier {
                    anchors,
                    policy: ChainPolicy {
                        time: ChainTime::LeafNotBefore,
                    },
                }))
            }
            "sigstore" => {
                let trust = match &self.trust_config {
                    Some(p) => {
                        TrustedRoot::from_client_trust_config_json(&read("trust config", p)?)
                            .map_err(|e| value_error(&format!("trust config {}", p.display()), e))?
                    }
                    None => TrustedRoot::public_good(),
                };
                let issuer = self
                    .oidc_issuer
                    .clone()
                    .ok_or_else(|| value_error("sigstore verifier", "no oidc_issuer"))?;
                let policy = IdentityPolicy {
                    identity: self.identity.clone(),
                    identity_regex: None,
                    issuer,
                };
                Ok(Box::new(KeylessVerifier { trust, policy }))
            }
            other => Err(value_error(
                "verification method",
                format!("{other:?} is not key, certificate or sigstore"),
            )),
        }
    }
}

/// With an explicit hashing configuration the reference hashes the model that way and
/// reports a mismatch when the signature used another one; so do we.
fn check_hashing(expected: &HashingOptions, v: &Verified) -> PyResult<()> {
    let want_hash: HashAlgorithm = expected.hash()?;
    let (want_method, want_shard) = match expected.serialization()? {
        Serialization::Files => ("files", None),
        Serialization::Shards { shard_size } => ("shards", Some(shard_size)),
    };
    if want_method == v.serialization
        && want_hash.to_string() == v.hash
        && want_shard == v.shard_size
    {
        return Ok(());
    }
    let reason = format!(
        "the signature was made with {}/{}{} hashing, the hashing configuration asks for {want_method}/{want_hash}{}",
        v.serialization,
        v.hash,
        v.shard_size
            .map(|n| format!(" shard size {n}"))
            .unwrap_or_default(),
        want_shard
            .map(|n| format!(" shard size {n}"))
            .unwrap_or_default(),
    );
    Err(verification_error(
        format!("Signature mismatch: [{reason:?}]"),
        vec![reason],
    ))
}

/// Verifies `model` against the bundle at `signature`; the GIL is released while the
/// model is hashed. Returns the verification report as JSON (signer, digest, checks).
#[pyfunction]
#[pyo3(signature = (model, signature, verifier, hashing, ignore_unsigned_files))]
pub(crate) fn verify(
    py: Python<'_>,
    model: PathBuf,
    signature: PathBuf,
    verifier: VerifierSpec,
    hashing: Option<HashingOptions>,
    ignore_unsigned_files: bool,
) -> PyResult<String> {
    let verifier = verifier.verifier()?;
    let bundle = read("signature", &signature)?;
    let mut opts = VerifyOptions {
        ignore_unsigned_files,
        signature_path: Some(signature.clone()),
        ..VerifyOptions::default()
    };
    if let Some(h) = &hashing {
        opts.ignore_paths = h.model_ignore_paths(&model);
        opts.ignore_git_paths = h.ignore_git_paths();
        opts.allow_symlinks = h.allow_symlinks();
        opts.engine = h.engine();
    }
    let verified = py
        .detach(|| verify_model(&model, &bundle, verifier.as_ref(), &opts))
        .map_err(verify_error)?;
    if let Some(h) = hashing.as_ref().filter(|h| h.chosen()) {
        check_hashing(h, &verified)?;
    }
    serde_json::to_string(&verified).map_err(|e| value_error("verification report", e))
}
