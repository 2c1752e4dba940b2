//! The instance's Rekor v2 log: a second tile log (`log2/` in the data directory: its own
//! key, Ed25519 unless the instance was told otherwise when the log was created, so its
//! log ID differs from the v1 log's) whose origin is the host name
//! of the public URL; its write API is [`crate::rekor2`]. Opened only with the default
//! local log backend: a replicated instance ([`crate::LogBackend::Shared`]) offers Rekor v1
//! alone. With witnesses its checkpoints are cosigned like the v1 log's, and its
//! `TransparencyLogEntry` answers embed the cosigned checkpoint (C2SP note verifiers, and
//! sigstore-python's, ignore signature lines of other keys).

use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hallmark_tlog::{
    Appended, DirLock, DirStore, LogConfig, LogKey, LogKeyType, LogReader, Options, Sequencer,
    TileFetch, TileStorage,
};
use serde_json::{Value, json};

use crate::error::InstanceError;
use crate::files::{io, load_or_create_log_key, write_private};
use crate::witnessing::{CheckpointWitness, Witnessing, tile_proofs};

/// The Rekor v2 log of an instance.
pub(crate) struct RekorV2 {
    seq: Sequencer,
    /// Cosigning of the v2 log's checkpoints, when witnesses are configured: its bundles
    /// then embed the cosigned checkpoint.
    pub(crate) witnessing: Option<Arc<Witnessing>>,
    witness_wait: Duration,
    pub(crate) key: Arc<LogKey>,
    pub(crate) cfg: LogConfig,
    pub(crate) store: Arc<dyn TileStorage>,
}

/// The host name of `url` without port or brackets (Go's `url.Hostname()`), which
/// sigstore-go requires a v2 checkpoint's origin to equal.
fn hostname(url: &str) -> String {
    let authority = url
        .split("://")
        .nth(1)
        .unwrap_or(url)
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    let host = if let Some(v6) = host.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        host.split(':').next().unwrap_or_default()
    };
    if host.is_empty() || host.contains(char::is_whitespace) || host.contains('+') {
        "hallmark".to_owned()
    } else {
        host.to_owned()
    }
}

impl RekorV2 {
    /// Opens (or creates) the v2 log in `data_dir/log2`.
    pub(crate) fn open(
        data_dir: &Path,
        public_url: &str,
        key_type: LogKeyType,
        witnesses: &[Arc<dyn CheckpointWitness>],
        witness_deadline: Duration,
    ) -> Result<Self, InstanceError> {
        let dir = data_dir.join("log2");
        fs::create_dir_all(&dir).map_err(io(&dir))?;
        // The origin is fixed when the log is created, like the v1 log's.
        let host_path = dir.join("origin-host");
        let host = match fs::read_to_string(&host_path) {
            Ok(h) if !h.trim().is_empty() => h.trim().to_owned(),
            _ => {
                let h = hostname(public_url);
                write_private(&host_path, h.as_bytes())?;
                h
            }
        };
        let key = Arc::new(load_or_create_log_key(&dir.join("log.key"), key_type)?);
        let cfg = LogConfig::rekor_v2(&host);
        let store: Arc<dyn TileStorage> = Arc::new(DirStore::open(dir.join("public"))?);
        let seq = Sequencer::open(
            cfg.clone(),
            Arc::clone(&key),
            Arc::clone(&store),
            Arc::new(DirLock::open(dir.join("lock"))?),
            Options::default(),
        )?;
        let witnessing = if witnesses.is_empty() {
            None
        } else {
            let w = Witnessing::start(
                witnesses.to_vec(),
                witness_deadline,
                tile_proofs(Arc::clone(&store) as Arc<dyn TileFetch>),
            )
            .map_err(io(&dir))?;
            w.offer(&seq.latest());
            Some(Arc::new(w))
        };
        Ok(Self {
            seq,
            witnessing,
            witness_wait: witness_deadline * 2 + Duration::from_secs(1),
            key,
            cfg,
            store,
        })
    }

    /// The log ID: the checkpoint key's ID under the origin (C2SP typed key hash for
    /// Ed25519, `SHA-256(SPKI)` for ECDSA).
    pub(crate) fn log_id(&self) -> hallmark_tlog::Hash {
        self.key.verifier().log_id(&self.cfg.host)
    }

    /// A reader over the v2 log's tiles.
    pub(crate) fn reader(&self) -> LogReader {
        LogReader::new(
            Arc::clone(&self.store) as Arc<dyn TileFetch>,
            self.cfg.clone(),
            self.key.verifier().clone(),
        )
    }

    /// Appends a canonicalized body and waits until it is committed; with witnesses, also
    /// (bounded) until a checkpoint covering it went through a round of cosigning, and
    /// answers with that checkpoint (its cosignatures included) and a proof against it.
    pub(crate) async fn append(&self, body: Vec<u8>) -> Result<Appended, hallmark_tlog::Error> {
        let mut a = self.seq.submit(body).wait_async().await?;
        let Some(w) = self.witnessing.clone() else {
            return Ok(a);
        };
        let (reader, wait) = (self.reader(), self.witness_wait);
        tokio::task::spawn_blocking(move || {
            let Some(p) = w.wait_witnessed(&a.checkpoint, wait) else {
                return a;
            };
            if p.checkpoint == a.checkpoint.checkpoint {
                a.checkpoint = p;
            } else if let Ok(proof) = reader.inclusion_proof(a.index, p.checkpoint.size) {
                a.proof = proof;
                a.checkpoint = p;
            }
            a
        })
        .await
        .map_err(|e| hallmark_tlog::Error::Stopped(e.to_string()))
    }

    /// The trusted root's `tlogs[]` entry: log ID and checkpoint key ID are both the
    /// 32-byte key ID, as rekor-tiles' CLIENTS.md asks.
    pub(crate) fn trusted_root_entry(&self, base_url: &str, start: &Value, org: &str) -> Value {
        let v = self.key.verifier();
        let id = json!({ "keyId": STANDARD.encode(self.log_id()) });
        json!({
            "baseUrl": base_url,
            "hashAlgorithm": "SHA2_256",
            "publicKey": { "rawBytes": STANDARD.encode(v.spki_der()), "keyDetails": v.key_type().key_details(), "validFor": { "start": start } },
            "logId": id,
            "checkpointKeyId": id,
            "operator": org,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::hostname;

    #[test]
    fn origin_is_the_host_name_without_port() {
        assert_eq!(hostname("http://127.0.0.1:8080"), "127.0.0.1");
        assert_eq!(hostname("https://hub.example.com/x"), "hub.example.com");
        assert_eq!(hostname("http://[::1]:3000"), "::1");
        assert_eq!(hostname("http://u@host:1"), "host");
        assert_eq!(hostname(""), "hallmark");
    }
}
