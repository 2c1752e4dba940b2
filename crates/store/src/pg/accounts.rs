//! Accounts, memberships, tokens and sessions on PostgreSQL.

use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgPool, Row};

use super::{conflict_on_unique, now};
use crate::error::{Result, StoreError};
use crate::meta::expect_changed;
use crate::model::{Account, Role, SessionRecord, TokenRecord, TokenScope};

const ACCOUNT_COLS: &str = "id, name, kind, email, is_admin, created_at";

pub(super) fn account_from_row(row: &PgRow) -> Result<Account> {
    let kind: String = row.try_get("kind")?;
    Ok(Account {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        kind: kind.parse()?,
        email: row.try_get("email")?,
        is_admin: row.try_get::<bool, _>("is_admin")?,
        created_at: row.try_get("created_at")?,
    })
}

fn token_from_row(row: &PgRow) -> Result<TokenRecord> {
    let scope: String = row.try_get("scope")?;
    Ok(TokenRecord {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        label: row.try_get("label")?,
        scope: scope.parse()?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

async fn insert_account(
    pool: &PgPool,
    name: &str,
    kind: &str,
    email: Option<&str>,
    password_hash: Option<&str>,
    is_admin: bool,
) -> Result<Account> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO accounts (name, kind, email, password_hash, is_admin, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {ACCOUNT_COLS}"
    )))
    .bind(name)
    .bind(kind)
    .bind(email)
    .bind(password_hash)
    .bind(is_admin)
    .bind(now())
    .fetch_one(pool)
    .await
    .map_err(|e| conflict_on_unique(e, || format!("the name {name:?} is taken")))?;
    account_from_row(&row)
}

pub(super) async fn create_user(
    pool: &PgPool,
    name: &str,
    email: Option<&str>,
    password_hash: Option<&str>,
    is_admin: bool,
) -> Result<Account> {
    insert_account(pool, name, "user", email, password_hash, is_admin).await
}

pub(super) async fn create_org(pool: &PgPool, name: &str, owner_id: i64) -> Result<Account> {
    let mut tx = pool.begin().await?;
    let owner = sqlx::query("SELECT kind FROM accounts WHERE id = $1")
        .bind(owner_id)
        .fetch_optional(&mut *tx)
        .await?;
    match owner {
        Some(r) if r.try_get::<String, _>("kind")? == "user" => {}
        _ => return Err(StoreError::NotFound(format!("user #{owner_id}"))),
    }
    let row = sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO accounts (name, kind, created_at) VALUES ($1, 'org', $2) RETURNING {ACCOUNT_COLS}"
    )))
    .bind(name)
    .bind(now())
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| conflict_on_unique(e, || format!("the name {name:?} is taken")))?;
    let org = account_from_row(&row)?;
    sqlx::query(
        "INSERT INTO memberships (org_id, user_id, role, created_at) VALUES ($1, $2, 'owner', $3)",
    )
    .bind(org.id)
    .bind(owner_id)
    .bind(now())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(org)
}

pub(super) async fn account<T>(pool: &PgPool, cond: &str, key: T) -> Result<Option<Account>>
where
    T: for<'q> sqlx::Encode<'q, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send,
{
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {ACCOUNT_COLS} FROM accounts WHERE {cond}"
    )))
    .bind(key)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(account_from_row).transpose()
}

pub(super) async fn count_users(pool: &PgPool) -> Result<u64> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts WHERE kind = 'user'")
        .fetch_one(pool)
        .await?;
    Ok(u64::try_from(n).unwrap_or(0))
}

pub(super) async fn password_hash(pool: &PgPool, user_id: i64) -> Result<Option<String>> {
    let h: Option<Option<String>> =
        sqlx::query_scalar("SELECT password_hash FROM accounts WHERE id = $1 AND kind = 'user'")
            .bind(user_id)
            .fetch_optional(pool)
            .await?;
    Ok(h.flatten())
}

pub(super) async fn set_password_hash(pool: &PgPool, user_id: i64, hash: &str) -> Result<()> {
    let r = sqlx::query("UPDATE accounts SET password_hash = $2 WHERE id = $1 AND kind = 'user'")
        .bind(user_id)
        .bind(hash)
        .execute(pool)
        .await?;
    expect_changed(r.rows_affected(), || format!("user #{user_id}"))
}

pub(super) async fn set_membership(
    pool: &PgPool,
    org_id: i64,
    user_id: i64,
    role: Role,
) -> Result<()> {
    let r = sqlx::query(
        "INSERT INTO memberships (org_id, user_id, role, created_at) \
         SELECT o.id, u.id, $3, $4 FROM accounts o, accounts u \
         WHERE o.id = $1 AND o.kind = 'org' AND u.id = $2 AND u.kind = 'user' \
         ON CONFLICT (org_id, user_id) DO UPDATE SET role = excluded.role",
    )
    .bind(org_id)
    .bind(user_id)
    .bind(role.as_str())
    .bind(now())
    .execute(pool)
    .await?;
    expect_changed(r.rows_affected(), || {
        format!("org #{org_id} or user #{user_id}")
    })
}

pub(super) async fn remove_membership(pool: &PgPool, org_id: i64, user_id: i64) -> Result<bool> {
    let r = sqlx::query("DELETE FROM memberships WHERE org_id = $1 AND user_id = $2")
        .bind(org_id)
        .bind(user_id)
        .execute(pool)
        .await?;
    Ok(r.rows_affected() > 0)
}

/// `by_user`: the orgs of user `id`; otherwise the users of org `id`.
pub(super) async fn memberships(
    pool: &PgPool,
    by_user: bool,
    id: i64,
) -> Result<Vec<(Account, Role)>> {
    let (join, filter) = if by_user {
        ("a.id = m.org_id", "m.user_id")
    } else {
        ("a.id = m.user_id", "m.org_id")
    };
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT a.id, a.name, a.kind, a.email, a.is_admin, a.created_at, m.role \
         FROM memberships m JOIN accounts a ON {join} WHERE {filter} = $1 ORDER BY a.name"
    )))
    .bind(id)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            let role: String = r.try_get("role")?;
            Ok((account_from_row(r)?, role.parse()?))
        })
        .collect()
}

pub(super) async fn create_token(
    pool: &PgPool,
    user_id: i64,
    label: &str,
    scope: TokenScope,
    secret_hash: &str,
) -> Result<TokenRecord> {
    let row = sqlx::query(
        "INSERT INTO tokens (user_id, label, scope, secret_hash, created_at) \
         SELECT id, $2, $3, $4, $5 FROM accounts WHERE id = $1 AND kind = 'user' RETURNING *",
    )
    .bind(user_id)
    .bind(label)
    .bind(scope.as_str())
    .bind(secret_hash)
    .bind(now())
    .fetch_optional(pool)
    .await
    .map_err(|e| conflict_on_unique(e, || "token collision".into()))?;
    match row {
        Some(r) => token_from_row(&r),
        None => Err(StoreError::NotFound(format!("user #{user_id}"))),
    }
}

pub(super) async fn token_by_hash(
    pool: &PgPool,
    secret_hash: &str,
) -> Result<Option<(TokenRecord, Account)>> {
    let row = sqlx::query("SELECT * FROM tokens WHERE secret_hash = $1 AND revoked_at IS NULL")
        .bind(secret_hash)
        .fetch_optional(pool)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let token = token_from_row(&row)?;
    let Some(user) = account(pool, "id = $1", token.user_id).await? else {
        return Ok(None);
    };
    // Best effort: a busy database must not fail an authenticated request.
    let _ = sqlx::query("UPDATE tokens SET last_used_at = $2 WHERE id = $1")
        .bind(token.id)
        .bind(now())
        .execute(pool)
        .await;
    Ok(Some((token, user)))
}

pub(super) async fn tokens_of(pool: &PgPool, user_id: i64) -> Result<Vec<TokenRecord>> {
    let rows = sqlx::query("SELECT * FROM tokens WHERE user_id = $1 ORDER BY id DESC")
        .bind(user_id)
        .fetch_all(pool)
        .await?;
    rows.iter().map(token_from_row).collect()
}

pub(super) async fn revoke_token(pool: &PgPool, user_id: i64, token_id: i64) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE tokens SET revoked_at = $3 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
    )
    .bind(token_id)
    .bind(user_id)
    .bind(now())
    .execute(pool)
    .await?;
    Ok(r.rows_affected() > 0)
}

pub(super) async fn create_session(
    pool: &PgPool,
    id_hash: &str,
    user_id: i64,
    csrf_token: &str,
    expires_at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id_hash)
    .bind(user_id)
    .bind(csrf_token)
    .bind(now())
    .bind(expires_at)
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) async fn session(
    pool: &PgPool,
    id_hash: &str,
    now: i64,
) -> Result<Option<(SessionRecord, Account)>> {
    let row = sqlx::query(
        "SELECT a.id, a.name, a.kind, a.email, a.is_admin, a.created_at, s.csrf_token, s.expires_at \
         FROM sessions s JOIN accounts a ON a.id = s.user_id WHERE s.id_hash = $1 AND s.expires_at > $2",
    )
    .bind(id_hash)
    .bind(now)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let account = account_from_row(&row)?;
    Ok(Some((
        SessionRecord {
            user_id: account.id,
            csrf_token: row.try_get("csrf_token")?,
            expires_at: row.try_get("expires_at")?,
        },
        account,
    )))
}

pub(super) async fn delete_session(pool: &PgPool, id_hash: &str) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(id_hash)
        .execute(pool)
        .await?;
    Ok(())
}
