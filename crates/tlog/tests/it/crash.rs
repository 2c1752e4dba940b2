//! Crash safety: a child process appends from several threads and reports every
//! acknowledged entry on stdout; it is SIGKILLed at random moments, many times. After each
//! kill the log must reopen, its checkpoint must be backed by durable tiles, it must extend
//! the previously seen checkpoint (no rollback, no fork), and every acknowledged entry must
//! be in it at its acknowledged index.
//!
//! The child is this test binary itself, re-run on the ignored test `crash::child`.
//!
//! Bounded by counts, not time (as the witness crash test in crates/cli): a fixed number of
//! kills, each only once the child acknowledged an entry in that run (however slowly a
//! loaded machine starts it), then after a random 0–40 ms; a child that fails or never
//! acknowledges is reported with its own stderr.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hallmark_tlog::merkle::leaf_hash;
use hallmark_tlog::tile::TileReader;
use hallmark_tlog::{
    CheckpointLock as _, DirFetch, DirLock, LogKey, Options, TileFetch, audit, note,
};

const CHILD_ENV: &str = "HALLMARK_TLOG_CRASH_CHILD_DIR";
/// Kill cycles.
const KILLS: usize = 12;
/// How long a child may take to acknowledge its first entry: far above the milliseconds it
/// takes, for a machine under heavy load.
const FIRST_ACK: Duration = Duration::from_secs(120);

/// Child side: append forever, printing `index leaf-hex` for each acknowledged entry.
#[test]
#[ignore = "run by crash_safety_under_sigkill as a child process"]
fn child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let dir = PathBuf::from(dir);
    let key = Arc::new(LogKey::from_pem(&std::fs::read(dir.join("key.pem")).unwrap()).unwrap());
    let (seq, _) = crate::dir_log(&dir, &key, Options::default());
    let seq = Arc::new(seq);
    let out = Arc::new(Mutex::new(std::io::stdout()));
    let run = std::process::id();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let (seq, out) = (Arc::clone(&seq), Arc::clone(&out));
            std::thread::spawn(move || {
                for round in 0u64.. {
                    // Keep 64 submissions in flight per thread, so batches are large.
                    let pending: Vec<_> = (0..64)
                        .map(|i| {
                            seq.submit(
                                format!("run {run} thread {t} round {round} entry {i}")
                                    .into_bytes(),
                            )
                        })
                        .collect();
                    for p in pending {
                        let a = p.wait().unwrap();
                        let mut o = out.lock().unwrap();
                        writeln!(o, "{} {}", a.index, hex::encode(a.leaf)).unwrap();
                        o.flush().unwrap();
                    }
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
}

fn lock_checkpoint(dir: &Path, key: &LogKey) -> Option<note::SignedCheckpoint> {
    let lock = DirLock::open(dir.join("lock")).unwrap();
    let text = lock.fetch().unwrap()?;
    Some(
        note::verify_checkpoint(
            &text,
            key.verifier(),
            Some(&crate::cfg().host),
            Some(&crate::cfg().origin()),
        )
        .unwrap(),
    )
}

#[test]
fn crash_safety_under_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let key = LogKey::generate(hallmark_tlog::LogKeyType::EcdsaP256).unwrap();
    std::fs::write(dir.path().join("key.pem"), key.private_pem()).unwrap();
    let exe = std::env::current_exe().unwrap();
    let seed = 0x5eed ^ u64::from(std::process::id());
    eprintln!("tlog crash test seed {seed}");
    let mut rng = crate::Rng(seed);
    let mut acked: Vec<(u64, [u8; 32])> = Vec::new();
    let mut previous: Option<String> = None;
    let errors = dir.path().join("child-stderr");
    for kills in 1..=KILLS {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "crash::child",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&errors).unwrap())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let Some((i, h)) = line.split_once(' ') else {
                    continue;
                };
                let (Ok(i), Ok(h)) = (i.parse::<u64>(), hex::decode(h)) else {
                    continue;
                };
                if let Ok(h) = <[u8; 32]>::try_from(h) {
                    let _ = tx.send((i, h));
                }
            }
        });
        // Kill only once this run acknowledged something, at a random moment after.
        let first = match rx.recv_timeout(FIRST_ACK) {
            Ok(ack) => ack,
            Err(why) => {
                let _ = child.kill();
                let status = child.wait().unwrap();
                let why = match why {
                    RecvTimeoutError::Timeout => format!("acknowledged nothing in {FIRST_ACK:?}"),
                    RecvTimeoutError::Disconnected => {
                        format!("ended ({status}) acknowledging nothing")
                    }
                };
                panic!(
                    "kill {kills}: the child {why}; its stderr: {}",
                    std::fs::read_to_string(&errors).unwrap_or_default().trim()
                );
            }
        };
        std::thread::sleep(Duration::from_millis(rng.below(40)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        reader.join().unwrap();
        acked.push(first);
        acked.extend(rx.iter());

        // 1. The lock's checkpoint is backed by the durable tiles.
        let cp = lock_checkpoint(dir.path(), &key).unwrap_or_else(|| {
            panic!("kill {kills}: entries were acknowledged, yet no checkpoint")
        });
        let n = cp.checkpoint.size;
        let fetch: Arc<dyn TileFetch> = Arc::new(DirFetch(dir.path().join("public")));
        let mut tiles = TileReader::new(Arc::clone(&fetch), n);
        assert_eq!(
            hallmark_tlog::merkle::tree_root(&mut tiles, n).unwrap(),
            cp.checkpoint.root,
            "kill {kills}: root from tiles"
        );
        // 2. Every acknowledged entry is present at its index.
        for &(i, h) in &acked {
            assert!(
                i < n,
                "kill {kills}: acknowledged index {i} beyond tree size {n}"
            );
            let t = tiles.tile(0, i / 256).unwrap();
            assert_eq!(t.hashes()[(i % 256) as usize], h, "kill {kills}: entry {i}");
        }
        // 3. Reopening works (it also republishes /checkpoint), and the tree extends the
        //    one seen before: an incremental audit checks new entries, tiles and consistency.
        {
            let (seq, _) = crate::dir_log(
                dir.path(),
                &Arc::new(LogKey::from_pem(key.private_pem().as_bytes()).unwrap()),
                Options::default(),
            );
            assert_eq!(seq.latest().checkpoint, cp.checkpoint);
        }
        let report = audit(
            fetch,
            key.verifier(),
            Some(&crate::cfg().origin()),
            previous.as_deref(),
        )
        .unwrap_or_else(|e| panic!("kill {kills}: audit: {e}"));
        assert_eq!(report.checkpoint.checkpoint, cp.checkpoint);
        previous = Some(report.checkpoint.text);
    }
    let n = lock_checkpoint(dir.path(), &key).map_or(0, |c| c.checkpoint.size);
    eprintln!(
        "{KILLS} kills, {} acknowledged entries, final tree size {n}",
        acked.len()
    );
    assert!(acked.len() >= KILLS, "{} acknowledged entries", acked.len());
    // Leaf hashes are of distinct bodies, so every acknowledged entry is distinct.
    let _ = leaf_hash;
}
