//! A monitor's memory between runs: the last verified checkpoint and, for the
//! first-signer rule, who has signed for each subject (`identity:<SAN>` → issuers,
//! `model:<name>` → identities). Bounded: past [`MAX_SUBJECTS`] subjects or
//! [`MAX_SIGNERS_PER_SUBJECT`] signers of one subject, new ones are not remembered (and
//! counted as untracked in the poll report) rather than growing the file without end.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// Most subjects remembered.
pub const MAX_SUBJECTS: usize = 100_000;
/// Most signers remembered per subject.
pub const MAX_SIGNERS_PER_SUBJECT: usize = 64;
/// Most bytes of a state file read.
pub const MAX_STATE_BYTES: u64 = 64 * 1024 * 1024;

/// What a monitor remembers.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct MonitorState {
    /// The note text of the last checkpoint verified.
    #[serde(default)]
    pub checkpoint: Option<String>,
    /// Subject → who has signed for it, in first-seen order.
    #[serde(default)]
    pub signers: BTreeMap<String, Vec<String>>,
}

/// What remembering a signer found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seen {
    /// The subject's first signer (nothing to compare with): remembered.
    Baseline,
    /// A signer seen before.
    Known,
    /// A signer not seen before for a subject others signed: remembered; the earlier ones.
    New(Vec<String>),
    /// Not remembered: a bound was reached.
    Untracked,
}

impl MonitorState {
    /// Reads a state file; a missing file is a fresh state.
    ///
    /// # Errors
    /// [`Error::Io`], or [`Error::Corrupt`] for a file that is not a state or too large.
    pub fn load(path: &Path) -> Result<Self, Error> {
        use std::io::Read as _;
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(Error::io("open", path.to_owned(), e)),
        };
        let mut text = Vec::new();
        file.take(MAX_STATE_BYTES + 1)
            .read_to_end(&mut text)
            .map_err(|e| Error::io("read", path.to_owned(), e))?;
        if text.len() as u64 > MAX_STATE_BYTES {
            return Err(Error::Corrupt(format!(
                "monitor state {} is larger than {MAX_STATE_BYTES} bytes",
                path.display()
            )));
        }
        Self::from_json(&text)
            .map_err(|e| Error::Corrupt(format!("monitor state {}: {e}", path.display())))
    }

    /// Parses the JSON form (the hub keeps it in its database).
    ///
    /// # Errors
    /// The JSON error.
    pub fn from_json(text: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(text)
    }

    /// The JSON form.
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Writes the state atomically (temporary file, fsync, rename).
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        let tmp = path.with_extension("tmp");
        let io = |op: &'static str, e| Error::io(op, path.to_owned(), e);
        std::fs::write(&tmp, self.to_json()).map_err(|e| io("write", e))?;
        std::fs::File::open(&tmp)
            .and_then(|f| f.sync_all())
            .map_err(|e| io("sync", e))?;
        std::fs::rename(&tmp, path).map_err(|e| io("rename", e))
    }

    /// Remembers that `signer` signed for `subject`.
    pub fn observe(&mut self, subject: &str, signer: &str) -> Seen {
        if let Some(list) = self.signers.get_mut(subject) {
            if list.iter().any(|s| s == signer) {
                return Seen::Known;
            }
            let before = list.clone();
            if list.len() >= MAX_SIGNERS_PER_SUBJECT {
                return Seen::Untracked;
            }
            list.push(signer.to_owned());
            return Seen::New(before);
        }
        if self.signers.len() >= MAX_SUBJECTS {
            return Seen::Untracked;
        }
        self.signers
            .insert(subject.to_owned(), vec![signer.to_owned()]);
        Seen::Baseline
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baseline_known_new_and_bounds() {
        let mut s = MonitorState::default();
        assert_eq!(s.observe("model:m", "a"), Seen::Baseline);
        assert_eq!(s.observe("model:m", "a"), Seen::Known);
        assert_eq!(s.observe("model:m", "b"), Seen::New(vec!["a".into()]));
        for i in 2..MAX_SIGNERS_PER_SUBJECT {
            assert!(matches!(
                s.observe("model:m", &format!("s{i}")),
                Seen::New(_)
            ));
        }
        assert_eq!(s.observe("model:m", "one too many"), Seen::Untracked);
        let back = MonitorState::from_json(s.to_json().as_bytes()).unwrap();
        assert_eq!(back, s);
    }
}
