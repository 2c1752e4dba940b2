//! Who may sign: keys, certificate roots and keyless identities from the policy, and
//! authentication of a bundle (model signature or attestation) against them with the
//! `hallmark-signing` verifiers.

use std::path::PathBuf;

use hallmark_crypto::{
    Certificate, ChainPolicy, ChainTime, PublicKey, load_certificates_pem_with_source,
};
use hallmark_format::bundle::{Bundle, VerificationMaterial};
use hallmark_format::limits::Limits;
use hallmark_signing::keyless::KeylessVerifier;
use hallmark_signing::verify::{CertificateVerifier, KeyVerifier};
use hallmark_signing::{EnvelopeVerifier, SignerInfo};
use hallmark_sigstore::{IdentityPolicy, TrustedRoot};

use crate::error::PolicyError;
use crate::policy::Policy;

/// Trust material loaded from the policy.
#[derive(Debug, Default)]
pub struct Trust {
    /// Allowed keys with the file they came from.
    pub keys: Vec<(PathBuf, PublicKey)>,
    /// Certificate-method anchors.
    pub roots: Vec<Certificate>,
    /// Allowed identities.
    pub identities: Vec<String>,
    /// Allowed keyless issuers.
    pub issuers: Vec<String>,
    /// Keyless trust root (`None`: public good).
    pub trusted_root: Option<PathBuf>,
}

fn read(field: &'static str, p: &std::path::Path) -> Result<Vec<u8>, PolicyError> {
    std::fs::read(p).map_err(|e| PolicyError::TrustFile {
        field,
        path: p.display().to_string(),
        source: e,
    })
}

/// Loads keys from `paths` (resolved against the policy).
///
/// # Errors
/// [`PolicyError::TrustFile`] or [`PolicyError::Trust`] naming the file.
pub fn load_keys(
    policy: &Policy,
    field: &'static str,
    paths: &[PathBuf],
) -> Result<Vec<(PathBuf, PublicKey)>, PolicyError> {
    let mut out = Vec::new();
    for p in paths {
        let p = policy.resolve(p);
        let key = PublicKey::from_pem_with_source(&read(field, &p)?, &p.display().to_string())
            .map_err(|e| PolicyError::Trust {
                field,
                path: p.display().to_string(),
                source: Box::new(e),
            })?;
        out.push((p, key));
    }
    Ok(out)
}

/// Loads the `[signature]` trust material.
///
/// # Errors
/// [`PolicyError::TrustFile`] or [`PolicyError::Trust`] naming the unusable file.
pub fn signature_trust(policy: &Policy) -> Result<Trust, PolicyError> {
    let s = &policy.signature;
    let mut roots = Vec::new();
    for p in &s.certificate_roots {
        let p = policy.resolve(p);
        let certs = load_certificates_pem_with_source(
            &read("signature.certificate_roots", &p)?,
            &p.display().to_string(),
        )
        .map_err(|e| PolicyError::Trust {
            field: "signature.certificate_roots",
            path: p.display().to_string(),
            source: Box::new(e),
        })?;
        roots.extend(certs);
    }
    Ok(Trust {
        keys: load_keys(policy, "signature.public_keys", &s.public_keys)?,
        roots,
        identities: s.identities.clone(),
        issuers: s.issuers.clone(),
        trusted_root: s.trusted_root.as_ref().map(|p| policy.resolve(p)),
    })
}

fn load_root(trust: &Trust) -> Result<TrustedRoot, String> {
    match &trust.trusted_root {
        Some(p) => {
            let b = std::fs::read(p).map_err(|e| format!("trusted root {}: {e}", p.display()))?;
            TrustedRoot::from_trusted_root_json(&b)
                .map_err(|e| format!("trusted root {}: {e}", p.display()))
        }
        None => Ok(TrustedRoot::public_good()),
    }
}

fn signer_names(s: &SignerInfo) -> (String, Vec<String>) {
    match s {
        SignerInfo::Key { fingerprint, .. } => (format!("public key {fingerprint}"), Vec::new()),
        SignerInfo::Certificate { subject, san, .. } => {
            let mut ids = san.clone();
            ids.push(subject.clone());
            (
                format!("certificate {subject} (SAN {})", san.join(", ")),
                ids,
            )
        }
        SignerInfo::Keyless {
            identity, issuer, ..
        } => (
            format!("{identity} (issuer {issuer})"),
            vec![identity.clone()],
        ),
    }
}

/// One verification attempt: verify with the given verifier, return the result and signer.
pub type VerifyWith<'a, T> =
    dyn FnMut(&dyn EnvelopeVerifier) -> Result<(T, SignerInfo), String> + 'a;

/// Authenticates `bundle_bytes` (`what` names it in refusals) against the trust
/// material: `run` verifies with one verifier and returns its result and signer.
/// Returns the result and a one-line description of the allowed signer, or the refusal.
///
/// # Errors
/// The refusal text: unknown signer, unverifiable signature, disallowed identity.
pub fn authenticate<T>(
    trust: &Trust,
    what: &str,
    bundle_bytes: &[u8],
    run: &mut VerifyWith<'_, T>,
) -> Result<(T, String), String> {
    let bundle =
        Bundle::parse(bundle_bytes, &Limits::default()).map_err(|e| format!("{what}: {e}"))?;
    match &bundle.material {
        VerificationMaterial::PublicKey { hint, .. } => {
            if trust.keys.is_empty() {
                return Err(format!(
                    "{what} is signed with a key, but the policy allows no public_keys"
                ));
            }
            let candidates: Vec<&(PathBuf, PublicKey)> = match hint {
                Some(h) => trust
                    .keys
                    .iter()
                    .filter(|(_, k)| k.hint().eq_ignore_ascii_case(h))
                    .collect(),
                None => trust.keys.iter().collect(),
            };
            if candidates.is_empty() {
                let allowed: Vec<String> = trust
                    .keys
                    .iter()
                    .map(|(p, _)| p.display().to_string())
                    .collect();
                return Err(format!(
                    "{what} is signed by public key {} (key hint), which is not an allowed signer; the policy allows {}",
                    hint.as_deref().unwrap_or("?"),
                    allowed.join(", ")
                ));
            }
            let mut last = String::new();
            for (p, key) in candidates {
                match run(&KeyVerifier { key: key.clone() }) {
                    Ok((t, s)) => {
                        return Ok((t, format!("{} ({})", signer_names(&s).0, p.display())));
                    }
                    Err(e) => last = e,
                }
            }
            Err(format!("{what}: {last}"))
        }
        VerificationMaterial::X509CertificateChain(_) => {
            if trust.roots.is_empty() {
                return Err(format!(
                    "{what} is signed with a certificate, but the policy names no certificate_roots"
                ));
            }
            let v = CertificateVerifier {
                anchors: trust.roots.clone(),
                policy: ChainPolicy {
                    time: ChainTime::LeafNotBefore,
                },
            };
            let (t, s) = run(&v).map_err(|e| format!("{what}: {e}"))?;
            let (name, ids) = signer_names(&s);
            if !trust.identities.is_empty() && !ids.iter().any(|i| trust.identities.contains(i)) {
                return Err(format!(
                    "{what} is signed by {name}, which is not an allowed identity; the policy allows {}",
                    trust.identities.join(", ")
                ));
            }
            Ok((t, name))
        }
        VerificationMaterial::Certificate(_) => {
            if trust.identities.is_empty() || trust.issuers.is_empty() {
                return Err(format!(
                    "{what} is a keyless (Sigstore) signature, but the policy names no identities and issuers"
                ));
            }
            let mut last = String::new();
            for id in &trust.identities {
                for iss in &trust.issuers {
                    let v = KeylessVerifier {
                        trust: load_root(trust)?,
                        policy: IdentityPolicy {
                            identity: Some(id.clone()),
                            identity_regex: None,
                            issuer: iss.clone(),
                        },
                    };
                    match run(&v) {
                        Ok((t, s)) => return Ok((t, signer_names(&s).0)),
                        Err(e) => last = e,
                    }
                }
            }
            Err(format!(
                "{what} is not signed by an allowed identity and issuer: {last}"
            ))
        }
    }
}
