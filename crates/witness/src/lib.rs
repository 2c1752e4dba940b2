//! # hallmark-witness
//!
//! A transparency-log witness and the pieces logs and clients need to use witnesses: one
//! job, C2SP witnessing.
//!
//! ## Specs implemented
//!
//! * **C2SP tlog-witness v1.0.0** (`add-checkpoint`), with the later HEAD rule that the
//!   same size with another root is **422** (v1.0.0 said 409) and that cosignature
//!   timestamps are non-zero: server [`Witness`] + [`server::router`], client
//!   [`client::add_checkpoint`], wire format [`wire`]. `sign-subtree` and the monitoring
//!   `GET` are not implemented.
//! * **C2SP tlog-cosignature v1.0.1**, Ed25519 only (`cosignature/v1`, type `0x04`):
//!   [`cosig`]. ML-DSA-44 (type `0x06`) lines are skipped by the client and ignored by
//!   policies.
//! * **C2SP signed-note v1.0.0** and **tlog-checkpoint v1.0.0** through `hallmark-tlog`
//!   (`note`, `notekey`: Ed25519 and ECDSA log keys as vkeys).
//! * **C2SP tlog-policy** (sigsum-go's policy grammar with vkeys): [`policy`].
//!
//! ## For logs (asking witnesses)
//!
//! ```text
//! let lines = client::add_checkpoint(&agent, url, old_size, &proof, &signed_note)?;
//! // Err(AddCheckpointError::Conflict { known_size }) => resend from known_size
//! for l in lines.iter().filter(|l| key.is_mine(l)) { key.verify(l, body)?; note += &format!("{l}\n"); }
//! ```
//!
//! `url` is the witness's submission prefix (a policy's `witness` URL); `body` is the
//! checkpoint note text without signature lines (`hallmark_tlog::note::parse_note`'s
//! first half); a cosigned note is the log's note with the lines appended.
//!
//! ## For clients (enforcing a policy)
//!
//! [`Policy::parse`] then [`Policy::check`] on the checkpoint note (with its cosignature
//! lines): `Ok(Verified)` names the log and the witnesses that cosigned;
//! [`PolicyCheckError::QuorumNotMet`] names the quorum, who cosigned and the unmet group.
//!
//! ## Running a witness
//!
//! [`Witness::open`] (data directory: key made on first start with mode 0600, state
//! written ahead of every cosignature, never rolled back: see [`state`]) and
//! [`server::router`], served by the CLI's bounded loop (`hallmark witness serve`).

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod client;
pub mod cosig;
mod error;
pub mod policy;
pub mod server;
pub mod state;
pub mod wire;
mod witness;

pub use cosig::{CosignatureLine, Cosigner, CosignerKey};
pub use error::{AddCheckpointError, CosignatureError, PolicyCheckError, PolicyError, Refusal};
pub use policy::{Policy, Verified};
pub use state::StateError;
pub use witness::{LogsConfig, Witness};
