//! Hub configuration, shared state, and first-start bootstrap.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hallmark_store::{BlobStore, MetaStore, PgStore, SqliteStore, TokenScope};

use crate::auth::issue_token;
use crate::error::HubError;
use crate::limits::RevisionLimits;
use crate::signer::{KeySigner, RevisionSigner};
use crate::throttle::{LoginLimits, LoginThrottle};

/// Settings of one hub process.
#[derive(Clone, Debug)]
pub struct HubConfig {
    /// Data directory: `hub.db`, `blobs/`, `keys/`.
    pub data_dir: PathBuf,
    /// The URL users reach the hub at (identities are `{public_url}/{username}`).
    pub public_url: String,
    /// Largest accepted file, in bytes.
    pub max_file_size: u64,
    /// How many files (and statement bytes) a revision may have.
    pub revision_limits: RevisionLimits,
    /// Make blobs durable (fsync) before acknowledging them.
    pub fsync: bool,
    /// Sign uploads keylessly with the uploader's identity through the embedded Sigstore
    /// instance (default); `false` signs with a hub-held key instead.
    pub keyless: bool,
    /// Metadata database: `postgres://…` (shared by replicas); `None` = SQLite `hub.db`
    /// in the data directory.
    pub database: Option<String>,
    /// Blob store: `s3://bucket?endpoint=…&region=…` (shared by replicas, credentials
    /// from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`); `None` = `blobs/` in the data
    /// directory.
    pub blob_store: Option<String>,
    /// Login rate limits.
    pub login: LoginLimits,
    /// Behind a reverse proxy: the header it puts the client's address in (its last
    /// entry is used, e.g. `x-forwarded-for`); `None` (default): the socket peer address.
    pub trusted_proxy_header: Option<String>,
    /// Connection and time bounds of the listener.
    pub serve: hallmark_instance::listen::ServeLimits,
    /// How revisions are scanned at commit.
    pub scan: crate::scan::ScanSettings,
    /// How `hub serve` re-hashes stored blobs in the background.
    pub scrub: ScrubSettings,
    /// Witnesses that cosign the embedded log's checkpoints (issue 22).
    pub witnessing: hallmark_instance::WitnessConfig,
    /// Key type of the embedded logs created at this start (`None`: each log's default,
    /// see [`hallmark_instance::InstanceConfig::log_key_type`]).
    pub log_key_type: Option<hallmark_tlog::LogKeyType>,
    /// Where incidents are posted for owners ([`crate::incident::notify`]); `None`: only
    /// the audit log.
    pub incident_webhook: Option<crate::incident::webhook::WebhookUrl>,
    /// How often the monitor polls the hub's log for the orgs' watch lists
    /// ([`crate::watch::run`]); `None`: not at all.
    pub monitor_interval: Option<Duration>,
}

impl HubConfig {
    /// Defaults for `data_dir` and `public_url`.
    #[must_use]
    pub fn new(data_dir: PathBuf, public_url: &str) -> Self {
        Self {
            data_dir,
            public_url: public_url.trim_end_matches('/').to_owned(),
            max_file_size: 1 << 40,
            revision_limits: RevisionLimits::default(),
            fsync: true,
            keyless: true,
            database: None,
            blob_store: None,
            login: LoginLimits::default(),
            trusted_proxy_header: None,
            serve: hallmark_instance::listen::ServeLimits::default(),
            scan: crate::scan::ScanSettings::default(),
            scrub: ScrubSettings::default(),
            witnessing: hallmark_instance::WitnessConfig::default(),
            log_key_type: None,
            incident_webhook: None,
            monitor_interval: Some(Duration::from_secs(60)),
        }
    }

    /// The metadata database file.
    #[must_use]
    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("hub.db")
    }
}

/// How `hub serve` re-hashes stored blobs ([`crate::scrub`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScrubSettings {
    /// Bytes re-hashed per second on average; `0` turns the scrubber off.
    pub rate: u64,
    /// Pause between the end of a pass and the start of the next.
    pub interval: Duration,
}

impl Default for ScrubSettings {
    /// 64 MiB/s (a 1 TB hub in about 4.5 hours), a pass a day.
    fn default() -> Self {
        Self {
            rate: 64 << 20,
            interval: Duration::from_secs(86_400),
        }
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
    /// Login rate limits in force.
    pub throttle: LoginThrottle,
    /// Blobs verified since their last write (ranges are served only from these).
    pub verified: hallmark_store::VerifiedBlobs,
    /// Scans revisions at commit.
    pub scanner: crate::scan::RevisionScanner,
    /// OAuth authorization codes waiting to be exchanged.
    pub oauth: crate::oauthcodes::Grants,
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

/// Opens the metadata store: PostgreSQL when [`HubConfig::database`] is set, else the
/// data directory's SQLite file (also used by `hub admin` commands while the server runs).
///
/// # Errors
/// The directory or database cannot be opened.
pub async fn open_meta(config: &HubConfig) -> Result<Arc<dyn MetaStore>, HubError> {
    Ok(open_meta_and_pool(config).await?.0)
}

/// Opens the metadata store of an existing hub, for operator commands: refuses a data
/// directory without `hub.db` (creating nothing) and a PostgreSQL database holding no
/// user, so a mistyped or missing `--data-dir` cannot make a second, empty hub.
///
/// # Errors
/// [`HubError::NoHub`], or the database cannot be opened.
pub async fn open_existing_meta(config: &HubConfig) -> Result<Arc<dyn MetaStore>, HubError> {
    if config.database.is_none() {
        let db = config.db_path();
        if !db.is_file() {
            return Err(HubError::NoHub {
                where_: config.data_dir.display().to_string(),
                why: "no hub.db",
            });
        }
    }
    let meta = open_meta(config).await?;
    if config.database.is_some() && meta.count_users().await? == 0 {
        return Err(HubError::NoHub {
            where_: "the database".into(),
            why: "no users; start `hallmark hub serve` on it first",
        });
    }
    Ok(meta)
}

/// [`open_meta`], with the PostgreSQL pool when there is one (the shared log uses it).
async fn open_meta_and_pool(
    config: &HubConfig,
) -> Result<(Arc<dyn MetaStore>, Option<PgStore>), HubError> {
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
    Ok(match config.database.as_deref() {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            let pg = PgStore::connect(url, 16).await?;
            (Arc::new(pg.clone()), Some(pg))
        }
        Some(other) => {
            return Err(HubError::Store(hallmark_store::StoreError::Config(
                format!(
                    "unsupported database URL {:?} (expected postgres://…)",
                    other.split('@').next_back().unwrap_or("")
                ),
            )));
        }
        None => (Arc::new(SqliteStore::open(&config.db_path()).await?), None),
    })
}

/// Opens the blob store: S3 when [`HubConfig::blob_store`] is set, else `blobs/` in the
/// data directory.
///
/// # Errors
/// A malformed URL or an unusable directory.
pub fn open_blobs(config: &HubConfig) -> Result<BlobStore, HubError> {
    Ok(match config.blob_store.as_deref() {
        Some(url) => BlobStore::new(hallmark_store::s3_store(url)?),
        None => BlobStore::local(&config.data_dir.join("blobs"), config.fsync)?,
    })
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
    let (meta, pg_pool) = open_meta_and_pool(&config).await?;
    let blobs = open_blobs(&config)?;
    let signer: Arc<dyn RevisionSigner> = if config.keyless {
        let instance = open_instance(&config, pg_pool, &blobs).await?;
        Arc::new(crate::keyless::KeylessRevisionSigner::new(Arc::new(
            instance,
        )))
    } else {
        Arc::new(KeySigner::open_or_create(
            &config.data_dir.join("keys"),
            &config.public_url,
        )?)
    };
    // One server per local data directory: nothing is streaming in yet, so every staging
    // object is a leftover of a crash. Shared storage (other replicas may be streaming):
    // only day-old leftovers. Upload sessions older than a day are abandoned.
    let shared = config.database.is_some() || config.blob_store.is_some();
    let age = if shared {
        Duration::from_secs(86_400)
    } else {
        Duration::ZERO
    };
    blobs.sweep_staging(age).await?;
    meta.sweep_uploads(crate::time::now() - crate::gc::UPLOAD_MAX_AGE)
        .await?;
    let mut bootstrap_token = None;
    if meta.count_users().await? == 0 {
        let admin = meta.create_user("admin", None, None, true).await?;
        let (secret, _) = issue_token(&*meta, admin.id, "bootstrap", TokenScope::Write).await?;
        bootstrap_token = Some(secret);
    }
    Ok(Opened {
        state: with_parts(meta, blobs, signer, config),
        bootstrap_token,
    })
}

/// Opens the embedded Sigstore instance in `sigstore/`. With a PostgreSQL database its log
/// is shared by every replica on that database: checkpoint, lease and queue in
/// PostgreSQL, tiles under `log/<tree id>/` in the blob store.
async fn open_instance(
    config: &HubConfig,
    pg_pool: Option<PgStore>,
    blobs: &BlobStore,
) -> Result<hallmark_instance::Instance, HubError> {
    use hallmark_instance::{Instance, InstanceConfig, LogBackend};
    let dir = config.data_dir.join("sigstore");
    let mut instance_cfg = InstanceConfig::new(&dir, &config.public_url);
    instance_cfg.witnessing = config.witnessing.clone();
    instance_cfg.log_key_type = config.log_key_type;
    let backend = match pg_pool {
        Some(pg) => {
            // Whether this start creates the log's identity (and must undo that if refused).
            let fresh = !dir.join("log/tree-id").exists();
            let log_cfg = hallmark_instance::log_config(&dir, &config.public_url)
                .map_err(HubError::Instance)?;
            let rt = tokio::runtime::Handle::current();
            let coordinator = pg
                .log_coordinator(&log_cfg.origin(), rt.clone())
                .await
                .map_err(HubError::LogCoordinator)?;
            // A replica started without the shared key material would make itself a second
            // log (own keys, own origin) writing into the same bucket prefix.
            let origins = coordinator
                .existing_origins()
                .await
                .map_err(HubError::LogCoordinator)?;
            if !origins.is_empty() && !origins.contains(&log_cfg.origin()) {
                if fresh {
                    let _ = std::fs::remove_file(dir.join("log/tree-id"));
                    let _ = std::fs::remove_file(dir.join("log/origin-host"));
                }
                return Err(HubError::ForeignLog {
                    held: origins.join(", "),
                    key_dir: dir.join("log").display().to_string(),
                    origin: log_cfg.origin(),
                    data_dir: config.data_dir.display().to_string(),
                });
            }
            LogBackend::Shared {
                store: Arc::new(hallmark_store::log::ObjectStoreTiles::new(
                    blobs.object_store(),
                    log_cfg.tree_id,
                    rt,
                )),
                coordinator: Arc::new(coordinator),
                holder: replica_name(),
            }
        }
        None => LogBackend::Local,
    };
    // Opening a shared log talks to PostgreSQL synchronously: off the async workers.
    tokio::task::spawn_blocking(move || Instance::open_with_log(instance_cfg, backend))
        .await
        .map_err(HubError::Task)?
        .map_err(HubError::Instance)
}

/// `<hostname>:<pid>:<random>`: this process's name as the log's sequencer.
fn replica_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "host".into());
    let mut r = [0u8; 4];
    let _ = hallmark_crypto::random_fill(&mut r);
    format!("{host}:{}:{}", std::process::id(), hex::encode(r))
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
        throttle: LoginThrottle::new(config.login.clone()),
        verified: hallmark_store::VerifiedBlobs::default(),
        scanner: crate::scan::RevisionScanner::new(&config.scan),
        oauth: crate::oauthcodes::Grants::default(),
        config,
    }))
}
