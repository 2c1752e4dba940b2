//! `hallmark witness serve` under SIGKILL (issue 22): a stream of add-checkpoint requests
//! for one log, the process killed at a random moment of it, restarted, and a forked
//! history (same origin and key, other leaves) offered after each restart. Asserts, with
//! bounded counts and no timing: every cosignature it ever returned is over history A,
//! after every restart the witness starts (a state file torn by the kill would stop it)
//! and the size it knows is at least the largest it cosigned (its state never rolls
//! back), so it never cosigns two inconsistent checkpoints.
//!
//! Checked by removing pieces of the state save: without the save, round 1 finds
//! "knows 0 < cosigned N: rolled back"; with the state written in place (no temporary
//! file and rename), a kill tears the file and the restart fails naming it. An fsync
//! left out is not visible to SIGKILL (the page cache survives the process): only a
//! power cut would show it.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use hallmark_tlog::merkle::{LeafList, consistency_proof, leaf_hash, tree_root};
use hallmark_tlog::note::{Checkpoint, parse_note};
use hallmark_tlog::notekey::SIG_ED25519;
use hallmark_tlog::{Ed25519NoteKey, Hash};
use hallmark_witness::client::add_checkpoint;
use hallmark_witness::{AddCheckpointError, CosignerKey};

const ORIGIN: &str = "log.example/crash";
const RESTARTS: usize = 10;
const LEAVES: usize = 1000;

struct History {
    leaves: Vec<Hash>,
}

impl History {
    fn new(tag: u8) -> Self {
        Self {
            leaves: (0..LEAVES as u64)
                .map(|i| {
                    let mut d = i.to_be_bytes().to_vec();
                    d.push(tag);
                    leaf_hash(&d)
                })
                .collect(),
        }
    }
    fn root(&self, n: u64) -> Hash {
        tree_root(&mut LeafList(&self.leaves), n).unwrap()
    }
    fn note(&self, key: &Ed25519NoteKey, n: u64) -> String {
        let cp = Checkpoint {
            origin: ORIGIN.into(),
            size: n,
            root: self.root(n),
        };
        key.sign_checkpoint(&cp).unwrap().text
    }
    fn proof(&self, old: u64, new: u64) -> Vec<Hash> {
        if old == 0 || old > new {
            return Vec::new();
        }
        consistency_proof(&mut LeafList(&self.leaves), old, new).unwrap()
    }
}

fn spawn(data: &Path, errors: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hallmark"))
        .args([
            "witness",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--name",
            "w.example/crash",
            "--data-dir",
        ])
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(errors).unwrap())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| {
            l.strip_prefix("hallmark witness listening on ")
                .map(str::to_owned)
        })
        .unwrap_or_else(|| {
            let _ = child.wait();
            panic!(
                "the witness did not start after the kill: {}",
                std::fs::read_to_string(errors).unwrap_or_default().trim()
            )
        });
    std::thread::spawn(move || lines.for_each(drop));
    (child, url)
}

/// Tiny deterministic PRNG (seeded per run, printed) for the kill points.
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

#[test]
fn sigkill_never_makes_it_cosign_a_fork() {
    let dir = tempfile::tempdir().unwrap();
    let errors = tempfile::tempdir().unwrap();
    let key = Ed25519NoteKey::generate(ORIGIN, SIG_ED25519).unwrap();
    std::fs::write(
        dir.path().join("logs.conf"),
        format!("log {ORIGIN} {}\n", key.vkey()),
    )
    .unwrap();
    let a = Arc::new(History::new(0));
    let b = History::new(1); // differs from leaf 0: inconsistent with every A checkpoint
    let key = Arc::new(key);
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("witness crash test seed {seed}");
    // (size, root) of every cosignature returned, and the client's view of `old`.
    let cosigned: Arc<Mutex<Vec<(u64, Hash)>>> = Arc::default();
    let mut max_cosigned = 0u64;
    let mut wkey: Option<CosignerKey> = None;
    let agent = ureq::Agent::new_with_defaults();
    let mut fork_refusals = 0;
    for round in 0..RESTARTS {
        let (mut child, url) = spawn(dir.path(), &errors.path().join("stderr"));
        let vkey = std::fs::read_to_string(dir.path().join("witness.vkey")).unwrap();
        let k = CosignerKey::from_vkey(vkey.trim()).unwrap();
        assert_eq!(
            wkey.get_or_insert_with(|| k.clone()),
            &k,
            "the key changed on restart"
        );
        // What it knows now: never less than what it cosigned before the kill.
        let known = match add_checkpoint(&agent, &url, 0, &[], &a.note(&key, 0)) {
            Err(AddCheckpointError::Conflict { known_size }) => known_size,
            Ok(_) => 0,
            Err(e) => panic!("round {round}: {e}"),
        };
        max_cosigned = max_cosigned.max(
            cosigned
                .lock()
                .unwrap()
                .iter()
                .map(|c| c.0)
                .max()
                .unwrap_or(0),
        );
        assert!(
            known >= max_cosigned,
            "round {round}: knows {known} < cosigned {max_cosigned}: rolled back"
        );
        // The fork, from the size it knows and from scratch: never cosigned.
        if known > 0 {
            let n = (known + 1).min(LEAVES as u64);
            for old in [known, 0] {
                let r = add_checkpoint(&agent, &url, old, &b.proof(old, n), &b.note(&key, n));
                assert!(
                    matches!(
                        r,
                        Err(AddCheckpointError::Inconsistent(_)
                            | AddCheckpointError::Conflict { .. })
                    ),
                    "round {round}: fork at size {n} from {old}: {r:?}"
                );
                fork_refusals += 1;
            }
        }
        // The stream, killed at a random moment.
        let before = cosigned.lock().unwrap().len();
        let (a2, key2, url2, cos2, k2) = (
            Arc::clone(&a),
            Arc::clone(&key),
            url.clone(),
            Arc::clone(&cosigned),
            k.clone(),
        );
        let stream = std::thread::spawn(move || {
            let agent = ureq::Agent::new_with_defaults();
            let mut old = known;
            let mut step = 1 + (old % 3);
            loop {
                let n = (old + step).min(LEAVES as u64);
                let note = a2.note(&key2, n);
                match add_checkpoint(&agent, &url2, old, &a2.proof(old, n), &note) {
                    Ok(lines) => {
                        let body = parse_note(&note).unwrap().0;
                        let line = lines.iter().find(|l| k2.is_mine(l)).unwrap();
                        k2.verify(line, body).unwrap();
                        cos2.lock().unwrap().push((n, a2.root(n)));
                        old = n;
                    }
                    Err(AddCheckpointError::Conflict { known_size }) => old = known_size,
                    Err(_) => return,
                }
                step = step % 3 + 1;
                if n == LEAVES as u64 {
                    return;
                }
            }
        });
        // Kill once this round has cosigned something (so every round exercises the
        // state save, however slowly the machine starts the witness), at a random moment.
        while cosigned.lock().unwrap().len() == before && !stream.is_finished() {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        std::thread::sleep(std::time::Duration::from_millis(next(&mut seed) % 40));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        stream.join().unwrap();
    }
    let all = cosigned.lock().unwrap();
    assert!(
        all.len() >= RESTARTS,
        "{} cosignatures in {RESTARTS} rounds",
        all.len()
    );
    assert!(fork_refusals >= 2, "the fork was never offered");
    for (n, root) in all.iter() {
        assert_eq!(
            *root,
            a.root(*n),
            "cosigned a checkpoint of another history at {n}"
        );
    }
    eprintln!(
        "{} cosignatures, {fork_refusals} fork attempts refused, largest size {}",
        all.len(),
        all.iter().map(|c| c.0).max().unwrap_or(0)
    );
}
