//! # hallmark-sigstore
//!
//! Offline verification of **keyless** OpenSSF Model Signing (OMS) signatures: a Sigstore
//! bundle whose content is a DSSE envelope, signed with a short-lived Fulcio certificate and
//! recorded in a Rekor transparency log. [`verify_dsse_bundle`] checks the bundle against a
//! [`TrustedRoot`] (the Sigstore public-good instance, or any private instance's
//! ClientTrustConfig / `trusted_root.json`) and an [`IdentityPolicy`], and returns the
//! authenticated DSSE payload. It does **not** interpret the payload: the caller checks the
//! in-toto statement, its subject digest and the manifest against the model on disk.
//!
//! ## Specs implemented
//!
//! * Sigstore bundle v0.1–v0.3 JSON (`application/vnd.dev.sigstore.bundle.v0.3+json`;
//!   sigstore/protobuf-specs), DSSE v1 with PAE, exactly one signature and exactly one
//!   transparency-log entry (as sigstore-python 4.5 requires).
//! * Trust: ClientTrustConfig `application/vnd.dev.sigstore.clienttrustconfig.v0.1+json`
//!   (camelCase or snake_case keys; `signingConfig` ignored) and TrustedRoot
//!   `application/vnd.dev.sigstore.trustedroot+json;version=0.1` (v0.2 is refused, like
//!   sigstore-python 4.5.1 and sigstore-go).
//! * Fulcio certificate profile: chain to a Fulcio CA of the trust root at every
//!   authenticated signing time, code-signing EKU, embedded RFC 6962 precertificate SCT signed
//!   by a CT log of the trust root, issuer from OID 1.3.6.1.4.1.57264.1.8 falling back to the
//!   legacy .1.1.
//! * Rekor v1 entries `dsse` 0.0.1 and `intoto` 0.0.2: RFC 6962 inclusion proof against a
//!   C2SP signed-note checkpoint and the signed entry timestamp (RFC 8785 JSON); Rekor v2
//!   `hashedrekord` 0.0.2 entries (over the DSSE PAE) whose time comes from RFC 3161
//!   timestamps by a TSA of the trust root. A `hashedrekord` 0.0.1 entry logs a message
//!   digest and cannot bind a DSSE envelope, so it is refused for DSSE bundles, as by
//!   sigstore-python. The log entry body must bind this envelope and certificate
//!   (CVE-2022-36056 class).
//!
//! Checks run in this order and are reported by name ([`Check`]): signing time, certificate
//! chain, certificate transparency, transparency log, DSSE signature, log entry binding,
//! identity, issuer. A refusal is [`SigstoreError::CheckFailed`] naming the check, e.g.
//! `identity check failed: certificate identity is alice@example.com, expected bob@example.com`.
//!
//! ## Decision: `sigstore-verify` =0.15.1 behind this adapter, not our own verifier
//!
//! (rust-stack.md §3.) The cryptographic verification is delegated to `sigstore-verify`
//! 0.15.1 (sigstore/sigstore-rust), pinned with `=` in the workspace, with
//! `default-features = false, features = ["aws-lc-rs"]` (no TUF, no rustls, no HTTP client).
//! This crate is the only place that names it; callers see only the types here, so the
//! dependency can be replaced or upgraded in one place. Evidence gathered on 2026-11-25:
//!
//! * **It builds here** with rustc 1.95.0 / edition 2024 workspace (its MSRV is 1.86): about
//!   35 s on top of the workspace's existing aws-lc-rs build, no warnings in our crate.
//! * **Weight**: this crate's normal dependency tree is 60 crates; 27 of them arrive with
//!   sigstore-verify and are new to the workspace (the eight `sigstore-*` crates, `cms`, `tls_codec`,
//!   `rustls-webpki`, `serde_json_canonicalizer`, `jiff`, `pem`, `tracing`, `base64` 0.23,
//!   `untrusted` 0.7 + 0.9, …) plus `regex-lite` for `--identity-regex`. No `reqwest`, `hyper`,
//!   `tokio` or OpenSSL. It shares our generation of formats crates (der 0.7, x509-cert 0.2,
//!   spki 0.7) and the same aws-lc-rs, so nothing is duplicated but `untrusted`.
//! * **It verifies every fixture**: the four public-good goldens (v0.3.1, v1.0.0, v1.0.1 with
//!   SET, v1.1.0 with SET + RFC 3161), the eight conformance-suite Sigstore cases with their
//!   expected outcomes, the private instance case40/41, and bundles from the research oracle
//!   for the paths no reference fixture has (Rekor v2 `hashedrekord` 0.0.2 + RFC 3161 with
//!   ECDSA and Ed25519 checkpoints, Rekor v1 + TSA, URI SAN through an intermediate).
//!   It refuses every adversarial bundle in `testdata/sigstore` with the right category.
//! * **Private instances**: the trust root is plain data (`TrustedRoot` deserialized from
//!   JSON; `Verifier::new` validates keys, windows and duplicates up front). Nothing assumes
//!   the public-good URLs or TUF.
//! * **API fit**: its errors are categorised (certificate / SCT / transparency log / timestamp
//!   / signature / entry mismatch), which maps one-to-one onto our named checks, and its result
//!   says which checks ran. Two frictions, handled here: it binds an in-toto statement to an
//!   "artifact" by subject digest (we pass the statement's own subject digest, leaving the OMS
//!   manifest check to the caller), and it has no identity regex (we match identity and issuer
//!   ourselves after it succeeds, with anchored `regex-lite`, linear-time).
//! * **Against writing our own** (aws-lc-rs + x509-cert/der): chain building with time-of-
//!   signing validity, precertificate SCT reconstruction, RFC 3161 CMS verification,
//!   RFC 6962 proofs, signed notes with three key-ID schemes and entry-body consistency for
//!   four entry kinds is several thousand lines where security bugs live; sigstore-verify is
//!   conformance-tested upstream and carries Trail of Bits audit fixes. The `sigstore`
//!   (sigstore-rs) crate was rejected: its bundle verifier leaves inclusion-proof and SET
//!   checks as TODOs and pulls ~235–310 crates.
//! * **Costs accepted**: pre-1.0 API churn (hence the exact pin and this adapter), and two
//!   deviations from sigstore-python 4.5.1 inherited from it: the issuer is read from `.1.8`
//!   first (the reference reads only `.1.1`; Fulcio writes the same URL to both), and the
//!   identity is the certificate's first email/URI SAN (Fulcio writes exactly one).
//!   It also accepts `intoto` 0.0.2 entries for DSSE, which sigstore-python refuses and
//!   sigstore-go accepts (no fixture exercises this path yet).
//!
//! ## Signing config
//!
//! [`signing_config`]: SigningConfig v0.2 service selection for signers (validity windows,
//! highest supported `majorApiVersion`, one per operator, ALL/ANY/EXACT), pure, no network.
//!
//! ## Limits
//!
//! Bundles over [`MAX_BUNDLE_BYTES`] and trust roots over 16 MiB are refused before parsing.
//! No network access is ever made.

mod check;
mod error;
mod limits;
pub mod signing_config;
mod trust;
mod verify;

pub use check::Check;
pub use error::{BundleRefusal, PolicyRefusal, SigstoreError, TrustRootRefusal};
pub use limits::MAX_BUNDLE_BYTES;
pub use trust::{
    CLIENT_TRUST_CONFIG_MEDIA_TYPE, PUBLIC_GOOD_SNAPSHOT_DATE, PUBLIC_GOOD_SNAPSHOT_SOURCE,
    PUBLIC_GOOD_TRUST_CONFIG_JSON, STAGING_TRUST_CONFIG_JSON, TRUSTED_ROOT_MEDIA_TYPE, TrustedRoot,
};
pub use verify::{CheckOutcome, IdentityPolicy, SigstoreVerified, verify_dsse_bundle};
