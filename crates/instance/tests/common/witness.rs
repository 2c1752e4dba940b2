//! Fake witnesses for the witnessing tests: an honest one that checks consistency like a
//! real witness (in memory), and one that is down.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use hallmark_instance::{CheckpointWitness, Instance, InstanceConfig, WitnessFailure};
use hallmark_tlog::Hash;
use hallmark_tlog::note::{Checkpoint, parse_note};

/// A witness that checks consistency like a real one (in memory): what it cosigned last,
/// 409 for another old size, 422 for a bad proof or the same size with another root.
#[derive(Debug, Default)]
pub struct Honest {
    pub name: String,
    pub state: Mutex<Option<(u64, Hash)>>,
    pub conflicts: Mutex<u32>,
    /// While set, requests block until it is cleared (a slow witness, released by hand).
    pub hold: Mutex<bool>,
}

impl Honest {
    pub fn new(name: &str) -> Arc<Self> {
        Arc::new(Self {
            name: name.into(),
            ..Self::default()
        })
    }
}

impl CheckpointWitness for Honest {
    fn name(&self) -> &str {
        &self.name
    }

    fn add_checkpoint(
        &self,
        old_size: u64,
        proof: &[Hash],
        checkpoint: &str,
    ) -> Result<String, WitnessFailure> {
        while *self.hold.lock().unwrap() {
            std::thread::sleep(Duration::from_millis(5));
        }
        let refuse = |status, d: &str| WitnessFailure::Refused {
            status,
            detail: d.into(),
        };
        let (body, _) = parse_note(checkpoint).map_err(|e| refuse(400, &e.to_string()))?;
        let cp = Checkpoint::parse_body(body).map_err(|e| refuse(400, &e.to_string()))?;
        let mut st = self.state.lock().unwrap();
        let (known, root) = st.unwrap_or((0, hallmark_tlog::merkle::empty_root()));
        if old_size != known {
            *self.conflicts.lock().unwrap() += 1;
            return Err(WitnessFailure::Conflict { known_size: known });
        }
        if old_size > cp.size {
            return Err(refuse(400, "old size beyond the checkpoint"));
        }
        if old_size > 0 || !proof.is_empty() {
            hallmark_tlog::merkle::verify_consistency(old_size, cp.size, proof, &root, &cp.root)
                .map_err(|e| refuse(422, &e.to_string()))?;
        }
        *st = Some((cp.size, cp.root));
        // The shape of a cosignature/v1 line: 4-byte key ID, 8-byte time, 64-byte signature.
        let blob = base64::engine::general_purpose::STANDARD.encode([7u8; 76]);
        Ok(format!("\u{2014} {} {blob}\n", self.name))
    }
}

#[derive(Debug)]
pub struct Down;

impl CheckpointWitness for Down {
    fn name(&self) -> &str {
        "down"
    }

    fn add_checkpoint(&self, _: u64, _: &[Hash], _: &str) -> Result<String, WitnessFailure> {
        Err(WitnessFailure::Unreachable("connection refused".into()))
    }
}

/// An instance at [`super::URL`] whose logs ask `witnesses`, rounds bounded by 300 ms.
pub fn witnessed_instance(dir: &Path, witnesses: Vec<Arc<dyn CheckpointWitness>>) -> Arc<Instance> {
    let mut cfg = InstanceConfig::new(dir, super::URL);
    cfg.witnessing.witnesses = witnesses;
    cfg.witnessing.deadline = Duration::from_millis(300);
    cfg.witnessing.policy = Some("group all 1 alpha\nquorum all\n".into());
    Arc::new(Instance::open(cfg).unwrap())
}

/// Names of the signature lines after the log's own.
pub fn cosigners(note: &str) -> Vec<String> {
    let (_, sigs) = parse_note(note).unwrap();
    sigs.into_iter().skip(1).map(|s| s.name).collect()
}
