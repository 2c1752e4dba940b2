//! `hallmark._native.sign`: the key and certificate methods of `signing.Config`.

use std::path::{Path, PathBuf};

use hallmark_crypto::{Certificate, SigningKey, load_certificates_pem_with_source};
use hallmark_signing::{Signer, sign_model};
use pyo3::prelude::*;
use zeroize::Zeroizing;

use crate::errors::{input_error, sign_error, value_error};
use crate::hashing::HashingOptions;

/// The signer chosen with `use_elliptic_key_signer` or `use_certificate_signer`.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub(crate) struct SignerSpec {
    /// `key` or `certificate`.
    method: String,
    /// PEM private key (PKCS#8 or SEC1, optionally encrypted).
    private_key: PathBuf,
    /// Password of an encrypted key.
    password: Option<String>,
    /// PEM leaf certificate (`certificate` method).
    signing_certificate: Option<PathBuf>,
    /// PEM files with further certificates to embed, in order.
    certificate_chain: Vec<PathBuf>,
}

impl std::fmt::Debug for SignerSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignerSpec")
            .field("method", &self.method)
            .field("private_key", &self.private_key)
            .finish_non_exhaustive()
    }
}

pub(crate) fn read(what: &str, path: &Path) -> PyResult<Vec<u8>> {
    std::fs::read(path).map_err(|e| input_error(what, path, &e))
}

pub(crate) fn certificates(what: &str, path: &Path) -> PyResult<Vec<Certificate>> {
    let pem = read(what, path)?;
    load_certificates_pem_with_source(&pem, &path.display().to_string())
        .map_err(|e| value_error(&format!("{what} {}", path.display()), e))
}

impl SignerSpec {
    fn signer(&self) -> PyResult<Signer> {
        let pem = Zeroizing::new(read("private key", &self.private_key)?);
        let password = self
            .password
            .as_ref()
            .map(|p| Zeroizing::new(p.as_bytes().to_vec()));
        let source = self.private_key.display().to_string();
        let key = SigningKey::from_pem_with_source(
            &pem,
            password.as_ref().map(|p| p.as_slice()),
            &source,
        )
        .map_err(|e| value_error(&format!("private key {source}"), e))?;
        match self.method.as_str() {
            "key" => Ok(Signer::Key(key)),
            "certificate" => {
                let path = self
                    .signing_certificate
                    .as_deref()
                    .ok_or_else(|| value_error("certificate signer", "no signing_certificate"))?;
                let mut leaf = certificates("signing certificate", path)?;
                if leaf.is_empty() {
                    return Err(value_error(
                        &format!("signing certificate {}", path.display()),
                        "holds no certificate",
                    ));
                }
                let leaf = leaf.remove(0);
                let mut chain = Vec::new();
                for p in &self.certificate_chain {
                    chain.extend(certificates("certificate chain", p)?);
                }
                Ok(Signer::Certificate { key, leaf, chain })
            }
            other => Err(value_error(
                "signing method",
                format!("{other:?} is not key or certificate"),
            )),
        }
    }
}

/// Hashes and signs `model`, writing the bundle to `signature`; the GIL is released
/// while the model is hashed and signed. Returns the root digest (hex).
#[pyfunction]
pub(crate) fn sign(
    py: Python<'_>,
    model: PathBuf,
    signature: PathBuf,
    signer: SignerSpec,
    hashing: HashingOptions,
) -> PyResult<String> {
    let signer = signer.signer()?;
    let opts = hashing.sign_options(&model, Some(&signature))?;
    let signed = py
        .detach(|| sign_model(&model, &signer, &opts))
        .map_err(sign_error)?;
    std::fs::write(&signature, &signed.bundle_json)
        .map_err(|e| input_error("signature", &signature, &e))?;
    Ok(hex::encode(signed.root_digest))
}
