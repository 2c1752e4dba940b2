//! # hallmark-store
//!
//! Storage for the Hallmark model hub (issue 7), shaped for scale-out (issue 10):
//!
//! * **Metadata** behind one async repository trait, [`MetaStore`] (accounts, org roles,
//!   API tokens, sessions, repos, immutable revisions, upload sessions, signature
//!   states). [`SqlMeta`] implements it once, with sqlx runtime queries, for SQLite
//!   ([`SqliteStore`]) and PostgreSQL ([`PgStore`], several hub replicas share one
//!   database); one set of migrations, `migrations/NNNN_name.sql`, is rendered for each.
//! * **Blobs** through [`object_store`] ([`BlobStore`]): content-addressed by SHA-256
//!   under `blobs/sha256/<2 hex>/<64 hex>`, hashed while they stream in, written to a
//!   staging key and only then renamed (create-if-absent) to their final key, so no
//!   partial or unverified blob is ever visible under a digest. Today a local directory
//!   (`LocalFileSystem`) or any S3-compatible store ([`s3_store`], `s3://bucket?endpoint=…`).
//! * **The transparency log on shared storage** ([`log`]): its tiles through
//!   `object_store` and its checkpoint, sequencer lease and entry queue on PostgreSQL, so
//!   several hub replicas append to one log.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod blob;
mod checked;
mod error;
#[cfg(unix)]
mod filestream;
mod gc;
pub mod log;
mod meta;
mod model;
mod response;
mod s3;
mod sql;
mod stamp;
mod watch;

pub use blob::{BlobStore, BlobWriter, PART_SIZE, REFRESH_AFTER, StoredBlob};
pub use checked::{MAX_VERIFIED, VERIFY_SLOTS, VerifiedBlobs, checked, checked_then};
pub use error::{Result, StoreError};
pub use gc::{DEFAULT_GRACE, GcReport, MIN_GRACE, collect_unreferenced_blobs};
pub use meta::MetaStore;
pub use model::{
    Account, AccountKind, AdminEvent, BlobUse, Claim, ClaimKind, ClaimStatus, FileEntry, NewClaim,
    NewRevision, RefEntry, RefKind, Repo, RepoQuery, Revision, Role, ScanFinding, ScanResult,
    ScanTarget, ScanVerdict, SessionRecord, SigStatus, SignatureState, SigningEvent, TokenRecord,
    TokenScope, TrustEntry, TrustKind, Upload,
};
pub use response::{
    Affected, ClaimRef, ClaimRefKind, Incident, IncidentSelector, NewIncident, QueryHit,
    ResponseStore, Revocation, SignatureQuery, Visibility,
};
pub use s3::{S3Url, s3_store};
pub use sql::{Backend, Dialect, MIGRATOR, PG_MIGRATOR, PgStore, SqlMeta, SqliteStore};
pub use stamp::{BlobStamp, RACY_MARGIN};
pub use watch::{MAX_ALERTS_PER_ORG, NewAlert, OrgWatch, StoredAlert, WatchStore};
