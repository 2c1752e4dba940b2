//! Auditing a log from its public tiles, the way a monitor or witness does.
//!
//! [`audit`] fetches the checkpoint and verifies its signature (and origin); then, for the
//! part of the tree not seen before (everything on a first run), it hashes every entry
//! bundle and compares with the level-0 tiles, recomputes every higher tile hash from the
//! level below, and recomputes the root from the tiles; finally it checks that the tree
//! extends the previously seen checkpoint (consistency proof from the tiles, RFC 9162
//! §2.1.4.2), refusing a smaller tree (rollback) or another tree of the same size (fork).

use std::path::PathBuf;
use std::sync::Arc;

use crate::error::Error;
use crate::layout::CHECKPOINT_KEY;
use crate::merkle::{Hash, consistency_proof, leaf_hash, tree_root, verify_consistency};
use crate::note::{Checkpoint, LogVerifier, SignedCheckpoint, verify_checkpoint};
use crate::reader::fetch_sized;
use crate::tile::{
    TILE_WIDTH, TileFetch, TileKind, TilePath, TileReader, decode_bundle, width_in_tree,
};

/// What an audit established.
#[derive(Clone, Debug)]
pub struct AuditReport {
    /// The new, verified checkpoint (store it for the next run).
    pub checkpoint: SignedCheckpoint,
    /// The checkpoint it was checked against, if any.
    pub previous: Option<Checkpoint>,
    /// Entries hashed and compared with the level-0 tiles.
    pub entries_checked: u64,
    /// Tile hashes recomputed from the level below.
    pub hashes_checked: u64,
}

/// Audits the log behind `fetch`.
///
/// `previous` is the note text of the last checkpoint this monitor verified.
///
/// # Errors
/// [`Error::BadCheckpoint`], [`Error::Corrupt`] (tiles or bundles disagree),
/// [`Error::Rollback`], [`Error::Fork`], [`Error::ProofMismatch`], or fetch failures.
pub fn audit(
    fetch: Arc<dyn TileFetch>,
    verifier: &LogVerifier,
    origin: Option<&str>,
    previous: Option<&str>,
) -> Result<AuditReport, Error> {
    let prev = previous
        .map(|p| verify_checkpoint(p, verifier, None, origin))
        .transpose()?;
    let origin = origin
        .map(str::to_owned)
        .or_else(|| prev.as_ref().map(|p| p.checkpoint.origin.clone()));
    let cp = fetch_checkpoint(fetch.as_ref(), verifier, origin.as_deref())?;
    audit_from(fetch, prev.as_ref(), cp, &mut |_, _| Ok(()))
}

/// Fetches the log's `/checkpoint` and verifies its signature (and origin, if given).
///
/// # Errors
/// [`Error::Missing`] when the log has none, [`Error::BadCheckpoint`], fetch failures.
pub fn fetch_checkpoint(
    fetch: &dyn TileFetch,
    verifier: &LogVerifier,
    origin: Option<&str>,
) -> Result<SignedCheckpoint, Error> {
    let note = fetch.fetch(CHECKPOINT_KEY)?.ok_or_else(|| Error::Missing {
        key: CHECKPOINT_KEY.into(),
        context: "the log has no checkpoint".into(),
    })?;
    let note = String::from_utf8(note)
        .map_err(|_| Error::BadCheckpoint("checkpoint is not UTF-8".into()))?;
    verify_checkpoint(&note, verifier, None, origin)
}

/// Called with each new entry's index and leaf bytes during an audit.
pub type EntryVisitor<'a> = dyn FnMut(u64, &[u8]) -> Result<(), Error> + 'a;

/// Audits the tree of the verified checkpoint `cp` against the verified `prev`, handing
/// each new entry (index, leaf bytes) to `visit` once it has been hashed into its tile.
///
/// # Errors
/// As [`audit`], or what `visit` returns.
pub fn audit_from(
    fetch: Arc<dyn TileFetch>,
    prev: Option<&SignedCheckpoint>,
    cp: SignedCheckpoint,
    visit: &mut EntryVisitor<'_>,
) -> Result<AuditReport, Error> {
    let n = cp.checkpoint.size;
    let m = prev.map_or(0, |p| p.checkpoint.size);
    if let Some(p) = prev {
        if n < m {
            return Err(Error::Rollback { old: m, new: n });
        }
        if n == m && p.checkpoint.root != cp.checkpoint.root {
            return Err(Error::Fork(format!(
                "two different roots for tree size {n}"
            )));
        }
    }
    let mut tiles = TileReader::new(Arc::clone(&fetch), n);
    let mut entries_checked = 0u64;
    let mut hashes_checked = 0u64;
    // Level 0 against the entry bundles, for the new range [m, n).
    if n > m {
        for b in m / TILE_WIDTH..=(n - 1) / TILE_WIDTH {
            let w = width_in_tree(TileKind::Entries, b, n);
            let p = TilePath {
                kind: TileKind::Entries,
                index: b,
                width: w,
            };
            let entries = decode_bundle(&p.key(), &fetch_sized(fetch.as_ref(), p)?, w)?;
            let tile = tiles.tile(0, b)?;
            for (i, (e, h)) in entries.iter().zip(tile.hashes()).enumerate() {
                let index = b * TILE_WIDTH + i as u64;
                if index >= m {
                    if &leaf_hash(e) != h {
                        return Err(Error::Corrupt(format!(
                            "entry {index} in {} does not hash to tile 0/{b}",
                            p.key()
                        )));
                    }
                    entries_checked += 1;
                    visit(index, e)?;
                }
            }
        }
    }
    // Every higher tile hash that covers new leaves, from the full tile below it.
    let mut level = 1u8;
    while level < 8 && (n >> (8 * u32::from(level))) > 0 {
        let shift = 8 * u32::from(level);
        for k in (m >> shift)..(n >> shift) {
            let above = tiles.tile(level, k / TILE_WIDTH)?;
            let stored: Option<Hash> = above.hashes().get((k % TILE_WIDTH) as usize).copied();
            let below = tiles.tile(level - 1, k)?.root();
            if stored.is_none() || stored != below {
                return Err(Error::Corrupt(format!(
                    "hash {k} of tile level {level} does not match tile {}/{k}",
                    level - 1
                )));
            }
            hashes_checked += 1;
        }
        level += 1;
    }
    let root = tree_root(&mut tiles, n)?;
    if root != cp.checkpoint.root {
        return Err(Error::Corrupt(format!(
            "the tiles hash to {}, the checkpoint says {}",
            hex::encode(root),
            hex::encode(cp.checkpoint.root)
        )));
    }
    if let Some(p) = prev
        && m > 0
        && n > m
    {
        let proof = consistency_proof(&mut tiles, m, n)?;
        verify_consistency(m, n, &proof, &p.checkpoint.root, &cp.checkpoint.root).map_err(
            |_| {
                Error::Fork(format!(
                    "tree size {n} does not extend the previously seen tree size {m}"
                ))
            },
        )?;
    }
    Ok(AuditReport {
        checkpoint: cp,
        previous: prev.map(|p| p.checkpoint.clone()),
        entries_checked,
        hashes_checked,
    })
}

/// Most bytes a log may serve for the object at `key`: a note for the checkpoint, 256
/// hashes for a hash tile, 256 times for a time sidecar, 256 maximal length-prefixed
/// entries for an entry bundle. Fetchers stop reading past it (an untrusted log cannot
/// make a monitor buffer more).
#[must_use]
pub fn max_object_bytes(key: &str) -> u64 {
    let w = TILE_WIDTH;
    if key == CHECKPOINT_KEY {
        crate::note::MAX_NOTE_BYTES as u64
    } else if key.starts_with("tile/entries/") {
        w * (2 + crate::tile::MAX_ENTRY_BYTES as u64)
    } else if key.starts_with("hallmark/time/") {
        w * 8
    } else {
        w * 32
    }
}

fn too_big(url: &str, key: &str) -> Error {
    Error::Fetch {
        url: url.to_owned(),
        reason: format!(
            "object larger than {} bytes (the limit for {key})",
            max_object_bytes(key)
        ),
    }
}

/// Reads tiles from a directory laid out like the URL space (e.g. a [`crate::DirStore`]).
#[derive(Clone, Debug)]
pub struct DirFetch(pub PathBuf);

impl TileFetch for DirFetch {
    fn fetch(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        if key
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..")
        {
            return Err(Error::Fetch {
                url: key.into(),
                reason: "invalid key".into(),
            });
        }
        use std::io::Read as _;
        let path = self.0.join(key);
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("read", path, e)),
        };
        let limit = max_object_bytes(key);
        let mut out = Vec::new();
        file.take(limit + 1)
            .read_to_end(&mut out)
            .map_err(|e| Error::io("read", path.clone(), e))?;
        if out.len() as u64 > limit {
            return Err(too_big(&path.display().to_string(), key));
        }
        Ok(Some(out))
    }
}

/// Reads tiles over HTTP(S) (`{base}/{key}`), TLS by rustls on aws-lc-rs with the
/// webpki root store.
#[cfg(feature = "http")]
#[derive(Debug)]
pub struct HttpFetch {
    base: String,
    agent: ureq::Agent,
}

/// TLS for the HTTPS requests of logs, witnesses and webhooks: rustls on aws-lc-rs with the
/// WebPKI roots (one configuration for every ureq agent that talks to them).
#[cfg(feature = "http")]
#[must_use]
pub fn https_tls() -> ureq::tls::TlsConfig {
    use ureq::tls::{RootCerts, TlsConfig, TlsProvider};
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .root_certs(RootCerts::WebPki)
        .unversioned_rustls_crypto_provider(provider)
        .build()
}

#[cfg(feature = "http")]
impl HttpFetch {
    /// A fetcher for the log at `base` (e.g. `https://log.example/`).
    #[must_use]
    pub fn new(base: &str) -> Self {
        let agent = ureq::Agent::config_builder()
            .tls_config(https_tls())
            .http_status_as_error(false)
            .timeout_global(Some(std::time::Duration::from_secs(60)))
            .build()
            .into();
        Self {
            base: base.trim_end_matches('/').to_owned(),
            agent,
        }
    }
}

#[cfg(feature = "http")]
impl TileFetch for HttpFetch {
    fn fetch(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        let url = format!("{}/{key}", self.base);
        let err = |reason: String| Error::Fetch {
            url: url.clone(),
            reason,
        };
        let mut resp = self
            .agent
            .get(&url)
            .call()
            .map_err(|e| err(e.to_string()))?;
        match resp.status().as_u16() {
            200 => {
                use std::io::Read as _;
                let limit = max_object_bytes(key);
                let mut out = Vec::new();
                resp.body_mut()
                    .with_config()
                    .limit(limit + 1)
                    .reader()
                    .take(limit + 1)
                    .read_to_end(&mut out)
                    .map_err(|e| err(e.to_string()))?;
                if out.len() as u64 > limit {
                    return Err(too_big(&url, key));
                }
                Ok(Some(out))
            }
            404 => Ok(None),
            s => Err(err(format!("HTTP status {s}"))),
        }
    }
}
