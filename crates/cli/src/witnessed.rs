//! `--witness-policy FILE` (issue 22): a log entry counts only under a checkpoint that a
//! quorum of the policy's witnesses cosigned, so a hub cannot show one client a history
//! the witnesses never saw.
//!
//! For a bundle (already verified: its inclusion proof leads to the checkpoint it embeds,
//! which the log signed): if the embedded checkpoint carries the quorum's cosignatures
//! (Rekor v2 style bundles) it is enough; otherwise the log's `/checkpoint` (URL from the
//! policy's `log` line, else the caller's) must carry them, be signed by the policy's log
//! key, and extend the bundle's checkpoint (same root at the same size, or a consistency
//! proof from the log). Each witnessed checkpoint is remembered per origin beside the pins
//! (`witnessed/<sha256(origin)>.checkpoint`); a later checkpoint of the same origin —
//! witnessed or only signed by the log — that does not extend it is a **fork**, refused as
//! such.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use hallmark_tlog::note::{Checkpoint, parse_note};
use hallmark_tlog::{Hash, NoteVerifier};
use serde_json::Value;

/// How long a request to the log may take.
const TIMEOUT: Duration = Duration::from_secs(20);

/// Why a checkpoint was refused under the policy.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WitnessRefusal {
    /// Not enough cosignatures.
    #[error(
        "checkpoint of {origin} at tree size {size} lacks the witness quorum of {policy}: no valid cosignature from {missing}{detail}"
    )]
    Quorum {
        /// The log.
        origin: String,
        /// Its size.
        size: u64,
        /// The policy file.
        policy: String,
        /// Witnesses whose cosignature is missing, comma-separated.
        missing: String,
        /// More from the checker.
        detail: String,
    },
    /// Two checkpoints of one log that do not extend each other.
    #[error("FORK: log {origin} {detail}: the log shows different histories to different clients")]
    Fork {
        /// The log.
        origin: String,
        /// Which checkpoints, and why they do not extend each other.
        detail: Box<str>,
    },
    /// The witnessed checkpoint is older than the entry.
    #[error(
        "the witnessed checkpoint of {origin} (tree size {witnessed}) does not cover the entry's checkpoint (tree size {size})"
    )]
    NotCovered {
        /// The log.
        origin: String,
        /// The witnessed size.
        witnessed: u64,
        /// The entry's checkpoint size.
        size: u64,
    },
    /// Could not check (bad bundle, log unreachable, unreadable memory).
    #[error("{0}")]
    Check(String),
}

/// A loaded `--witness-policy`.
pub(crate) struct WitnessPolicy {
    path: PathBuf,
    policy: hallmark_witness::Policy,
    /// Where remembered checkpoints live (tests point it elsewhere).
    memory: PathBuf,
}

impl WitnessPolicy {
    /// Reads and parses the policy file.
    pub(crate) fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the witness policy {}", path.display()))?;
        let policy = hallmark_witness::Policy::parse(&text)
            .with_context(|| format!("witness policy {}", path.display()))?;
        Ok(Self {
            path: path.to_owned(),
            policy,
            memory: crate::util::config_dir("witnessed checkpoints")?.join("witnessed"),
        })
    }

    fn quorum(&self, note: &str, cp: &Checkpoint) -> Result<(), WitnessRefusal> {
        let e = match self.policy.check(note) {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        let cosigned = match &e {
            hallmark_witness::PolicyCheckError::QuorumNotMet { cosigned, .. } => cosigned.clone(),
            _ => Vec::new(),
        };
        let missing: Vec<&str> = self
            .policy
            .witnesses()
            .iter()
            .map(|w| w.name.as_str())
            .filter(|n| !cosigned.iter().any(|c| c == n))
            .collect();
        Err(WitnessRefusal::Quorum {
            origin: cp.origin.clone(),
            size: cp.size,
            policy: self.path.display().to_string(),
            missing: missing.join(", "),
            detail: format!(" ({e})"),
        })
    }

    /// The policy's log whose key signed `note`: its key and URL.
    fn log(&self, note: &str) -> Option<(&NoteVerifier, Option<&str>)> {
        self.policy
            .logs()
            .iter()
            .find(|l| l.key.verify_note(note).is_ok())
            .map(|l| (&l.key, l.url.as_deref()))
    }

    /// Where to read the log that signed `note`: `given` (the hub a pull talks to, which
    /// serves its log), else the URL of the policy's log whose key signed it.
    fn log_url(&self, note: &str, given: Option<&str>) -> Option<String> {
        given
            .or_else(|| self.log(note).and_then(|(_, u)| u))
            .map(|u| u.trim_end_matches('/').to_owned())
    }

    /// Checks a (verified) bundle's log entry; returns the size of the witnessed
    /// checkpoint that covers it. `log_url`: where the log is if the policy does not say.
    pub(crate) fn check_bundle(
        &self,
        bundle: &[u8],
        log_url: Option<&str>,
    ) -> Result<u64, WitnessRefusal> {
        let envelope = bundle_checkpoint(bundle)?;
        let (body, _) = parse_note(&envelope).map_err(check)?;
        let cp = Checkpoint::parse_body(body).map_err(check)?;
        let url = self.log_url(&envelope, log_url);
        // The entry's checkpoint must extend what was witnessed before (or be extended).
        self.against_memory(&cp, url.as_deref())?;
        if self.quorum(&envelope, &cp).is_ok() {
            self.remember(&envelope, &cp)?;
            return Ok(cp.size);
        }
        let url = url.ok_or_else(|| {
            WitnessRefusal::Check(format!(
                "the bundle's checkpoint of {} carries no witness quorum and the policy names no URL of its log to fetch a witnessed one",
                cp.origin
            ))
        })?;
        let note = get_text(&format!("{url}/checkpoint"))?;
        let (body, _) = parse_note(&note).map_err(check)?;
        let witnessed = Checkpoint::parse_body(body).map_err(check)?;
        if witnessed.origin != cp.origin {
            return Err(WitnessRefusal::Check(format!(
                "{url}/checkpoint is for origin {:?}, not {:?}",
                witnessed.origin, cp.origin
            )));
        }
        self.against_memory(&witnessed, Some(&url))?;
        self.quorum(&note, &witnessed)?;
        if witnessed.size < cp.size {
            return Err(WitnessRefusal::NotCovered {
                origin: cp.origin,
                witnessed: witnessed.size,
                size: cp.size,
            });
        }
        extends(&url, &cp, &witnessed, "the witnessed /checkpoint")?;
        self.remember(&note, &witnessed)?;
        Ok(witnessed.size)
    }

    /// Checks a log's checkpoint note (`hallmark log audit`): quorum (which includes the
    /// log's signature by a policy log key), and consistent with the remembered one
    /// (proofs from the log's URL).
    pub(crate) fn check_checkpoint(
        &self,
        note: &str,
        log_url: Option<&str>,
    ) -> Result<(), WitnessRefusal> {
        let (body, _) = parse_note(note).map_err(check)?;
        let cp = Checkpoint::parse_body(body).map_err(check)?;
        let url = self.log_url(note, log_url);
        self.against_memory(&cp, url.as_deref())?;
        self.quorum(note, &cp)?;
        self.remember(note, &cp)
    }

    fn memory_file(&self, origin: &str) -> PathBuf {
        let h = hallmark_tlog::merkle::sha256(origin.as_bytes());
        self.memory
            .join(format!("{}.checkpoint", hex::encode(&h[..16])))
    }

    fn remembered(&self, origin: &str) -> Result<Option<Checkpoint>, WitnessRefusal> {
        let f = self.memory_file(origin);
        let text = match std::fs::read_to_string(&f) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(WitnessRefusal::Check(format!("{}: {e}", f.display()))),
        };
        let (body, _) = parse_note(&text)
            .map_err(|e| WitnessRefusal::Check(format!("{}: {e}", f.display())))?;
        Checkpoint::parse_body(body)
            .map(Some)
            .map_err(|e| WitnessRefusal::Check(format!("{}: {e}", f.display())))
    }

    /// `cp` and the remembered witnessed checkpoint of its log must extend one another.
    fn against_memory(&self, cp: &Checkpoint, log_url: Option<&str>) -> Result<(), WitnessRefusal> {
        let Some(seen) = self.remembered(&cp.origin)? else {
            return Ok(());
        };
        let against = format!(
            "the witnessed checkpoint remembered in {}",
            self.memory_file(&cp.origin).display()
        );
        let url = log_url.map(|u| u.trim_end_matches('/').to_owned());
        if cp.size == seen.size || url.is_none() {
            if cp.size == seen.size && cp.root != seen.root {
                return Err(fork(cp, &seen, &against, "same size, another root"));
            }
            return Ok(());
        }
        let url = url.unwrap_or_default();
        let (old, new) = if cp.size < seen.size {
            (cp, &seen)
        } else {
            (&seen, cp)
        };
        extends(&url, old, new, &against)
    }

    /// Keeps `note` as the witnessed checkpoint of its origin if it is newer.
    fn remember(&self, note: &str, cp: &Checkpoint) -> Result<(), WitnessRefusal> {
        if self
            .remembered(&cp.origin)?
            .is_some_and(|s| s.size >= cp.size)
        {
            return Ok(());
        }
        let f = self.memory_file(&cp.origin);
        let io = |e: std::io::Error| WitnessRefusal::Check(format!("{}: {e}", f.display()));
        std::fs::create_dir_all(&self.memory).map_err(io)?;
        let tmp = f.with_extension("tmp");
        std::fs::write(&tmp, note).map_err(io)?;
        std::fs::rename(&tmp, &f).map_err(io)
    }
}

/// `--witness-policy` for a bundle file (`verify sigstore`, before the bundle itself is
/// verified): a refusal is a failed verification (exit 1) naming the missing witnesses or
/// the fork; an unreadable policy is an input error.
pub(crate) fn require_witnessed(policy: &Path, bundle: &Path) -> Result<(), crate::util::Failure> {
    use crate::util::{Failure, OrExit as _};
    let p = WitnessPolicy::load(policy).or_input()?;
    let bytes = crate::util::read_input("signature", bundle).or_input()?;
    p.check_bundle(&bytes, None)
        .map(|_| ())
        .map_err(|e| Failure::failed(anyhow::Error::new(e)).with_prefix("Verification FAILED"))
}

fn check(e: impl std::fmt::Display) -> WitnessRefusal {
    WitnessRefusal::Check(e.to_string())
}

fn fork(cp: &Checkpoint, other: &Checkpoint, against: &str, why: &str) -> WitnessRefusal {
    WitnessRefusal::Fork {
        origin: cp.origin.clone(),
        detail: format!(
            "signed tree size {} with root {}, which does not extend {against} (tree size {}, root {}; {why})",
            cp.size,
            hex::encode(cp.root),
            other.size,
            hex::encode(other.root)
        )
        .into(),
    }
}

/// `new` extends `old` (same log): equal at equal sizes, else a consistency proof from the
/// log at `url` verifies. A proof the log cannot give or that fails is a fork.
fn extends(
    url: &str,
    old: &Checkpoint,
    new: &Checkpoint,
    against: &str,
) -> Result<(), WitnessRefusal> {
    if old.size == new.size {
        return if old.root == new.root {
            Ok(())
        } else {
            Err(fork(old, new, against, "same size, another root"))
        };
    }
    if old.size == 0 {
        return Ok(());
    }
    let proof_url = format!(
        "{url}/api/v1/log/proof?firstSize={}&lastSize={}",
        old.size, new.size
    );
    let proof = match get_proof(&proof_url) {
        Ok(p) => p,
        Err(e) => {
            return Err(fork(
                old,
                new,
                against,
                &format!("no consistency proof: {e}"),
            ));
        }
    };
    hallmark_tlog::merkle::verify_consistency(old.size, new.size, &proof, &old.root, &new.root)
        .map_err(|e| fork(old, new, against, &format!("consistency proof: {e}")))
}

fn get_text(url: &str) -> Result<String, WitnessRefusal> {
    let mut resp = crate::http::agent(TIMEOUT)
        .get(url)
        .call()
        .map_err(|e| WitnessRefusal::Check(format!("GET {url}: {e}")))?;
    if !resp.status().is_success() {
        return Err(WitnessRefusal::Check(format!(
            "GET {url}: HTTP {}",
            resp.status()
        )));
    }
    resp.body_mut()
        .with_config()
        .limit(hallmark_tlog::note::MAX_NOTE_BYTES as u64)
        .read_to_string()
        .map_err(|e| WitnessRefusal::Check(format!("GET {url}: {e}")))
}

fn get_proof(url: &str) -> anyhow::Result<Vec<Hash>> {
    let v = crate::http::json_answer(
        &format!("GET {url}"),
        crate::http::agent(TIMEOUT).get(url).call(),
    )?;
    v.get("hashes")
        .and_then(Value::as_array)
        .context("no hashes")?
        .iter()
        .map(|h| {
            h.as_str()
                .and_then(|s| hex::decode(s).ok())
                .and_then(|b| Hash::try_from(b.as_slice()).ok())
                .context("a hash that is not 32 bytes of hex")
        })
        .collect()
}

/// The checkpoint note a bundle's (first) log entry embeds.
fn bundle_checkpoint(bundle: &[u8]) -> Result<String, WitnessRefusal> {
    let v: Value = serde_json::from_slice(bundle).map_err(check)?;
    v.pointer("/verificationMaterial/tlogEntries/0/inclusionProof/checkpoint/envelope")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| {
            WitnessRefusal::Check(
                "the bundle has no log entry with a checkpoint: nothing for witnesses to vouch for"
                    .into(),
            )
        })
}
