//! Monitoring a C2SP tlog-tiles log (this crate's, or a Rekor v2 shaped one) for
//! signatures that concern someone: `hallmark log monitor` and the hub's per-org watch.
//!
//! One [`poll`]: verify the log's checkpoint ([`verify_checkpoint_step`], the one place a
//! witness policy adds its checks), audit the new part of the tree against the saved
//! checkpoint with [`crate::audit::audit_from`] (every new entry is hashed into its tile,
//! the root recomputed, consistency proved), and judge each new entry's signers
//! ([`entry::signers`]) by the [`rules::WatchList`] and the first-signer memory in
//! [`seen::MonitorState`]. Alerts are returned only once the whole range verified; a log
//! that rolled back or forked is itself an alert, naming both sizes and roots, and the
//! saved checkpoint is kept so that every later poll reports it again.
//!
//! Untrusted input is bounded by the fetchers ([`crate::audit::max_object_bytes`]), the
//! 64 KiB entry length prefix, [`entry::MAX_SIGNERS_PER_ENTRY`], [`MAX_ALERTS_PER_POLL`]
//! and the state's bounds.

pub mod entry;
pub mod rules;
pub mod seen;

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

use crate::audit::{audit_from, fetch_checkpoint};
use crate::error::Error;
use crate::note::{LogVerifier, SignedCheckpoint, verify_checkpoint};
use crate::tile::TileFetch;
use entry::{EntrySigner, signers};
use rules::{Verdict, WatchList};
use seen::{MonitorState, Seen};

/// Most alerts kept from one poll (the rest are counted).
pub const MAX_ALERTS_PER_POLL: usize = 10_000;

/// The log a monitor follows.
#[derive(Clone)]
pub struct LogTarget {
    /// Where its tiles are read.
    pub fetch: Arc<dyn TileFetch>,
    /// Its checkpoint key.
    pub verifier: LogVerifier,
    /// The origin its checkpoints must carry (default: the saved checkpoint's).
    pub origin: Option<String>,
}

impl std::fmt::Debug for LogTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogTarget")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// Names the model an entry signs, where the caller knows it (the hub knows which log
/// entry signed which repository; a bare log does not say).
pub trait EntryNames {
    /// The model name for the entry at `index`, if known.
    fn name(&self, index: u64) -> Option<String>;
}

/// No names known.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoNames;

impl EntryNames for NoNames {
    fn name(&self, _: u64) -> Option<String> {
        None
    }
}

impl EntryNames for HashMap<u64, String> {
    fn name(&self, index: u64) -> Option<String> {
        self.get(&index).cloned()
    }
}

/// Something a monitor reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "alert", rename_all = "kebab-case")]
pub enum Alert {
    /// An entry signed by an identity (and issuer) a rule watches.
    WatchedIdentity {
        /// Leaf index.
        log_index: u64,
        /// The signer.
        #[serde(flatten)]
        signer: EntrySigner,
        /// The rule's label.
        rule: String,
    },
    /// An entry for a watched identity made by another issuer than the expected one.
    UnexpectedIssuer {
        /// Leaf index.
        log_index: u64,
        /// The signer.
        #[serde(flatten)]
        signer: EntrySigner,
        /// The issuer the rule expects.
        expected_issuer: String,
        /// The rule's label.
        rule: String,
    },
    /// A subject (`identity:…` or `model:…`) signed by a signer not seen for it before.
    FirstSigner {
        /// Leaf index.
        log_index: u64,
        /// The subject.
        subject: String,
        /// The new signer (an issuer for an identity, an identity for a model).
        signer: String,
        /// Who had signed for it before.
        previous_signers: Vec<String>,
    },
    /// The log does not extend the saved checkpoint.
    InconsistentLog {
        /// `rollback` (smaller tree) or `fork` (another tree).
        reason: &'static str,
        /// The saved checkpoint's size.
        saved_size: u64,
        /// Its root (hex).
        saved_root: String,
        /// The log's checkpoint size now.
        log_size: u64,
        /// Its root (hex).
        log_root: String,
        /// What the audit found.
        detail: String,
    },
}

/// What one poll found.
#[derive(Clone, Debug, Serialize)]
pub struct PollReport {
    /// The log's origin.
    pub origin: String,
    /// The tree size now verified (or the log's size, when inconsistent).
    pub tree_size: u64,
    /// Its root (hex).
    pub root: String,
    /// The saved size the poll started from.
    pub previous_size: Option<u64>,
    /// New entries read.
    pub entries: u64,
    /// The alerts, in log order.
    #[serde(skip)]
    pub alerts: Vec<Alert>,
    /// Alerts past [`MAX_ALERTS_PER_POLL`], not kept.
    pub alerts_dropped: u64,
    /// Signers the first-signer memory could not keep (a bound was reached).
    pub untracked: u64,
}

/// The checkpoint-verification step of a poll: the saved checkpoint (if any) and the log's
/// current one, both verified with the log's key. Witness policies extend this step.
///
/// # Errors
/// [`Error::BadCheckpoint`] and fetch failures.
pub fn verify_checkpoint_step(
    target: &LogTarget,
    saved: Option<&str>,
) -> Result<(Option<SignedCheckpoint>, SignedCheckpoint), Error> {
    let prev = saved
        .map(|p| verify_checkpoint(p, &target.verifier, None, target.origin.as_deref()))
        .transpose()?;
    let origin = target
        .origin
        .clone()
        .or_else(|| prev.as_ref().map(|p| p.checkpoint.origin.clone()));
    let cp = fetch_checkpoint(target.fetch.as_ref(), &target.verifier, origin.as_deref())?;
    Ok((prev, cp))
}

/// Polls the log once, updating `state` only when the new range verified.
///
/// # Errors
/// Checkpoint, fetch and corruption errors ([`Error`]); a rollback or fork is not an
/// error but an [`Alert::InconsistentLog`].
pub fn poll(
    target: &LogTarget,
    watch: &WatchList,
    state: &mut MonitorState,
    names: &dyn EntryNames,
) -> Result<PollReport, Error> {
    let (prev, cp) = verify_checkpoint_step(target, state.checkpoint.as_deref())?;
    let mut next = state.clone();
    let mut judge = Judge {
        watch,
        state: &mut next,
        alerts: Vec::new(),
        dropped: 0,
        untracked: 0,
        entries: 0,
    };
    let mut visit = |index: u64, body: &[u8]| {
        judge.entry(index, body, names);
        Ok(())
    };
    let mut report = PollReport {
        origin: cp.checkpoint.origin.clone(),
        tree_size: cp.checkpoint.size,
        root: hex::encode(cp.checkpoint.root),
        previous_size: prev.as_ref().map(|p| p.checkpoint.size),
        entries: 0,
        alerts: Vec::new(),
        alerts_dropped: 0,
        untracked: 0,
    };
    match audit_from(
        Arc::clone(&target.fetch),
        prev.as_ref(),
        cp.clone(),
        &mut visit,
    ) {
        Ok(_) => {}
        Err(e @ (Error::Rollback { .. } | Error::Fork(_))) => {
            let p = prev.as_ref().map(|p| &p.checkpoint);
            report.alerts.push(Alert::InconsistentLog {
                reason: if matches!(e, Error::Rollback { .. }) {
                    "rollback"
                } else {
                    "fork"
                },
                saved_size: p.map_or(0, |p| p.size),
                saved_root: p.map(|p| hex::encode(p.root)).unwrap_or_default(),
                log_size: cp.checkpoint.size,
                log_root: hex::encode(cp.checkpoint.root),
                detail: e.to_string(),
            });
            return Ok(report);
        }
        Err(e) => return Err(e),
    }
    report.entries = judge.entries;
    report.alerts = judge.alerts;
    report.alerts_dropped = judge.dropped;
    report.untracked = judge.untracked;
    next.checkpoint = Some(cp.text);
    *state = next;
    Ok(report)
}

struct Judge<'a> {
    watch: &'a WatchList,
    state: &'a mut MonitorState,
    alerts: Vec<Alert>,
    dropped: u64,
    untracked: u64,
    entries: u64,
}

impl Judge<'_> {
    fn alert(&mut self, a: Alert) {
        if self.alerts.len() < MAX_ALERTS_PER_POLL {
            self.alerts.push(a);
        } else {
            self.dropped += 1;
        }
    }

    fn first_signer(&mut self, log_index: u64, subject: String, signer: &str) {
        match self.state.observe(&subject, signer) {
            Seen::Baseline | Seen::Known => {}
            Seen::Untracked => self.untracked += 1,
            Seen::New(previous_signers) => self.alert(Alert::FirstSigner {
                log_index,
                subject,
                signer: signer.to_owned(),
                previous_signers,
            }),
        }
    }

    fn entry(&mut self, log_index: u64, body: &[u8], names: &dyn EntryNames) {
        self.entries += 1;
        let watch = self.watch;
        let any_identity_rule = watch
            .rules
            .iter()
            .any(|r| r.spec().identity.is_some() || r.spec().identity_regex.is_some());
        let name = names.name(log_index);
        for s in signers(body) {
            for r in &watch.rules {
                match r.judge(&s.identity, s.issuer.as_deref()) {
                    Verdict::Ignore | Verdict::Expected => {}
                    Verdict::Watched => self.alert(Alert::WatchedIdentity {
                        log_index,
                        signer: s.clone(),
                        rule: r.label(),
                    }),
                    Verdict::UnexpectedIssuer(expected_issuer) => {
                        self.alert(Alert::UnexpectedIssuer {
                            log_index,
                            signer: s.clone(),
                            expected_issuer,
                            rule: r.label(),
                        });
                    }
                }
            }
            if !watch.first_signer {
                continue;
            }
            if let Some(issuer) = &s.issuer
                && (!any_identity_rule || watch.watches_identity(&s.identity))
            {
                self.first_signer(log_index, format!("identity:{}", s.identity), issuer);
            }
            if let Some(n) = &name {
                self.first_signer(log_index, format!("model:{n}"), &s.identity);
            }
        }
    }
}
