//! Verification: authenticate the envelope, check the statement, re-hash, compare.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use hallmark_crypto::{
    Certificate, ChainPolicy, DigestAlg, PublicKey, sha256, verify_certificate_chain,
};
use hallmark_format::bundle::{Bundle, VerificationMaterial};
use hallmark_format::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE, compat_pae_v020, pae};
use hallmark_format::limits::Limits;
use hallmark_format::manifest::DEFAULT_GIT_IGNORES;
use hallmark_format::resource::SINGLE_FILE_NAME;
use hallmark_format::statement::{StatementVersion, parse_statement};
use hallmark_format::{FormatError, Resource, Resources, Serialization};
use hallmark_hash::{
    EngineOptions, HashError, IgnoreSet, WalkOptions, enumerate, hash_files, stat_files, timing,
};
use serde::Serialize;

use crate::compare::{Difference, compare};
use crate::error::VerifyError;
use crate::paths::resolve;
use crate::sign::ignore_set;

/// Who signed, as established by an [`EnvelopeVerifier`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SignerInfo {
    /// A bare public key.
    Key {
        /// OMS key hint (hex SHA-256 of the SPKI PEM).
        hint: String,
        /// `sha256:` fingerprint of the SPKI DER.
        fingerprint: String,
        /// Curve name.
        curve: String,
    },
    /// A certificate chained to a trust anchor.
    Certificate {
        /// Leaf subject.
        subject: String,
        /// Leaf issuer.
        issuer: String,
        /// Leaf subject alternative names.
        san: Vec<String>,
        /// SHA-256 fingerprint of the leaf.
        fingerprint: String,
        /// Subjects from leaf to anchor.
        chain: Vec<String>,
    },
    /// A keyless (Sigstore) identity.
    Keyless {
        /// Certificate identity (SAN).
        identity: String,
        /// OIDC issuer.
        issuer: String,
        /// Signing time (seconds since the Unix epoch), as established by the log or TSA;
        /// an RFC 3339 string in JSON.
        #[serde(serialize_with = "rfc3339")]
        signed_at: u64,
        /// Transparency-log index, when logged.
        log_index: Option<u64>,
    },
}

/// Seconds since the epoch as an RFC 3339 UTC time, the one time format of hallmark's
/// JSON outputs.
fn rfc3339<S: serde::Serializer>(secs: &u64, s: S) -> Result<S::Ok, S::Error> {
    match i64::try_from(*secs)
        .ok()
        .and_then(|x| jiff::Timestamp::from_second(x).ok())
    {
        Some(t) => s.serialize_str(&t.to_string()),
        None => s.serialize_u64(*secs),
    }
}

/// One check that ran, for `--json` and human reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Short name.
    pub name: String,
    /// Whether it passed (a failed check ends verification with an error instead).
    pub passed: bool,
    /// What was checked.
    pub detail: String,
}

/// What an envelope verifier established.
#[derive(Clone, Debug)]
pub struct Authenticated {
    /// The signer.
    pub signer: SignerInfo,
    /// Whether the v0.2.0 compatibility PAE was what verified.
    pub compat_pae: bool,
    /// Checks that ran.
    pub checks: Vec<Check>,
    /// Non-fatal observations (e.g. a pre-1.1 bundle without a key hint).
    pub warnings: Vec<String>,
}

/// Authenticates a bundle's DSSE envelope for one signing method.
pub trait EnvelopeVerifier {
    /// `key`, `certificate` or `sigstore`.
    fn method(&self) -> &'static str;
    /// Checks the verification material and the signature over the exact payload.
    fn authenticate(
        &self,
        bundle: &Bundle,
        bundle_bytes: &[u8],
    ) -> Result<Authenticated, VerifyError>;
}

fn check(name: &str, detail: impl Into<String>) -> Check {
    Check {
        name: name.to_owned(),
        passed: true,
        detail: detail.into(),
    }
}

fn wrong_method(bundle: &Bundle, expected: &'static str) -> VerifyError {
    VerifyError::WrongMethod {
        found: bundle.material.method(),
        expected,
    }
}

/// Verifies the first DSSE signature with `key`: standard PAE with the curve's hash,
/// then (only for the 0.2.0 layout, checked later) the compatibility PAE with SHA-256.
fn verify_envelope_signature(
    key: &PublicKey,
    env: &Envelope,
    who: &str,
) -> Result<bool, VerifyError> {
    let Some(sig) = env.signatures.first() else {
        return Err(VerifyError::Bundle(FormatError::MissingField {
            what: "signature bundle",
            field: "dsseEnvelope.signatures[0]".into(),
        }));
    };
    if key
        .verify(&pae(&env.payload_type, &env.payload), &sig.sig)
        .is_ok()
    {
        return Ok(false);
    }
    let compat = compat_pae_v020(&env.payload_type, &env.payload);
    if key
        .verify_with_digest(&compat, &sig.sig, DigestAlg::Sha256)
        .is_ok()
        || key.verify(&compat, &sig.sig).is_ok()
    {
        return Ok(true);
    }
    Err(VerifyError::BadSignature {
        signer: who.to_owned(),
    })
}

/// The `key` method.
#[derive(Debug)]
pub struct KeyVerifier {
    /// The public key the user trusts.
    pub key: PublicKey,
}

impl EnvelopeVerifier for KeyVerifier {
    fn method(&self) -> &'static str {
        "key"
    }

    fn authenticate(&self, bundle: &Bundle, _: &[u8]) -> Result<Authenticated, VerifyError> {
        let VerificationMaterial::PublicKey { hint, .. } = &bundle.material else {
            return Err(wrong_method(bundle, "key"));
        };
        let given = self.key.hint();
        let mut warnings = Vec::new();
        let mut checks = Vec::new();
        match hint {
            Some(h) if !h.eq_ignore_ascii_case(&given) => {
                return Err(VerifyError::KeyMismatch { bundle_hint: h.clone(), given_hint: given });
            }
            Some(_) => checks.push(check("key-hint", format!("bundle names key {given}"))),
            None => warnings.push(
                "the signature uses the older verification material format (no key hint); the given public key is used".to_owned(),
            ),
        }
        let who = format!("public key {}", self.key.fingerprint());
        let compat = verify_envelope_signature(&self.key, &bundle.envelope, &who)?;
        checks.push(check(
            "dsse-signature",
            format!(
                "ECDSA {} signature over the DSSE payload verified",
                self.key.curve().name()
            ),
        ));
        Ok(Authenticated {
            signer: SignerInfo::Key {
                hint: given,
                fingerprint: self.key.fingerprint(),
                curve: self.key.curve().name().to_owned(),
            },
            compat_pae: compat,
            checks,
            warnings,
        })
    }
}

/// The `certificate` method.
#[derive(Debug)]
pub struct CertificateVerifier {
    /// Trust anchors (every certificate in the user's `--certificate-chain` files).
    pub anchors: Vec<Certificate>,
    /// When the chain must be valid.
    pub policy: ChainPolicy,
}

impl EnvelopeVerifier for CertificateVerifier {
    fn method(&self) -> &'static str {
        "certificate"
    }

    fn authenticate(&self, bundle: &Bundle, _: &[u8]) -> Result<Authenticated, VerifyError> {
        let VerificationMaterial::X509CertificateChain(ders) = &bundle.material else {
            return Err(wrong_method(bundle, "certificate"));
        };
        let mut certs = Vec::with_capacity(ders.len());
        for der in ders {
            certs.push(Certificate::from_der(der)?);
        }
        let (leaf, intermediates) = certs.split_first().ok_or_else(|| {
            VerifyError::Bundle(FormatError::MissingField {
                what: "signature bundle",
                field: "verificationMaterial.x509CertificateChain.certificates[0]".into(),
            })
        })?;
        let chain = verify_certificate_chain(leaf, intermediates, &self.anchors, &self.policy)?;
        let key = leaf.public_key()?;
        let who = format!("certificate {}", leaf.subject());
        let compat = verify_envelope_signature(&key, &bundle.envelope, &who)?;
        let subjects: Vec<String> = chain.path.iter().map(Certificate::subject).collect();
        Ok(Authenticated {
            signer: SignerInfo::Certificate {
                subject: leaf.subject(),
                issuer: leaf.issuer(),
                san: leaf.san_values(),
                fingerprint: leaf.fingerprint(),
                chain: subjects.clone(),
            },
            compat_pae: compat,
            checks: vec![
                check(
                    "certificate-chain",
                    format!("chain {} validated", subjects.join(" -> ")),
                ),
                check(
                    "dsse-signature",
                    format!(
                        "ECDSA {} signature over the DSSE payload verified",
                        key.curve().name()
                    ),
                ),
            ],
            warnings: Vec::new(),
        })
    }
}

/// Verification settings.
#[derive(Clone, Debug)]
pub struct VerifyOptions {
    /// Extra model-relative POSIX paths to exclude (resolved by the caller).
    pub ignore_paths: Vec<String>,
    /// Exclude the default top-level git paths (the reference default).
    pub ignore_git_paths: bool,
    /// Check only the files named in the signature.
    pub ignore_unsigned_files: bool,
    /// Follow symlinks to files even if the signature says they were not followed.
    pub allow_symlinks: bool,
    /// The signature file, excluded if it lies inside the model.
    pub signature_path: Option<PathBuf>,
    /// Input limits.
    pub limits: Limits,
    /// Hashing engine settings.
    pub engine: EngineOptions,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self {
            ignore_paths: Vec::new(),
            ignore_git_paths: true,
            ignore_unsigned_files: false,
            allow_symlinks: false,
            signature_path: None,
            limits: Limits::default(),
            engine: EngineOptions::default(),
        }
    }
}

/// A successful verification.
#[derive(Clone, Debug, Serialize)]
pub struct Verified {
    /// `key`, `certificate` or `sigstore`.
    pub method: &'static str,
    /// Who signed.
    pub signer: SignerInfo,
    /// `v1.0` or the legacy `v0.1`.
    pub statement_version: &'static str,
    /// `subject[0].name`.
    pub model_name: String,
    /// `files` or `shards`.
    pub serialization: &'static str,
    /// Content hash.
    pub hash: String,
    /// Shard size, for shards.
    pub shard_size: Option<u64>,
    /// Resources verified (`resource_count` in JSON, as in every hallmark JSON output).
    #[serde(rename = "resource_count")]
    pub resources: usize,
    /// Root digest (`sha256:<hex>`); the legacy layout has none.
    pub model_digest: Option<String>,
    /// Paths excluded while hashing.
    pub ignored_paths: Vec<String>,
    /// Checks that ran and passed.
    pub checks: Vec<Check>,
    /// Non-fatal observations.
    pub warnings: Vec<String>,
}

/// What a bundle signs, once authenticated: the manifest to compare the model with and
/// what verification established so far.
pub(crate) struct Signed {
    pub(crate) auth: Authenticated,
    pub(crate) version: StatementVersion,
    pub(crate) manifest: hallmark_format::Manifest,
    pub(crate) model_digest: Option<String>,
}

/// Parses `bundle_bytes`, authenticates its envelope with `verifier`, parses the statement
/// and checks its root digest: every step of verification before the model is hashed.
pub(crate) fn authenticate_statement(
    bundle_bytes: &[u8],
    verifier: &dyn EnvelopeVerifier,
    limits: &Limits,
) -> Result<Signed, VerifyError> {
    let bundle = Bundle::parse(bundle_bytes, limits)?;
    timing::mark("verify: parse bundle");
    let mut auth = verifier.authenticate(&bundle, bundle_bytes)?;
    timing::mark("verify: authenticate");
    if bundle.envelope.payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err(FormatError::PayloadType {
            found: bundle.envelope.payload_type.clone(),
        }
        .into());
    }
    let statement = parse_statement(&bundle.envelope.payload, limits)?;
    if auth.compat_pae && statement.version != StatementVersion::LegacyDigestsV01 {
        return Err(VerifyError::BadSignature { signer: "the compatibility encoding of model_signing 0.2.0, which is only accepted for 0.2.0 statements".into() });
    }
    if auth.compat_pae {
        auth.warnings.push("signature made by model_signing 0.2.0 (legacy Digests/v0.1 statement, non-standard DSSE encoding)".into());
    }
    timing::mark("verify: parse statement");
    let manifest = statement.manifest;
    let model_digest = match &statement.root_digest {
        Some(recorded) => {
            let computed = sha256(manifest.root_digest_input());
            if computed.as_slice() != recorded.as_slice() {
                return Err(VerifyError::RootDigest {
                    recorded: hex::encode(recorded),
                    computed: hex::encode(computed),
                });
            }
            auth.checks.push(check(
                "root-digest",
                format!(
                    "subject digest sha256:{} matches the {} resources",
                    hex::encode(computed),
                    manifest.resources.len()
                ),
            ));
            Some(format!("sha256:{}", hex::encode(computed)))
        }
        None => None,
    };
    Ok(Signed {
        auth,
        version: statement.version,
        manifest,
        model_digest,
    })
}

/// Verifies the model at `model` against `bundle_bytes` with `verifier`.
pub fn verify_model(
    model: &Path,
    bundle_bytes: &[u8],
    verifier: &dyn EnvelopeVerifier,
    opts: &VerifyOptions,
) -> Result<Verified, VerifyError> {
    let meta = std::fs::metadata(model).map_err(|source| VerifyError::ModelPath {
        path: model.display().to_string(),
        source,
    })?;
    let signed = authenticate_statement(bundle_bytes, verifier, &opts.limits)?;
    let manifest = &signed.manifest;
    let params = &manifest.params;
    let allow_symlinks = params.allow_symlinks || opts.allow_symlinks;
    let cwd = std::env::current_dir().unwrap_or_default();
    let root = resolve(model, &cwd);
    let single_file = !meta.is_dir();
    if opts.ignore_unsigned_files && manifest.resources.is_empty() {
        return Err(VerifyError::NothingSigned);
    }
    let (actual, ignored_paths, git_ignored) = if opts.ignore_unsigned_files {
        let names: Vec<String> = manifest
            .resources
            .iter()
            .map(|r| r.path.to_owned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let files = if single_file {
            enumerate(
                model,
                &WalkOptions {
                    allow_symlinks,
                    ignore: IgnoreSet::new(),
                    keep_stats: opts.engine.incremental.is_some(),
                },
            )?
        } else {
            // Files named in the manifest but absent have no resources and are
            // reported as missing by the comparison below.
            stat_files(model, &names, allow_symlinks)?.0
        };
        let resources = hash_files(&files, params.method, params.hash, &opts.engine)?;
        let resources = rename_single_file(resources, &manifest.resources, single_file)?;
        (resources, Vec::new(), IgnoreSet::new())
    } else {
        let ignore = if single_file {
            IgnoreSet::new()
        } else {
            ignore_set(
                &root,
                &opts.ignore_paths,
                opts.ignore_git_paths,
                opts.signature_path.as_deref(),
                &params.ignore_paths,
            )
        };
        let walk = WalkOptions {
            allow_symlinks,
            ignore: ignore.clone(),
            keep_stats: opts.engine.incremental.is_some(),
        };
        let files = enumerate(model, &walk)?;
        let resources = hash_files(&files, params.method, params.hash, &opts.engine)?;
        let resources = rename_single_file(resources, &manifest.resources, single_file)?;
        let mut git = IgnoreSet::new();
        if opts.ignore_git_paths {
            for p in DEFAULT_GIT_IGNORES {
                git.insert(p);
            }
        }
        (resources, ignore.paths(), git)
    };
    let mut diffs = compare(&manifest.resources, &actual, opts.ignore_unsigned_files);
    timing::mark("verify: compare");
    for d in &mut diffs {
        if let Difference::Missing { name, note } = d {
            let path = manifest
                .resources
                .iter()
                .find(|r| r.to_string() == *name)
                .map(|r| r.path.to_owned())
                .unwrap_or_default();
            if git_ignored.is_ignored(&path) && !single_file && root.join(&path).exists() {
                *note = Some("present, but excluded by the default git-path rules; if the model was signed with --no-ignore-git-paths, verify with --no-ignore-git-paths".into());
            } else if ignored_paths
                .iter()
                .any(|p| path == *p || path.starts_with(&format!("{p}/")))
                && root.join(&path).exists()
            {
                *note = Some("present, but excluded by an ignore path".into());
            }
        }
    }
    conclude(verifier, signed, diffs, ignored_paths)
}

/// The end of every verification: `diffs` (signed against actual) must be empty; the
/// report of what was verified.
pub(crate) fn conclude(
    verifier: &dyn EnvelopeVerifier,
    signed: Signed,
    diffs: Vec<Difference>,
    ignored_paths: Vec<String>,
) -> Result<Verified, VerifyError> {
    if !diffs.is_empty() {
        return Err(VerifyError::Mismatch(diffs));
    }
    let Signed {
        auth,
        version,
        manifest,
        model_digest,
    } = signed;
    let params = &manifest.params;
    let mut checks = auth.checks;
    checks.push(check(
        "model-contents",
        format!(
            "{} {} resource{} re-hashed with {} and matched",
            manifest.resources.len(),
            params.method.method(),
            if manifest.resources.len() == 1 {
                ""
            } else {
                "s"
            },
            params.hash
        ),
    ));
    Ok(Verified {
        method: verifier.method(),
        signer: auth.signer,
        statement_version: match version {
            StatementVersion::V1 => "v1.0",
            StatementVersion::LegacyDigestsV01 => "v0.1",
        },
        model_name: manifest.model_name.clone(),
        serialization: params.method.method(),
        hash: params.hash.to_string(),
        shard_size: match params.method {
            Serialization::Shards { shard_size } => Some(shard_size),
            Serialization::Files => None,
        },
        resources: manifest.resources.len(),
        model_digest,
        ignored_paths,
        warnings: auth.warnings,
        checks,
    })
}

/// For a single-file model the reference names the resource `"."`, the OMS spec and the
/// Go port use the file's base name: accept whichever the signature used.
fn rename_single_file(
    actual: Resources,
    signed: &Resources,
    single_file: bool,
) -> Result<Resources, HashError> {
    if !single_file {
        return Ok(actual);
    }
    let signed_paths: BTreeSet<&str> = signed.iter().map(|r| r.path).collect();
    if signed_paths.len() != 1 || signed_paths.contains(SINGLE_FILE_NAME) {
        return Ok(actual);
    }
    let Some(base) = signed_paths.into_iter().next() else {
        return Ok(actual);
    };
    if base.contains('/') {
        return Ok(actual);
    }
    let mut renamed = Resources::new();
    for r in &actual {
        renamed.push(Resource { path: base, ..r })?;
    }
    Ok(renamed)
}
