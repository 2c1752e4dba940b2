//! What operators do to accounts and repos: list users, disable, grant admin, end
//! sessions, delete repos, hub-wide settings, and the record of operator actions.

use sqlx::{AssertSqlSafe, Connection};

use super::accounts::{ACCOUNT_COLS, account_from_row};
use super::backend::{Arg, Backend, Col, all, now, optional};
use crate::error::Result;
use crate::meta::expect_changed;
use crate::model::{Account, AdminEvent};

pub(super) async fn list_users<DB: Backend>(c: &mut DB::Connection) -> Result<Vec<Account>> {
    let q = sqlx::query(AssertSqlSafe(format!(
        "SELECT {ACCOUNT_COLS} FROM accounts WHERE kind = 'user' ORDER BY lower(name)"
    )));
    all::<DB, _>(c, q, account_from_row).await
}

/// Disabling also ends the user's sessions (in the same transaction): a re-enabled user
/// logs in again; their tokens work again.
pub(super) async fn set_disabled<DB: Backend>(
    c: &mut DB::Connection,
    user_id: i64,
    disabled: bool,
) -> Result<()> {
    let mut tx = c.begin_with(DB::DIALECT.begin_write).await?;
    // Disabling again keeps the first time.
    let set = if disabled {
        "COALESCE(disabled_at, $2)"
    } else {
        "NULL"
    };
    let mut q = sqlx::query(AssertSqlSafe(format!(
        "UPDATE accounts SET disabled_at = {set} WHERE id = $1 AND kind = 'user'"
    )))
    .arg(user_id);
    if disabled {
        q = q.arg(now());
    }
    let r = q.execute(DB::executor(&mut tx)).await?;
    expect_changed(DB::rows_affected(&r), || format!("user #{user_id}"))?;
    if disabled {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .arg(user_id)
            .execute(DB::executor(&mut tx))
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(super) async fn set_admin<DB: Backend>(
    c: &mut DB::Connection,
    user_id: i64,
    admin: bool,
) -> Result<()> {
    let r = sqlx::query("UPDATE accounts SET is_admin = $2 WHERE id = $1 AND kind = 'user'")
        .arg(user_id)
        .arg(admin)
        .execute(DB::executor(c))
        .await?;
    expect_changed(DB::rows_affected(&r), || format!("user #{user_id}"))
}

pub(super) async fn delete_sessions_of<DB: Backend>(
    c: &mut DB::Connection,
    user_id: i64,
) -> Result<u64> {
    let r = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .arg(user_id)
        .execute(DB::executor(c))
        .await?;
    Ok(DB::rows_affected(&r))
}

/// Deletes a repo with its revisions, files, refs and open uploads (the schema's
/// `ON DELETE CASCADE`); returns the digests its revisions and uploads referred to, for
/// the blob collector. `None`: no such repo.
pub(super) async fn delete_repo<DB: Backend>(
    c: &mut DB::Connection,
    repo_id: i64,
) -> Result<Option<Vec<String>>> {
    let mut tx = c.begin_with(DB::DIALECT.begin_write).await?;
    let q = sqlx::query(
        "SELECT DISTINCT sha256 FROM revision_files WHERE repo_id = $1 \
         UNION SELECT DISTINCT f.sha256 FROM upload_files f \
         JOIN uploads u ON u.id = f.upload_id WHERE u.repo_id = $1 \
         UNION SELECT DISTINCT bundle_sha256 AS sha256 FROM revision_claims WHERE repo_id = $1",
    )
    .arg(repo_id);
    let digests = all::<DB, _>(&mut *tx, q, |r| Ok(r.col::<String>("sha256")?)).await?;
    let r = sqlx::query("DELETE FROM repos WHERE id = $1")
        .arg(repo_id)
        .execute(DB::executor(&mut tx))
        .await?;
    if DB::rows_affected(&r) == 0 {
        return Ok(None);
    }
    tx.commit().await?;
    Ok(Some(digests))
}

pub(super) async fn record_admin_event<DB: Backend>(
    c: &mut DB::Connection,
    actor: &str,
    action: &str,
    target: &str,
    detail: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO admin_events (at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5)",
    )
    .arg(now())
    .arg(actor)
    .arg(action)
    .arg(target)
    .arg(detail)
    .execute(DB::executor(c))
    .await?;
    Ok(())
}

pub(super) async fn admin_events<DB: Backend>(
    c: &mut DB::Connection,
    limit: u32,
) -> Result<Vec<AdminEvent>> {
    let q = sqlx::query("SELECT * FROM admin_events ORDER BY id DESC LIMIT $1")
        .arg(i64::from(limit.min(10_000)));
    all::<DB, _>(c, q, |r| {
        Ok(AdminEvent {
            id: r.col("id")?,
            at: r.col("at")?,
            actor: r.col("actor")?,
            action: r.col("action")?,
            target: r.col("target")?,
            detail: r.col("detail")?,
        })
    })
    .await
}

pub(super) async fn setting<DB: Backend>(
    c: &mut DB::Connection,
    name: &str,
) -> Result<Option<String>> {
    let q = sqlx::query("SELECT value FROM settings WHERE name = $1").arg(name);
    optional::<DB, _>(c, q, |r| Ok(r.col("value")?)).await
}

pub(super) async fn set_setting<DB: Backend>(
    c: &mut DB::Connection,
    name: &str,
    value: Option<&str>,
) -> Result<()> {
    let q = match value {
        Some(v) => sqlx::query(
            "INSERT INTO settings (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .arg(name)
        .arg(v),
        None => sqlx::query("DELETE FROM settings WHERE name = $1").arg(name),
    };
    q.execute(DB::executor(c)).await?;
    Ok(())
}
