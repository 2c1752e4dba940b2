//! Witnessed checkpoints (issue 22, C2SP tlog-witness): after each new checkpoint the log
//! asks every configured witness, in parallel and within a deadline, to cosign it, and
//! publishes the checkpoint with the cosignature lines it got appended (C2SP signed-note
//! extra signatures) — what `/checkpoint` then serves.
//!
//! * One cosigner thread runs one round at a time, always for the newest checkpoint it was
//!   shown (checkpoints that arrive during a round are coalesced into the next), so every
//!   witness sees this log's sizes in increasing order.
//! * Per witness the log remembers the size it last cosigned (`old` of the next request);
//!   a 409 answer names the size the witness knows, and the request is sent once more with
//!   a consistency proof from that size (a restarted log, or another replica, moved it).
//! * A witness that is down, slow or refusing never blocks or fails the log: a round ends
//!   at its deadline with the cosignatures it has; a witness whose previous request is
//!   still running is skipped (at most one request in flight per witness), and a late
//!   cosignature is still added if its checkpoint is the published one. The shortfall is
//!   in [`Witnessing::report`] (`/readyz`) and on standard error when a witness's state
//!   changes.
//! * Appenders wait (bounded) until a checkpoint covering their entry was through a round
//!   ([`Witnessing::wait_witnessed`]), so a client that got its entry finds it under a
//!   witnessed `/checkpoint`.

use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use hallmark_tlog::note::parse_note;
use hallmark_tlog::{Hash, SignedCheckpoint, TileFetch};

/// Why a witness did not cosign.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WitnessFailure {
    /// 409: the witness's latest cosigned size for this log is another one.
    #[error("the witness has cosigned tree size {known_size}, not the old size sent")]
    Conflict {
        /// The size the witness reports.
        known_size: u64,
    },
    /// Any other refusal (400 malformed, 403 unknown key, 404 unknown log, 422 proof).
    #[error("refused with HTTP {status}: {detail}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// What it said (bounded).
        detail: String,
    },
    /// No answer (connection refused, timeout, broken response).
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// A 200 whose body is not cosignature lines.
    #[error("malformed cosignature: {0}")]
    Malformed(String),
    /// The witness has cosigned a larger tree of this log than the checkpoint offered.
    #[error(
        "the witness has cosigned tree size {known_size}, beyond {size}: another history of this log?"
    )]
    Ahead {
        /// What the witness knows.
        known_size: u64,
        /// The checkpoint's size.
        size: u64,
    },
    /// The log could not prove consistency from the witness's size.
    #[error("no consistency proof from {old} to {new}: {detail}")]
    NoProof {
        /// Old size.
        old: u64,
        /// New size.
        new: u64,
        /// Why.
        detail: String,
    },
}

/// One witness as the log talks to it: C2SP `add-checkpoint`.
pub trait CheckpointWitness: Send + Sync + std::fmt::Debug {
    /// The witness's name (its cosignature key name).
    fn name(&self) -> &str;

    /// Sends `old_size`, the consistency proof from it and the signed checkpoint note;
    /// returns the cosignature line(s) (`— name base64\n`…), each ending in a newline.
    ///
    /// # Errors
    /// See [`WitnessFailure`].
    fn add_checkpoint(
        &self,
        old_size: u64,
        proof: &[Hash],
        checkpoint: &str,
    ) -> Result<String, WitnessFailure>;
}

/// Which witnesses a log asks, how long a round may take, and the policy clients may pin.
#[derive(Clone, Debug)]
pub struct WitnessConfig {
    /// Witnesses asked to cosign each new checkpoint (none: the checkpoint is published
    /// with the log's signature alone).
    pub witnesses: Vec<Arc<dyn CheckpointWitness>>,
    /// How long one round may take before the checkpoint goes out with the cosignatures
    /// it got.
    pub deadline: Duration,
    /// The witness lines, groups and quorum of the policy clients may pin (served at
    /// `/witness-policy` after the logs' own `log` lines).
    pub policy: Option<String>,
}

impl Default for WitnessConfig {
    fn default() -> Self {
        Self {
            witnesses: Vec::new(),
            deadline: Duration::from_secs(3),
            policy: None,
        }
    }
}

/// How the cosigner gets consistency proofs: `(old, new)` to the hashes.
pub type ProofSource =
    Arc<dyn Fn(u64, u64) -> Result<Vec<Hash>, hallmark_tlog::Error> + Send + Sync>;

/// A proof source reading the log's tiles (durable before a checkpoint is committed).
pub fn tile_proofs(fetch: Arc<dyn TileFetch>) -> ProofSource {
    Arc::new(move |old, new| {
        let mut tiles = hallmark_tlog::tile::TileReader::new(Arc::clone(&fetch), new);
        hallmark_tlog::merkle::consistency_proof(&mut tiles, old, new)
    })
}

/// What `/readyz` reports of the witnesses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WitnessReport {
    /// Witnesses configured.
    pub configured: usize,
    /// Size of the published checkpoint (`None` before the first round).
    pub published_size: Option<u64>,
    /// Names of the witnesses whose cosignature the published checkpoint carries.
    pub cosigned: Vec<String>,
    /// Names of those whose cosignature it lacks.
    pub missing: Vec<String>,
    /// Rounds run since start.
    pub rounds: u64,
    /// Cosignatures obtained since start.
    pub cosignatures: u64,
    /// Failed requests since start.
    pub failures: u64,
}

#[derive(Default)]
struct SlotState {
    /// The size this witness last cosigned (as far as the log knows).
    known: Option<u64>,
    busy: bool,
    /// The last failure, until the next success (for logging state changes).
    failing: Option<String>,
}

struct Slot {
    witness: Arc<dyn CheckpointWitness>,
    st: Mutex<SlotState>,
}

#[derive(Default)]
struct Rounds {
    /// The newest checkpoint shown.
    target: Option<Arc<SignedCheckpoint>>,
    /// The newest checkpoint that went through a round, with its cosignatures.
    published: Option<Arc<SignedCheckpoint>>,
    /// Witness names (slot index) whose cosignature `published` carries.
    cosigned: Vec<usize>,
    rounds: u64,
    cosignatures: u64,
    failures: u64,
    stop: bool,
}

struct Shared {
    slots: Vec<Slot>,
    deadline: Duration,
    proofs: ProofSource,
    rounds: Mutex<Rounds>,
    changed: Condvar,
}

/// The log's witnessing (see the module docs). Dropping it stops the cosigner thread.
pub struct Witnessing {
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Witnessing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Witnessing")
            .field("witnesses", &self.shared.slots.len())
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Witnessing {
    /// Starts the cosigner for `witnesses`, each round bounded by `deadline`.
    ///
    /// # Errors
    /// The thread cannot be started.
    pub fn start(
        witnesses: Vec<Arc<dyn CheckpointWitness>>,
        deadline: Duration,
        proofs: ProofSource,
    ) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            slots: witnesses
                .into_iter()
                .map(|witness| Slot {
                    witness,
                    st: Mutex::new(SlotState::default()),
                })
                .collect(),
            deadline,
            proofs,
            rounds: Mutex::new(Rounds::default()),
            changed: Condvar::new(),
        });
        let s2 = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("tlog-cosigner".into())
            .spawn(move || cosigner(&s2))?;
        Ok(Self {
            shared,
            thread: Some(thread),
        })
    }

    /// Shows the cosigner a new checkpoint (without waiting).
    pub fn offer(&self, cp: &Arc<SignedCheckpoint>) {
        let mut r = lock(&self.shared.rounds);
        let newer = r
            .target
            .as_ref()
            .is_none_or(|t| cp.checkpoint.size > t.checkpoint.size);
        if newer {
            r.target = Some(Arc::clone(cp));
            self.shared.changed.notify_all();
        }
    }

    /// Offers `cp` and waits until a checkpoint at least as large went through a round,
    /// or `max_wait`; returns the published checkpoint (with its cosignatures) if it
    /// covers `cp`. Blocking.
    pub fn wait_witnessed(
        &self,
        cp: &Arc<SignedCheckpoint>,
        max_wait: Duration,
    ) -> Option<Arc<SignedCheckpoint>> {
        self.offer(cp);
        let end = Instant::now() + max_wait;
        let mut r = lock(&self.shared.rounds);
        loop {
            if let Some(p) = &r.published
                && p.checkpoint.size >= cp.checkpoint.size
            {
                return Some(Arc::clone(p));
            }
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() || r.stop {
                return None;
            }
            r = self
                .shared
                .changed
                .wait_timeout(r, left)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
    }

    /// The newest checkpoint through a round, with its cosignatures.
    #[must_use]
    pub fn published(&self) -> Option<Arc<SignedCheckpoint>> {
        lock(&self.shared.rounds).published.clone()
    }

    /// The state for `/readyz`.
    #[must_use]
    pub fn report(&self) -> WitnessReport {
        let r = lock(&self.shared.rounds);
        let names = |keep: bool| {
            self.shared
                .slots
                .iter()
                .enumerate()
                .filter(|(i, _)| r.cosigned.contains(i) == keep)
                .map(|(_, s)| s.witness.name().to_owned())
                .collect()
        };
        WitnessReport {
            configured: self.shared.slots.len(),
            published_size: r.published.as_ref().map(|p| p.checkpoint.size),
            cosigned: names(true),
            missing: names(false),
            rounds: r.rounds,
            cosignatures: r.cosignatures,
            failures: r.failures,
        }
    }
}

impl Drop for Witnessing {
    fn drop(&mut self) {
        lock(&self.shared.rounds).stop = true;
        self.shared.changed.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn cosigner(s: &Arc<Shared>) {
    loop {
        let cp = {
            let mut r = lock(&s.rounds);
            loop {
                if r.stop {
                    return;
                }
                let due = match (&r.target, &r.published) {
                    (Some(t), Some(p)) => t.checkpoint.size > p.checkpoint.size,
                    (Some(_), None) => true,
                    (None, _) => false,
                };
                if due {
                    break r.target.clone();
                }
                r = s
                    .changed
                    .wait(r)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            }
        };
        if let Some(cp) = cp {
            round(s, &cp);
        }
    }
}

/// One round for `cp`: ask every idle witness in parallel, publish at the deadline (or
/// when all answered).
fn round(s: &Arc<Shared>, cp: &Arc<SignedCheckpoint>) {
    let (tx, rx) = mpsc::channel();
    let mut asked = 0;
    for (i, slot) in s.slots.iter().enumerate() {
        {
            let mut st = lock(&slot.st);
            if st.busy {
                continue;
            }
            st.busy = true;
        }
        asked += 1;
        let (s2, cp2, tx) = (Arc::clone(s), Arc::clone(cp), tx.clone());
        let spawned = std::thread::Builder::new()
            .name("tlog-witness-request".into())
            .spawn(move || {
                let res = ask(&s2, i, &cp2);
                late_or_on_time(&s2, i, &cp2, &res);
                let _ = tx.send((i, res));
            });
        if spawned.is_err() {
            lock(&slot.st).busy = false;
            asked -= 1;
        }
    }
    drop(tx);
    let end = Instant::now() + s.deadline;
    let mut lines: Vec<(usize, String)> = Vec::new();
    let mut failures = 0;
    for _ in 0..asked {
        match rx.recv_timeout(end.saturating_duration_since(Instant::now())) {
            Ok((i, Ok(l))) => lines.push((i, l)),
            Ok((_, Err(_))) => failures += 1,
            Err(_) => break,
        }
    }
    let mut r = lock(&s.rounds);
    r.rounds += 1;
    r.cosignatures += lines.len() as u64;
    r.failures += failures;
    lines.sort_by_key(|(i, _)| *i);
    let mut text = cp.text.clone();
    for (_, l) in &lines {
        text.push_str(l);
    }
    r.cosigned = lines.iter().map(|(i, _)| *i).collect();
    r.published = Some(Arc::new(SignedCheckpoint {
        checkpoint: cp.checkpoint.clone(),
        text,
    }));
    s.changed.notify_all();
}

/// A cosignature that arrives after its round closed is added if its checkpoint is still
/// the published one.
fn late_or_on_time(
    s: &Shared,
    i: usize,
    cp: &SignedCheckpoint,
    res: &Result<String, WitnessFailure>,
) {
    let Ok(line) = res else { return };
    let mut r = lock(&s.rounds);
    let Some(p) = r.published.clone() else { return };
    if p.checkpoint != cp.checkpoint || r.cosigned.contains(&i) || !p.text.starts_with(&cp.text) {
        return;
    }
    r.cosigned.push(i);
    r.cosignatures += 1;
    r.published = Some(Arc::new(SignedCheckpoint {
        checkpoint: p.checkpoint.clone(),
        text: format!("{}{line}", p.text),
    }));
}

/// One witness's add-checkpoint for `cp`, with the one retry a 409 allows.
fn ask(s: &Shared, i: usize, cp: &SignedCheckpoint) -> Result<String, WitnessFailure> {
    let slot = &s.slots[i];
    let size = cp.checkpoint.size;
    let mut old = lock(&slot.st).known.unwrap_or(0);
    let mut res = request(s, slot, old, cp);
    if let Err(WitnessFailure::Conflict { known_size }) = res {
        // Kept even if the retry fails: the next request starts from it.
        lock(&slot.st).known = Some(known_size);
        old = known_size;
        res = request(s, slot, old, cp);
    }
    let res = res.and_then(|l| checked_lines(cp, &l));
    let mut st = lock(&slot.st);
    st.busy = false;
    match &res {
        Ok(_) => {
            st.known = Some(size);
            if st.failing.take().is_some() {
                eprintln!(
                    "hallmark log: witness {} cosigns again (tree size {size})",
                    slot.witness.name()
                );
            }
        }
        Err(e) => {
            if let WitnessFailure::Conflict { known_size } = e {
                st.known = Some(*known_size);
            }
            let msg = e.to_string();
            if st.failing.as_deref() != Some(&msg) {
                eprintln!(
                    "hallmark log: witness {} did not cosign tree size {size}: {msg}",
                    slot.witness.name()
                );
            }
            st.failing = Some(msg);
        }
    }
    res
}

fn request(
    s: &Shared,
    slot: &Slot,
    old: u64,
    cp: &SignedCheckpoint,
) -> Result<String, WitnessFailure> {
    let size = cp.checkpoint.size;
    if old > size {
        return Err(WitnessFailure::Ahead {
            known_size: old,
            size,
        });
    }
    let proof = if old == 0 || old == size {
        Vec::new()
    } else {
        (s.proofs)(old, size).map_err(|e| WitnessFailure::NoProof {
            old,
            new: size,
            detail: e.to_string(),
        })?
    };
    slot.witness.add_checkpoint(old, &proof, &cp.text)
}

/// The answer must be note signature lines that the checkpoint note still parses with.
fn checked_lines(cp: &SignedCheckpoint, lines: &str) -> Result<String, WitnessFailure> {
    let bad = |m: &str| WitnessFailure::Malformed(m.to_owned());
    if lines.is_empty() || !lines.ends_with('\n') || lines.len() > 4096 {
        return Err(bad(
            "not newline-terminated signature lines of at most 4 KiB",
        ));
    }
    let combined = format!("{}{lines}", cp.text);
    parse_note(&combined).map_err(|e| bad(&e.to_string()))?;
    Ok(lines.to_owned())
}
