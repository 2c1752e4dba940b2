//! `hallmark log audit`: monitor a transparency log (hallmark-tlog) the way a witness does.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Subcommand};
use hallmark_tlog::{AuditReport, DirFetch, Error, HttpFetch, LogVerifier, TileFetch};

use crate::{EXIT_FAILED, EXIT_INPUT};

#[derive(Debug, Subcommand)]
pub(crate) enum LogCommand {
    /// Audit a transparency log from its tiles: verify the checkpoint signature, hash every
    /// new entry into the tiles, recompute the root, and check that the tree extends the
    /// checkpoint seen last time (no rollback, no fork). With --since-checkpoint the new
    /// checkpoint is remembered for the next run.
    Audit(AuditArgs),
}

#[derive(Debug, Args)]
pub(crate) struct AuditArgs {
    /// The log: a base URL (http:// or https://, serving /checkpoint and /tile/...) or a
    /// directory laid out the same way.
    #[arg(value_name = "URL-or-DIR")]
    pub(crate) log: String,
    /// The log's public key (PEM, ECDSA P-256).
    #[arg(long = "public-key", alias = "public_key", value_name = "PUB.pem")]
    pub(crate) public_key: PathBuf,
    /// The checkpoint origin to expect (e.g. "log.example - 1"); default: the origin of
    /// the previously seen checkpoint, if any.
    #[arg(long)]
    pub(crate) origin: Option<String>,
    /// The checkpoint seen last time. The log must extend it; on success it is replaced
    /// by the new checkpoint. A missing file means a first, full audit.
    #[arg(
        long = "since-checkpoint",
        alias = "since_checkpoint",
        value_name = "FILE"
    )]
    pub(crate) since_checkpoint: Option<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

pub(crate) fn run(cmd: LogCommand) -> u8 {
    match cmd {
        LogCommand::Audit(a) => audit(&a),
    }
}

fn fetcher(log: &str) -> Arc<dyn TileFetch> {
    if log.starts_with("http://") || log.starts_with("https://") {
        Arc::new(HttpFetch::new(log))
    } else {
        Arc::new(DirFetch(PathBuf::from(log)))
    }
}

/// Whether an error means "the log is bad" (exit 1) rather than "could not check" (exit 2).
fn is_verdict(e: &Error) -> bool {
    !matches!(e, Error::Io { .. } | Error::Fetch { .. } | Error::Key(_))
}

fn audit(a: &AuditArgs) -> u8 {
    let key = match crate::read_input("public key", &a.public_key).and_then(|pem| {
        LogVerifier::from_pem(&pem).map_err(|e| format!("{}: {e}", a.public_key.display()))
    }) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("Error: {e}");
            return EXIT_INPUT;
        }
    };
    let previous = match &a.since_checkpoint {
        Some(p) if p.exists() => match crate::read_input("checkpoint", p)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
        {
            Ok(t) => Some(t),
            Err(e) => {
                eprintln!("Error: {e}");
                return EXIT_INPUT;
            }
        },
        _ => None,
    };
    let report = hallmark_tlog::audit(
        fetcher(&a.log),
        &key,
        a.origin.as_deref(),
        previous.as_deref(),
    );
    match report {
        Ok(r) => {
            if let Some(p) = &a.since_checkpoint
                && let Err(e) = save(p, &r.checkpoint.text)
            {
                eprintln!(
                    "Error: cannot remember the checkpoint in {}: {e}",
                    p.display()
                );
                return EXIT_INPUT;
            }
            print_ok(a, &r);
            0
        }
        Err(e) => {
            if a.json {
                println!(
                    "{}",
                    serde_json::json!({"verified": false, "log": a.log, "error": e.to_string()})
                );
            }
            if is_verdict(&e) {
                crate::report_error("Log audit FAILED", &e);
                EXIT_FAILED
            } else {
                crate::report_error("Error: could not audit the log", &e);
                EXIT_INPUT
            }
        }
    }
}

fn save(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, path)
}

fn print_ok(a: &AuditArgs, r: &AuditReport) {
    let cp = &r.checkpoint.checkpoint;
    if a.json {
        println!(
            "{}",
            serde_json::json!({
                "verified": true,
                "log": a.log,
                "origin": cp.origin,
                "treeSize": cp.size,
                "rootHash": hex::encode(cp.root),
                "previousTreeSize": r.previous.as_ref().map(|p| p.size),
                "entriesChecked": r.entries_checked,
                "tileHashesChecked": r.hashes_checked,
            })
        );
        return;
    }
    println!(
        "Log verified: {} at tree size {} (root {})",
        cp.origin,
        cp.size,
        hex::encode(cp.root)
    );
    match &r.previous {
        Some(p) => println!(
            "  consistent with the previously seen tree size {}; {} new entries hashed into the tiles",
            p.size, r.entries_checked
        ),
        None => println!(
            "  first audit: all {} entries hashed into the tiles",
            r.entries_checked
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hallmark_tlog::{DirLock, DirStore, LogConfig, LogKey, ObjectStore, Options, Sequencer};

    #[test]
    fn audits_a_directory_and_remembers_the_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let key = Arc::new(LogKey::generate().unwrap());
        let cfg = LogConfig {
            host: "log.test".into(),
            tree_id: 3,
        };
        let store = Arc::new(DirStore::open(dir.path().join("public")).unwrap());
        let lock = Arc::new(DirLock::open(dir.path().join("lock")).unwrap());
        let seq = Sequencer::open(
            cfg,
            Arc::clone(&key),
            store as Arc<dyn ObjectStore>,
            lock,
            Options::default(),
        )
        .unwrap();
        let pending: Vec<_> = (0..300)
            .map(|i| seq.submit(format!("e{i}").into_bytes()))
            .collect();
        for p in pending {
            p.wait().unwrap();
        }
        let pubkey = dir.path().join("log.pub");
        std::fs::write(&pubkey, key.verifier().to_pem()).unwrap();
        let seen = dir.path().join("seen.checkpoint");
        let args = |json| AuditArgs {
            log: dir.path().join("public").display().to_string(),
            public_key: pubkey.clone(),
            origin: Some("log.test - 3".into()),
            since_checkpoint: Some(seen.clone()),
            json,
        };
        assert_eq!(audit(&args(false)), 0);
        assert!(
            std::fs::read_to_string(&seen)
                .unwrap()
                .starts_with("log.test - 3\n300\n")
        );
        seq.append(b"one more".to_vec()).unwrap();
        assert_eq!(audit(&args(true)), 0);
        assert!(
            std::fs::read_to_string(&seen)
                .unwrap()
                .starts_with("log.test - 3\n301\n")
        );
        // Another key: the checkpoint is not the log's (exit 1); an unreadable key is exit 2.
        let other = Arc::new(LogKey::generate().unwrap());
        std::fs::write(&pubkey, other.verifier().to_pem()).unwrap();
        assert_eq!(audit(&args(false)), EXIT_FAILED);
        std::fs::write(&pubkey, "not a key").unwrap();
        assert_eq!(audit(&args(false)), EXIT_INPUT);
    }
}
