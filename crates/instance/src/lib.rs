//! # hallmark-instance
//!
//! A private Sigstore instance that the stock clients (`model_signing`, sigstore-python)
//! use with nothing but a ClientTrustConfig file, and that the model hub embeds:
//!
//! * OIDC issuer at the instance URL: `/.well-known/openid-configuration`, `/jwks`
//!   (ES256 keys from [`hallmark_oidc`], rotated with overlap);
//! * Fulcio API v2: `POST /api/v2/signingCert` — bearer ID token validated (signature,
//!   issuer, audience `sigstore`, expiry), proof of possession checked, a 10-minute
//!   certificate with embedded SCT issued ([`hallmark_ca`]);
//! * Rekor v1 write API: `POST /api/v1/log/entries` for `dsse` and `hashedrekord` v0.0.1 proposed entries,
//!   answered with the entry, its SET and inclusion proof once durable ([`hallmark_tlog`]);
//!   who may write and what is [`LogWrites`] (off in the hub; for a standalone instance
//!   open to certificates of its own CA, rate-limited per client, optionally behind a token),
//!   plus the log's read API (`/checkpoint`, `/tile/…`, `/api/v1/log…`);
//! * Rekor v2 write API: `POST /api/v2/log/entries` (`hashedrekord` 0.0.2, DSSE logged as
//!   the hashedrekord of its PAE) on a second log whose origin is the URL's host name,
//!   answered with the `TransparencyLogEntry` (inclusion proof + checkpoint, no SET), under
//!   the same [`LogWrites`] policy; its tiles under `/rekor2/` (local log backend only);
//! * RFC 3161 timestamp authority: `POST /api/v1/timestamp` (DER TimeStampReq →
//!   TimeStampResp), its own root and a signing certificate with critical EKU
//!   id-kp-timeStamping (`tsa/` in the data directory);
//! * `GET /trust-config.json`: ClientTrustConfig v0.1 (trusted root v0.1 listing both logs
//!   and the TSA + signing config v0.2 with this instance's URLs: Fulcio, OIDC, Rekor v1 and
//!   v2, TSA).
//!
//! Data directory layout: `oidc/` (issuer keys), `ca/` (CA material), `log/` (log key,
//! `tree-id`, `origin-host`; with the default [`LogBackend::Local`] also the tiles and the
//! checkpoint lock). With [`LogBackend::Shared`] the log is one history shared by several
//! replicas ([`hallmark_tlog::SharedSequencer`]); every replica then needs the same
//! `oidc/`, `ca/` and `log/` key material. Every private key is mode 0600 and never logged.
//! Not implemented: the interactive OAuth flow (tokens are minted for
//! authenticated principals by the operator command or the hub).

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod embedded;
mod entries;
mod error;
mod files;
mod health;
pub mod listen;
mod log2;
mod ratelimit;
mod rekor2;
mod reply;
mod routes;
mod state;
mod timestamp;
mod witnessclient;
mod witnessing;
mod writes;

pub use embedded::{EmbeddedSigner, LoggedEntry};
pub use entries::MAX_ENTRY_REQUEST_BYTES;
pub use error::InstanceError;
pub use health::{LogReadiness, health_router, log_readiness, witness_json};
pub use routes::router;
pub use state::{
    DEFAULT_V1_KEY_TYPE, DEFAULT_V2_KEY_TYPE, Instance, InstanceConfig, LogBackend, log_config,
};
pub use timestamp::MAX_TIMESTAMP_REQUEST_BYTES;
pub use witnessclient::{HttpWitness, witness_config};
pub use witnessing::{
    CheckpointWitness, ProofSource, WitnessConfig, WitnessFailure, WitnessReport, Witnessing,
    tile_proofs,
};
pub use writes::{LogWrites, Rate, WriteAccess, WriteRefusal, WriteToken};
