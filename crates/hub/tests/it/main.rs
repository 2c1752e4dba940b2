//! In-process tests of the hub's HTTP application (`tower::ServiceExt::oneshot`, no
//! sockets): upload → sign → revision → HF-compatible reads → independent verification,
//! and the authorization, privacy and input-validation bars.

#![allow(clippy::unwrap_used, missing_docs)]

mod attack;
mod cards;
mod claims;
mod claimsui;
mod export;
mod flow;
mod guards;
mod harness;
mod hfbad;
mod hfwrite;
mod incidentkit;
mod incidents;
mod integrity;
mod keylessclaims;
mod names;
mod operator;
mod pushes;
mod queryui;
mod racy;
mod refs;
mod scaleout;
mod scans;
mod scrubbing;
mod seeded;
mod ui;
mod webhook;
