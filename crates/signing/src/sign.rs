//! Signing: hash the model, build the statement, sign the DSSE PAE, wrap in a bundle.

use std::path::{Path, PathBuf};

use hallmark_crypto::{Certificate, DigestAlg, PublicKey, SigningKey};
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
    /// `pkcs11-key` method: like `Key`, with the private key held outside the process
    /// (the bundle is the same).
    ExternalKey(Box<dyn ExternalKey + Send + Sync>),
    /// `pkcs11-certificate` method: like `Certificate`, with the private key held
    /// outside the process.
    ExternalCertificate {
        /// The private key of the leaf.
        key: Box<dyn ExternalKey + Send + Sync>,
        /// The leaf certificate.
        leaf: Certificate,
        /// Further certificates to embed (intermediates), in order.
        chain: Vec<Certificate>,
    },
}

/// A private key the process cannot read (a PKCS#11 token, a KMS): it signs on request.
pub trait ExternalKey: std::fmt::Debug {
    /// The key's public half.
    fn public_key(&self) -> &PublicKey;
    /// ECDSA, DER-encoded, over the message whose digest with the hash of the key's
    /// curve ([`hallmark_crypto::Curve::digest`]) is `digest` (a token signs a digest
    /// anyway; the message may be too large to hold in memory).
    ///
    /// # Errors
    /// The key holder refused or failed ([`SignError::ExternalKey`]).
    fn sign_digest(&self, digest: &[u8]) -> Result<Vec<u8>, SignError>;
}

/// The key that signs the PAE: in memory, or held elsewhere.
#[derive(Clone, Copy)]
pub(crate) enum KeyRef<'a> {
    Local(&'a SigningKey),
    External(&'a dyn ExternalKey),
}

impl KeyRef<'_> {
    fn public_key(self) -> PublicKey {
        match self {
            KeyRef::Local(k) => k.public_key(),
            KeyRef::External(k) => k.public_key().clone(),
        }
    }

    /// The hash the signature is over (the curve's).
    pub(crate) fn digest_alg(self) -> DigestAlg {
        match self {
            KeyRef::Local(k) => k.curve().digest(),
            KeyRef::External(k) => k.public_key().curve().digest(),
        }
    }

    /// Signs the message whose [`Self::digest_alg`] digest is `digest`.
    pub(crate) fn sign_digest(self, digest: &[u8]) -> Result<Vec<u8>, SignError> {
        match self {
            KeyRef::Local(k) => Ok(k.sign_digest(digest)?),
            KeyRef::External(k) => {
                let sig = k.sign_digest(digest)?;
                // A token that signs with another key or hash would make a signature
                // nobody can verify: check it before it is written.
                let public = k.public_key();
                public.verify_prehashed(public.curve().digest(), digest, &sig)?;
                Ok(sig)
            }
        }
    }
}

/// The key and certificate chain a signer signs with, or its keyless signer.
#[allow(clippy::type_complexity)]
pub(crate) fn key_of(
    signer: &Signer,
) -> Result<(KeyRef<'_>, Option<(&Certificate, &[Certificate])>), &(dyn KeylessSigner + Send + Sync)>
{
    Ok(match signer {
        Signer::Keyless(k) => return Err(k.as_ref()),
        Signer::Key(key) => (KeyRef::Local(key), None),
        Signer::ExternalKey(key) => (KeyRef::External(key.as_ref()), None),
        Signer::Certificate { key, leaf, chain } => {
            (KeyRef::Local(key), Some((leaf, chain.as_slice())))
        }
        Signer::ExternalCertificate { key, leaf, chain } => (
            KeyRef::External(key.as_ref()),
            Some((leaf, chain.as_slice())),
        ),
    })
}

/// The verification material for a bare key or for a certificate (checked to belong to
/// the key) with its chain.
pub(crate) fn material_of(
    key: KeyRef<'_>,
    cert: Option<(&Certificate, &[Certificate])>,
) -> Result<VerificationMaterial, SignError> {
    let public = key.public_key();
    let Some((leaf, chain)) = cert else {
        return Ok(VerificationMaterial::PublicKey {
            hint: Some(public.hint()),
            legacy_raw_bytes: None,
        });
    };
    let cert_key = leaf.public_key()?;
    if cert_key != public {
        return Err(SignError::CertificateKeyMismatch {
            certificate: leaf.subject(),
            cert_key: cert_key.fingerprint(),
            private_key: public.fingerprint(),
        });
    }
    let mut ders = vec![leaf.der().to_vec()];
    ders.extend(chain.iter().map(|c| c.der().to_vec()));
    Ok(VerificationMaterial::X509CertificateChain(ders))
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
        keep_stats: opts.engine.incremental.is_some(),
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
    let root_digest = root_digest(&manifest);
    let payload = build_statement(&manifest, &root_digest);
    timing::mark("sign: statement");
    let bundle_json = sign_in_toto_payload(payload, signer)?;
    timing::mark("sign: bundle json");
    Ok(SignedModel {
        bundle_json,
        manifest,
        root_digest,
    })
}

/// The root (subject) digest: SHA-256 over the raw resource digests in list order,
/// hashed in place (not concatenated into a buffer first).
pub(crate) fn root_digest(manifest: &Manifest) -> [u8; 32] {
    let mut h = DigestAlg::Sha256.hasher();
    h.update(manifest.root_digest_input());
    let mut root = [0u8; 32];
    root.copy_from_slice(&h.finish());
    root
}

/// Signs an in-toto statement (its JSON bytes, signed as they are) with any signer and
/// returns the bundle JSON: the one place a bundle is assembled, for models and for
/// other statements (provenance).
///
/// # Errors
/// The signer failed, or the certificate does not belong to the key.
pub fn sign_in_toto_payload(payload: Vec<u8>, signer: &Signer) -> Result<Vec<u8>, SignError> {
    let to_sign = pae(IN_TOTO_PAYLOAD_TYPE, &payload);
    let (material, sig, keyid, tlog_entries, timestamp_verification_data) = match key_of(signer) {
        Err(k) => {
            let ks = k.sign(&payload, &to_sign)?;
            (
                VerificationMaterial::Certificate(ks.certificate_der),
                ks.signature,
                None,
                ks.tlog_entries,
                ks.timestamp_verification_data,
            )
        }
        Ok((key, cert)) => {
            let material = material_of(key, cert)?;
            let sig = key.sign_digest(&key.digest_alg().digest(&to_sign))?;
            (material, sig, Some(String::new()), Vec::new(), None)
        }
    };
    timing::mark("sign: signature");
    let mut bundle = key_bundle(material, sig, payload);
    bundle.tlog_entries = tlog_entries;
    bundle.timestamp_verification_data = timestamp_verification_data;
    bundle.envelope.signatures[0].keyid = keyid;
    Ok(bundle.to_json())
}

/// The bundle of an in-toto `payload` signed by a key (no log entries, `keyid` `""`).
pub(crate) fn key_bundle(material: VerificationMaterial, sig: Vec<u8>, payload: Vec<u8>) -> Bundle {
    Bundle {
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
    }
}
