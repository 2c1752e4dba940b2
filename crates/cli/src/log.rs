//! `hallmark log audit`: monitor a transparency log (hallmark-tlog) the way a witness does.

use std::path::Path;

use anyhow::Context as _;
use hallmark_tlog::{AuditReport, LogVerifier};

use crate::args::log::{AuditArgs, LogCommand};
use crate::logmonitor::{fetcher, is_verdict};
use crate::util::{Failure, OrExit as _, Outcome, read_input};

pub(crate) fn run(cmd: LogCommand) -> Outcome {
    match cmd {
        LogCommand::Audit(a) => audit(&a),
        LogCommand::Monitor(a) => crate::logmonitor::run(&a),
    }
}

fn audit(a: &AuditArgs) -> Outcome {
    let pem = read_input("public key", &a.public_key).or_input()?;
    let key = LogVerifier::from_pem(&pem)
        .with_context(|| a.public_key.display().to_string())
        .or_input()?;
    let previous = match &a.since_checkpoint {
        Some(p) if p.exists() => {
            let text = read_input("checkpoint", p).or_input()?;
            Some(String::from_utf8_lossy(&text).into_owned())
        }
        _ => None,
    };
    let witnesses = match &a.witness_policy {
        Some(p) => Some(crate::witnessed::WitnessPolicy::load(p).or_input()?),
        None => None,
    };
    let report = hallmark_tlog::audit(
        fetcher(&a.log),
        &key,
        a.origin.as_deref(),
        previous.as_deref(),
    );
    if let (Ok(r), Some(w)) = (&report, &witnesses) {
        let url = a.log.starts_with("http").then_some(a.log.as_str());
        w.check_checkpoint(&r.checkpoint.text, url)
            .map_err(|e| Failure::failed(anyhow::Error::new(e)).with_prefix("Log audit FAILED"))?;
    }
    match report {
        Ok(r) => {
            if let Some(p) = &a.since_checkpoint {
                save(p, &r.checkpoint.text)
                    .with_context(|| format!("cannot remember the checkpoint in {}", p.display()))
                    .or_input()?;
            }
            print_ok(a, &r);
            Ok(0)
        }
        Err(e) => {
            if a.json {
                outln!(
                    "{}",
                    serde_json::json!({"verified": false, "log": a.log, "error": e.to_string()})
                );
            }
            Err(if is_verdict(&e) {
                Failure::failed(e).with_prefix("Log audit FAILED")
            } else {
                Failure::input(e).with_prefix("Error: could not audit the log")
            })
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
        outln!(
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
    outln!(
        "Log verified: {} at tree size {} (root {})",
        cp.origin,
        cp.size,
        hex::encode(cp.root)
    );
    match &r.previous {
        Some(p) => outln!(
            "  consistent with the previously seen tree size {}; {} new entries hashed into the tiles",
            p.size,
            r.entries_checked
        ),
        None => outln!(
            "  first audit: all {} entries hashed into the tiles",
            r.entries_checked
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::{EXIT_FAILED, EXIT_INPUT};
    use hallmark_tlog::{DirLock, DirStore, LogConfig, LogKey, Options, Sequencer, TileStorage};
    use std::sync::Arc;

    #[test]
    fn audits_a_directory_and_remembers_the_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let key = Arc::new(LogKey::generate(hallmark_tlog::LogKeyType::EcdsaP256).unwrap());
        let cfg = LogConfig {
            host: "log.test".into(),
            tree_id: 3,
        };
        let store = Arc::new(DirStore::open(dir.path().join("public")).unwrap());
        let lock = Arc::new(DirLock::open(dir.path().join("lock")).unwrap());
        let seq = Sequencer::open(
            cfg,
            Arc::clone(&key),
            store as Arc<dyn TileStorage>,
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
        let status = |json| {
            audit(&AuditArgs {
                log: dir.path().join("public").display().to_string(),
                public_key: pubkey.clone(),
                origin: Some("log.test - 3".into()),
                since_checkpoint: Some(seen.clone()),
                witness_policy: None,
                json,
            })
            .unwrap_or_else(|f| f.code)
        };
        assert_eq!(status(false), 0);
        assert!(
            std::fs::read_to_string(&seen)
                .unwrap()
                .starts_with("log.test - 3\n300\n")
        );
        seq.append(b"one more".to_vec()).unwrap();
        assert_eq!(status(true), 0);
        assert!(
            std::fs::read_to_string(&seen)
                .unwrap()
                .starts_with("log.test - 3\n301\n")
        );
        // Another key: the checkpoint is not the log's (exit 1); an unreadable key is exit 2.
        let other = Arc::new(LogKey::generate(hallmark_tlog::LogKeyType::EcdsaP256).unwrap());
        std::fs::write(&pubkey, other.verifier().to_pem()).unwrap();
        assert_eq!(status(false), EXIT_FAILED);
        std::fs::write(&pubkey, "not a key").unwrap();
        assert_eq!(status(false), EXIT_INPUT);
    }
}
