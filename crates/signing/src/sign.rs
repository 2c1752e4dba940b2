//! Signing: hash the model, build the statement, sign the DSSE PAE, wrap in a bundle.

use std::path::{Path, PathBuf};

use hallmark_crypto::{Certificate, SigningKey, sha256};
use hallmark_format::bundle::{BUNDLE_MEDIA_TYPE_V03, Bundle, VerificationMaterial};
use hallmark_format::dsse::{Envelope, EnvelopeSignature, IN_TOTO_PAYLOAD_TYPE, pae};
use hallmark_format::manifest::DEFAULT_GIT_IGNORES;
use hallmark_format::statement::build_statement;
use hallmark_format::{HashAlgorithm, Manifest, Serialization, SerializationParams};
use hallmark_hash::{EngineOptions, IgnoreSet, WalkOptions, enumerate, hash_files, timing};

use crate::error::SignError;
use crate::paths::{model_name, relative_inside, resolve};

/// What signs: a bare key, or a key with its certificate chain.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // one per process; boxing buys nothing
pub enum Signer {
    /// `key` method: the bundle carries only the public key's hint.
    Key(SigningKey),
    /// `certificate` method: the bundle carries the leaf and the given chain.
    Certificate {
        /// Private key of the leaf.
        key: SigningKey,
        /// The leaf certificate.
        leaf: Certificate,
        /// Further certificates to embed (intermediates), in order.
        chain: Vec<Certificate>,
    },
    /// `sigstore` method: a short-lived certificate and a transparency-log entry,
    /// obtained by the implementation (e.g. from a Fulcio and a Rekor over HTTP).
    Keyless(Box<dyn KeylessSigner + Send + Sync>),
}

/// Signs keylessly: obtains a certificate for an ephemeral key, signs, and logs.
pub trait KeylessSigner: std::fmt::Debug {
    /// Signs `pae` (the DSSE pre-authentication encoding of `payload`) and returns the
    /// certificate, signature and log entries for the bundle.
    fn sign(&self, payload: &[u8], pae: &[u8]) -> Result<KeylessSignature, SignError>;
}

/// What a keyless signer returns.
#[derive(Clone, Debug)]
pub struct KeylessSignature {
    /// The short-lived leaf certificate (DER).
    pub certificate_der: Vec<u8>,
    /// DSSE signature (DER ECDSA) over the PAE.
    pub signature: Vec<u8>,
    /// `verificationMaterial.tlogEntries`.
    pub tlog_entries: Vec<serde_json::Value>,
    /// `verificationMaterial.timestampVerificationData`.
    pub timestamp_verification_data: Option<serde_json::Value>,
}

/// How to hash and what to exclude.
#[derive(Clone, Debug)]
pub struct SignOptions {
    /// Files or shards.
    pub serialization: Serialization,
    /// Content hash.
    pub hash: HashAlgorithm,
    /// Follow symlinks to files.
    pub allow_symlinks: bool,
    /// Model-relative POSIX paths to exclude (already resolved by the caller).
    pub ignore_paths: Vec<String>,
    /// Exclude the top-level `.git`, `.gitattributes`, `.github`, `.gitignore`.
    pub ignore_git_paths: bool,
    /// Where the signature will be written; excluded if it lies inside the model.
    pub signature_path: Option<PathBuf>,
    /// Sign a model with no files (the reference allows it; the OMS spec forbids it).
    pub allow_empty: bool,
    /// Hashing engine settings.
    pub engine: EngineOptions,
}

impl Default for SignOptions {
    fn default() -> Self {
        Self {
            serialization: Serialization::Files,
            hash: HashAlgorithm::Sha256,
            allow_symlinks: false,
            ignore_paths: Vec::new(),
            ignore_git_paths: true,
            signature_path: None,
            allow_empty: false,
            engine: EngineOptions::default(),
        }
    }
}

/// The result of signing.
#[derive(Clone, Debug)]
pub struct SignedModel {
    /// The bundle, serialized as the reference writes it.
    pub bundle_json: Vec<u8>,
    /// The manifest that was signed.
    pub manifest: Manifest,
    /// SHA-256 root digest (the statement subject).
    pub root_digest: [u8; 32],
}

/// Builds the ignore set for a model: user paths, git defaults, and the signature file.
pub(crate) fn ignore_set(
    model_root: &Path,
    user: &[String],
    ignore_git_paths: bool,
    signature: Option<&Path>,
    extra: &[String],
) -> IgnoreSet {
    let mut set = IgnoreSet::new();
    for p in user.iter().chain(extra) {
        set.insert(p);
    }
    if ignore_git_paths {
        for p in DEFAULT_GIT_IGNORES {
            set.insert(p);
        }
    }
    if let Some(sig) = signature {
        let cwd = std::env::current_dir().unwrap_or_default();
        if let Some(rel) = relative_inside(model_root, &resolve(sig, &cwd)) {
            set.insert(&rel);
        }
    }
    set
}

/// Signs the model at `model` and returns the bundle (not yet written anywhere).
pub fn sign_model(
    model: &Path,
    signer: &Signer,
    opts: &SignOptions,
) -> Result<SignedModel, SignError> {
    sign_manifest(hash_model(model, opts)?, signer)
}

/// Enumerates and hashes the model at `model` into the manifest that signing covers.
pub fn hash_model(model: &Path, opts: &SignOptions) -> Result<Manifest, SignError> {
    let meta = std::fs::symlink_metadata(model).map_err(|source| SignError::ModelPath {
        path: model.display().to_string(),
        source,
    })?;
    let cwd = std::env::current_dir().unwrap_or_default();
    let root = resolve(model, &cwd);
    let is_dir = meta.is_dir() || (meta.file_type().is_symlink() && root.is_dir());
    let ignore = if is_dir {
        ignore_set(
            &root,
            &opts.ignore_paths,
            opts.ignore_git_paths,
            opts.signature_path.as_deref(),
            &[],
        )
    } else {
        IgnoreSet::new()
    };
    hallmark_crypto::warm_up_rng();
    timing::mark("sign: options");
    let walk = WalkOptions {
        allow_symlinks: opts.allow_symlinks,
        ignore: ignore.clone(),
    };
    let files = enumerate(model, &walk)?;
    if files.is_empty() && !opts.allow_empty {
        return Err(SignError::EmptyModel {
            path: model.display().to_string(),
        });
    }
    let resources = hash_files(&files, opts.serialization, opts.hash, &opts.engine)?;
    let params = SerializationParams {
        method: opts.serialization,
        hash: opts.hash,
        allow_symlinks: opts.allow_symlinks,
        ignore_paths: ignore.paths(),
    };
    Ok(Manifest {
        model_name: model_name(model),
        params,
        resources,
    })
}

/// Signs an already computed manifest (e.g. digests taken while a model was uploaded,
/// so that signing needs no second read). The resources must be in reference order
/// ([`Manifest::sort_reference_order`]).
pub fn sign_manifest(manifest: Manifest, signer: &Signer) -> Result<SignedModel, SignError> {
    let root_digest = sha256(&manifest.root_digest_input());
    let payload = build_statement(&manifest, &root_digest);
    let to_sign = pae(IN_TOTO_PAYLOAD_TYPE, &payload);
    timing::mark("sign: statement");
    let (key, material) = match signer {
        Signer::Keyless(k) => {
            let ks = k.sign(&payload, &to_sign)?;
            let bundle = Bundle {
                media_type: BUNDLE_MEDIA_TYPE_V03.to_owned(),
                material: VerificationMaterial::Certificate(ks.certificate_der),
                tlog_entries: ks.tlog_entries,
                timestamp_verification_data: ks.timestamp_verification_data,
                envelope: Envelope {
                    payload,
                    payload_type: IN_TOTO_PAYLOAD_TYPE.to_owned(),
                    signatures: vec![EnvelopeSignature {
                        sig: ks.signature,
                        keyid: None,
                    }],
                },
            };
            return Ok(SignedModel {
                bundle_json: bundle.to_json(),
                manifest,
                root_digest,
            });
        }
        Signer::Key(key) => (
            key,
            VerificationMaterial::PublicKey {
                hint: Some(key.public_key().hint()),
                legacy_raw_bytes: None,
            },
        ),
        Signer::Certificate { key, leaf, chain } => {
            let cert_key = leaf.public_key()?;
            if cert_key != key.public_key() {
                return Err(SignError::CertificateKeyMismatch {
                    certificate: leaf.subject(),
                    cert_key: cert_key.fingerprint(),
                    private_key: key.public_key().fingerprint(),
                });
            }
            let mut ders = vec![leaf.der().to_vec()];
            ders.extend(chain.iter().map(|c| c.der().to_vec()));
            (key, VerificationMaterial::X509CertificateChain(ders))
        }
    };
    let sig = key.sign(&to_sign)?;
    timing::mark("sign: signature");
    let bundle = Bundle {
        media_type: BUNDLE_MEDIA_TYPE_V03.to_owned(),
        material,
        tlog_entries: Vec::new(),
        timestamp_verification_data: None,
        envelope: Envelope {
            payload,
            payload_type: IN_TOTO_PAYLOAD_TYPE.to_owned(),
            signatures: vec![EnvelopeSignature {
                sig,
                keyid: Some(String::new()),
            }],
        },
    };
    let bundle_json = bundle.to_json();
    timing::mark("sign: bundle json");
    Ok(SignedModel {
        bundle_json,
        manifest,
        root_digest,
    })
}
