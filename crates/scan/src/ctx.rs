//! The state of one top-level file's scan ([`Ctx`]), which every format scanner
//! writes its findings into, and the way containers hand their members back to the
//! dispatcher ([`Ctx::scan_member`]) without importing it: the dispatcher passes
//! itself in when it creates the context. A leaf below `scanner`, `formats` and
//! `pickle`, so containers and the dispatcher do not import each other.

use std::path::PathBuf;

use crate::io::ReadSeek;
use crate::limits::Limits;
use crate::policy::Policy;
use crate::report::{Finding, MemberReport, Rule, Severity};

/// The dispatcher's entry point for one file or member (`scanner::scan_member`).
pub(crate) type ScanMember =
    fn(&mut dyn ReadSeek, u64, &str, u32, &mut Ctx<'_>, Role) -> &'static str;

/// What the parent container says a member is (used only when content is unstructured).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// A top-level file or a member with no special role.
    Plain,
    /// Raw tensor bytes read as bytes by the loader (PyTorch storages, TF variables).
    TensorData,
    /// Weights of a Keras v3 archive (HDF5 datasets only).
    KerasWeights,
}

/// Mutable state of one top-level file's scan.
pub(crate) struct Ctx<'p> {
    pub(crate) limits: &'p Limits,
    pub(crate) policy: &'p Policy,
    pub(crate) findings: Vec<Finding>,
    pub(crate) members: Vec<MemberReport>,
    /// Bytes inflated so far (bomb bound).
    pub(crate) inflated: u64,
    /// Directory of the top-level file on disk (for ONNX external data).
    pub(crate) base_dir: Option<PathBuf>,
    /// The dispatcher, for the members of containers.
    recurse: ScanMember,
}

impl<'p> Ctx<'p> {
    pub(crate) fn new(limits: &'p Limits, policy: &'p Policy, recurse: ScanMember) -> Self {
        Self {
            recurse,
            limits,
            policy,
            findings: Vec::new(),
            members: Vec::new(),
            inflated: 0,
            base_dir: None,
        }
    }

    /// Adds a finding and returns it for the caller to complete.
    pub(crate) fn add(
        &mut self,
        rule: Rule,
        severity: Severity,
        member: &str,
        offset: Option<u64>,
        message: String,
    ) -> &mut Finding {
        self.findings.push(Finding {
            rule,
            severity,
            message,
            member: member.to_owned(),
            offset,
            global: None,
            call: None,
        });
        match self.findings.last_mut() {
            Some(f) => f,
            None => unreachable!("a finding was just pushed"),
        }
    }
}

impl Ctx<'_> {
    /// Scans a member of a container (identified by content, recursing further into
    /// containers); returns its format name. Errors become findings.
    pub(crate) fn scan_member(
        &mut self,
        r: &mut dyn ReadSeek,
        len: u64,
        member: &str,
        depth: u32,
        role: Role,
    ) -> &'static str {
        (self.recurse)(r, len, member, depth, self, role)
    }
}

/// Joins an archive member path.
pub(crate) fn join(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_owned()
    } else {
        format!("{parent}!{child}")
    }
}
