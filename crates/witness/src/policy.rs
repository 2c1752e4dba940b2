//! Witness policies (C2SP tlog-policy, the format sigsum-go's policy files use, with vkeys):
//!
//! ```text
//! log <vkey> [<url>]                 # a log key (Ed25519 0x01 or ECDSA 0x02 vkey)
//! witness <name> <vkey> [<url>]      # a cosigner (cosignature/v1, 0x04 vkey)
//! group <name> all|any|<k> <name>…   # k of the members (witnesses or earlier groups)
//! quorum <name>|none                 # exactly one
//! ```
//!
//! `#` starts a comment line; items are separated by spaces or tabs; names are defined
//! before use, once; a member appears at most once in a group; `1 ≤ k ≤ n`; duplicate
//! keys are refused. Sigsum's raw-hex keys are not accepted (a vkey names its key).
//! [`Policy::check`] accepts a checkpoint note signed by one of the logs and cosigned by
//! witnesses that satisfy the quorum; a line by a policy witness that fails to verify
//! rejects the note.

use hallmark_tlog::note::{Checkpoint, parse_note};
use hallmark_tlog::notekey::NoteVerifier;

use crate::cosig::CosignerKey;
use crate::error::{PolicyCheckError, PolicyError};

/// Largest policy text accepted.
pub const MAX_POLICY_BYTES: usize = 64 * 1024;
/// Most logs, witnesses and groups (each) a policy may define.
pub const MAX_ENTRIES: usize = 256;

/// A log of the policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyLog {
    /// Its checkpoint key.
    pub key: NoteVerifier,
    /// Its URL, if given.
    pub url: Option<String>,
}

/// A witness of the policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyWitness {
    /// Its name in the policy.
    pub name: String,
    /// Its cosigning key.
    pub key: CosignerKey,
    /// Its submission prefix, if given.
    pub url: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Node {
    Witness(usize),
    Group {
        name: String,
        k: usize,
        members: Vec<usize>,
    },
}

/// A parsed policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    logs: Vec<PolicyLog>,
    witnesses: Vec<PolicyWitness>,
    /// Witnesses and groups in definition order (members point to earlier nodes).
    nodes: Vec<Node>,
    /// `None` = `quorum none`.
    quorum: Option<usize>,
}

/// A checkpoint that satisfied a policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The checkpoint body.
    pub checkpoint: Checkpoint,
    /// Key name of the log that signed it.
    pub log: String,
    /// Policy names of the witnesses whose valid cosignature it carries.
    pub cosigned: Vec<String>,
}

impl Policy {
    /// Parses policy text.
    ///
    /// # Errors
    /// [`PolicyError`] naming the line and what is wrong.
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        if text.len() > MAX_POLICY_BYTES {
            return Err(PolicyError {
                line: 0,
                reason: format!("policy is over {MAX_POLICY_BYTES} bytes"),
            });
        }
        let mut p = Self {
            logs: Vec::new(),
            witnesses: Vec::new(),
            nodes: Vec::new(),
            quorum: None,
        };
        let mut quorum_seen = false;
        for (i, raw) in text.lines().enumerate() {
            let err = |reason: String| PolicyError {
                line: i + 1,
                reason,
            };
            if let Some(c) = raw.bytes().find(|&b| b < 0x20 && b != b'\t' || b == 0x7f) {
                return Err(err(format!("control character {c:#04x}")));
            }
            let items: Vec<&str> = raw.split([' ', '\t']).filter(|s| !s.is_empty()).collect();
            match items.as_slice() {
                [] => {}
                [first, ..] if first.starts_with('#') => {}
                ["log", vkey, rest @ ..] if rest.len() <= 1 => {
                    let key = NoteVerifier::from_vkey(vkey).map_err(|e| err(e.to_string()))?;
                    if p.logs.iter().any(|l| l.key.vkey().key == key.vkey().key) {
                        return Err(err(format!("log key {} is listed twice", key.name())));
                    }
                    p.logs.push(PolicyLog {
                        key,
                        url: rest.first().map(|u| (*u).to_owned()),
                    });
                }
                ["witness", name, vkey, rest @ ..] if rest.len() <= 1 => {
                    p.check_new_name(name).map_err(err)?;
                    let key = CosignerKey::from_vkey(vkey).map_err(|e| err(e.to_string()))?;
                    if p.witnesses
                        .iter()
                        .any(|w| w.key.public_key() == key.public_key())
                    {
                        return Err(err(format!("witness key of {name} is listed twice")));
                    }
                    p.nodes.push(Node::Witness(p.witnesses.len()));
                    p.witnesses.push(PolicyWitness {
                        name: (*name).to_owned(),
                        key,
                        url: rest.first().map(|u| (*u).to_owned()),
                    });
                }
                ["group", name, k, members @ ..] if !members.is_empty() => {
                    p.check_new_name(name).map_err(err)?;
                    let mut idx = Vec::with_capacity(members.len());
                    for m in members {
                        let n = p.lookup(m).ok_or_else(|| {
                            err(format!("group {name}: {m} is not defined above"))
                        })?;
                        if idx.contains(&n) {
                            return Err(err(format!("group {name}: {m} is listed twice")));
                        }
                        idx.push(n);
                    }
                    let k = match *k {
                        "all" => idx.len(),
                        "any" => 1,
                        k => k
                            .parse::<usize>()
                            .ok()
                            .filter(|&k| (1..=idx.len()).contains(&k))
                            .ok_or_else(|| {
                                err(format!(
                                    "group {name}: threshold {k:?} is not all, any or 1..={}",
                                    idx.len()
                                ))
                            })?,
                    };
                    p.nodes.push(Node::Group {
                        name: (*name).to_owned(),
                        k,
                        members: idx,
                    });
                }
                ["quorum", name] => {
                    if quorum_seen {
                        return Err(err("a second quorum line".into()));
                    }
                    quorum_seen = true;
                    if *name != "none" {
                        p.quorum =
                            Some(p.lookup(name).ok_or_else(|| {
                                err(format!("quorum {name} is not defined above"))
                            })?);
                    }
                }
                [kw, ..] => return Err(err(format!("cannot parse this {kw:?} line"))),
            }
            if p.logs.len() > MAX_ENTRIES || p.nodes.len() > 2 * MAX_ENTRIES {
                return Err(err(format!(
                    "more than {MAX_ENTRIES} logs, witnesses or groups"
                )));
            }
        }
        if !quorum_seen {
            return Err(PolicyError {
                line: 0,
                reason: "no quorum line (write `quorum none` to require no witness)".into(),
            });
        }
        Ok(p)
    }

    fn node_name(&self, n: usize) -> &str {
        match &self.nodes[n] {
            Node::Witness(w) => &self.witnesses[*w].name,
            Node::Group { name, .. } => name,
        }
    }

    fn lookup(&self, name: &str) -> Option<usize> {
        (0..self.nodes.len()).find(|&n| self.node_name(n) == name)
    }

    fn check_new_name(&self, name: &str) -> Result<(), String> {
        if name == "none" {
            return Err("the name none is reserved".into());
        }
        if self.lookup(name).is_some() {
            return Err(format!("{name} is defined twice"));
        }
        Ok(())
    }

    /// The logs.
    #[must_use]
    pub fn logs(&self) -> &[PolicyLog] {
        &self.logs
    }

    /// The witnesses (whom a log asks, with their URLs).
    #[must_use]
    pub fn witnesses(&self) -> &[PolicyWitness] {
        &self.witnesses
    }

    /// Checks a checkpoint note: signed by one of the logs, cosigned to the quorum.
    ///
    /// # Errors
    /// [`PolicyCheckError`] naming the origin, size, quorum and who cosigned.
    pub fn check(&self, note: &str) -> Result<Verified, PolicyCheckError> {
        let (body, sigs) =
            parse_note(note).map_err(|e| PolicyCheckError::BadNote(e.to_string()))?;
        let checkpoint =
            Checkpoint::parse_body(body).map_err(|e| PolicyCheckError::BadNote(e.to_string()))?;
        let mut failures = Vec::new();
        let log = self
            .logs
            .iter()
            .find_map(|l| match l.key.verify_note(note) {
                Ok(_) => Some(l.key.name().to_owned()),
                Err(e) => {
                    failures.push(e.to_string());
                    None
                }
            });
        let Some(log) = log else {
            return Err(PolicyCheckError::LogNotTrusted {
                origin: checkpoint.origin,
                detail: if failures.is_empty() {
                    "the policy lists no log".into()
                } else {
                    failures.join("; ")
                },
            });
        };
        let mut signed = vec![false; self.witnesses.len()];
        for (i, w) in self.witnesses.iter().enumerate() {
            signed[i] = w
                .key
                .find(body, &sigs)
                .map_err(|e| PolicyCheckError::BadCosignature {
                    witness: w.name.clone(),
                    detail: e.to_string(),
                })?
                .is_some();
        }
        let cosigned: Vec<String> = self
            .witnesses
            .iter()
            .zip(&signed)
            .filter(|(_, s)| **s)
            .map(|(w, _)| w.name.clone())
            .collect();
        if let Some(q) = self.quorum {
            let mut ok = vec![false; self.nodes.len()];
            let mut first_unmet = None;
            for n in 0..=q {
                ok[n] = match &self.nodes[n] {
                    Node::Witness(w) => signed[*w],
                    Node::Group { name, k, members } => {
                        let have = members.iter().filter(|&&m| ok[m]).count();
                        if have < *k && first_unmet.is_none() {
                            let names: Vec<&str> =
                                members.iter().map(|&m| self.node_name(m)).collect();
                            first_unmet = Some(format!(
                                "group {name} needs {k} of [{}], has {have}",
                                names.join(", ")
                            ));
                        }
                        have >= *k
                    }
                };
            }
            if !ok[q] {
                let detail = match &self.nodes[q] {
                    Node::Witness(_) => format!("witness {} did not cosign", self.node_name(q)),
                    Node::Group { .. } => first_unmet.unwrap_or_default(),
                };
                return Err(PolicyCheckError::QuorumNotMet {
                    origin: checkpoint.origin,
                    size: checkpoint.size,
                    quorum: self.node_name(q).to_owned(),
                    cosigned,
                    detail,
                });
            }
        }
        Ok(Verified {
            checkpoint,
            log,
            cosigned,
        })
    }
}
