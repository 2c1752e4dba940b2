//! The instance's state: issuer, CA and log opened from a data directory.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hallmark_ca::{Ca, CaMaterial, TsaMaterial};
use hallmark_oidc::{Issuer, KeyRing, SIGSTORE_AUDIENCE, TokenValidator};
use hallmark_tlog::{
    Appended, CheckpointLock, Coordinator, DirLock, DirStore, Health, LogConfig, LogKey,
    LogKeyType, LogReader, Options, Sequencer, SharedOptions, SharedSequencer, TileFetch,
    TileStorage,
};
use serde_json::json;

use crate::error::InstanceError;
use crate::files::{io, load_or_create_log_key, write_private};
use crate::log2::RekorV2;
use crate::witnessing::{WitnessConfig, Witnessing, tile_proofs};
use crate::writes::CaAnchor;

/// How to open an instance.
#[derive(Clone, Debug)]
pub struct InstanceConfig {
    /// Data directory (created if missing).
    pub data_dir: PathBuf,
    /// The URL clients reach the instance at (no trailing slash); also the OIDC issuer.
    pub public_url: String,
    /// Organisation name in certificate subjects and the trust root.
    pub org: String,
    /// Lifetime of issued certificates.
    pub cert_lifetime: Duration,
    /// Lifetime of minted ID tokens.
    pub token_lifetime: Duration,
    /// Witnesses asked to cosign the logs' checkpoints.
    pub witnessing: WitnessConfig,
    /// The key type of logs created at this start (`None`: [`DEFAULT_V1_KEY_TYPE`] for the
    /// Rekor v1 log, [`DEFAULT_V2_KEY_TYPE`] for the v2 log); existing logs keep theirs.
    pub log_key_type: Option<LogKeyType>,
}

/// The key type of a new Rekor v1 log unless told otherwise: ECDSA P-256, like Rekor v1.
pub const DEFAULT_V1_KEY_TYPE: LogKeyType = LogKeyType::EcdsaP256;
/// The key type of a new Rekor v2 log unless told otherwise: Ed25519, like Rekor v2.
pub const DEFAULT_V2_KEY_TYPE: LogKeyType = LogKeyType::Ed25519;

impl InstanceConfig {
    /// Defaults: Fulcio's 10-minute certificates, 10-minute tokens.
    #[must_use]
    pub fn new(data_dir: &Path, public_url: &str) -> Self {
        Self {
            data_dir: data_dir.to_owned(),
            public_url: public_url.trim_end_matches('/').to_owned(),
            org: "Hallmark".into(),
            cert_lifetime: Duration::from_secs(600),
            token_lifetime: Duration::from_secs(600),
            witnessing: WitnessConfig::default(),
            log_key_type: None,
        }
    }
}

/// Where the instance's transparency log lives.
#[derive(Clone, Default)]
pub enum LogBackend {
    /// One node: tiles under `log/public`, the checkpoint lock in `log/lock` (a file lock
    /// keeps a second process out).
    #[default]
    Local,
    /// One node over the given tile storage and checkpoint lock (an object store, or a
    /// storage that injects faults in tests).
    Single {
        /// Tiles.
        store: Arc<dyn TileStorage>,
        /// The checkpoint's compare-and-swap.
        lock: Arc<dyn CheckpointLock>,
    },
    /// Shared by several replicas (see [`hallmark_tlog::shared`]): tiles in `store`, the
    /// checkpoint, sequencer lease and entry queue in `coordinator`; `holder` names this
    /// replica. Every replica must have the same `log/` key material in its data directory.
    Shared {
        /// Tiles and staging objects.
        store: Arc<dyn TileStorage>,
        /// Checkpoint, lease, queue.
        coordinator: Arc<dyn Coordinator>,
        /// This replica's unique name.
        holder: String,
    },
}

impl std::fmt::Debug for LogBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Local => f.write_str("Local"),
            Self::Single { .. } => f.write_str("Single"),
            Self::Shared { holder, .. } => {
                f.debug_struct("Shared").field("holder", holder).finish()
            }
        }
    }
}

/// The running log, on one node or shared.
pub(crate) enum Log {
    Local(Sequencer),
    Shared(SharedSequencer),
}

impl Log {
    /// Appends and waits until the entry is committed. Blocking.
    pub(crate) fn append(&self, body: Vec<u8>) -> Result<Appended, hallmark_tlog::Error> {
        match self {
            Self::Local(s) => s.append(body),
            Self::Shared(s) => s.append(&body),
        }
    }
}

/// A running instance.
pub struct Instance {
    pub(crate) cfg: InstanceConfig,
    pub(crate) issuer: RwLock<Issuer>,
    pub(crate) ca: Ca,
    pub(crate) log: Log,
    pub(crate) log_key: Arc<LogKey>,
    pub(crate) log_cfg: LogConfig,
    pub(crate) store: Arc<dyn TileStorage>,
    pub(crate) ca_anchor: CaAnchor,
    /// The Rekor v2 log (local log backend only).
    pub(crate) rekor_v2: Option<RekorV2>,
    /// The RFC 3161 timestamp authority's keys.
    pub(crate) tsa: Arc<TsaMaterial>,
    /// Cosigning of the log's checkpoints by witnesses, when configured.
    pub(crate) witnessing: Option<Witnessing>,
}

impl std::fmt::Debug for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instance")
            .field("public_url", &self.cfg.public_url)
            .finish_non_exhaustive()
    }
}

/// The identity of the instance's log in `data_dir` (tree ID and origin host, fixed when
/// the log is created; created now if missing) — what a shared log's coordinator is keyed by.
///
/// # Errors
/// The files cannot be read or written.
pub fn log_config(data_dir: &Path, public_url: &str) -> Result<LogConfig, InstanceError> {
    let log_dir = data_dir.join("log");
    fs::create_dir_all(&log_dir).map_err(io(&log_dir))?;
    let tree_path = log_dir.join("tree-id");
    let tree_id: u64 = match fs::read_to_string(&tree_path) {
        Ok(s) => s.trim().parse().map_err(|_| InstanceError::TreeId {
            path: tree_path.clone(),
        })?,
        Err(_) => {
            let mut b = [0u8; 8];
            getrandom(&mut b);
            let id = u64::from_be_bytes(b) >> 1;
            write_private(&tree_path, id.to_string().as_bytes())?;
            id
        }
    };
    // The log's origin is fixed when the log is created: a later change of public URL
    // (a new port, a proxy) must not make the existing log look like another log.
    let host_path = log_dir.join("origin-host");
    let host = match fs::read_to_string(&host_path) {
        Ok(h) if !h.trim().is_empty() => h.trim().to_owned(),
        _ => {
            let h = public_url
                .split("://")
                .nth(1)
                .unwrap_or(public_url)
                .split('/')
                .next()
                .unwrap_or("hallmark")
                .to_owned();
            write_private(&host_path, h.as_bytes())?;
            h
        }
    };
    Ok(LogConfig { host, tree_id })
}

impl Instance {
    /// Opens the instance in `cfg.data_dir` with a local log, creating keys, CA and log on
    /// first start.
    pub fn open(cfg: InstanceConfig) -> Result<Self, InstanceError> {
        Self::open_with_log(cfg, LogBackend::Local)
    }

    /// Opens the instance with its log on `backend`.
    pub fn open_with_log(
        mut cfg: InstanceConfig,
        backend: LogBackend,
    ) -> Result<Self, InstanceError> {
        cfg.data_dir = std::path::absolute(&cfg.data_dir).map_err(io(&cfg.data_dir))?;
        let dir = &cfg.data_dir.clone();
        fs::create_dir_all(dir).map_err(io(dir))?;
        let keys = KeyRing::load_or_create(&dir.join("oidc"), cfg.token_lifetime * 2)?;
        let issuer = Issuer::new(&cfg.public_url, keys);
        let ca = Ca::new(
            CaMaterial::load_or_create(&dir.join("ca"), &cfg.org)?,
            cfg.cert_lifetime,
        );
        let ca_anchor = CaAnchor::of(&ca, &dir.join("ca"))?;
        let log_cfg = log_config(dir, &cfg.public_url)?;
        let log_dir = dir.join("log");
        let log_key = Arc::new(load_or_create_log_key(
            &log_dir.join("log.key"),
            cfg.log_key_type.unwrap_or(DEFAULT_V1_KEY_TYPE),
        )?);
        let single = |store: Arc<dyn TileStorage>, lock: Arc<dyn CheckpointLock>| {
            let seq = Sequencer::open(
                log_cfg.clone(),
                Arc::clone(&log_key),
                Arc::clone(&store),
                lock,
                Options::default(),
            )?;
            Ok::<_, InstanceError>((Log::Local(seq), store))
        };
        let rekor_v2 = match backend {
            LogBackend::Local => Some(RekorV2::open(
                dir,
                &cfg.public_url,
                cfg.log_key_type.unwrap_or(DEFAULT_V2_KEY_TYPE),
                &cfg.witnessing.witnesses,
                cfg.witnessing.deadline,
            )?),
            LogBackend::Single { .. } | LogBackend::Shared { .. } => None,
        };
        let tsa = Arc::new(TsaMaterial::load_or_create(&dir.join("tsa"), &cfg.org)?);
        let (log, store) = match backend {
            LogBackend::Local => single(
                Arc::new(DirStore::open(log_dir.join("public"))?),
                Arc::new(DirLock::open(log_dir.join("lock"))?),
            )?,
            LogBackend::Single { store, lock } => single(store, lock)?,
            LogBackend::Shared {
                store,
                coordinator,
                holder,
            } => {
                let seq = SharedSequencer::open(
                    log_cfg.clone(),
                    Arc::clone(&log_key),
                    Arc::clone(&store),
                    coordinator,
                    SharedOptions::new(holder),
                )?;
                (Log::Shared(seq), store)
            }
        };
        let witnessing = if cfg.witnessing.witnesses.is_empty() {
            None
        } else {
            let w = Witnessing::start(
                cfg.witnessing.witnesses.clone(),
                cfg.witnessing.deadline,
                tile_proofs(Arc::clone(&store) as Arc<dyn TileFetch>),
            )
            .map_err(io(dir))?;
            // The witnesses see the current checkpoint at once (and /checkpoint has it).
            match &log {
                Log::Local(s) => w.offer(&s.latest()),
                Log::Shared(s) => w.offer(&Arc::new(s.latest()?)),
            }
            Some(w)
        };
        Ok(Self {
            witnessing,
            cfg,
            issuer: RwLock::new(issuer),
            ca,
            log,
            log_key,
            log_cfg,
            store,
            ca_anchor,
            rekor_v2,
            tsa,
        })
    }

    /// Appends a log entry from an async handler: a local log is awaited, a shared one
    /// waited for on the blocking pool; then, with witnesses, until its checkpoint was
    /// offered to them.
    pub(crate) async fn append_async(
        self: &Arc<Self>,
        body: Vec<u8>,
    ) -> Result<Appended, hallmark_tlog::Error> {
        let me = Arc::clone(self);
        match &self.log {
            Log::Local(s) => {
                let a = s.submit(body).wait_async().await?;
                if self.witnessing.is_none() {
                    return Ok(a);
                }
                tokio::task::spawn_blocking(move || {
                    me.await_witnesses(&a);
                    a
                })
                .await
                .map_err(|e| hallmark_tlog::Error::Stopped(e.to_string()))
            }
            Log::Shared(_) => tokio::task::spawn_blocking(move || me.append_witnessed(body))
                .await
                .map_err(|e| hallmark_tlog::Error::Stopped(e.to_string()))?,
        }
    }

    /// Appends and waits until the entry is committed and (with witnesses) its checkpoint
    /// went through a round of cosigning. Blocking.
    pub(crate) fn append_witnessed(&self, body: Vec<u8>) -> Result<Appended, hallmark_tlog::Error> {
        let a = self.log.append(body)?;
        self.await_witnesses(&a);
        Ok(a)
    }

    /// Waits (bounded: the round in flight and the next) until a checkpoint covering `a`
    /// was offered to the witnesses and published. Blocking.
    fn await_witnesses(&self, a: &Appended) {
        if let Some(w) = &self.witnessing {
            let _ = w.wait_witnessed(
                &a.checkpoint,
                self.cfg.witnessing.deadline * 2 + Duration::from_secs(1),
            );
        }
    }

    /// The witnesses' state for `/readyz`, if the log has witnesses.
    #[must_use]
    pub fn witness_report(&self) -> Option<crate::WitnessReport> {
        self.witnessing.as_ref().map(Witnessing::report)
    }

    /// The published checkpoint note with its cosignatures (what `/checkpoint` serves),
    /// if the log has witnesses and a round ran.
    #[must_use]
    pub fn witnessed_checkpoint(&self) -> Option<String> {
        self.witnessing
            .as_ref()
            .and_then(Witnessing::published)
            .map(|p| p.text.clone())
    }

    /// The witness policy clients may pin: a `log` line for each log (vkey, URL), then
    /// the configured witnesses, groups and quorum (without witnesses only the `log`
    /// lines: what witnesses need to be configured for this log; no quorum, so no client
    /// takes it for a policy).
    #[must_use]
    pub fn witness_policy(&self) -> String {
        let w = &self.cfg.witnessing;
        let url = &self.cfg.public_url;
        let mut out =
            format!("# Witness policy of {url}: its logs, their witnesses, the quorum.\n");
        let vkey = |host: &str, key: &LogKey| {
            hallmark_tlog::NoteVerifier::named(host, key.verifier().clone())
                .map(|v| v.vkey().to_string())
        };
        if let Ok(v) = vkey(&self.log_cfg.host, &self.log_key) {
            out.push_str(&format!("log {v} {url}\n"));
        }
        if let Some(v2) = &self.rekor_v2
            && let Ok(v) = vkey(&v2.cfg.host, &v2.key)
        {
            out.push_str(&format!("log {v} {url}/rekor2\n"));
        }
        for line in w.policy.as_deref().unwrap_or_default().lines() {
            if !line.trim_start().starts_with("log ") {
                out.push_str(line);
                out.push('\n');
            }
        }
        if w.witnesses.is_empty() {
            out.push_str("# no witnesses configured\n");
        }
        out
    }

    /// Stops a shared log's sequencer, giving its lease back at once (a local log stops
    /// when the instance is dropped). Blocking.
    pub fn shutdown(&self) {
        if let Log::Shared(s) = &self.log {
            s.stop();
        }
    }

    /// Whether this process sequences the log now (always, for a local log).
    #[must_use]
    pub fn is_sequencing(&self) -> bool {
        match &self.log {
            Log::Local(_) => true,
            Log::Shared(s) => s.is_sequencing(),
        }
    }

    /// Whether the log's sequencer appends now (readiness): after a failed append
    /// (storage full, …) [`Health::Recovering`] until it has recovered by itself.
    #[must_use]
    pub fn log_health(&self) -> Health {
        match &self.log {
            Log::Local(s) => s.health(),
            Log::Shared(s) => s.health(),
        }
    }

    /// The instance URL (also the OIDC issuer).
    #[must_use]
    pub fn public_url(&self) -> &str {
        &self.cfg.public_url
    }

    /// Mints an ID token (audience `sigstore`) for an authenticated principal: an e-mail
    /// identity, or a URL subject (certified as a URI SAN) when `email` is `None`.
    pub fn mint_token(&self, subject: &str, email: Option<&str>) -> Result<String, InstanceError> {
        let issuer = self
            .issuer
            .read()
            .map_err(|_| InstanceError::IssuerPoisoned)?;
        Ok(issuer.mint(subject, email, SIGSTORE_AUDIENCE, self.cfg.token_lifetime)?)
    }

    /// A validator for this instance's tokens.
    pub fn token_validator(&self) -> Result<TokenValidator, InstanceError> {
        let issuer = self
            .issuer
            .read()
            .map_err(|_| InstanceError::IssuerPoisoned)?;
        Ok(TokenValidator::from_jwks_json(
            issuer.url(),
            SIGSTORE_AUDIENCE,
            &issuer.jwks(),
        )?)
    }

    /// The issuer's discovery document and JWKS.
    pub(crate) fn oidc_documents(&self) -> (serde_json::Value, serde_json::Value) {
        match self.issuer.read() {
            Ok(i) => (i.discovery_document(), i.jwks()),
            Err(_) => (json!({}), json!({"keys": []})),
        }
    }

    /// The Rekor v1 log's ID (bundles' and the trusted root's `logId.keyId`).
    #[must_use]
    pub fn log_id(&self) -> hallmark_tlog::Hash {
        self.log_key.verifier().log_id(&self.log_cfg.host)
    }

    /// A reader over the log's tiles.
    #[must_use]
    pub fn log_reader(&self) -> LogReader {
        LogReader::new(
            Arc::clone(&self.store) as Arc<dyn TileFetch>,
            self.log_cfg.clone(),
            self.log_key.verifier().clone(),
        )
    }

    /// The log as a monitor follows it (`hallmark_tlog::monitor`): its tiles read in
    /// process, its checkpoint key and origin.
    #[must_use]
    pub fn log_monitor_target(&self) -> hallmark_tlog::monitor::LogTarget {
        hallmark_tlog::monitor::LogTarget {
            fetch: Arc::clone(&self.store) as Arc<dyn TileFetch>,
            verifier: self.log_key.verifier().clone(),
            origin: Some(self.log_cfg.origin()),
        }
    }

    /// The ClientTrustConfig (trusted root + signing config) describing this instance:
    /// both logs (Rekor v1, and v2 when served), the CA, the CT log and the TSA; the
    /// signing config v0.2 lists Fulcio, OIDC, Rekor v1 and v2 (one operator: clients
    /// pick the highest version they support) and the TSA.
    #[must_use]
    pub fn trust_config(&self) -> serde_json::Value {
        let url = &self.cfg.public_url;
        let org = &self.cfg.org;
        let (ca, ct) = self.ca.trusted_root_entries(url, org);
        let start = ca["validFor"]["start"].clone();
        let verifier = self.log_key.verifier();
        let service = |u: &str, major: u32| json!({ "url": u, "majorApiVersion": major, "validFor": { "start": start }, "operator": org });
        let mut tlogs = vec![json!({
            "baseUrl": url,
            "hashAlgorithm": "SHA2_256",
            "publicKey": { "rawBytes": STANDARD.encode(verifier.spki_der()), "keyDetails": verifier.key_type().key_details(), "validFor": { "start": start } },
            "logId": { "keyId": STANDARD.encode(self.log_id()) },
        })];
        let mut rekor_urls = vec![service(url, 1)];
        if let Some(v2) = &self.rekor_v2 {
            tlogs.push(v2.trusted_root_entry(url, &start, org));
            rekor_urls.push(service(url, 2));
        }
        let tsa_url = format!("{url}/api/v1/timestamp");
        json!({
            "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
            "trustedRoot": {
                "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
                "tlogs": tlogs,
                "certificateAuthorities": [ca],
                "ctlogs": [ct],
                "timestampAuthorities": [self.tsa.trusted_root_entry(&tsa_url, org)],
            },
            "signingConfig": {
                "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
                "caUrls": [service(url, 1)],
                "oidcUrls": [service(url, 1)],
                "rekorTlogUrls": rekor_urls,
                "rekorTlogConfig": { "selector": "ANY" },
                "tsaUrls": [service(&tsa_url, 1)],
                "tsaConfig": { "selector": "ANY" },
            },
        })
    }
}

fn getrandom(buf: &mut [u8]) {
    let _ = aws_lc_fill(buf);
}

fn aws_lc_fill(buf: &mut [u8]) -> Result<(), ()> {
    hallmark_crypto::random_fill(buf).map_err(|_| ())
}
