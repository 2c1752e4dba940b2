//! End-to-end tests of the `hallmark` binary: exit status (0 verified, 1 verification
//! failed, 2 input error), what stderr names, and `--json` output.
//!
//! * `oms`: every case 01–28 of the OMS conformance fixtures (copied to `testdata/oms`);
//! * `golden`: the reference's 13 historical signatures (copied to `testdata/golden`);
//! * `adversarial`: the scenarios of `testdata/adversarial`, plus a 256 MiB bundle;
//! * `digest`: `hallmark digest` equals the reference library on every fixture;
//! * `modes`: outputs honour the umask;
//! * `pkcs11`: signing with SoftHSM2 token keys (skipped without SoftHSM2);
//! * `incremental`: `sign`/`verify --incremental` reuse only what the stat cache and
//!   the signature agree on, re-hash a file whose bytes changed under a restored mtime;
//! * `roundtrip`: sign → verify, `--json`, `inspect`, and input errors;
//! * `surface`: `--version` names the commit, shell completions;
//! * `mlsecops`: datasets, BOM, provenance and policy end to end;
//! * `pull`: `hallmark pull` against a live hub: signer pinning, tampered blobs, another
//!   trust root, and that a failed pull writes nothing;
//! * `pullresume`: an interrupted pull resumed with `Range` (only the rest is downloaded),
//!   tampered kept bytes, a server that ignores `Range`.
//!
//! Command lines are built with [`cmd::Cmd`].

#![allow(clippy::unwrap_used)]
// Test diagnostics print with std's macros; the binary's own output goes through `outln!`.
#![allow(clippy::disallowed_macros)]

mod adversarial;
mod cmd;
mod digest;
mod golden;
#[cfg(feature = "server")]
mod hubadmin;
#[cfg(all(feature = "server", feature = "client"))]
mod hubmonitor;
#[cfg(feature = "server")]
mod hubproc;
#[cfg(feature = "server")]
mod hubquery;
mod incremental;
#[cfg(feature = "server")]
mod keyless;
#[cfg(feature = "client")]
mod logmonitor;
#[cfg(feature = "client")]
mod mlsecops;
mod modes;
mod oms;
#[cfg(feature = "pkcs11")]
mod pkcs11;
#[cfg(feature = "server")]
mod pull;
#[cfg(feature = "server")]
mod pullproxy;
#[cfg(feature = "server")]
mod pullrequire;
#[cfg(feature = "server")]
mod pullresume;
#[cfg(feature = "server")]
mod pullrevoked;
mod roundtrip;
mod sigpipe;
mod surface;
#[cfg(feature = "server")]
mod verifyhub;
#[cfg(feature = "server")]
mod witnesscrash;

pub(crate) use cmd::{Cmd, Out};
