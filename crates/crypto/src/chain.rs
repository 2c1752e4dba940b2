//! Certificate path building and validation with the semantics of OpenSSL
//! `X509_verify_cert` as the reference runs it (oms-spec §3.2, §9 fact 10).
//!
//! * Trust anchors are all the certificates given; the path must end at a
//!   self-issued anchor (no partial chains). The anchor's own signature is
//!   not checked (OpenSSL default).
//! * Issuers are found by name (DER) and AKI/SKI, anchors first
//!   ("trusted first"), then the untrusted intermediates; alternatives are
//!   tried depth-first, at most [`MAX_DEPTH`] certificates, no repeats.
//! * Every certificate must be valid at the policy time (default: the
//!   leaf's notBefore); intermediates need basicConstraints CA:TRUE, the
//!   anchor may also be a v1 self-signed certificate or have only keyUsage
//!   keyCertSign (OpenSSL `X509_check_ca`); keyUsage, when present on an
//!   issuer, must allow keyCertSign; pathLenConstraint is enforced. The
//!   leaf may be a CA.
//! * The leaf must allow signing (keyUsage digitalSignature or
//!   extendedKeyUsage codeSigning); a leaf with neither extension passes.

use std::time::SystemTime;

use crate::cert::Certificate;
use crate::error::{CaRefusal, ChainError, PathStop};
use crate::oids;

/// Maximum number of certificates in a path, leaf and anchor included.
pub const MAX_DEPTH: usize = 10;

/// Maximum number of path-extension steps tried before giving up.
const SEARCH_BUDGET: usize = 256;

/// The instant at which certificate validity is checked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ChainTime {
    /// The leaf's notBefore (the reference's semantics: an expired leaf
    /// still verifies if the chain was valid when it was issued).
    #[default]
    LeafNotBefore,
    /// The current system time (strict).
    Now,
    /// A given instant.
    At(SystemTime),
}

/// Options for [`verify_certificate_chain`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChainPolicy {
    /// When validity periods are checked.
    pub time: ChainTime,
}

/// A certificate path that passed validation.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ValidatedChain {
    /// The end-entity certificate.
    pub leaf: Certificate,
    /// The path, leaf first, ending at the self-signed trust anchor
    /// (a self-signed trusted leaf gives a path of one).
    pub path: Vec<Certificate>,
    /// The instant at which validity was checked.
    pub checked_at: SystemTime,
}

/// Builds and validates a path from `leaf` through `untrusted_intermediates`
/// to a self-signed certificate in `trust_anchors`, then checks that the
/// leaf may be used for signing.
///
/// # Errors
/// The most specific reason the best candidate path failed: no issuer
/// found, bad signature, validity, CA constraints, critical extensions, or
/// leaf usage.
pub fn verify_certificate_chain(
    leaf: &Certificate,
    untrusted_intermediates: &[Certificate],
    trust_anchors: &[Certificate],
    policy: &ChainPolicy,
) -> Result<ValidatedChain, ChainError> {
    if trust_anchors.is_empty() {
        return Err(ChainError::NoTrustAnchors {
            leaf: leaf.subject(),
        });
    }
    let at = match policy.time {
        ChainTime::LeafNotBefore => leaf.not_before(),
        ChainTime::Now => SystemTime::now(),
        ChainTime::At(t) => t,
    };
    let mut candidates: Vec<(&Certificate, bool)> =
        trust_anchors.iter().map(|c| (c, true)).collect();
    for c in untrusted_intermediates {
        if !candidates.iter().any(|(d, _)| *d == c) {
            candidates.push((c, false));
        }
    }
    let mut search = Search {
        candidates,
        at,
        best: None,
        stuck: None,
        budget: SEARCH_BUDGET,
    };
    let mut path = vec![leaf.clone()];
    if !search.extend(&mut path) {
        return Err(search.into_error(leaf));
    }
    check_leaf_usage(leaf)?;
    Ok(ValidatedChain {
        leaf: leaf.clone(),
        path,
        checked_at: at,
    })
}

/// Depth-first path search state.
struct Search<'a> {
    /// All possible issuers, with whether each is a trust anchor.
    candidates: Vec<(&'a Certificate, bool)>,
    at: SystemTime,
    /// The highest-ranked failure so far (rank, error).
    best: Option<(u8, ChainError)>,
    /// The deepest certificate whose issuer was not found:
    /// (depth, subject, issuer, why).
    stuck: Option<(usize, String, String, PathStop)>,
    /// Remaining number of path-extension steps (bounds the search on
    /// adversarial inputs with many same-named issuers).
    budget: usize,
}

impl Search<'_> {
    fn record(&mut self, rank: u8, err: ChainError) {
        if self.best.as_ref().is_none_or(|(r, _)| rank > *r) {
            self.best = Some((rank, err));
        }
    }

    fn is_anchor(&self, cert: &Certificate) -> bool {
        self.candidates
            .iter()
            .any(|(c, trusted)| *trusted && *c == cert)
    }

    fn extend(&mut self, path: &mut Vec<Certificate>) -> bool {
        let Some(last) = path.last().cloned() else {
            return false;
        };
        if self.budget == 0 {
            self.note_stuck(path.len(), &last, PathStop::SearchBudget);
            return false;
        }
        self.budget -= 1;
        if last.is_self_issued() {
            if !self.is_anchor(&last) {
                self.note_stuck(path.len(), &last, PathStop::SelfSignedNotTrusted);
                return false;
            }
            return match validate_path(path, self.at) {
                Ok(()) => true,
                Err(e) => {
                    self.record(3, e);
                    false
                }
            };
        }
        if path.len() >= MAX_DEPTH {
            self.note_stuck(path.len(), &last, PathStop::MaxDepth);
            return false;
        }
        let issuers: Vec<Certificate> = self
            .candidates
            .iter()
            .filter(|(c, _)| last.may_be_issued_by(c) && !path.contains(c))
            .map(|(c, _)| (*c).clone())
            .collect();
        if issuers.is_empty() {
            self.note_stuck(path.len(), &last, PathStop::IssuerNotFound);
            return false;
        }
        for issuer in issuers {
            if let Err(reason) = last.verify_signed_by(&issuer) {
                self.record(
                    2,
                    ChainError::BadCertSignature {
                        subject: last.subject(),
                        issuer: issuer.subject(),
                        reason,
                    },
                );
                continue;
            }
            path.push(issuer);
            if self.extend(path) {
                return true;
            }
            path.pop();
        }
        false
    }

    fn note_stuck(&mut self, depth: usize, cert: &Certificate, why: PathStop) {
        if self.stuck.as_ref().is_none_or(|(d, ..)| depth > *d) {
            self.stuck = Some((depth, cert.subject(), cert.issuer(), why));
        }
    }

    fn into_error(self, leaf: &Certificate) -> ChainError {
        if let Some((_, err)) = self.best {
            return err;
        }
        let (stuck_at, issuer, stop) = self.stuck.map_or_else(
            || (leaf.subject(), leaf.issuer(), PathStop::IssuerNotFound),
            |(_, s, i, d)| (s, i, d),
        );
        ChainError::NoPath {
            leaf: leaf.subject(),
            stuck_at,
            issuer,
            stop,
        }
    }
}

/// OpenSSL `X509_check_ca`: `Err` = not a CA, 1 = basicConstraints CA:TRUE,
/// 3 = v1 self-signed, 4 = keyUsage keyCertSign without basicConstraints.
fn check_ca(cert: &Certificate) -> Result<u8, CaRefusal> {
    let ext = cert.extensions();
    if ext.key_usage.as_ref().is_some_and(|ku| !ku.key_cert_sign()) {
        return Err(CaRefusal::NoKeyCertSign);
    }
    match &ext.basic_constraints {
        Some(bc) if bc.ca => Ok(1),
        Some(_) => Err(CaRefusal::NotCa),
        None if cert.version_is_v1() && cert.is_self_issued() => Ok(3),
        None if ext.key_usage.is_some() => Ok(4),
        None => Err(CaRefusal::NoBasicConstraints),
    }
}

fn fmt_time(t: SystemTime) -> String {
    der::DateTime::from_system_time(t).map_or_else(|_| format!("{t:?}"), |d| d.to_string())
}

/// Checks a complete path (leaf first, anchor last) at `at`.
fn validate_path(path: &[Certificate], at: SystemTime) -> Result<(), ChainError> {
    let n = path.len();
    let mut plen = 0usize;
    for (i, cert) in path.iter().enumerate() {
        let ext = cert.extensions();
        if let Some(oid) = ext.unhandled_critical.first() {
            let name = oids::extension_name(oid);
            return Err(ChainError::UnhandledCriticalExtension {
                subject: cert.subject(),
                oid: oid.to_string(),
                name: if name.is_empty() {
                    String::new()
                } else {
                    format!(" ({name})")
                },
            });
        }
        if i > 0 {
            if ext.has_name_constraints {
                return Err(ChainError::NameConstraints {
                    subject: cert.subject(),
                });
            }
            let refusal = match check_ca(cert) {
                Err(refusal) => Some(refusal),
                Ok(kind) if i + 1 < n && kind != 1 => Some(CaRefusal::IntermediateNotCa),
                Ok(_) => None,
            };
            if let Some(reason) = refusal {
                return Err(ChainError::InvalidCa {
                    subject: cert.subject(),
                    reason,
                });
            }
            let path_len = ext
                .basic_constraints
                .as_ref()
                .and_then(|bc| bc.path_len_constraint);
            if let Some(path_len) = path_len
                && i > 1
                && plen > usize::from(path_len)
            {
                return Err(ChainError::PathLenExceeded {
                    subject: cert.subject(),
                    path_len,
                    intermediates: plen,
                });
            }
            if !cert.is_self_issued() {
                plen += 1;
            }
        }
        if at < cert.not_before() {
            return Err(ChainError::NotYetValid {
                subject: cert.subject(),
                at: fmt_time(at),
                not_before: fmt_time(cert.not_before()),
            });
        }
        if at > cert.not_after() {
            return Err(ChainError::Expired {
                subject: cert.subject(),
                at: fmt_time(at),
                not_after: fmt_time(cert.not_after()),
            });
        }
    }
    Ok(())
}

/// The reference's signing-usage rule for the leaf (oms-spec §3.2 step 4).
fn check_leaf_usage(leaf: &Certificate) -> Result<(), ChainError> {
    let ext = leaf.extensions();
    if ext
        .key_usage
        .as_ref()
        .is_some_and(|ku| ku.digital_signature())
    {
        return Ok(());
    }
    if ext
        .ext_key_usage
        .as_ref()
        .is_some_and(|eku| eku.contains(&oids::KP_CODE_SIGNING))
    {
        return Ok(());
    }
    if ext.key_usage.is_none() && ext.ext_key_usage.is_none() {
        return Ok(());
    }
    Err(ChainError::LeafNotForSigning {
        subject: leaf.subject(),
    })
}
