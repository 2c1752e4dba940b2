//! The `sigstore` (keyless) method, through `hallmark-sigstore`.

use std::time::UNIX_EPOCH;

use hallmark_format::bundle::{Bundle, VerificationMaterial};
use hallmark_sigstore::{IdentityPolicy, TrustedRoot, verify_dsse_bundle};

use crate::error::VerifyError;
use crate::verify::{Authenticated, Check, EnvelopeVerifier, SignerInfo};

/// Verifies keyless bundles offline against a trust root and an identity policy.
#[derive(Debug)]
pub struct KeylessVerifier {
    /// Public-good or private-instance trust root.
    pub trust: TrustedRoot,
    /// Expected identity and issuer.
    pub policy: IdentityPolicy,
}

impl EnvelopeVerifier for KeylessVerifier {
    fn method(&self) -> &'static str {
        "sigstore"
    }

    fn authenticate(
        &self,
        bundle: &Bundle,
        bundle_bytes: &[u8],
    ) -> Result<Authenticated, VerifyError> {
        if !matches!(bundle.material, VerificationMaterial::Certificate(_)) {
            return Err(VerifyError::WrongMethod {
                found: bundle.material.method(),
                expected: "sigstore",
            });
        }
        let v = verify_dsse_bundle(bundle_bytes, &self.trust, &self.policy)?;
        // Both parsers must agree on what was signed; anything else is a parser differential.
        if v.payload != bundle.envelope.payload || v.payload_type != bundle.envelope.payload_type {
            return Err(VerifyError::PayloadDiffers);
        }
        let signed_at = v
            .signed_at
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Ok(Authenticated {
            signer: SignerInfo::Keyless {
                identity: v.identity.clone(),
                issuer: v.issuer.clone(),
                signed_at,
                log_index: v.log_index,
            },
            compat_pae: false,
            checks: v
                .checks
                .iter()
                .map(|c| Check {
                    name: c.check.to_string(),
                    passed: c.passed,
                    detail: c.detail.clone(),
                })
                .collect(),
            warnings: Vec::new(),
        })
    }
}
