//! The crate's closed error enums: one per job (cosignatures, the add-checkpoint request a
//! witness refuses, the client's view of a refusal, policy text, policy checks).

/// A cosignature or cosigning key that is malformed or does not verify.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CosignatureError {
    /// Not a cosignature/v1 line or key.
    #[error("malformed cosignature: {0}")]
    Malformed(String),
    /// A note-key failure (vkey or private key text).
    #[error(transparent)]
    Key(#[from] hallmark_tlog::Error),
    /// The line is by another key.
    #[error("cosignature by {name} is not by key {expected}")]
    WrongKey {
        /// The line's key name.
        name: String,
        /// The expected vkey.
        expected: String,
    },
    /// The signature does not verify over the checkpoint.
    #[error("the cosignature by {name} does not verify over the checkpoint")]
    BadSignature {
        /// The cosigner.
        name: String,
    },
}

/// Why a witness refuses an add-checkpoint request; [`Refusal::status`] is the HTTP status
/// C2SP tlog-witness assigns.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The body does not parse (400).
    #[error("malformed request: {0}")]
    Malformed(String),
    /// The body is over the limit (413).
    #[error("request body is over {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// More consistency-proof lines than allowed (400).
    #[error("{lines} consistency proof lines, at most {limit}")]
    ProofTooLong {
        /// Lines sent.
        lines: usize,
        /// The limit.
        limit: usize,
    },
    /// `old` is larger than the checkpoint's size (400).
    #[error("old size {old} is beyond the checkpoint size {size}")]
    OldBeyondSize {
        /// Old size.
        old: u64,
        /// Checkpoint size.
        size: u64,
    },
    /// The origin is not a log this witness witnesses (404).
    #[error("unknown log origin {0:?}")]
    UnknownOrigin(String),
    /// No valid signature by the log's key, or a line by it that fails (403).
    #[error("checkpoint of {origin:?} is not signed by its log key: {detail}")]
    NotSigned {
        /// Origin.
        origin: String,
        /// What failed.
        detail: String,
    },
    /// `old` is not the size this witness last cosigned (409).
    #[error("the witness's latest cosigned size is {known_size}")]
    Conflict {
        /// The size it knows.
        known_size: u64,
    },
    /// The consistency proof does not verify, or is not empty from size 0, or a size-0
    /// checkpoint does not have the empty root, or the same size has another root (422).
    #[error("checkpoint of {origin:?} at size {size} is not consistent with size {old}: {detail}")]
    Inconsistent {
        /// Origin.
        origin: String,
        /// Old size.
        old: u64,
        /// New size.
        size: u64,
        /// Which check failed.
        detail: String,
    },
    /// The new state could not be made durable: nothing was cosigned (500).
    #[error("witness state could not be saved: {0}")]
    Storage(String),
}

impl Refusal {
    /// The HTTP status code for this refusal.
    #[must_use]
    pub fn status(&self) -> u16 {
        match self {
            Self::Malformed(_) | Self::ProofTooLong { .. } | Self::OldBeyondSize { .. } => 400,
            Self::TooLarge { .. } => 413,
            Self::UnknownOrigin(_) => 404,
            Self::NotSigned { .. } => 403,
            Self::Conflict { .. } => 409,
            Self::Inconsistent { .. } => 422,
            Self::Storage(_) => 500,
        }
    }
}

/// Why [`crate::client::add_checkpoint`] got no cosignature.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddCheckpointError {
    /// 409: the witness's latest cosigned size is `known_size` (resend from it).
    #[error("the witness has cosigned tree size {known_size}, not the old size sent")]
    Conflict {
        /// The size it knows.
        known_size: u64,
    },
    /// 400: malformed request or old size beyond the checkpoint.
    #[error("witness refused the request as malformed (400): {0}")]
    BadRequest(String),
    /// 403: the checkpoint is not signed by a key the witness trusts for the origin.
    #[error("witness does not accept the checkpoint's signature (403): {0}")]
    Forbidden(String),
    /// 404: the witness does not witness this origin.
    #[error("witness does not know the log (404): {0}")]
    UnknownLog(String),
    /// 422: the checkpoint is not consistent with what the witness saw.
    #[error("witness found the checkpoint inconsistent (422): {0}")]
    Inconsistent(String),
    /// Any other status.
    #[error("witness answered HTTP {status}: {detail}")]
    Status {
        /// HTTP status.
        status: u16,
        /// Body (bounded).
        detail: String,
    },
    /// No answer (connection, timeout, I/O).
    #[error("witness unreachable: {0}")]
    Unreachable(String),
    /// A 200 or 409 whose body is not what the spec says.
    #[error("malformed witness answer: {0}")]
    Malformed(String),
}

/// A policy text that does not parse (line numbers from 1).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("witness policy line {line}: {reason}")]
pub struct PolicyError {
    /// The line.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

/// Why a checkpoint does not satisfy a policy.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyCheckError {
    /// The note is malformed.
    #[error("checkpoint note: {0}")]
    BadNote(String),
    /// No log of the policy signed it (the origin is named).
    #[error("checkpoint of {origin:?} is not signed by a log of the policy: {detail}")]
    LogNotTrusted {
        /// Origin.
        origin: String,
        /// Per-log failures.
        detail: String,
    },
    /// A line by a policy witness does not verify.
    #[error("cosignature of witness {witness}: {detail}")]
    BadCosignature {
        /// Witness name in the policy.
        witness: String,
        /// What failed.
        detail: String,
    },
    /// Too few witnesses cosigned.
    #[error(
        "witness quorum {quorum} not met for {origin:?} at size {size}: cosigned by [{}]; {detail}",
        cosigned.join(", ")
    )]
    QuorumNotMet {
        /// Origin.
        origin: String,
        /// Tree size.
        size: u64,
        /// The quorum's name.
        quorum: String,
        /// Policy witnesses whose valid cosignature the note carries.
        cosigned: Vec<String>,
        /// The first unmet group, with its threshold.
        detail: String,
    },
}
