//! Hub configuration, shared state, and first-start bootstrap.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hallmark_store::{BlobStore, MetaStore, SqliteStore, TokenScope};

use crate::auth::issue_token;
use crate::error::HubError;
use crate::signer::{KeySigner, RevisionSigner};

/// Settings of one hub process.
#[derive(Clone, Debug)]
pub struct HubConfig {
    /// Data directory: `hub.db`, `blobs/`, `keys/`.
    pub data_dir: PathBuf,
    /// The URL users reach the hub at (identities are `{public_url}/{username}`).
    pub public_url: String,
    /// Largest accepted file, in bytes.
    pub max_file_size: u64,
    /// Make blobs durable (fsync) before acknowledging them.
    pub fsync: bool,
    /// Sign uploads keylessly with the uploader's identity through the embedded Sigstore
    /// instance (default); `false` signs with a hub-held key instead.
    pub keyless: bool,
}

impl HubConfig {
    /// Defaults for `data_dir` and `public_url`.
    #[must_use]
    pub fn new(data_dir: PathBuf, public_url: &str) -> Self {
        Self {
            data_dir,
            public_url: public_url.trim_end_matches('/').to_owned(),
            max_file_size: 1 << 40,
            fsync: true,
            keyless: true,
        }
    }

    /// The metadata database file.
    #[must_use]
    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("hub.db")
    }
}

/// Everything a request handler needs.
#[derive(Debug)]
pub struct Inner {
    /// Metadata.
    pub meta: Arc<dyn MetaStore>,
    /// Blob bytes.
    pub blobs: BlobStore,
    /// Signs revisions on upload.
    pub signer: Arc<dyn RevisionSigner>,
    /// Settings.
    pub config: HubConfig,
}

/// Cheaply clonable shared state.
#[derive(Clone, Debug)]
pub struct AppState(pub Arc<Inner>);

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// Opens the metadata store of a data directory (also used by `hub admin` commands
/// while the server runs).
///
/// # Errors
/// The directory or database cannot be opened.
pub async fn open_meta(config: &HubConfig) -> Result<SqliteStore, HubError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| HubError::Io {
        what: "creating the data directory",
        path: config.data_dir.display().to_string(),
        source,
    })?;
    #[cfg(unix)]
    {
        // Password and token hashes, keys: keep the data directory private.
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&config.data_dir, std::fs::Permissions::from_mode(0o700));
    }
    Ok(SqliteStore::open(&config.db_path()).await?)
}

/// What [`open`] found or made.
#[derive(Debug)]
pub struct Opened {
    /// The state to serve.
    pub state: AppState,
    /// On first start: the one-time admin bootstrap token (print it once).
    pub bootstrap_token: Option<String>,
}

/// Opens (creating on first start) a hub's data directory: database, blob store and
/// signing key; removes leftovers of interrupted uploads; bootstraps the `admin` user.
///
/// # Errors
/// Storage or key failures.
pub async fn open(config: HubConfig) -> Result<Opened, HubError> {
    let meta = open_meta(&config).await?;
    let blobs = BlobStore::local(&config.data_dir.join("blobs"), config.fsync)?;
    let signer: Arc<dyn RevisionSigner> = if config.keyless {
        let instance_cfg = hallmark_instance::InstanceConfig::new(
            &config.data_dir.join("sigstore"),
            &config.public_url,
        );
        let instance = hallmark_instance::Instance::open(instance_cfg)
            .map_err(|e| HubError::Signing(e.to_string()))?;
        Arc::new(crate::keyless::KeylessRevisionSigner::new(Arc::new(
            instance,
        )))
    } else {
        Arc::new(KeySigner::open_or_create(
            &config.data_dir.join("keys"),
            &config.public_url,
        )?)
    };
    // One server per data directory: nothing is streaming in yet, so every staging
    // object is a leftover of a crash. Upload sessions older than a day are abandoned.
    blobs.sweep_staging(Duration::ZERO).await?;
    meta.sweep_uploads(crate::time::now() - 86_400).await?;
    let mut bootstrap_token = None;
    if meta.count_users().await? == 0 {
        let admin = meta.create_user("admin", None, None, true).await?;
        let (secret, _) = issue_token(&meta, admin.id, "bootstrap", TokenScope::Write).await?;
        bootstrap_token = Some(secret);
    }
    Ok(Opened {
        state: with_parts(Arc::new(meta), blobs, signer, config),
        bootstrap_token,
    })
}

/// Assembles state from parts (tests, other backends, another signer).
#[must_use]
pub fn with_parts(
    meta: Arc<dyn MetaStore>,
    blobs: BlobStore,
    signer: Arc<dyn RevisionSigner>,
    config: HubConfig,
) -> AppState {
    AppState(Arc::new(Inner {
        meta,
        blobs,
        signer,
        config,
    }))
}
