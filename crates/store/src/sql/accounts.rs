//! Accounts, memberships, tokens and sessions.

use sqlx::{AssertSqlSafe, Connection};

use super::backend::{Arg, Backend, Col, all, conflict_on_unique, now, optional};
use crate::error::{Result, StoreError};
use crate::meta::expect_changed;
use crate::model::{Account, Role, SessionRecord, TokenRecord, TokenScope};

pub(super) const ACCOUNT_COLS: &str = "id, name, kind, email, is_admin, created_at, disabled_at";
/// [`ACCOUNT_COLS`] of `accounts a` in a join.
const A_COLS: &str = "a.id, a.name, a.kind, a.email, a.is_admin, a.created_at, a.disabled_at";

/// How [`account`] finds the account.
pub(super) enum AccountKey<'a> {
    /// By name, case-insensitively.
    Name(&'a str),
    /// By id.
    Id(i64),
}

pub(super) fn account_from_row<R: Col>(row: &R) -> Result<Account>
where
    R::Database: Backend,
{
    Ok(Account {
        id: row.col("id")?,
        name: row.col("name")?,
        kind: row.col::<String>("kind")?.parse()?,
        email: row.col("email")?,
        is_admin: row.col("is_admin")?,
        created_at: row.col("created_at")?,
        disabled_at: row.col("disabled_at")?,
    })
}

fn token_from_row<R: Col>(row: &R) -> Result<TokenRecord>
where
    R::Database: Backend,
{
    Ok(TokenRecord {
        id: row.col("id")?,
        user_id: row.col("user_id")?,
        label: row.col("label")?,
        scope: row.col::<String>("scope")?.parse()?,
        created_at: row.col("created_at")?,
        last_used_at: row.col("last_used_at")?,
        revoked_at: row.col("revoked_at")?,
        expires_at: row.col("expires_at")?,
    })
}

fn name_taken(name: &str) -> impl FnOnce() -> String + '_ {
    move || format!("the name {name:?} is taken")
}

pub(super) async fn create_user<DB: Backend>(
    c: &mut DB::Connection,
    name: &str,
    email: Option<&str>,
    password_hash: Option<&str>,
    is_admin: bool,
) -> Result<Account> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO accounts (name, kind, email, password_hash, is_admin, created_at) \
         VALUES ($1, 'user', $2, $3, $4, $5) RETURNING {ACCOUNT_COLS}"
    )))
    .arg(name)
    .arg(email)
    .arg(password_hash)
    .arg(is_admin)
    .arg(now())
    .fetch_one(DB::executor(c))
    .await
    .map_err(|e| conflict_on_unique(e, name_taken(name)))?;
    account_from_row(&row)
}

pub(super) async fn create_org<DB: Backend>(
    c: &mut DB::Connection,
    name: &str,
    owner_id: i64,
) -> Result<Account> {
    let mut tx = c.begin_with(DB::DIALECT.begin_write).await?;
    let owner = sqlx::query(AssertSqlSafe(format!(
        "SELECT kind FROM accounts WHERE id = $1{}",
        DB::DIALECT.lock_row
    )))
    .arg(owner_id)
    .fetch_optional(DB::executor(&mut tx))
    .await?;
    match owner {
        Some(r) if r.col::<String>("kind")? == "user" => {}
        _ => return Err(StoreError::NotFound(format!("user #{owner_id}"))),
    }
    let row = sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO accounts (name, kind, created_at) VALUES ($1, 'org', $2) \
         RETURNING {ACCOUNT_COLS}"
    )))
    .arg(name)
    .arg(now())
    .fetch_one(DB::executor(&mut tx))
    .await
    .map_err(|e| conflict_on_unique(e, name_taken(name)))?;
    let org = account_from_row(&row)?;
    sqlx::query(
        "INSERT INTO memberships (org_id, user_id, role, created_at) VALUES ($1, $2, 'owner', $3)",
    )
    .arg(org.id)
    .arg(owner_id)
    .arg(now())
    .execute(DB::executor(&mut tx))
    .await?;
    tx.commit().await?;
    Ok(org)
}

pub(super) async fn account<DB: Backend>(
    c: &mut DB::Connection,
    key: AccountKey<'_>,
) -> Result<Option<Account>> {
    let select = format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE");
    let q = match key {
        AccountKey::Name(name) => {
            sqlx::query(AssertSqlSafe(format!("{select} lower(name) = lower($1)"))).arg(name)
        }
        AccountKey::Id(id) => sqlx::query(AssertSqlSafe(format!("{select} id = $1"))).arg(id),
    };
    optional::<DB, _>(c, q, account_from_row).await
}

pub(super) async fn count_users<DB: Backend>(c: &mut DB::Connection) -> Result<u64> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM accounts WHERE kind = 'user'")
        .fetch_one(DB::executor(c))
        .await?;
    Ok(u64::try_from(row.col::<i64>("n")?).unwrap_or(0))
}

pub(super) async fn password_hash<DB: Backend>(
    c: &mut DB::Connection,
    user_id: i64,
) -> Result<Option<String>> {
    // A disabled user cannot log in: as if they had no password.
    let row = sqlx::query(
        "SELECT password_hash FROM accounts WHERE id = $1 AND kind = 'user' AND disabled_at IS NULL",
    )
        .arg(user_id)
        .fetch_optional(DB::executor(c))
        .await?;
    Ok(row.map(|r| r.col("password_hash")).transpose()?.flatten())
}

pub(super) async fn set_password_hash<DB: Backend>(
    c: &mut DB::Connection,
    user_id: i64,
    hash: &str,
) -> Result<()> {
    let r = sqlx::query("UPDATE accounts SET password_hash = $2 WHERE id = $1 AND kind = 'user'")
        .arg(user_id)
        .arg(hash)
        .execute(DB::executor(c))
        .await?;
    expect_changed(DB::rows_affected(&r), || format!("user #{user_id}"))
}

pub(super) async fn set_membership<DB: Backend>(
    c: &mut DB::Connection,
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
    .arg(org_id)
    .arg(user_id)
    .arg(role.as_str())
    .arg(now())
    .execute(DB::executor(c))
    .await?;
    expect_changed(DB::rows_affected(&r), || {
        format!("org #{org_id} or user #{user_id}")
    })
}

pub(super) async fn remove_membership<DB: Backend>(
    c: &mut DB::Connection,
    org_id: i64,
    user_id: i64,
) -> Result<bool> {
    let r = sqlx::query("DELETE FROM memberships WHERE org_id = $1 AND user_id = $2")
        .arg(org_id)
        .arg(user_id)
        .execute(DB::executor(c))
        .await?;
    Ok(DB::rows_affected(&r) > 0)
}

/// `by_user`: the orgs of user `id`; otherwise the users of org `id`.
pub(super) async fn memberships<DB: Backend>(
    c: &mut DB::Connection,
    by_user: bool,
    id: i64,
) -> Result<Vec<(Account, Role)>> {
    let (join, filter) = if by_user {
        ("a.id = m.org_id", "m.user_id")
    } else {
        ("a.id = m.user_id", "m.org_id")
    };
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {A_COLS}, m.role FROM memberships m JOIN accounts a ON {join} \
         WHERE {filter} = $1 ORDER BY lower(a.name)"
    )))
    .arg(id)
    .fetch_all(DB::executor(c))
    .await?;
    rows.iter()
        .map(|r| Ok((account_from_row(r)?, r.col::<String>("role")?.parse()?)))
        .collect()
}

pub(super) async fn create_token<DB: Backend>(
    c: &mut DB::Connection,
    user_id: i64,
    label: &str,
    scope: TokenScope,
    secret_hash: &str,
    expires_at: Option<i64>,
) -> Result<TokenRecord> {
    let row = sqlx::query(
        "INSERT INTO tokens (user_id, label, scope, secret_hash, created_at, expires_at) \
         SELECT id, $2, $3, $4, $5, $6 FROM accounts WHERE id = $1 AND kind = 'user' RETURNING *",
    )
    .arg(user_id)
    .arg(label)
    .arg(scope.as_str())
    .arg(secret_hash)
    .arg(now())
    .arg(expires_at)
    .fetch_optional(DB::executor(c))
    .await
    .map_err(|e| conflict_on_unique(e, || "token collision".into()))?;
    match row {
        Some(r) => token_from_row(&r),
        None => Err(StoreError::NotFound(format!("user #{user_id}"))),
    }
}

pub(super) async fn token_by_hash<DB: Backend>(
    c: &mut DB::Connection,
    secret_hash: &str,
) -> Result<Option<(TokenRecord, Account)>> {
    let row = sqlx::query("SELECT * FROM tokens WHERE secret_hash = $1 AND revoked_at IS NULL")
        .arg(secret_hash)
        .fetch_optional(DB::executor(c))
        .await?;
    let Some(row) = row else { return Ok(None) };
    let token = token_from_row(&row)?;
    let Some(user) = account::<DB>(c, AccountKey::Id(token.user_id)).await? else {
        return Ok(None);
    };
    // Best effort: a busy database must not fail an authenticated request.
    let _ = sqlx::query("UPDATE tokens SET last_used_at = $2 WHERE id = $1")
        .arg(token.id)
        .arg(now())
        .execute(DB::executor(c))
        .await;
    Ok(Some((token, user)))
}

pub(super) async fn tokens_of<DB: Backend>(
    c: &mut DB::Connection,
    user_id: i64,
) -> Result<Vec<TokenRecord>> {
    let q = sqlx::query("SELECT * FROM tokens WHERE user_id = $1 ORDER BY id DESC").arg(user_id);
    all::<DB, _>(c, q, token_from_row).await
}

pub(super) async fn revoke_token<DB: Backend>(
    c: &mut DB::Connection,
    user_id: i64,
    token_id: i64,
) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE tokens SET revoked_at = $3 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
    )
    .arg(token_id)
    .arg(user_id)
    .arg(now())
    .execute(DB::executor(c))
    .await?;
    Ok(DB::rows_affected(&r) > 0)
}

pub(super) async fn create_session<DB: Backend>(
    c: &mut DB::Connection,
    id_hash: &str,
    user_id: i64,
    csrf_token: &str,
    expires_at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .arg(id_hash)
    .arg(user_id)
    .arg(csrf_token)
    .arg(now())
    .arg(expires_at)
    .execute(DB::executor(c))
    .await?;
    Ok(())
}

pub(super) async fn session<DB: Backend>(
    c: &mut DB::Connection,
    id_hash: &str,
    now: i64,
) -> Result<Option<(SessionRecord, Account)>> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {A_COLS}, s.csrf_token, s.expires_at FROM sessions s \
         JOIN accounts a ON a.id = s.user_id \
         WHERE s.id_hash = $1 AND s.expires_at > $2 AND a.disabled_at IS NULL"
    )))
    .arg(id_hash)
    .arg(now)
    .fetch_optional(DB::executor(c))
    .await?;
    let Some(row) = row else { return Ok(None) };
    let account = account_from_row(&row)?;
    Ok(Some((
        SessionRecord {
            user_id: account.id,
            csrf_token: row.col("csrf_token")?,
            expires_at: row.col("expires_at")?,
        },
        account,
    )))
}

pub(super) async fn delete_session<DB: Backend>(
    c: &mut DB::Connection,
    id_hash: &str,
) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .arg(id_hash)
        .execute(DB::executor(c))
        .await?;
    Ok(())
}
