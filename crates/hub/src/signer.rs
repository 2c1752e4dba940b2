//! Signing revisions on upload, behind [`RevisionSigner`].
//!
//! The hub computes each revision's OMS manifest from the digests it took while the
//! files streamed in, so signing needs no second read. [`KeySigner`] signs with a
//! hub-held ECDSA P-256 key (OMS `key` method; the key is created on first start in the
//! data directory with mode 0600). The keyless implementation (issue 6: the hub's OIDC
//! issuer mints a token for the uploader, the CA certifies an ephemeral key, the entry
//! is logged) plugs in behind the same trait and replaces it.

use std::fmt::Debug;
use std::path::Path;

use async_trait::async_trait;
use hallmark_crypto::{PublicKey, SigningKey};
use hallmark_format::bundle::Bundle;
use hallmark_format::manifest::DEFAULT_GIT_IGNORES;
use hallmark_format::{
    HashAlgorithm, Manifest, ResourceDigest, ResourceName, Resources, Serialization,
    SerializationParams,
};
use hallmark_signing::verify::{EnvelopeVerifier, KeyVerifier};
use hallmark_signing::{Signer, sign_manifest};
use hallmark_store::{Account, FileEntry};

use crate::auth::blocking;
use crate::error::{HubError, Refusal};
use crate::names::SIGNATURE_FILE;

/// A signature made for a revision.
#[derive(Clone, Debug)]
pub struct SignedRevision {
    /// The Sigstore bundle (stored as `model.sig`).
    pub bundle_json: Vec<u8>,
    /// The signer identity (`{public-url}/{username}`).
    pub identity: String,
    /// The identity's issuer (the hub's OIDC issuer URL, `{public-url}`).
    pub issuer: String,
    /// Transparency-log index, when the signing event was logged.
    pub log_index: Option<u64>,
}

/// Who a verified bundle was signed by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleSigner {
    /// Identity.
    pub identity: String,
    /// Issuer.
    pub issuer: String,
    /// Log index.
    pub log_index: Option<u64>,
}

/// A statement the hub signed about a revision (a claim, see [`crate::claims`]).
#[derive(Clone, Debug)]
pub struct SignedClaim {
    /// The Sigstore bundle.
    pub bundle_json: Vec<u8>,
    /// Who signed it (the hub's identity, or its key's fingerprint).
    pub signer: String,
    /// The issuer.
    pub issuer: String,
    /// Where the hub's log holds it.
    pub logged: Option<hallmark_instance::LoggedEntry>,
}

/// Signs revisions and authenticates the bundles it made.
#[async_trait]
pub trait RevisionSigner: Send + Sync + Debug + 'static {
    /// Signs an in-toto statement (a claim) as the hub itself, logging it when the hub
    /// has a log. Blocking: call it off the async workers.
    ///
    /// # Errors
    /// Signing or logging failed.
    fn sign_claim(&self, payload: Vec<u8>) -> Result<SignedClaim, HubError>;
    /// Appends a DSSE envelope someone else signed (its JSON text), checked with the PEM
    /// verifiers, to the hub's log; `None` when this signer has no log. Blocking.
    ///
    /// # Errors
    /// The log refused the entry (a signature that does not verify) or failed.
    fn log_envelope(
        &self,
        _envelope_json: &str,
        _verifiers_pem: &[&str],
    ) -> Result<Option<hallmark_instance::LoggedEntry>, HubError> {
        Ok(None)
    }
    /// The trust root keyless bundles of this hub's own instance verify against.
    fn trust_root(&self) -> Option<hallmark_sigstore::TrustedRoot> {
        None
    }
    /// `key` (hub key) or `sigstore` (keyless).
    fn method(&self) -> &'static str;
    /// Signs the manifest of a revision on behalf of `uploader`.
    async fn sign_revision(
        &self,
        uploader: &Account,
        manifest: &Manifest,
    ) -> Result<SignedRevision, HubError>;
    /// Authenticates a bundle (signature and, for keyless, certificate, log entry and
    /// the expected identity). Runs on the blocking pool.
    fn authenticate(
        &self,
        bundle: &Bundle,
        bundle_bytes: &[u8],
        expected_identity: &str,
    ) -> Result<BundleSigner, String>;
    /// The identity the hub signs for a user.
    fn identity_of(&self, username: &str) -> String;
    /// The issuer URL.
    fn issuer(&self) -> String;
    /// Where verifiers get the trust configuration (keyless), if any.
    fn trust_config_url(&self) -> Option<String>;
    /// The public key verifiers need (key method), PEM.
    fn public_key_pem(&self) -> Option<String>;
    /// Extra routes the signer serves (the embedded Sigstore instance: OIDC discovery,
    /// JWKS, CA, transparency log, trust config).
    fn routes(&self) -> Option<axum::Router> {
        None
    }
    /// A short-lived OIDC identity token (audience `sigstore`) whose identity is
    /// [`Self::identity_of`]`(username)`: what the hub's OAuth endpoint hands a user who
    /// signs on their own machine. `None`: this signer has no OIDC issuer.
    fn identity_token(&self, username: &str) -> Option<Result<String, String>> {
        let _ = username;
        None
    }
    /// The transparency log's state for `/readyz` (`None`: this signer has no log), or
    /// why it is not ready in fixed words (a stopped or recovering sequencer, an
    /// unreadable checkpoint). Blocking: call it off the async workers.
    fn log_health(&self) -> Option<Result<hallmark_instance::LogReadiness, &'static str>> {
        None
    }
    /// Stops background work (the embedded log's sequencer gives its lease back).
    /// Blocking: call it off the async workers.
    fn shutdown(&self) {}
    /// The transparency log as the hub's monitor follows it ([`crate::watch`]); `None`:
    /// this signer has no log.
    fn log_target(&self) -> Option<hallmark_tlog::monitor::LogTarget> {
        None
    }
}

/// The `key` method with a hub-held ECDSA key.
#[derive(Debug)]
pub struct KeySigner {
    signer: std::sync::Arc<Signer>,
    public: PublicKey,
    public_url: String,
}

impl KeySigner {
    /// Loads `dir/signing.key`, creating a new P-256 key (mode 0600) and `signing.pub`
    /// on first use.
    ///
    /// # Errors
    /// The key cannot be read, parsed, generated or written.
    pub fn open_or_create(dir: &Path, public_url: &str) -> Result<Self, HubError> {
        let key_path = dir.join("signing.key");
        let io = |what, source| HubError::Io {
            what,
            path: key_path.display().to_string(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(|e| io("creating the key directory for", e))?;
        if !key_path.exists() {
            let pem = generate_p256_pem()?;
            write_private(&key_path, pem.as_bytes()).map_err(|e| io("writing", e))?;
        }
        let pem = std::fs::read(&key_path).map_err(|e| io("reading", e))?;
        let key = SigningKey::from_pem_with_source(&pem, None, &key_path.display().to_string())
            .map_err(HubError::Key)?;
        let public = key.public_key();
        let pub_path = dir.join("signing.pub");
        std::fs::write(&pub_path, public.to_pem()).map_err(|e| HubError::Io {
            what: "writing",
            path: pub_path.display().to_string(),
            source: e,
        })?;
        Ok(Self {
            signer: std::sync::Arc::new(Signer::Key(key)),
            public,
            public_url: public_url.trim_end_matches('/').to_owned(),
        })
    }
}

fn generate_p256_pem() -> Result<String, HubError> {
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair};
    let kp = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING)
        .map_err(|_| HubError::KeyGeneration { step: "generation" })?;
    let der = kp
        .to_pkcs8v1()
        .map_err(|_| HubError::KeyGeneration { step: "export" })?;
    pem_rfc7468::encode_string("PRIVATE KEY", pem_rfc7468::LineEnding::LF, der.as_ref())
        .map_err(|_| HubError::KeyGeneration { step: "export" })
}

#[cfg(unix)]
fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(data)?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, data)
}

/// Refuses to sign for a user an operator disabled: the hub issues them no certificate
/// and signs nothing in their name. Signers call it first, with the uploader as read from
/// the store just before signing.
///
/// # Errors
/// [`Refusal::UserDisabled`](crate::Refusal::UserDisabled).
pub fn refuse_disabled(uploader: &Account) -> Result<(), HubError> {
    if uploader.is_disabled() {
        return Err(crate::Refusal::UserDisabled(uploader.name.clone()).into());
    }
    Ok(())
}

#[async_trait]
impl RevisionSigner for KeySigner {
    fn method(&self) -> &'static str {
        "key"
    }

    fn sign_claim(&self, payload: Vec<u8>) -> Result<SignedClaim, HubError> {
        let bundle_json = crate::claims::statement::sign(payload, &self.signer)?;
        Ok(SignedClaim {
            bundle_json,
            signer: format!("hub key {}", self.public.fingerprint()),
            issuer: self.issuer(),
            logged: None,
        })
    }

    async fn sign_revision(
        &self,
        uploader: &Account,
        manifest: &Manifest,
    ) -> Result<SignedRevision, HubError> {
        refuse_disabled(uploader)?;
        let signer = std::sync::Arc::clone(&self.signer);
        let manifest = manifest.clone();
        let signed =
            blocking(move || sign_manifest(manifest, &signer).map_err(HubError::Sign)).await??;
        Ok(SignedRevision {
            bundle_json: signed.bundle_json,
            identity: self.identity_of(&uploader.name),
            issuer: self.issuer(),
            log_index: None,
        })
    }

    fn authenticate(
        &self,
        bundle: &Bundle,
        bundle_bytes: &[u8],
        expected_identity: &str,
    ) -> Result<BundleSigner, String> {
        let v = KeyVerifier {
            key: self.public.clone(),
        };
        v.authenticate(bundle, bundle_bytes)
            .map_err(|e| e.to_string())?;
        // The key method carries no identity: the hub vouches for the uploader it recorded.
        Ok(BundleSigner {
            identity: expected_identity.to_owned(),
            issuer: self.issuer(),
            log_index: None,
        })
    }

    fn identity_of(&self, username: &str) -> String {
        format!("{}/{username}", self.public_url)
    }

    fn issuer(&self) -> String {
        self.public_url.clone()
    }

    fn trust_config_url(&self) -> Option<String> {
        None
    }

    fn public_key_pem(&self) -> Option<String> {
        Some(self.public.to_pem())
    }
}

/// Paths the signature does not cover: the git files the reference ignores by default,
/// and the signature itself. Recorded in the manifest so verifiers re-apply them.
#[must_use]
pub fn ignored_paths() -> Vec<String> {
    let mut v: Vec<String> = DEFAULT_GIT_IGNORES
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    v.push(SIGNATURE_FILE.to_owned());
    v.sort();
    v
}

fn is_ignored<S: AsRef<str>>(path: &str, ignored: &[S]) -> bool {
    ignored.iter().any(|p| {
        let p = p.as_ref();
        path == p || path.strip_prefix(p).is_some_and(|r| r.starts_with('/'))
    })
}

/// Whether the hub serves a stored file: it is in the signed manifest, or it is the
/// signature. Uploads cannot add any other (`names::check_file_path`); revisions stored
/// before that rule may hold unsigned git files, which are neither listed nor downloadable.
#[must_use]
pub fn served(path: &str) -> bool {
    !is_ignored(path, &DEFAULT_GIT_IGNORES)
}

/// The files of a revision the hub lists and serves (see [`served`]).
#[must_use]
pub fn served_files(mut files: Vec<FileEntry>) -> Vec<FileEntry> {
    files.retain(|f| served(&f.path));
    files
}

/// The OMS manifest (files, SHA-256) of a revision's files, as `model_signing` would
/// compute it over the downloaded directory.
///
/// # Errors
/// A stored digest is not 64 hex digits or a path is not a valid resource name.
pub fn revision_manifest(model_name: &str, files: &[FileEntry]) -> Result<Manifest, HubError> {
    let ignored = ignored_paths();
    let mut resources = Vec::with_capacity(files.len());
    for f in files.iter().filter(|f| !is_ignored(&f.path, &ignored)) {
        let digest = hex::decode(&f.sha256)
            .ok()
            .filter(|d| d.len() == 32)
            .ok_or_else(|| Refusal::StoredDigest(f.path.clone()))?;
        resources.push(ResourceDigest {
            name: ResourceName::parse_file(&f.path).map_err(Refusal::ResourceName)?,
            algorithm: HashAlgorithm::Sha256.name().to_owned(),
            digest,
        });
    }
    let mut m = Manifest {
        model_name: model_name.to_owned(),
        params: SerializationParams {
            method: Serialization::Files,
            hash: HashAlgorithm::Sha256,
            allow_symlinks: false,
            ignore_paths: ignored,
        },
        resources: Resources::new(),
    };
    resources.sort_by(|a, b| a.name.reference_cmp(&b.name));
    m.resources = Resources::try_from(resources)
        .map_err(|e| Refusal::ResourceName(hallmark_format::FormatError::from(e)))?;
    Ok(m)
}

/// A revision's commit id: the first 20 bytes (40 hex) of SHA-256 over a versioned
/// header, the parent commit and every content file's path, digest and size in path
/// order. `model.sig` is excluded: it is made from this content.
#[must_use]
pub fn commit_id(parent: Option<&str>, files: &[FileEntry]) -> String {
    let mut sorted: Vec<&FileEntry> = files.iter().filter(|f| f.path != SIGNATURE_FILE).collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    let mut buf = Vec::with_capacity(64 + sorted.len() * 100);
    buf.extend_from_slice(b"hallmark-commit-v1\nparent ");
    buf.extend_from_slice(parent.unwrap_or("-").as_bytes());
    buf.push(b'\n');
    for f in sorted {
        buf.extend_from_slice(f.path.as_bytes());
        buf.push(0);
        buf.extend_from_slice(f.sha256.as_bytes());
        buf.push(0);
        buf.extend_from_slice(f.size.to_string().as_bytes());
        buf.push(b'\n');
    }
    hex::encode(&hallmark_crypto::sha256(&buf)[..20])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(path: &str, c: char) -> FileEntry {
        FileEntry {
            path: path.into(),
            sha256: c.to_string().repeat(64),
            size: 1,
        }
    }

    #[test]
    fn manifest_skips_signature_and_git_files() {
        let files = [
            f("b.bin", 'b'),
            f("model.sig", 'c'),
            f(".gitattributes", 'd'),
            f("a/x", 'a'),
            f(".github/w", 'e'),
        ];
        let m = revision_manifest("m", &files).unwrap();
        let names: Vec<String> = m.resources.iter().map(|r| r.to_string()).collect();
        assert_eq!(names, ["a/x", "b.bin"]);
        assert!(m.params.ignore_paths.contains(&"model.sig".to_owned()));
    }

    /// Issue 15 finding 10: whatever the hub accepts (and so serves) is in the signed
    /// manifest; what the manifest leaves out, uploads cannot put there.
    #[test]
    fn every_accepted_path_is_signed() {
        let mut tried = Vec::new();
        for top in DEFAULT_GIT_IGNORES
            .iter()
            .chain(&[SIGNATURE_FILE, ".cache"])
        {
            for spelling in [top.to_string(), top.to_uppercase(), format!("{top}.")] {
                tried.push(spelling.clone());
                tried.push(format!("{spelling}/hooks/setup.py"));
                tried.push(format!("sub/{spelling}"));
            }
        }
        let accepted: Vec<FileEntry> = tried
            .iter()
            .filter(|p| crate::names::check_file_path(p).is_ok())
            .map(|p| f(p, 'a'))
            .collect();
        let m = revision_manifest("m", &accepted).unwrap();
        let mut signed: Vec<String> = m.resources.iter().map(|r| r.to_string()).collect();
        let mut want: Vec<String> = accepted.into_iter().map(|f| f.path).collect();
        signed.sort();
        want.sort();
        assert_eq!(signed, want);
        assert!(want.iter().all(|p| p.starts_with("sub/")), "{want:?}");
        assert_eq!(want.len(), 15, "{want:?}");
    }

    #[test]
    fn commit_ids_cover_parent_and_content_not_signature() {
        let a = [f("a", 'a'), f("b", 'b')];
        let with_sig = [f("b", 'b'), f("a", 'a'), f("model.sig", 'c')];
        assert_eq!(commit_id(None, &a), commit_id(None, &with_sig));
        assert_eq!(commit_id(None, &a).len(), 40);
        assert_ne!(commit_id(None, &a), commit_id(Some("x"), &a));
        assert_ne!(
            commit_id(None, &a),
            commit_id(None, &[f("a", 'a'), f("b", 'c')])
        );
    }

    #[tokio::test]
    async fn key_signer_signs_and_authenticates() {
        let dir = tempfile::tempdir().unwrap();
        let s = KeySigner::open_or_create(dir.path(), "http://hub.test/").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("signing.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = KeySigner::open_or_create(dir.path(), "http://hub.test").unwrap();
        assert_eq!(s.public_key_pem(), again.public_key_pem(), "key persists");
        let user = Account {
            id: 1,
            name: "alice".into(),
            kind: hallmark_store::AccountKind::User,
            email: None,
            is_admin: false,
            created_at: 0,
            disabled_at: None,
        };
        let m = revision_manifest("m", &[f("a", 'a')]).unwrap();
        let disabled = Account {
            disabled_at: Some(1),
            ..user.clone()
        };
        assert!(matches!(
            s.sign_revision(&disabled, &m).await,
            Err(HubError::Refused(crate::Refusal::UserDisabled(_)))
        ));
        let signed = s.sign_revision(&user, &m).await.unwrap();
        assert_eq!(signed.identity, "http://hub.test/alice");
        let bundle = Bundle::parse(&signed.bundle_json, &Default::default()).unwrap();
        assert!(s.authenticate(&bundle, &signed.bundle_json, "x").is_ok());
        let other =
            KeySigner::open_or_create(&dir.path().join("other"), "http://hub.test").unwrap();
        assert!(
            other
                .authenticate(&bundle, &signed.bundle_json, "x")
                .is_err()
        );
    }
}
