//! [`MetaStore`] on PostgreSQL (sqlx, runtime queries with `$N` placeholders, embedded
//! migrations from `migrations/postgres`).
//!
//! The queries are the SQLite ones with PostgreSQL's dialect where it differs: `$N`
//! placeholders, `BOOLEAN` columns, `lower(name)` comparisons and unique indexes instead
//! of `COLLATE NOCASE`, `strpos` for `instr`, an identity column instead of `rowid`, and a
//! `SELECT … FOR UPDATE` on the repo row where SQLite relies on `BEGIN IMMEDIATE`.
//! Several hub replicas may share one database: every read-then-write runs in a
//! transaction that locks what it depends on, and migrations take sqlx's advisory lock.

mod accounts;
mod repos;

use std::time::Duration;

use async_trait::async_trait;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::error::Result;
use crate::meta::MetaStore;
use crate::model::{
    Account, FileEntry, NewRevision, Repo, RepoQuery, Revision, Role, SessionRecord,
    SignatureState, SigningEvent, TokenRecord, TokenScope, Upload,
};
pub(crate) use crate::sqlite::{conflict_on_unique, now};

/// The PostgreSQL migrations, embedded in the binary.
pub static PG_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Metadata in a PostgreSQL database, shareable by several hub replicas.
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
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
        PG_MIGRATOR.run(&pool).await?;
        Ok(Self { pool })
    }

    /// The underlying pool (for tests, maintenance and the log's checkpoint lock).
    #[must_use]
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

#[async_trait]
impl MetaStore for PgStore {
    async fn create_user(
        &self,
        name: &str,
        email: Option<&str>,
        password_hash: Option<&str>,
        is_admin: bool,
    ) -> Result<Account> {
        accounts::create_user(&self.pool, name, email, password_hash, is_admin).await
    }
    async fn create_org(&self, name: &str, owner_id: i64) -> Result<Account> {
        accounts::create_org(&self.pool, name, owner_id).await
    }
    async fn account(&self, name: &str) -> Result<Option<Account>> {
        accounts::account(&self.pool, "lower(name) = lower($1)", name).await
    }
    async fn account_by_id(&self, id: i64) -> Result<Option<Account>> {
        accounts::account(&self.pool, "id = $1", id).await
    }
    async fn count_users(&self) -> Result<u64> {
        accounts::count_users(&self.pool).await
    }
    async fn password_hash(&self, user_id: i64) -> Result<Option<String>> {
        accounts::password_hash(&self.pool, user_id).await
    }
    async fn set_password_hash(&self, user_id: i64, hash: &str) -> Result<()> {
        accounts::set_password_hash(&self.pool, user_id, hash).await
    }
    async fn set_membership(&self, org_id: i64, user_id: i64, role: Role) -> Result<()> {
        accounts::set_membership(&self.pool, org_id, user_id, role).await
    }
    async fn remove_membership(&self, org_id: i64, user_id: i64) -> Result<bool> {
        accounts::remove_membership(&self.pool, org_id, user_id).await
    }
    async fn memberships_of(&self, user_id: i64) -> Result<Vec<(Account, Role)>> {
        accounts::memberships(&self.pool, true, user_id).await
    }
    async fn members_of(&self, org_id: i64) -> Result<Vec<(Account, Role)>> {
        accounts::memberships(&self.pool, false, org_id).await
    }
    async fn create_token(
        &self,
        user_id: i64,
        label: &str,
        scope: TokenScope,
        secret_hash: &str,
    ) -> Result<TokenRecord> {
        accounts::create_token(&self.pool, user_id, label, scope, secret_hash).await
    }
    async fn token_by_hash(&self, secret_hash: &str) -> Result<Option<(TokenRecord, Account)>> {
        accounts::token_by_hash(&self.pool, secret_hash).await
    }
    async fn tokens_of(&self, user_id: i64) -> Result<Vec<TokenRecord>> {
        accounts::tokens_of(&self.pool, user_id).await
    }
    async fn revoke_token(&self, user_id: i64, token_id: i64) -> Result<bool> {
        accounts::revoke_token(&self.pool, user_id, token_id).await
    }
    async fn create_session(
        &self,
        id_hash: &str,
        user_id: i64,
        csrf_token: &str,
        expires_at: i64,
    ) -> Result<()> {
        accounts::create_session(&self.pool, id_hash, user_id, csrf_token, expires_at).await
    }
    async fn session(&self, id_hash: &str, now: i64) -> Result<Option<(SessionRecord, Account)>> {
        accounts::session(&self.pool, id_hash, now).await
    }
    async fn delete_session(&self, id_hash: &str) -> Result<()> {
        accounts::delete_session(&self.pool, id_hash).await
    }
    async fn create_repo(&self, owner_id: i64, name: &str, private: bool) -> Result<Repo> {
        repos::create_repo(&self.pool, owner_id, name, private).await
    }
    async fn repo(&self, owner: &str, name: &str) -> Result<Option<Repo>> {
        repos::repo(&self.pool, owner, name).await
    }
    async fn list_repos(&self, query: &RepoQuery) -> Result<Vec<Repo>> {
        repos::list_repos(&self.pool, query).await
    }
    async fn set_repo_private(&self, repo_id: i64, private: bool) -> Result<()> {
        repos::set_repo_private(&self.pool, repo_id, private).await
    }
    async fn create_upload(&self, id: &str, repo_id: i64, user_id: i64) -> Result<Upload> {
        repos::create_upload(&self.pool, id, repo_id, user_id).await
    }
    async fn upload(&self, id: &str) -> Result<Option<Upload>> {
        repos::upload(&self.pool, id).await
    }
    async fn add_upload_file(&self, upload_id: &str, file: &FileEntry) -> Result<()> {
        repos::add_upload_file(&self.pool, upload_id, file).await
    }
    async fn upload_files(&self, upload_id: &str) -> Result<Vec<FileEntry>> {
        repos::files(&self.pool, repos::UPLOAD_FILES, upload_id, None).await
    }
    async fn delete_upload(&self, upload_id: &str) -> Result<()> {
        repos::delete_upload(&self.pool, upload_id).await
    }
    async fn sweep_uploads(&self, before: i64) -> Result<u64> {
        repos::sweep_uploads(&self.pool, before).await
    }
    async fn commit_revision(&self, rev: &NewRevision, now: i64) -> Result<Revision> {
        repos::commit_revision(&self.pool, rev, now).await
    }
    async fn resolve_ref(&self, repo_id: i64, name: &str) -> Result<Option<String>> {
        repos::resolve_ref(&self.pool, repo_id, name).await
    }
    async fn revision(&self, repo_id: i64, commit: &str) -> Result<Option<Revision>> {
        repos::revision(&self.pool, repo_id, commit).await
    }
    async fn revisions(&self, repo_id: i64, limit: u32) -> Result<Vec<Revision>> {
        repos::revisions(&self.pool, repo_id, limit).await
    }
    async fn revision_files(&self, repo_id: i64, commit: &str) -> Result<Vec<FileEntry>> {
        repos::revision_files(&self.pool, repo_id, commit).await
    }
    async fn revision_file(
        &self,
        repo_id: i64,
        commit: &str,
        path: &str,
    ) -> Result<Option<FileEntry>> {
        repos::revision_file(&self.pool, repo_id, commit, path).await
    }
    async fn set_signature_state(
        &self,
        repo_id: i64,
        commit: &str,
        state: &SignatureState,
    ) -> Result<()> {
        repos::set_signature_state(&self.pool, repo_id, commit, state).await
    }
    async fn signing_events(&self, limit: u32) -> Result<Vec<SigningEvent>> {
        repos::signing_events(&self.pool, limit).await
    }
}
