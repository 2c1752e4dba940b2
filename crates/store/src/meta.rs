//! The metadata repository trait: everything the hub persists except blob bytes.
//!
//! One trait, several backends: [`crate::SqliteStore`] today, a PostgreSQL twin for the
//! scale-out issue. Implementations must make [`MetaStore::commit_revision`] atomic (the
//! revision, its files, the `main` ref and the closing of the upload become visible
//! together or not at all) and must refuse it with [`StoreError::Conflict`] when `main`
//! no longer points at the revision's parent.

use std::collections::HashSet;

use async_trait::async_trait;

use crate::error::{Result, StoreError};
use crate::model::{
    Account, AdminEvent, BlobUse, Claim, FileEntry, NewClaim, NewRevision, RefEntry, RefKind, Repo,
    RepoQuery, Revision, Role, ScanFinding, ScanResult, ScanTarget, ScanVerdict, SessionRecord,
    SignatureState, SigningEvent, TokenRecord, TokenScope, TrustEntry, TrustKind, Upload,
};

/// Persistent hub metadata.
#[async_trait]
pub trait MetaStore:
    crate::response::ResponseStore + crate::watch::WatchStore + Send + Sync + std::fmt::Debug + 'static
{
    // --- accounts -------------------------------------------------------------------
    /// Creates a user; [`StoreError::Conflict`] if the name is taken.
    async fn create_user(
        &self,
        name: &str,
        email: Option<&str>,
        password_hash: Option<&str>,
        is_admin: bool,
    ) -> Result<Account>;
    /// Creates an org with `owner_id` as its first owner.
    async fn create_org(&self, name: &str, owner_id: i64) -> Result<Account>;
    /// Looks an account up by name (case-insensitive).
    async fn account(&self, name: &str) -> Result<Option<Account>>;
    /// Looks an account up by id.
    async fn account_by_id(&self, id: i64) -> Result<Option<Account>>;
    /// Number of user accounts.
    async fn count_users(&self) -> Result<u64>;
    /// The stored argon2 hash of a user's password (`None` for a disabled user).
    async fn password_hash(&self, user_id: i64) -> Result<Option<String>>;
    /// Replaces a user's password hash.
    async fn set_password_hash(&self, user_id: i64, hash: &str) -> Result<()>;
    /// Adds a member or changes their role.
    async fn set_membership(&self, org_id: i64, user_id: i64, role: Role) -> Result<()>;
    /// Removes a member; `false` if they were not one.
    async fn remove_membership(&self, org_id: i64, user_id: i64) -> Result<bool>;
    /// The orgs a user belongs to, with roles.
    async fn memberships_of(&self, user_id: i64) -> Result<Vec<(Account, Role)>>;
    /// The members of an org, with roles.
    async fn members_of(&self, org_id: i64) -> Result<Vec<(Account, Role)>>;

    // --- tokens and sessions ----------------------------------------------------------
    /// Stores a new token by the SHA-256 (hex) of its secret.
    async fn create_token(
        &self,
        user_id: i64,
        label: &str,
        scope: TokenScope,
        secret_hash: &str,
        expires_at: Option<i64>,
    ) -> Result<TokenRecord>;
    /// The live (not revoked) token with this secret hash, and its user; records its use.
    async fn token_by_hash(&self, secret_hash: &str) -> Result<Option<(TokenRecord, Account)>>;
    /// A user's tokens, newest first, revoked ones included.
    async fn tokens_of(&self, user_id: i64) -> Result<Vec<TokenRecord>>;
    /// Revokes a token of this user; `false` if there was no such live token.
    async fn revoke_token(&self, user_id: i64, token_id: i64) -> Result<bool>;
    /// Stores a session by the SHA-256 (hex) of its cookie value.
    async fn create_session(
        &self,
        id_hash: &str,
        user_id: i64,
        csrf_token: &str,
        expires_at: i64,
    ) -> Result<()>;
    /// The unexpired session with this id hash, and its user (never a disabled user's).
    async fn session(&self, id_hash: &str, now: i64) -> Result<Option<(SessionRecord, Account)>>;
    /// Ends a session.
    async fn delete_session(&self, id_hash: &str) -> Result<()>;

    // --- operator actions ------------------------------------------------------------------
    /// Every user, by name.
    async fn list_users(&self) -> Result<Vec<Account>>;
    /// Disables (ending their sessions) or re-enables a user.
    async fn set_disabled(&self, user_id: i64, disabled: bool) -> Result<()>;
    /// Grants or withdraws hub administration.
    async fn set_admin(&self, user_id: i64, admin: bool) -> Result<()>;
    /// Ends every session of a user; returns how many there were.
    async fn delete_sessions_of(&self, user_id: i64) -> Result<u64>;
    /// Deletes a repo with its revisions, refs and open uploads; returns the blob digests
    /// they referred to (blobs are not deleted here), or `None` if there was no such repo.
    async fn delete_repo(&self, repo_id: i64) -> Result<Option<Vec<String>>>;
    /// Records an operator action.
    async fn record_admin_event(
        &self,
        actor: &str,
        action: &str,
        target: &str,
        detail: &str,
    ) -> Result<()>;
    /// Operator actions, newest first.
    async fn admin_events(&self, limit: u32) -> Result<Vec<AdminEvent>>;
    /// A hub-wide setting.
    async fn setting(&self, name: &str) -> Result<Option<String>>;
    /// Sets (or with `None` removes) a hub-wide setting.
    async fn set_setting(&self, name: &str, value: Option<&str>) -> Result<()>;

    // --- repos and revisions -------------------------------------------------------------
    /// Creates a repo; [`StoreError::Conflict`] if `owner/name` exists.
    async fn create_repo(&self, owner_id: i64, name: &str, private: bool) -> Result<Repo>;
    /// Looks a repo up by `owner`, `name` (case-insensitive).
    async fn repo(&self, owner: &str, name: &str) -> Result<Option<Repo>>;
    /// Lists repos, most recently updated first.
    async fn list_repos(&self, query: &RepoQuery) -> Result<Vec<Repo>>;
    /// Changes visibility.
    async fn set_repo_private(&self, repo_id: i64, private: bool) -> Result<()>;
    /// Opens an upload session.
    async fn create_upload(&self, id: &str, repo_id: i64, user_id: i64) -> Result<Upload>;
    /// An open upload.
    async fn upload(&self, id: &str) -> Result<Option<Upload>>;
    /// Records (or replaces) a file of an upload, once its blob is stored.
    async fn add_upload_file(&self, upload_id: &str, file: &FileEntry) -> Result<()>;
    /// The files of an upload, by path.
    async fn upload_files(&self, upload_id: &str) -> Result<Vec<FileEntry>>;
    /// Abandons an upload.
    async fn delete_upload(&self, upload_id: &str) -> Result<()>;
    /// Deletes uploads opened before `before` (Unix seconds); returns how many.
    async fn sweep_uploads(&self, before: i64) -> Result<u64>;
    /// Claims the repo for signing `upload_id`'s revision until `expires_at` (Unix
    /// seconds): [`StoreError::Conflict`] when `main` no longer points at `parent` or another
    /// upload holds an unexpired claim. The claim ends with the upload (commit, abort,
    /// sweep) or [`MetaStore::release_commit`].
    async fn claim_commit(
        &self,
        repo_id: i64,
        upload_id: &str,
        parent: Option<&str>,
        now: i64,
        expires_at: i64,
    ) -> Result<()>;
    /// Gives up `upload_id`'s claim on the repo (signing failed).
    async fn release_commit(&self, repo_id: i64, upload_id: &str) -> Result<()>;
    /// Which of `digests` a revision or an open upload refers to.
    async fn referenced_blobs(&self, digests: &[String]) -> Result<HashSet<String>>;
    /// Atomically records a revision, moves `main` to it and closes its upload.
    async fn commit_revision(&self, rev: &NewRevision, now: i64) -> Result<Revision>;
    /// Where a ref points.
    async fn resolve_ref(&self, repo_id: i64, name: &str) -> Result<Option<String>>;
    /// One revision.
    async fn revision(&self, repo_id: i64, commit: &str) -> Result<Option<Revision>>;
    /// Revisions of a repo, newest first.
    async fn revisions(&self, repo_id: i64, limit: u32) -> Result<Vec<Revision>>;
    /// Files of a revision, by path.
    async fn revision_files(&self, repo_id: i64, commit: &str) -> Result<Vec<FileEntry>>;
    /// One file of a revision.
    async fn revision_file(
        &self,
        repo_id: i64,
        commit: &str,
        path: &str,
    ) -> Result<Option<FileEntry>>;
    /// Records the result of a signature (re-)check.
    async fn set_signature_state(
        &self,
        repo_id: i64,
        commit: &str,
        state: &SignatureState,
    ) -> Result<()>;
    /// Signing events across all repos, newest first.
    async fn signing_events(&self, limit: u32) -> Result<Vec<SigningEvent>>;
    /// The findings of a revision's scan, in the order the scanner reported them.
    async fn scan_findings(&self, repo_id: i64, commit: &str) -> Result<Vec<ScanFinding>>;
    /// The scan verdict from which an account (an organisation) refuses uploads to its
    /// repos (`None`: it refuses none).
    async fn scan_refusal(&self, account_id: i64) -> Result<Option<ScanVerdict>>;
    /// Sets [`MetaStore::scan_refusal`]. `Clean` is stored as `None`: a hub never refuses
    /// what it found clean.
    async fn set_scan_refusal(&self, account_id: i64, from: Option<ScanVerdict>) -> Result<()>;
    /// Stored revisions after `after` (repo id, commit; `None`: from the start), in that
    /// order, at most `limit`, with their recorded scan: what a re-scan walks (`repo`:
    /// that repo's only).
    async fn scan_targets(
        &self,
        repo: Option<i64>,
        after: Option<(i64, &str)>,
        limit: u32,
    ) -> Result<Vec<ScanTarget>>;
    /// A repo by its database id.
    async fn repo_by_id(&self, id: i64) -> Result<Option<Repo>>;
    /// Replaces a stored revision's scan (verdict, policy version, findings) at once.
    async fn replace_scan(&self, repo_id: i64, commit: &str, scan: &ScanResult) -> Result<()>;

    // --- storage integrity ----------------------------------------------------------------
    /// Distinct blob digests revisions refer to, greater than `after`, ascending, at most
    /// `limit`, with their recorded size: what the scrubber walks.
    async fn stored_blobs_after(&self, after: &str, limit: u32) -> Result<Vec<(String, u64)>>;
    /// Every revision file stored as blob `sha256`.
    async fn blob_uses(&self, sha256: &str) -> Result<Vec<BlobUse>>;

    // --- branches, tags and short commit ids ------------------------------------------------
    /// The branches and tags of a repo, branches first, by name.
    async fn list_refs(&self, repo_id: i64) -> Result<Vec<RefEntry>>;
    /// Creates a branch or tag pointing at one of the repo's revisions:
    /// [`StoreError::Conflict`] when a branch or tag of that name exists,
    /// [`StoreError::NotFound`] when the repo has no such revision. `created_at` 0 means now.
    async fn create_ref(&self, repo_id: i64, entry: &RefEntry) -> Result<()>;
    /// Deletes the branch or tag `name` (only of that kind); `false` if there was none.
    async fn delete_ref(&self, repo_id: i64, name: &str, kind: RefKind) -> Result<bool>;
    /// The repo's commit ids starting with the hex `prefix`, at most `limit` (≤ 100).
    async fn commits_with_prefix(
        &self,
        repo_id: i64,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<String>>;

    // --- claims -----------------------------------------------------------------------------
    /// Adds a claim to a stored revision ([`StoreError::NotFound`]-free: the revision's
    /// foreign key refuses an unknown one).
    async fn add_claim(&self, repo_id: i64, commit: &str, claim: &NewClaim) -> Result<()>;
    /// A revision's claims, oldest first.
    async fn claims(&self, repo_id: i64, commit: &str) -> Result<Vec<Claim>>;
    /// One claim of a repo, by id.
    async fn claim(&self, repo_id: i64, id: i64) -> Result<Option<Claim>>;
    /// The signers an account (an organisation) trusts, oldest first.
    async fn trust_entries(&self, account_id: i64) -> Result<Vec<TrustEntry>>;
    /// Adds a trusted signer; [`StoreError::Conflict`] when `label` of that kind is there.
    async fn add_trust_entry(
        &self,
        account_id: i64,
        kind: TrustKind,
        value: &str,
        issuer: Option<&str>,
        label: &str,
    ) -> Result<()>;
    /// Removes a trusted signer; `false` if the account has no such entry.
    async fn remove_trust_entry(&self, account_id: i64, id: i64) -> Result<bool>;
}

/// Maps "no rows changed" to [`StoreError::NotFound`].
pub(crate) fn expect_changed(rows: u64, what: impl FnOnce() -> String) -> Result<()> {
    if rows == 0 {
        Err(StoreError::NotFound(what()))
    } else {
        Ok(())
    }
}
