//! [`MetaStore`] on an SQL database through sqlx: [`SqlMeta`], written once for SQLite
//! ([`SqliteStore`]) and PostgreSQL ([`PgStore`]).
//!
//! The queries are runtime sqlx queries in the SQL both databases read; where they differ
//! (transaction start, row locks, `instr`/`strpos`, the revision insertion order, the
//! schema's identity columns) the [`Backend`]'s [`Dialect`] says how. sqlx's `Any` driver
//! is avoided: its placeholder handling breaks on PostgreSQL.
//!
//! SQLite keeps all metadata in one file that several processes may open at once (the
//! server and `hallmark hub admin`): WAL mode, a busy timeout and `BEGIN IMMEDIATE` for
//! read-then-write transactions keep that safe. On PostgreSQL several hub replicas share
//! one database: every read-then-write locks the row it depends on, and migrations take
//! sqlx's advisory lock.

mod accounts;
mod backend;
mod claims;
mod dialect;
mod incidents;
mod operator;
mod queries;
mod refs;
mod repos;
mod scans;
mod schema;
mod scrub;
mod upkeep;
mod watch;

use std::collections::HashSet;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Pool, Postgres, Sqlite};

use self::accounts::AccountKey;
use self::repos::Files;
use crate::error::Result;
use crate::meta::MetaStore;
use crate::model::{
    Account, AdminEvent, BlobUse, Claim, FileEntry, NewClaim, NewRevision, RefEntry, RefKind, Repo,
    RepoQuery, Revision, Role, ScanFinding, ScanResult, ScanTarget, ScanVerdict, SessionRecord,
    SignatureState, SigningEvent, TokenRecord, TokenScope, TrustEntry, TrustKind, Upload,
};

pub use backend::Backend;
pub use dialect::Dialect;
pub use schema::{MIGRATOR, PG_MIGRATOR};

/// Hub metadata in an SQL database.
#[derive(Debug)]
pub struct SqlMeta<DB: Backend> {
    pool: Pool<DB>,
}

/// Metadata in one SQLite database file.
pub type SqliteStore = SqlMeta<Sqlite>;

/// Metadata in a PostgreSQL database, shareable by several hub replicas.
pub type PgStore = SqlMeta<Postgres>;

impl<DB: Backend> Clone for SqlMeta<DB> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
        }
    }
}

impl<DB: Backend> SqlMeta<DB> {
    /// Applies the migrations to the database behind `pool` and keeps it.
    ///
    /// # Errors
    /// A migration fails.
    pub async fn with_pool(pool: Pool<DB>) -> Result<Self> {
        DB::migrator().run(&pool).await?;
        Ok(Self { pool })
    }

    /// The underlying pool (for tests, maintenance and the log's checkpoint lock).
    #[must_use]
    pub fn pool(&self) -> &Pool<DB> {
        &self.pool
    }

    async fn conn(&self) -> Result<PoolConnection<DB>> {
        Ok(self.pool.acquire().await?)
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and applies migrations.
    ///
    /// # Errors
    /// The file cannot be opened, or a migration fails.
    pub async fn open(path: &Path) -> Result<Self> {
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true);
        Self::connect_sqlite(opts, 8).await
    }

    /// A private in-memory database (tests).
    ///
    /// # Errors
    /// A migration fails.
    pub async fn in_memory() -> Result<Self> {
        let opts = SqliteConnectOptions::from_str("sqlite::memory:")?;
        // One connection: every connection to :memory: is a separate database.
        Self::connect_sqlite(opts, 1).await
    }

    async fn connect_sqlite(opts: SqliteConnectOptions, max: u32) -> Result<Self> {
        let opts = opts
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(max)
            .connect_with(opts)
            .await?;
        Self::with_pool(pool).await
    }
}

impl PgStore {
    /// Connects to `url` (`postgres://user:pass@host:port/db?sslmode=...`) with a pool of at
    /// most `max_connections` and applies migrations.
    ///
    /// # Errors
    /// The URL is invalid, the server is unreachable, or a migration fails.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        let opts: PgConnectOptions = url.parse()?;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(opts)
            .await?;
        Self::with_pool(pool).await
    }
}

#[async_trait]
impl<DB: Backend> MetaStore for SqlMeta<DB> {
    async fn create_user(
        &self,
        name: &str,
        email: Option<&str>,
        password_hash: Option<&str>,
        is_admin: bool,
    ) -> Result<Account> {
        let c = &mut *self.conn().await?;
        accounts::create_user::<DB>(c, name, email, password_hash, is_admin).await
    }
    async fn create_org(&self, name: &str, owner_id: i64) -> Result<Account> {
        accounts::create_org::<DB>(&mut *self.conn().await?, name, owner_id).await
    }
    async fn account(&self, name: &str) -> Result<Option<Account>> {
        accounts::account::<DB>(&mut *self.conn().await?, AccountKey::Name(name)).await
    }
    async fn account_by_id(&self, id: i64) -> Result<Option<Account>> {
        accounts::account::<DB>(&mut *self.conn().await?, AccountKey::Id(id)).await
    }
    async fn count_users(&self) -> Result<u64> {
        accounts::count_users::<DB>(&mut *self.conn().await?).await
    }
    async fn password_hash(&self, user_id: i64) -> Result<Option<String>> {
        accounts::password_hash::<DB>(&mut *self.conn().await?, user_id).await
    }
    async fn set_password_hash(&self, user_id: i64, hash: &str) -> Result<()> {
        accounts::set_password_hash::<DB>(&mut *self.conn().await?, user_id, hash).await
    }
    async fn set_membership(&self, org_id: i64, user_id: i64, role: Role) -> Result<()> {
        accounts::set_membership::<DB>(&mut *self.conn().await?, org_id, user_id, role).await
    }
    async fn remove_membership(&self, org_id: i64, user_id: i64) -> Result<bool> {
        accounts::remove_membership::<DB>(&mut *self.conn().await?, org_id, user_id).await
    }
    async fn memberships_of(&self, user_id: i64) -> Result<Vec<(Account, Role)>> {
        accounts::memberships::<DB>(&mut *self.conn().await?, true, user_id).await
    }
    async fn members_of(&self, org_id: i64) -> Result<Vec<(Account, Role)>> {
        accounts::memberships::<DB>(&mut *self.conn().await?, false, org_id).await
    }
    async fn create_token(
        &self,
        user_id: i64,
        label: &str,
        scope: TokenScope,
        secret_hash: &str,
        expires_at: Option<i64>,
    ) -> Result<TokenRecord> {
        let c = &mut *self.conn().await?;
        accounts::create_token::<DB>(c, user_id, label, scope, secret_hash, expires_at).await
    }
    async fn token_by_hash(&self, secret_hash: &str) -> Result<Option<(TokenRecord, Account)>> {
        accounts::token_by_hash::<DB>(&mut *self.conn().await?, secret_hash).await
    }
    async fn tokens_of(&self, user_id: i64) -> Result<Vec<TokenRecord>> {
        accounts::tokens_of::<DB>(&mut *self.conn().await?, user_id).await
    }
    async fn revoke_token(&self, user_id: i64, token_id: i64) -> Result<bool> {
        accounts::revoke_token::<DB>(&mut *self.conn().await?, user_id, token_id).await
    }
    async fn create_session(
        &self,
        id_hash: &str,
        user_id: i64,
        csrf_token: &str,
        expires_at: i64,
    ) -> Result<()> {
        let c = &mut *self.conn().await?;
        accounts::create_session::<DB>(c, id_hash, user_id, csrf_token, expires_at).await
    }
    async fn session(&self, id_hash: &str, now: i64) -> Result<Option<(SessionRecord, Account)>> {
        accounts::session::<DB>(&mut *self.conn().await?, id_hash, now).await
    }
    async fn delete_session(&self, id_hash: &str) -> Result<()> {
        accounts::delete_session::<DB>(&mut *self.conn().await?, id_hash).await
    }
    async fn list_users(&self) -> Result<Vec<Account>> {
        operator::list_users::<DB>(&mut *self.conn().await?).await
    }
    async fn set_disabled(&self, user_id: i64, disabled: bool) -> Result<()> {
        operator::set_disabled::<DB>(&mut *self.conn().await?, user_id, disabled).await
    }
    async fn set_admin(&self, user_id: i64, admin: bool) -> Result<()> {
        operator::set_admin::<DB>(&mut *self.conn().await?, user_id, admin).await
    }
    async fn delete_sessions_of(&self, user_id: i64) -> Result<u64> {
        operator::delete_sessions_of::<DB>(&mut *self.conn().await?, user_id).await
    }
    async fn delete_repo(&self, repo_id: i64) -> Result<Option<Vec<String>>> {
        operator::delete_repo::<DB>(&mut *self.conn().await?, repo_id).await
    }
    async fn record_admin_event(
        &self,
        actor: &str,
        action: &str,
        target: &str,
        detail: &str,
    ) -> Result<()> {
        let c = &mut *self.conn().await?;
        operator::record_admin_event::<DB>(c, actor, action, target, detail).await
    }
    async fn admin_events(&self, limit: u32) -> Result<Vec<AdminEvent>> {
        operator::admin_events::<DB>(&mut *self.conn().await?, limit).await
    }
    async fn setting(&self, name: &str) -> Result<Option<String>> {
        operator::setting::<DB>(&mut *self.conn().await?, name).await
    }
    async fn set_setting(&self, name: &str, value: Option<&str>) -> Result<()> {
        operator::set_setting::<DB>(&mut *self.conn().await?, name, value).await
    }
    async fn create_repo(&self, owner_id: i64, name: &str, private: bool) -> Result<Repo> {
        repos::create_repo::<DB>(&mut *self.conn().await?, owner_id, name, private).await
    }
    async fn repo(&self, owner: &str, name: &str) -> Result<Option<Repo>> {
        repos::repo::<DB>(&mut *self.conn().await?, owner, name).await
    }
    async fn list_repos(&self, query: &RepoQuery) -> Result<Vec<Repo>> {
        repos::list_repos::<DB>(&mut *self.conn().await?, query).await
    }
    async fn set_repo_private(&self, repo_id: i64, private: bool) -> Result<()> {
        repos::set_repo_private::<DB>(&mut *self.conn().await?, repo_id, private).await
    }
    async fn create_upload(&self, id: &str, repo_id: i64, user_id: i64) -> Result<Upload> {
        repos::create_upload::<DB>(&mut *self.conn().await?, id, repo_id, user_id).await
    }
    async fn upload(&self, id: &str) -> Result<Option<Upload>> {
        repos::upload::<DB>(&mut *self.conn().await?, id).await
    }
    async fn add_upload_file(&self, upload_id: &str, file: &FileEntry) -> Result<()> {
        repos::add_upload_file::<DB>(&mut *self.conn().await?, upload_id, file).await
    }
    async fn upload_files(&self, upload_id: &str) -> Result<Vec<FileEntry>> {
        repos::files::<DB>(&mut *self.conn().await?, Files::Upload(upload_id)).await
    }
    async fn delete_upload(&self, upload_id: &str) -> Result<()> {
        repos::delete_upload::<DB>(&mut *self.conn().await?, upload_id).await
    }
    async fn sweep_uploads(&self, before: i64) -> Result<u64> {
        repos::sweep_uploads::<DB>(&mut *self.conn().await?, before).await
    }
    async fn claim_commit(
        &self,
        repo_id: i64,
        upload_id: &str,
        parent: Option<&str>,
        now: i64,
        expires_at: i64,
    ) -> Result<()> {
        let c = &mut *self.conn().await?;
        upkeep::claim_commit::<DB>(c, repo_id, upload_id, parent, now, expires_at).await
    }
    async fn release_commit(&self, repo_id: i64, upload_id: &str) -> Result<()> {
        upkeep::release_commit::<DB>(&mut *self.conn().await?, repo_id, upload_id).await
    }
    async fn referenced_blobs(&self, digests: &[String]) -> Result<HashSet<String>> {
        upkeep::referenced_blobs::<DB>(&mut *self.conn().await?, digests).await
    }
    async fn commit_revision(&self, rev: &NewRevision, now: i64) -> Result<Revision> {
        repos::commit_revision::<DB>(&mut *self.conn().await?, rev, now).await
    }
    async fn resolve_ref(&self, repo_id: i64, name: &str) -> Result<Option<String>> {
        repos::resolve_ref::<DB>(&mut *self.conn().await?, repo_id, name).await
    }
    async fn revision(&self, repo_id: i64, commit: &str) -> Result<Option<Revision>> {
        repos::revision::<DB>(&mut *self.conn().await?, repo_id, commit).await
    }
    async fn revisions(&self, repo_id: i64, limit: u32) -> Result<Vec<Revision>> {
        repos::revisions::<DB>(&mut *self.conn().await?, repo_id, limit).await
    }
    async fn revision_files(&self, repo_id: i64, commit: &str) -> Result<Vec<FileEntry>> {
        let of = Files::Revision(repo_id, commit);
        repos::files::<DB>(&mut *self.conn().await?, of).await
    }
    async fn revision_file(
        &self,
        repo_id: i64,
        commit: &str,
        path: &str,
    ) -> Result<Option<FileEntry>> {
        repos::revision_file::<DB>(&mut *self.conn().await?, repo_id, commit, path).await
    }
    async fn set_signature_state(
        &self,
        repo_id: i64,
        commit: &str,
        state: &SignatureState,
    ) -> Result<()> {
        let c = &mut *self.conn().await?;
        repos::set_signature_state::<DB>(c, repo_id, commit, state).await
    }
    async fn signing_events(&self, limit: u32) -> Result<Vec<SigningEvent>> {
        repos::signing_events::<DB>(&mut *self.conn().await?, limit).await
    }
    async fn scan_findings(&self, repo_id: i64, commit: &str) -> Result<Vec<ScanFinding>> {
        scans::findings::<DB>(&mut *self.conn().await?, repo_id, commit).await
    }
    async fn scan_refusal(&self, account_id: i64) -> Result<Option<ScanVerdict>> {
        scans::refusal::<DB>(&mut *self.conn().await?, account_id).await
    }
    async fn set_scan_refusal(&self, account_id: i64, from: Option<ScanVerdict>) -> Result<()> {
        scans::set_refusal::<DB>(&mut *self.conn().await?, account_id, from).await
    }
    async fn scan_targets(
        &self,
        repo: Option<i64>,
        after: Option<(i64, &str)>,
        limit: u32,
    ) -> Result<Vec<ScanTarget>> {
        scans::targets::<DB>(&mut *self.conn().await?, repo, after, limit).await
    }
    async fn replace_scan(&self, repo_id: i64, commit: &str, scan: &ScanResult) -> Result<()> {
        scans::replace::<DB>(&mut *self.conn().await?, repo_id, commit, scan).await
    }
    async fn repo_by_id(&self, id: i64) -> Result<Option<Repo>> {
        repos::repo_by_id::<DB>(&mut *self.conn().await?, id).await
    }
    async fn stored_blobs_after(&self, after: &str, limit: u32) -> Result<Vec<(String, u64)>> {
        scrub::blobs_after::<DB>(&mut *self.conn().await?, after, limit).await
    }
    async fn blob_uses(&self, sha256: &str) -> Result<Vec<BlobUse>> {
        scrub::uses::<DB>(&mut *self.conn().await?, sha256).await
    }
    async fn list_refs(&self, repo_id: i64) -> Result<Vec<RefEntry>> {
        refs::list_refs::<DB>(&mut *self.conn().await?, repo_id).await
    }
    async fn create_ref(&self, repo_id: i64, entry: &RefEntry) -> Result<()> {
        refs::create_ref::<DB>(&mut *self.conn().await?, repo_id, entry).await
    }
    async fn delete_ref(&self, repo_id: i64, name: &str, kind: RefKind) -> Result<bool> {
        refs::delete_ref::<DB>(&mut *self.conn().await?, repo_id, name, kind).await
    }
    async fn commits_with_prefix(
        &self,
        repo_id: i64,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<String>> {
        refs::commits_with_prefix::<DB>(&mut *self.conn().await?, repo_id, prefix, limit).await
    }
    async fn add_claim(&self, repo_id: i64, commit: &str, claim: &NewClaim) -> Result<()> {
        claims::add::<DB>(
            &mut *self.conn().await?,
            repo_id,
            commit,
            claim,
            backend::now(),
        )
        .await
    }
    async fn claims(&self, repo_id: i64, commit: &str) -> Result<Vec<Claim>> {
        claims::list::<DB>(&mut *self.conn().await?, repo_id, commit).await
    }
    async fn claim(&self, repo_id: i64, id: i64) -> Result<Option<Claim>> {
        claims::one::<DB>(&mut *self.conn().await?, repo_id, id).await
    }
    async fn trust_entries(&self, account_id: i64) -> Result<Vec<TrustEntry>> {
        claims::trust::<DB>(&mut *self.conn().await?, account_id).await
    }
    async fn add_trust_entry(
        &self,
        account_id: i64,
        kind: TrustKind,
        value: &str,
        issuer: Option<&str>,
        label: &str,
    ) -> Result<()> {
        claims::add_trust::<DB>(
            &mut *self.conn().await?,
            account_id,
            kind,
            value,
            issuer,
            label,
        )
        .await
    }
    async fn remove_trust_entry(&self, account_id: i64, id: i64) -> Result<bool> {
        claims::remove_trust::<DB>(&mut *self.conn().await?, account_id, id).await
    }
}
