//! Repos, uploads and revisions on PostgreSQL.

use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgPool, Row};

use super::{conflict_on_unique, now};
use crate::error::{Result, StoreError};
use crate::meta::expect_changed;
use crate::model::{
    FileEntry, NewRevision, Repo, RepoQuery, Revision, SignatureState, SigningEvent, Upload,
};

const REPO_SELECT: &str = "SELECT r.id, r.owner_id, a.name AS owner, a.kind AS owner_kind, r.name, \
     r.private, r.created_at, r.updated_at, f.commit_id AS head \
     FROM repos r JOIN accounts a ON a.id = r.owner_id \
     LEFT JOIN refs f ON f.repo_id = r.id AND f.name = 'main'";

const REVISION_SELECT: &str = "SELECT v.*, a.name AS uploader FROM revisions v \
     JOIN accounts a ON a.id = v.uploader_id";

pub(super) const UPLOAD_FILES: &str =
    "SELECT path, sha256, size FROM upload_files WHERE upload_id = $1 ORDER BY path";
const REVISION_FILES: &str = "SELECT path, sha256, size FROM revision_files WHERE repo_id = $2 AND commit_id = $1 ORDER BY path";

fn repo_from_row(row: &PgRow) -> Result<Repo> {
    let kind: String = row.try_get("owner_kind")?;
    Ok(Repo {
        id: row.try_get("id")?,
        owner_id: row.try_get("owner_id")?,
        owner: row.try_get("owner")?,
        owner_kind: kind.parse()?,
        name: row.try_get("name")?,
        private: row.try_get::<bool, _>("private")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        head: row.try_get("head")?,
    })
}

fn to_u64(v: i64, what: &str) -> Result<u64> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative {what}")))
}

fn to_i64(v: u64, what: &str) -> Result<i64> {
    i64::try_from(v).map_err(|_| StoreError::Corrupt(format!("{what} out of range")))
}

fn signature_from_row(row: &PgRow) -> Result<SignatureState> {
    let status: String = row.try_get("sig_status")?;
    Ok(SignatureState {
        status: status.parse()?,
        method: row.try_get("sig_method")?,
        identity: row.try_get("sig_identity")?,
        issuer: row.try_get("sig_issuer")?,
        log_index: row.try_get("sig_log_index")?,
        detail: row.try_get("sig_detail")?,
        checked_at: row.try_get("sig_checked_at")?,
    })
}

fn revision_from_row(row: &PgRow) -> Result<Revision> {
    Ok(Revision {
        repo_id: row.try_get("repo_id")?,
        commit: row.try_get("commit_id")?,
        parent: row.try_get("parent_id")?,
        uploader_id: row.try_get("uploader_id")?,
        uploader: row.try_get("uploader")?,
        summary: row.try_get("summary")?,
        created_at: row.try_get("created_at")?,
        file_count: to_u64(row.try_get("file_count")?, "file count")?,
        total_size: to_u64(row.try_get("total_size")?, "size")?,
        signature: signature_from_row(row)?,
        identity_changed_from: row.try_get("identity_changed_from")?,
    })
}

fn file_from_row(row: &PgRow) -> Result<FileEntry> {
    Ok(FileEntry {
        path: row.try_get("path")?,
        sha256: row.try_get("sha256")?,
        size: to_u64(row.try_get("size")?, "file size")?,
    })
}

pub(super) async fn create_repo(
    pool: &PgPool,
    owner_id: i64,
    name: &str,
    private: bool,
) -> Result<Repo> {
    let t = now();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO repos (owner_id, name, private, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $4) RETURNING id",
    )
    .bind(owner_id)
    .bind(name)
    .bind(private)
    .bind(t)
    .fetch_one(pool)
    .await
    .map_err(|e| conflict_on_unique(e, || format!("repo {name:?} exists")))?;
    let row = sqlx::query(AssertSqlSafe(format!("{REPO_SELECT} WHERE r.id = $1")))
        .bind(id)
        .fetch_one(pool)
        .await?;
    repo_from_row(&row)
}

pub(super) async fn repo(pool: &PgPool, owner: &str, name: &str) -> Result<Option<Repo>> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "{REPO_SELECT} WHERE lower(a.name) = lower($1) AND lower(r.name) = lower($2)"
    )))
    .bind(owner)
    .bind(name)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(repo_from_row).transpose()
}

pub(super) async fn list_repos(pool: &PgPool, q: &RepoQuery) -> Result<Vec<Repo>> {
    let mut sql = format!("{REPO_SELECT} WHERE 1 = 1");
    if !q.viewer_is_admin {
        sql.push_str(
            " AND (NOT r.private OR r.owner_id = $1 OR r.owner_id IN \
             (SELECT org_id FROM memberships WHERE user_id = $1))",
        );
    }
    if q.search.is_some() {
        sql.push_str(" AND strpos(lower(a.name || '/' || r.name), lower($2)) > 0");
    }
    if q.owner.is_some() {
        sql.push_str(" AND lower(a.name) = lower($3)");
    }
    sql.push_str(" ORDER BY r.updated_at DESC, r.id DESC LIMIT $4 OFFSET $5");
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(q.viewer.unwrap_or(-1))
        .bind(q.search.as_deref().unwrap_or(""))
        .bind(q.owner.as_deref().unwrap_or(""))
        .bind(i64::from(q.limit.clamp(1, 1000)))
        .bind(i64::from(q.offset))
        .fetch_all(pool)
        .await?;
    rows.iter().map(repo_from_row).collect()
}

pub(super) async fn set_repo_private(pool: &PgPool, repo_id: i64, private: bool) -> Result<()> {
    let r = sqlx::query("UPDATE repos SET private = $2 WHERE id = $1")
        .bind(repo_id)
        .bind(private)
        .execute(pool)
        .await?;
    expect_changed(r.rows_affected(), || format!("repo #{repo_id}"))
}

pub(super) async fn create_upload(
    pool: &PgPool,
    id: &str,
    repo_id: i64,
    user_id: i64,
) -> Result<Upload> {
    let created_at = now();
    sqlx::query("INSERT INTO uploads (id, repo_id, user_id, created_at) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(repo_id)
        .bind(user_id)
        .bind(created_at)
        .execute(pool)
        .await
        .map_err(|e| conflict_on_unique(e, || "upload id collision".into()))?;
    Ok(Upload {
        id: id.to_owned(),
        repo_id,
        user_id,
        created_at,
    })
}

pub(super) async fn upload(pool: &PgPool, id: &str) -> Result<Option<Upload>> {
    let row = sqlx::query("SELECT * FROM uploads WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.map(|r| {
        Ok(Upload {
            id: r.try_get("id")?,
            repo_id: r.try_get("repo_id")?,
            user_id: r.try_get("user_id")?,
            created_at: r.try_get("created_at")?,
        })
    })
    .transpose()
}

pub(super) async fn add_upload_file(pool: &PgPool, upload_id: &str, f: &FileEntry) -> Result<()> {
    sqlx::query(
        "INSERT INTO upload_files (upload_id, path, sha256, size) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (upload_id, path) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size",
    )
    .bind(upload_id)
    .bind(&f.path)
    .bind(&f.sha256)
    .bind(to_i64(f.size, "file size")?)
    .execute(pool)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
            StoreError::NotFound(format!("upload {upload_id}"))
        }
        _ => StoreError::Database(e),
    })?;
    Ok(())
}

/// Files by `sql` (one of the two file queries) with `key` = upload id or commit id.
pub(super) async fn files(
    pool: &PgPool,
    sql: &'static str,
    key: &str,
    repo_id: Option<i64>,
) -> Result<Vec<FileEntry>> {
    let mut q = sqlx::query(sql).bind(key);
    if let Some(id) = repo_id {
        q = q.bind(id);
    }
    q.fetch_all(pool).await?.iter().map(file_from_row).collect()
}

pub(super) async fn revision_files(
    pool: &PgPool,
    repo_id: i64,
    commit: &str,
) -> Result<Vec<FileEntry>> {
    files(pool, REVISION_FILES, commit, Some(repo_id)).await
}

pub(super) async fn revision_file(
    pool: &PgPool,
    repo_id: i64,
    commit: &str,
    path: &str,
) -> Result<Option<FileEntry>> {
    let row = sqlx::query(
        "SELECT path, sha256, size FROM revision_files WHERE repo_id = $1 AND commit_id = $2 AND path = $3",
    )
    .bind(repo_id)
    .bind(commit)
    .bind(path)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(file_from_row).transpose()
}

pub(super) async fn delete_upload(pool: &PgPool, upload_id: &str) -> Result<()> {
    sqlx::query("DELETE FROM uploads WHERE id = $1")
        .bind(upload_id)
        .execute(pool)
        .await?;
    Ok(())
}

pub(super) async fn sweep_uploads(pool: &PgPool, before: i64) -> Result<u64> {
    let r = sqlx::query("DELETE FROM uploads WHERE created_at < $1")
        .bind(before)
        .execute(pool)
        .await?;
    Ok(r.rows_affected())
}

pub(super) async fn commit_revision(pool: &PgPool, rev: &NewRevision, t: i64) -> Result<Revision> {
    let mut tx = pool.begin().await?;
    // Serialize commits to one repo (SQLite gets this from BEGIN IMMEDIATE).
    sqlx::query("SELECT id FROM repos WHERE id = $1 FOR UPDATE")
        .bind(rev.repo_id)
        .fetch_optional(&mut *tx)
        .await?;
    let head: Option<String> =
        sqlx::query_scalar("SELECT commit_id FROM refs WHERE repo_id = $1 AND name = 'main'")
            .bind(rev.repo_id)
            .fetch_optional(&mut *tx)
            .await?;
    if head != rev.parent {
        return Err(StoreError::Conflict(format!(
            "main moved to {} while this revision was built on {}",
            head.as_deref().unwrap_or("(none)"),
            rev.parent.as_deref().unwrap_or("(none)")
        )));
    }
    let total: u64 = rev.files.iter().map(|f| f.size).sum();
    let s = &rev.signature;
    sqlx::query(
        "INSERT INTO revisions (repo_id, commit_id, parent_id, uploader_id, summary, created_at, \
         file_count, total_size, sig_status, sig_method, sig_identity, sig_issuer, sig_log_index, \
         sig_detail, sig_checked_at, identity_changed_from) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(rev.repo_id)
    .bind(&rev.commit)
    .bind(&rev.parent)
    .bind(rev.uploader_id)
    .bind(&rev.summary)
    .bind(t)
    .bind(to_i64(rev.files.len() as u64, "file count")?)
    .bind(to_i64(total, "total size")?)
    .bind(s.status.as_str())
    .bind(&s.method)
    .bind(&s.identity)
    .bind(&s.issuer)
    .bind(s.log_index)
    .bind(&s.detail)
    .bind(s.checked_at)
    .bind(&rev.identity_changed_from)
    .execute(&mut *tx)
    .await
    .map_err(|e| conflict_on_unique(e, || format!("revision {} exists", rev.commit)))?;
    for f in &rev.files {
        sqlx::query(
            "INSERT INTO revision_files (repo_id, commit_id, path, sha256, size) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(rev.repo_id)
        .bind(&rev.commit)
        .bind(&f.path)
        .bind(&f.sha256)
        .bind(to_i64(f.size, "file size")?)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(
        "INSERT INTO refs (repo_id, name, commit_id) VALUES ($1, 'main', $2) \
         ON CONFLICT (repo_id, name) DO UPDATE SET commit_id = excluded.commit_id",
    )
    .bind(rev.repo_id)
    .bind(&rev.commit)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE repos SET updated_at = $2 WHERE id = $1")
        .bind(rev.repo_id)
        .bind(t)
        .execute(&mut *tx)
        .await?;
    if let Some(up) = &rev.upload_id {
        sqlx::query("DELETE FROM uploads WHERE id = $1")
            .bind(up)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    revision(pool, rev.repo_id, &rev.commit)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("revision {}", rev.commit)))
}

pub(super) async fn resolve_ref(pool: &PgPool, repo_id: i64, name: &str) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT commit_id FROM refs WHERE repo_id = $1 AND name = $2")
            .bind(repo_id)
            .bind(name)
            .fetch_optional(pool)
            .await?,
    )
}

pub(super) async fn revision(
    pool: &PgPool,
    repo_id: i64,
    commit: &str,
) -> Result<Option<Revision>> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "{REVISION_SELECT} WHERE v.repo_id = $1 AND v.commit_id = $2"
    )))
    .bind(repo_id)
    .bind(commit)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(revision_from_row).transpose()
}

pub(super) async fn revisions(pool: &PgPool, repo_id: i64, limit: u32) -> Result<Vec<Revision>> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "{REVISION_SELECT} WHERE v.repo_id = $1 ORDER BY v.created_at DESC, v.seq DESC LIMIT $2"
    )))
    .bind(repo_id)
    .bind(i64::from(limit.clamp(1, 10_000)))
    .fetch_all(pool)
    .await?;
    rows.iter().map(revision_from_row).collect()
}

pub(super) async fn set_signature_state(
    pool: &PgPool,
    repo_id: i64,
    commit: &str,
    s: &SignatureState,
) -> Result<()> {
    let r = sqlx::query(
        "UPDATE revisions SET sig_status = $3, sig_method = $4, sig_identity = $5, sig_issuer = $6, \
         sig_log_index = $7, sig_detail = $8, sig_checked_at = $9 WHERE repo_id = $1 AND commit_id = $2",
    )
    .bind(repo_id)
    .bind(commit)
    .bind(s.status.as_str())
    .bind(&s.method)
    .bind(&s.identity)
    .bind(&s.issuer)
    .bind(s.log_index)
    .bind(&s.detail)
    .bind(s.checked_at)
    .execute(pool)
    .await?;
    expect_changed(r.rows_affected(), || format!("revision {commit}"))
}

pub(super) async fn signing_events(pool: &PgPool, limit: u32) -> Result<Vec<SigningEvent>> {
    let rows = sqlx::query(
        "SELECT v.*, u.name AS uploader, o.name AS owner, r.name AS repo_name, r.private, r.owner_id \
         FROM revisions v JOIN repos r ON r.id = v.repo_id JOIN accounts o ON o.id = r.owner_id \
         JOIN accounts u ON u.id = v.uploader_id ORDER BY v.created_at DESC, v.seq DESC LIMIT $1",
    )
    .bind(i64::from(limit.clamp(1, 10_000)))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            let owner: String = r.try_get("owner")?;
            let name: String = r.try_get("repo_name")?;
            Ok(SigningEvent {
                repo: format!("{owner}/{name}"),
                private: r.try_get::<bool, _>("private")?,
                owner_id: r.try_get("owner_id")?,
                commit: r.try_get("commit_id")?,
                uploader: r.try_get("uploader")?,
                created_at: r.try_get("created_at")?,
                signature: signature_from_row(r)?,
            })
        })
        .collect()
}
