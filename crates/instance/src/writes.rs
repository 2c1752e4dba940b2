//! Who may append to the instance's log through `POST /api/v1/log/entries`, and what:
//! [`LogWrites`]. The defaults for a standalone instance keep stock clients working
//! (`model_signing` sends no credentials to Rekor) while an anonymous client can log
//! only what this instance's CA certified, at a bounded rate:
//!
//! * **access**: [`WriteAccess::Open`], [`WriteAccess::Token`] (every write needs
//!   `Authorization: Bearer <token>`; the token is kept only as its SHA-256 and compared
//!   in constant time) or [`WriteAccess::Off`] (the hub, which appends in-process);
//! * **what**: every verifier must be a certificate that chains to this instance's CA,
//!   valid now; foreign certificates and bare public keys only when configured;
//! * **how much**: per-client token buckets ([`Rate`]), and at most
//!   `max_concurrent_checks` entries parsed and checked at once, on the blocking pool.

use std::time::{Duration, SystemTime};

use axum::http::StatusCode;
use hallmark_crypto::{Certificate, ChainPolicy, ChainTime, verify_certificate_chain};
use thiserror::Error;

pub use crate::ratelimit::Rate;

/// How far ahead of this clock a certificate's start may be (clocks of replicas differ).
const CLOCK_SKEW: Duration = Duration::from_secs(60);

/// A secret that authorizes log writes. Only its SHA-256 is kept; `Debug` shows nothing.
#[derive(Clone)]
pub struct WriteToken([u8; 32]);

impl std::fmt::Debug for WriteToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WriteToken(..)")
    }
}

impl WriteToken {
    /// Fewest characters a token may have.
    pub const MIN_LEN: usize = 16;

    /// The token `secret` (surrounding white space ignored); `None` if it is shorter
    /// than [`WriteToken::MIN_LEN`].
    #[must_use]
    pub fn new(secret: &str) -> Option<Self> {
        let s = secret.trim();
        (s.len() >= Self::MIN_LEN).then(|| Self(hallmark_crypto::sha256(s.as_bytes())))
    }

    /// Whether `given` is this token (constant time).
    #[must_use]
    pub fn matches(&self, given: &str) -> bool {
        hallmark_crypto::ct_eq(&hallmark_crypto::sha256(given.as_bytes()), &self.0)
    }
}

/// Who may write.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum WriteAccess {
    /// Nobody over HTTP (the embedding service appends in-process).
    Off,
    /// Anyone, within the other bounds.
    Open,
    /// Holders of the token.
    Token(WriteToken),
}

/// The write policy of the log API.
#[derive(Clone, Debug)]
pub struct LogWrites {
    /// Who may write.
    pub access: WriteAccess,
    /// Accept certificates this instance's CA did not issue (self-signed, other CAs).
    pub accept_foreign_certificates: bool,
    /// Accept bare public keys as verifiers.
    pub accept_public_keys: bool,
    /// Per-client rate (`None`: unlimited).
    pub rate: Option<Rate>,
    /// Most entries parsed and checked at once; more wait before their body is read.
    pub max_concurrent_checks: usize,
}

impl LogWrites {
    /// Default rate of a standalone instance: 30 at once, 60 per minute per client.
    pub const DEFAULT_RATE: Rate = Rate {
        burst: 30,
        per_minute: 60,
    };

    /// Writes off (the hub: it appends through [`crate::EmbeddedSigner`]).
    #[must_use]
    pub fn off() -> Self {
        Self {
            access: WriteAccess::Off,
            ..Self::open()
        }
    }

    /// Open to anyone, CA-issued certificates only, [`LogWrites::DEFAULT_RATE`], two
    /// entries checked at once.
    #[must_use]
    pub fn open() -> Self {
        Self {
            access: WriteAccess::Open,
            accept_foreign_certificates: false,
            accept_public_keys: false,
            rate: Some(Self::DEFAULT_RATE),
            max_concurrent_checks: 2,
        }
    }
}

/// Why a write was refused.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum WriteRefusal {
    /// The write API is off.
    #[error("this log's write API is off: entries are appended only by the service that runs it")]
    Off,
    /// A token is required and none was sent.
    #[error("this log needs `Authorization: Bearer <log write token>` to append")]
    MissingToken,
    /// The token sent is not the log's.
    #[error("the log write token is not valid")]
    WrongToken,
    /// The client's rate is exhausted.
    #[error(
        "too many log writes from this client (at most {burst} at once, {per_minute} per minute): retry in {retry_after_secs} s"
    )]
    RateLimited {
        /// The burst allowed.
        burst: u32,
        /// The sustained rate allowed.
        per_minute: u32,
        /// Seconds until the next write is allowed.
        retry_after_secs: u64,
    },
    /// The body exceeds the limit.
    #[error("the request body exceeds {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// A verifier is a certificate this instance's CA did not issue.
    #[error(
        "verifier {index}: the certificate for {sans:?} (subject {subject:?}) does not chain to this instance's CA: {reason}; this log records only what its CA certified"
    )]
    ForeignCertificate {
        /// The verifier's position.
        index: usize,
        /// Its subject.
        subject: String,
        /// Its subjectAltName values.
        sans: Vec<String>,
        /// Why the chain fails.
        reason: String,
    },
    /// A verifier is a bare public key.
    #[error(
        "verifier {index} is a public key, not a certificate: this log records only signatures certified by its CA"
    )]
    PublicKey {
        /// The verifier's position.
        index: usize,
    },
    /// The entry is malformed or its signatures do not verify.
    #[error(transparent)]
    Invalid(hallmark_tlog::Error),
}

impl WriteRefusal {
    /// The HTTP status that answers it.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Off | Self::ForeignCertificate { .. } | Self::PublicKey { .. } => {
                StatusCode::FORBIDDEN
            }
            Self::MissingToken | Self::WrongToken => StatusCode::UNAUTHORIZED,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Invalid(_) => StatusCode::BAD_REQUEST,
        }
    }
}

/// This instance's CA, as verifiers are checked against it.
#[derive(Debug)]
pub(crate) struct CaAnchor {
    pub(crate) root: Certificate,
    pub(crate) intermediate: Certificate,
}

impl CaAnchor {
    /// The root and intermediate of `ca` (whose files are in `dir`), parsed.
    pub(crate) fn of(
        ca: &hallmark_ca::Ca,
        dir: &std::path::Path,
    ) -> Result<Self, hallmark_ca::CaError> {
        let parse = |der: &[u8], file: &str| {
            Certificate::from_der(der).map_err(|e| hallmark_ca::CaError::BadMaterial {
                path: dir.join(file),
                reason: e.to_string(),
            })
        };
        let m = ca.material();
        Ok(Self {
            root: parse(&m.root_der, "root.pem")?,
            intermediate: parse(&m.intermediate_der, "intermediate.pem")?,
        })
    }
}

impl LogWrites {
    /// Checks each verifier (PEM text) against the policy: certificates must chain to
    /// `ca` and be valid now unless foreign certificates are accepted; public keys only
    /// when accepted.
    pub(crate) fn check_verifiers(
        &self,
        ca: &CaAnchor,
        verifiers: &[String],
    ) -> Result<(), WriteRefusal> {
        for (index, pem) in verifiers.iter().enumerate() {
            if !pem.contains("-----BEGIN CERTIFICATE-----") {
                if !self.accept_public_keys {
                    return Err(WriteRefusal::PublicKey { index });
                }
                continue;
            }
            if self.accept_foreign_certificates {
                continue;
            }
            let leaf = hallmark_crypto::load_certificates_pem(pem.as_bytes())
                .ok()
                .and_then(|c| c.into_iter().next())
                .ok_or_else(|| {
                    WriteRefusal::Invalid(hallmark_tlog::Error::InvalidEntry(format!(
                        "verifier {index} is not a PEM certificate"
                    )))
                })?;
            // Valid now; a certificate another replica issued up to CLOCK_SKEW ahead of
            // this clock is checked at its start instead.
            let now = SystemTime::now();
            let start = leaf.not_before();
            let at = if start > now && start <= now + CLOCK_SKEW {
                start
            } else {
                now
            };
            let policy = ChainPolicy {
                time: ChainTime::At(at),
            };
            verify_certificate_chain(
                &leaf,
                std::slice::from_ref(&ca.intermediate),
                std::slice::from_ref(&ca.root),
                &policy,
            )
            .map_err(|e| WriteRefusal::ForeignCertificate {
                index,
                subject: leaf.subject(),
                sans: leaf.san_values(),
                reason: e.to_string(),
            })?;
        }
        Ok(())
    }
}
