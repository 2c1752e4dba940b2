//! The witness proper (C2SP tlog-witness add-checkpoint checks) over a [`DataDir`], and
//! its configuration of witnessed logs.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use hallmark_tlog::merkle::{empty_root, verify_consistency};
use hallmark_tlog::note::{Checkpoint, parse_note};
use hallmark_tlog::notekey::NoteVerifier;

use crate::cosig::{CosignatureLine, Cosigner, CosignerKey};
use crate::error::Refusal;
use crate::state::{DataDir, StateError};
use crate::wire::AddCheckpointRequest;

/// The logs a witness witnesses: origin → the keys it trusts for it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogsConfig {
    logs: HashMap<String, Vec<NoteVerifier>>,
}

impl LogsConfig {
    /// Parses the config text: one `log <origin> <vkey>` per line (an origin may have
    /// several keys), `#` comment lines, blank lines. The origin is everything between
    /// `log` and the last item, so Rekor v1 origins (`host - 1234`) fit.
    ///
    /// # Errors
    /// A message naming the line.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut out = Self::default();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let parsed = line
                .strip_prefix("log")
                .filter(|r| r.starts_with([' ', '\t']))
                .and_then(|r| r.trim().rsplit_once([' ', '\t']))
                .map(|(o, v)| (o.trim(), v))
                .filter(|(o, _)| !o.is_empty());
            let Some((origin, vkey)) = parsed else {
                return Err(format!("line {}: expected `log <origin> <vkey>`", i + 1));
            };
            let key = NoteVerifier::from_vkey(vkey).map_err(|e| format!("line {}: {e}", i + 1))?;
            out.add(origin, key);
        }
        Ok(out)
    }

    /// Adds a key for `origin`.
    pub fn add(&mut self, origin: &str, key: NoteVerifier) {
        self.logs.entry(origin.to_owned()).or_default().push(key);
    }

    /// Number of origins.
    #[must_use]
    pub fn len(&self) -> usize {
        self.logs.len()
    }

    /// Whether no log is configured.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.logs.is_empty()
    }
}

/// A witness: its key, the logs it witnesses and their latest cosigned checkpoints.
#[derive(Debug)]
pub struct Witness {
    cosigner: Cosigner,
    logs: LogsConfig,
    dir: DataDir,
    /// Latest cosigned checkpoint per origin; the lock spans check, save and update.
    latest: Mutex<HashMap<String, Checkpoint>>,
}

impl Witness {
    /// Opens the data directory (lock, key made on first start as `name`, state).
    ///
    /// # Errors
    /// See [`StateError`].
    pub fn open(dir: &std::path::Path, name: &str, logs: LogsConfig) -> Result<Self, StateError> {
        let dir = DataDir::open(dir)?;
        let cosigner = dir.key(name)?;
        let latest = Mutex::new(dir.load()?);
        Ok(Self {
            cosigner,
            logs,
            dir,
            latest,
        })
    }

    /// The witness's public key (for policies).
    #[must_use]
    pub fn key(&self) -> CosignerKey {
        self.cosigner.verifier()
    }

    /// The latest cosigned checkpoint of `origin`.
    #[must_use]
    pub fn latest(&self, origin: &str) -> Option<Checkpoint> {
        self.latest
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(origin)
            .cloned()
    }

    /// Handles an add-checkpoint body: all C2SP checks, then the new state is saved
    /// durably, then the checkpoint is cosigned.
    ///
    /// # Errors
    /// [`Refusal`], whose [`Refusal::status`] is the answer's status.
    pub fn add_checkpoint(&self, body: &[u8]) -> Result<CosignatureLine, Refusal> {
        let req = AddCheckpointRequest::parse(body)?;
        let (text, _) =
            parse_note(&req.checkpoint).map_err(|e| Refusal::Malformed(e.to_string()))?;
        let cp = Checkpoint::parse_body(text).map_err(|e| Refusal::Malformed(e.to_string()))?;
        let keys = self
            .logs
            .logs
            .get(&cp.origin)
            .ok_or_else(|| Refusal::UnknownOrigin(cp.origin.clone()))?;
        let mut failures = Vec::new();
        if !keys.iter().any(|k| match k.verify_note(&req.checkpoint) {
            Ok(_) => true,
            Err(e) => {
                failures.push(e.to_string());
                false
            }
        }) {
            return Err(Refusal::NotSigned {
                origin: cp.origin,
                detail: failures.join("; "),
            });
        }
        if req.old_size > cp.size {
            return Err(Refusal::OldBeyondSize {
                old: req.old_size,
                size: cp.size,
            });
        }
        let inconsistent = |detail: String| Refusal::Inconsistent {
            origin: cp.origin.clone(),
            old: req.old_size,
            size: cp.size,
            detail,
        };
        let mut latest = self.latest.lock().unwrap_or_else(PoisonError::into_inner);
        let known = latest.get(&cp.origin);
        let known_size = known.map_or(0, |k| k.size);
        if req.old_size != known_size {
            return Err(Refusal::Conflict { known_size });
        }
        if cp.size == 0 && cp.root != empty_root() {
            return Err(inconsistent(
                "a size-0 checkpoint must have the empty root".into(),
            ));
        }
        match known {
            None | Some(Checkpoint { size: 0, .. }) if !req.proof.is_empty() => {
                return Err(inconsistent("a proof from size 0 must be empty".into()));
            }
            None | Some(Checkpoint { size: 0, .. }) => {}
            Some(k) if k.size == cp.size => {
                if k.root != cp.root || !req.proof.is_empty() {
                    return Err(inconsistent(
                        "same size as the cosigned checkpoint, another root".into(),
                    ));
                }
            }
            Some(k) => verify_consistency(k.size, cp.size, &req.proof, &k.root, &cp.root)
                .map_err(|e| inconsistent(e.to_string()))?,
        }
        if latest.get(&cp.origin) != Some(&cp) {
            self.dir
                .save(&cp)
                .map_err(|e| Refusal::Storage(e.to_string()))?;
            latest.insert(cp.origin.clone(), cp);
        }
        drop(latest);
        Ok(self.cosigner.cosign(text, now()))
    }
}

/// POSIX seconds, at least 1 (a cosignature's timestamp must not be zero).
fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1, |d| d.as_secs().max(1))
}
