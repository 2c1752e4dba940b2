//! Rows of the metadata store, as plain data.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::error::StoreError;

/// A closed set of values stored as lower-case words: the enum, `as_str` (the stored
/// spelling), `Display` (the same) and `FromStr` (a stored word back, or
/// [`StoreError::Corrupt`] naming what it was meant to be).
macro_rules! stored_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident($what:literal) {
            $($(#[$vmeta:meta])* $variant:ident = $word:literal,)+
        }
    ) => {
        $(#[$meta])*
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// The stored spelling.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $word,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = StoreError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($word => Ok(Self::$variant),)+
                    other => Err(StoreError::Corrupt(format!(concat!($what, " {:?}"), other))),
                }
            }
        }
    };
}
pub(crate) use stored_enum;

stored_enum! {
    /// Whether a namespace belongs to a person or to an organisation.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "lowercase")]
    pub enum AccountKind("account kind") {
        /// A person who can log in and hold tokens.
        User = "user",
        /// An organisation: owns repos, has members with roles.
        Org = "org",
    }
}

/// A user or an organisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Account {
    /// Database id.
    pub id: i64,
    /// The namespace name (case-insensitively unique).
    pub name: String,
    /// User or org.
    pub kind: AccountKind,
    /// Contact e-mail (users).
    pub email: Option<String>,
    /// Hub administrator (users only).
    pub is_admin: bool,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds, when an operator disabled the user: their tokens and sessions are
    /// refused and the hub signs nothing for them until re-enabled.
    pub disabled_at: Option<i64>,
}

impl Account {
    /// Whether an operator disabled this user.
    #[must_use]
    pub fn is_disabled(&self) -> bool {
        self.disabled_at.is_some()
    }
}

stored_enum! {
    /// A member's role in an organisation.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
    #[serde(rename_all = "lowercase")]
    pub enum Role("role") {
        /// May read private repos.
        Reader = "reader",
        /// May also publish (push revisions, create repos).
        Maintainer = "maintainer",
        /// May also manage members and settings.
        Owner = "owner",
    }
}

stored_enum! {
    /// What an API token may do.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
    #[serde(rename_all = "lowercase")]
    pub enum TokenScope("token scope") {
        /// Read (download private repos the user can see).
        Read = "read",
        /// Read and write (push, create repos, manage).
        Write = "write",
    }
}

/// An API token's metadata (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TokenRecord {
    /// Database id (shown to users so they can revoke it).
    pub id: i64,
    /// The owning user.
    pub user_id: i64,
    /// A human label.
    pub label: String,
    /// Read or write.
    pub scope: TokenScope,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds, when last presented.
    pub last_used_at: Option<i64>,
    /// Unix seconds, when revoked.
    pub revoked_at: Option<i64>,
    /// Unix seconds after which the token is refused; `None`: never expires.
    pub expires_at: Option<i64>,
}

impl TokenRecord {
    /// Whether the token has expired at `now` (Unix seconds).
    #[must_use]
    pub fn expired_at(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|e| e <= now)
    }
}

/// A web session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    /// The user.
    pub user_id: i64,
    /// The session's CSRF token (for forms).
    pub csrf_token: String,
    /// Unix seconds.
    pub expires_at: i64,
}

/// A model repository.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Repo {
    /// Database id.
    pub id: i64,
    /// Owning account id.
    pub owner_id: i64,
    /// Owning account name.
    pub owner: String,
    /// Owner is a user or an org.
    pub owner_kind: AccountKind,
    /// Repo name.
    pub name: String,
    /// Visible only to the owner and members.
    pub private: bool,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds (last revision).
    pub updated_at: i64,
    /// Commit `main` points at, if any revision exists.
    pub head: Option<String>,
}

impl Repo {
    /// `owner/name`.
    #[must_use]
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }
}

/// One file of a revision or of an upload in progress.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileEntry {
    /// Repo-relative POSIX path.
    pub path: String,
    /// Lower-case hex SHA-256 of the content (also the blob key).
    pub sha256: String,
    /// Bytes.
    pub size: u64,
}

stored_enum! {
    /// Signature state of a revision.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "lowercase")]
    pub enum SigStatus("signature status") {
        /// No signature.
        Unsigned = "unsigned",
        /// The signature verified against the revision's files.
        Verified = "verified",
        /// A signature is present but did not verify.
        Failed = "failed",
    }
}

/// The latest verification result of a revision's signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SignatureState {
    /// Unsigned, verified or failed.
    pub status: SigStatus,
    /// `key`, `certificate` or `sigstore`.
    pub method: Option<String>,
    /// Signer identity (URI of the uploader on the hub).
    pub identity: Option<String>,
    /// OIDC issuer of the identity.
    pub issuer: Option<String>,
    /// Transparency-log index, when logged.
    pub log_index: Option<i64>,
    /// Why verification failed, or what was checked.
    pub detail: Option<String>,
    /// Unix seconds of the last check.
    pub checked_at: Option<i64>,
}

/// An immutable revision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Revision {
    /// The repo.
    pub repo_id: i64,
    /// 40-hex commit id.
    pub commit: String,
    /// The previous head, if any.
    pub parent: Option<String>,
    /// Who uploaded it.
    pub uploader_id: i64,
    /// Their name.
    pub uploader: String,
    /// Commit message.
    pub summary: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Number of files (including `model.sig`).
    pub file_count: u64,
    /// Sum of file sizes.
    pub total_size: u64,
    /// Signature state.
    pub signature: SignatureState,
    /// Set when this revision's signer differs from the previous revision's.
    pub identity_changed_from: Option<String>,
    /// The scan verdict over its files (`None`: stored before scanning, i.e. unverified);
    /// the findings are [`crate::MetaStore::scan_findings`].
    pub scan_verdict: Option<ScanVerdict>,
    /// The scanner policy version that judged it.
    pub scan_policy: Option<String>,
    /// The open incident revoking it, if any (issue 20).
    pub revoked: Option<Revocation>,
}

/// What makes a revision `revoked`: the oldest open incident that matched it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Revocation {
    /// The incident.
    pub id: i64,
    /// Its reason.
    pub reason: String,
    /// When it was opened (Unix seconds).
    pub opened_at: i64,
}

stored_enum! {
    /// The verdict of a scan, best first: a revision's is the worst over its files.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
    #[serde(rename_all = "lowercase")]
    pub enum ScanVerdict("scan verdict") {
        /// Fully parsed, nothing outside the policy.
        Clean = "clean",
        /// Could not be checked completely (parse error, limit, timeout): never clean.
        Unverified = "unverified",
        /// Outside the policy's allow-list.
        Suspicious = "suspicious",
        /// Loading it would run code or touch files, processes or the network.
        Dangerous = "dangerous",
    }
}

/// One finding of a revision's scan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ScanFinding {
    /// The revision file (archive members follow after `!`).
    pub path: String,
    /// Stable rule id (`HM-PKL-001`).
    pub rule: String,
    /// `info`, `unverified`, `suspicious` or `dangerous`.
    pub severity: String,
    /// What the scanner saw.
    pub message: String,
}

/// A revision's scan, recorded with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ScanResult {
    /// Worst verdict over the files.
    pub verdict: ScanVerdict,
    /// The scanner policy version.
    pub policy_version: String,
    /// Every finding.
    pub findings: Vec<ScanFinding>,
}

/// A stored revision as the re-scan sees it: where it is and which scanner policy
/// judged it (`None`: stored before scanning).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanTarget {
    /// The repo.
    pub repo_id: i64,
    /// 40-hex commit id.
    pub commit: String,
    /// The policy version of its recorded scan.
    pub policy: Option<String>,
    /// Its recorded verdict.
    pub verdict: Option<ScanVerdict>,
}

/// One revision file stored as a given blob (what a blob's corruption fails).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobUse {
    /// The repo.
    pub repo_id: i64,
    /// 40-hex commit id.
    pub commit: String,
    /// The file's path in the revision.
    pub path: String,
}

/// What is needed to record a new revision.
#[derive(Clone, Debug)]
pub struct NewRevision {
    /// The repo.
    pub repo_id: i64,
    /// 40-hex commit id.
    pub commit: String,
    /// The head this revision was built on (`None` for the first); the commit fails with
    /// [`StoreError::Conflict`] if `main` moved meanwhile.
    pub parent: Option<String>,
    /// Uploader.
    pub uploader_id: i64,
    /// Commit message.
    pub summary: String,
    /// Every file, `model.sig` included.
    pub files: Vec<FileEntry>,
    /// Initial signature state.
    pub signature: SignatureState,
    /// Previous signer, if it differs.
    pub identity_changed_from: Option<String>,
    /// The upload session to close in the same transaction.
    pub upload_id: Option<String>,
    /// The scan of its files (`None`: not scanned, shown as unverified).
    pub scan: Option<ScanResult>,
    /// Claims recorded in the same transaction.
    pub claims: Vec<NewClaim>,
}

/// An upload in progress.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upload {
    /// Random id.
    pub id: String,
    /// Target repo.
    pub repo_id: i64,
    /// The user who opened it (only they may add files or commit).
    pub user_id: i64,
    /// Unix seconds.
    pub created_at: i64,
}

/// One signing event, for the audit page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SigningEvent {
    /// `owner/name`.
    pub repo: String,
    /// Whether the repo is private.
    pub private: bool,
    /// Owner account id (for visibility checks).
    pub owner_id: i64,
    /// The revision.
    pub commit: String,
    /// Uploader name.
    pub uploader: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Signature state.
    pub signature: SignatureState,
}

/// Filters for listing repos.
#[derive(Clone, Debug, Default)]
pub struct RepoQuery {
    /// Substring of `owner/name` (case-insensitive).
    pub search: Option<String>,
    /// Only this owner.
    pub owner: Option<String>,
    /// Also private repos this user may see (owner or member); `None` = public only.
    pub viewer: Option<i64>,
    /// Administrators see everything.
    pub viewer_is_admin: bool,
    /// Page size (capped by the store).
    pub limit: u32,
    /// Offset.
    pub offset: u32,
}

/// One recorded operator action (`hallmark hub admin …` or `/api/admin/…`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AdminEvent {
    /// Database id.
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    /// Who: an administrator's account name, or `cli:<login>` for local commands.
    pub actor: String,
    /// What, e.g. `user.disable` (see the hub's `admin` module).
    pub action: String,
    /// On what: a user, org, `owner/repo` or `hub`.
    pub target: String,
    /// Details (never a secret).
    pub detail: String,
}

stored_enum! {
    /// What a ref is.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "lowercase")]
    pub enum RefKind("ref kind") {
        /// Moves only when a signed revision is committed onto it.
        Branch = "branch",
        /// An immutable pointer: created once, never moved, only deleted.
        Tag = "tag",
    }
}

/// A branch or tag of a repo.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RefEntry {
    /// Its name (`main`, `v1.0`).
    pub name: String,
    /// Branch or tag.
    pub kind: RefKind,
    /// The 40-hex commit it points at.
    pub commit: String,
    /// Unix seconds it was created (0 for refs older than the record).
    pub created_at: i64,
    /// A tag's message.
    pub message: Option<String>,
}

stored_enum! {
    /// What a revision claim is (see the hub's claims module).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
    #[serde(rename_all = "kebab-case")]
    pub enum ClaimKind("claim kind") {
        /// A `model.sig` the publisher uploaded with the files.
        PublisherSignature = "publisher-signature",
        /// The hub's own signature (the revision's `model.sig`).
        HubSignature = "hub-signature",
        /// The hub's scan verdict, signed by the hub.
        Scan = "scan",
        /// An AI-BOM attached to the revision.
        Bom = "bom",
        /// SLSA provenance attached to the revision.
        Provenance = "provenance",
    }
}

stored_enum! {
    /// How far a claim's signer is trusted.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
    #[serde(rename_all = "lowercase")]
    pub enum ClaimStatus("claim status") {
        /// The signature verified with a key, chain or identity the owner trusts (or the
        /// hub's own).
        Verified = "verified",
        /// The statement matches the revision, but its signer is not one the owner trusts.
        Untrusted = "untrusted",
        /// It no longer verifies.
        Failed = "failed",
    }
}

/// A claim to record with (or after) a revision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewClaim {
    /// Kind.
    pub kind: ClaimKind,
    /// The in-toto statement's predicate type.
    pub predicate_type: String,
    /// Who signed it (identity, key fingerprint or certificate subject).
    pub signer: String,
    /// The identity's issuer, when there is one.
    pub issuer: Option<String>,
    /// Trust status.
    pub status: ClaimStatus,
    /// Index in the hub's transparency log.
    pub log_index: Option<i64>,
    /// When the log integrated it (Unix seconds).
    pub integrated_time: Option<i64>,
    /// The bundle's blob.
    pub bundle_sha256: String,
    /// What the statement asserts, in words.
    pub asserts: String,
}

/// A recorded claim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    /// Row id (the bundle's URL names it).
    pub id: i64,
    /// The revision.
    pub commit: String,
    /// What was recorded.
    pub claim: NewClaim,
    /// When (Unix seconds).
    pub created_at: i64,
}

stored_enum! {
    /// What an owner's trust entry is.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
    #[serde(rename_all = "kebab-case")]
    pub enum TrustKind("trust kind") {
        /// A public key (PEM).
        PublicKey = "public-key",
        /// Certificate anchors (PEM).
        CertificateChain = "certificate-chain",
        /// A keyless identity and its OIDC issuer.
        Identity = "identity",
    }
}

/// A signer an owner accepts for publisher signatures and attachments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TrustEntry {
    /// Row id.
    pub id: i64,
    /// Kind.
    pub kind: TrustKind,
    /// PEM, or the identity.
    pub value: String,
    /// The identity's issuer.
    pub issuer: Option<String>,
    /// Key fingerprint, chain subject or identity.
    pub label: String,
    /// When added (Unix seconds).
    pub created_at: i64,
}
