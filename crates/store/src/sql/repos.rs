//! Repos, uploads and revisions.

use sqlx::{AssertSqlSafe, Connection};

use super::backend::{Arg, Backend, Col, all, conflict_on_unique, now, optional};
use crate::error::{Result, StoreError};
use crate::meta::expect_changed;
use crate::model::{
    FileEntry, NewRevision, Repo, RepoQuery, Revision, SignatureState, SigningEvent, Upload,
};

const REPO_SELECT: &str = "SELECT r.id, r.owner_id, a.name AS owner, a.kind AS owner_kind, r.name, \
     r.private, r.created_at, r.updated_at, f.commit_id AS head \
     FROM repos r JOIN accounts a ON a.id = r.owner_id \
     LEFT JOIN refs f ON f.repo_id = r.id AND f.name = 'main'";

const REVISION_SELECT: &str = "SELECT v.*, a.name AS uploader, i.id AS revoked_by, \
     i.reason AS revoked_reason, i.opened_at AS revoked_at FROM revisions v \
     JOIN accounts a ON a.id = v.uploader_id \
     LEFT JOIN incidents i ON i.id = (SELECT MIN(ir.incident_id) FROM incident_revisions ir \
     JOIN incidents j ON j.id = ir.incident_id \
     WHERE ir.repo_id = v.repo_id AND ir.commit_id = v.commit_id AND j.closed_at IS NULL)";

/// Where the files of an upload or of a revision are.
pub(super) enum Files<'a> {
    /// An upload in progress, by id.
    Upload(&'a str),
    /// A revision: repo id and commit.
    Revision(i64, &'a str),
}

fn repo_from_row<R: Col>(row: &R) -> Result<Repo>
where
    R::Database: Backend,
{
    Ok(Repo {
        id: row.col("id")?,
        owner_id: row.col("owner_id")?,
        owner: row.col("owner")?,
        owner_kind: row.col::<String>("owner_kind")?.parse()?,
        name: row.col("name")?,
        private: row.col("private")?,
        created_at: row.col("created_at")?,
        updated_at: row.col("updated_at")?,
        head: row.col("head")?,
    })
}

pub(super) fn to_u64(v: i64, what: &str) -> Result<u64> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative {what}")))
}

fn to_i64(v: u64, what: &str) -> Result<i64> {
    i64::try_from(v).map_err(|_| StoreError::Corrupt(format!("{what} out of range")))
}

fn signature_from_row<R: Col>(row: &R) -> Result<SignatureState>
where
    R::Database: Backend,
{
    Ok(SignatureState {
        status: row.col::<String>("sig_status")?.parse()?,
        method: row.col("sig_method")?,
        identity: row.col("sig_identity")?,
        issuer: row.col("sig_issuer")?,
        log_index: row.col("sig_log_index")?,
        detail: row.col("sig_detail")?,
        checked_at: row.col("sig_checked_at")?,
    })
}

fn revision_from_row<R: Col>(row: &R) -> Result<Revision>
where
    R::Database: Backend,
{
    Ok(Revision {
        repo_id: row.col("repo_id")?,
        commit: row.col("commit_id")?,
        parent: row.col("parent_id")?,
        uploader_id: row.col("uploader_id")?,
        uploader: row.col("uploader")?,
        summary: row.col("summary")?,
        created_at: row.col("created_at")?,
        file_count: to_u64(row.col("file_count")?, "file count")?,
        total_size: to_u64(row.col("total_size")?, "size")?,
        signature: signature_from_row(row)?,
        identity_changed_from: row.col("identity_changed_from")?,
        scan_verdict: row
            .col::<Option<String>>("scan_verdict")?
            .map(|v| v.parse())
            .transpose()?,
        scan_policy: row.col("scan_policy")?,
        revoked: match row.col::<Option<i64>>("revoked_by")? {
            Some(id) => Some(crate::model::Revocation {
                id,
                reason: row.col("revoked_reason")?,
                opened_at: row.col("revoked_at")?,
            }),
            None => None,
        },
    })
}

fn file_from_row<R: Col>(row: &R) -> Result<FileEntry>
where
    R::Database: Backend,
{
    Ok(FileEntry {
        path: row.col("path")?,
        sha256: row.col("sha256")?,
        size: to_u64(row.col("size")?, "file size")?,
    })
}

pub(super) async fn create_repo<DB: Backend>(
    c: &mut DB::Connection,
    owner_id: i64,
    name: &str,
    private: bool,
) -> Result<Repo> {
    let t = now();
    let row = sqlx::query(
        "INSERT INTO repos (owner_id, name, private, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $4) RETURNING id",
    )
    .arg(owner_id)
    .arg(name)
    .arg(private)
    .arg(t)
    .fetch_one(DB::executor(c))
    .await
    .map_err(|e| conflict_on_unique(e, || format!("repo {name:?} exists")))?;
    let id: i64 = row.col("id")?;
    let row = sqlx::query(AssertSqlSafe(format!("{REPO_SELECT} WHERE r.id = $1")))
        .arg(id)
        .fetch_one(DB::executor(c))
        .await?;
    repo_from_row(&row)
}

pub(super) async fn repo<DB: Backend>(
    c: &mut DB::Connection,
    owner: &str,
    name: &str,
) -> Result<Option<Repo>> {
    let q = sqlx::query(AssertSqlSafe(format!(
        "{REPO_SELECT} WHERE lower(a.name) = lower($1) AND lower(r.name) = lower($2)"
    )))
    .arg(owner)
    .arg(name);
    optional::<DB, _>(c, q, repo_from_row).await
}

pub(super) async fn repo_by_id<DB: Backend>(
    c: &mut DB::Connection,
    id: i64,
) -> Result<Option<Repo>> {
    let q = sqlx::query(AssertSqlSafe(format!("{REPO_SELECT} WHERE r.id = $1"))).arg(id);
    optional::<DB, _>(c, q, repo_from_row).await
}

pub(super) async fn list_repos<DB: Backend>(
    c: &mut DB::Connection,
    q: &RepoQuery,
) -> Result<Vec<Repo>> {
    let mut sql = format!("{REPO_SELECT} WHERE 1 = 1");
    if !q.viewer_is_admin {
        sql.push_str(
            " AND (NOT r.private OR r.owner_id = $1 OR r.owner_id IN \
             (SELECT org_id FROM memberships WHERE user_id = $1))",
        );
    }
    if q.search.is_some() {
        let strpos = DB::DIALECT.strpos;
        sql.push_str(&format!(
            " AND {strpos}(lower(a.name || '/' || r.name), lower($2)) > 0"
        ));
    }
    if q.owner.is_some() {
        sql.push_str(" AND lower(a.name) = lower($3)");
    }
    sql.push_str(" ORDER BY r.updated_at DESC, r.id DESC LIMIT $4 OFFSET $5");
    let q = sqlx::query(AssertSqlSafe(sql))
        .arg(q.viewer.unwrap_or(-1))
        .arg(q.search.as_deref().unwrap_or(""))
        .arg(q.owner.as_deref().unwrap_or(""))
        .arg(i64::from(q.limit.clamp(1, 1000)))
        .arg(i64::from(q.offset));
    all::<DB, _>(c, q, repo_from_row).await
}

pub(super) async fn set_repo_private<DB: Backend>(
    c: &mut DB::Connection,
    repo_id: i64,
    private: bool,
) -> Result<()> {
    let r = sqlx::query("UPDATE repos SET private = $2 WHERE id = $1")
        .arg(repo_id)
        .arg(private)
        .execute(DB::executor(c))
        .await?;
    expect_changed(DB::rows_affected(&r), || format!("repo #{repo_id}"))
}

pub(super) async fn create_upload<DB: Backend>(
    c: &mut DB::Connection,
    id: &str,
    repo_id: i64,
    user_id: i64,
) -> Result<Upload> {
    let created_at = now();
    sqlx::query("INSERT INTO uploads (id, repo_id, user_id, created_at) VALUES ($1, $2, $3, $4)")
        .arg(id)
        .arg(repo_id)
        .arg(user_id)
        .arg(created_at)
        .execute(DB::executor(c))
        .await
        .map_err(|e| conflict_on_unique(e, || "upload id collision".into()))?;
    Ok(Upload {
        id: id.to_owned(),
        repo_id,
        user_id,
        created_at,
    })
}

pub(super) async fn upload<DB: Backend>(
    c: &mut DB::Connection,
    id: &str,
) -> Result<Option<Upload>> {
    let row = sqlx::query("SELECT * FROM uploads WHERE id = $1")
        .arg(id)
        .fetch_optional(DB::executor(c))
        .await?;
    row.map(|r| {
        Ok(Upload {
            id: r.col("id")?,
            repo_id: r.col("repo_id")?,
            user_id: r.col("user_id")?,
            created_at: r.col("created_at")?,
        })
    })
    .transpose()
}

pub(super) async fn add_upload_file<DB: Backend>(
    c: &mut DB::Connection,
    upload_id: &str,
    f: &FileEntry,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO upload_files (upload_id, path, sha256, size) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (upload_id, path) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size",
    )
    .arg(upload_id)
    .arg(f.path.as_str())
    .arg(f.sha256.as_str())
    .arg(to_i64(f.size, "file size")?)
    .execute(DB::executor(c))
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
            StoreError::NotFound(format!("upload {upload_id}"))
        }
        _ => StoreError::Database(e),
    })?;
    Ok(())
}

/// The files of an upload or a revision, by path.
pub(super) async fn files<DB: Backend>(
    c: &mut DB::Connection,
    of: Files<'_>,
) -> Result<Vec<FileEntry>> {
    let q = match of {
        Files::Upload(id) => sqlx::query(
            "SELECT path, sha256, size FROM upload_files WHERE upload_id = $1 ORDER BY path",
        )
        .arg(id),
        Files::Revision(repo_id, commit) => sqlx::query(
            "SELECT path, sha256, size FROM revision_files \
             WHERE repo_id = $1 AND commit_id = $2 ORDER BY path",
        )
        .arg(repo_id)
        .arg(commit),
    };
    all::<DB, _>(c, q, file_from_row).await
}

pub(super) async fn revision_file<DB: Backend>(
    c: &mut DB::Connection,
    repo_id: i64,
    commit: &str,
    path: &str,
) -> Result<Option<FileEntry>> {
    let q = sqlx::query(
        "SELECT path, sha256, size FROM revision_files \
         WHERE repo_id = $1 AND commit_id = $2 AND path = $3",
    )
    .arg(repo_id)
    .arg(commit)
    .arg(path);
    optional::<DB, _>(c, q, file_from_row).await
}

pub(super) async fn delete_upload<DB: Backend>(
    c: &mut DB::Connection,
    upload_id: &str,
) -> Result<()> {
    sqlx::query("DELETE FROM uploads WHERE id = $1")
        .arg(upload_id)
        .execute(DB::executor(c))
        .await?;
    Ok(())
}

pub(super) async fn sweep_uploads<DB: Backend>(c: &mut DB::Connection, before: i64) -> Result<u64> {
    let r = sqlx::query("DELETE FROM uploads WHERE created_at < $1")
        .arg(before)
        .execute(DB::executor(c))
        .await?;
    Ok(DB::rows_affected(&r))
}

pub(super) async fn commit_revision<DB: Backend>(
    c: &mut DB::Connection,
    rev: &NewRevision,
    t: i64,
) -> Result<Revision> {
    let mut tx = c.begin_with(DB::DIALECT.begin_write).await?;
    // Commits to one repo take turns (PostgreSQL: the row lock; SQLite: BEGIN IMMEDIATE).
    sqlx::query(AssertSqlSafe(format!(
        "SELECT id FROM repos WHERE id = $1{}",
        DB::DIALECT.lock_row
    )))
    .arg(rev.repo_id)
    .fetch_optional(DB::executor(&mut tx))
    .await?;
    let head = sqlx::query("SELECT commit_id FROM refs WHERE repo_id = $1 AND name = 'main'")
        .arg(rev.repo_id)
        .fetch_optional(DB::executor(&mut tx))
        .await?
        .map(|r| r.col::<String>("commit_id"))
        .transpose()?;
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
    .arg(rev.repo_id)
    .arg(rev.commit.as_str())
    .arg(rev.parent.as_deref())
    .arg(rev.uploader_id)
    .arg(rev.summary.as_str())
    .arg(t)
    .arg(to_i64(rev.files.len() as u64, "file count")?)
    .arg(to_i64(total, "total size")?)
    .arg(s.status.as_str())
    .arg(s.method.as_deref())
    .arg(s.identity.as_deref())
    .arg(s.issuer.as_deref())
    .arg(s.log_index)
    .arg(s.detail.as_deref())
    .arg(s.checked_at)
    .arg(rev.identity_changed_from.as_deref())
    .execute(DB::executor(&mut tx))
    .await
    .map_err(|e| conflict_on_unique(e, || format!("revision {} exists", rev.commit)))?;
    for f in &rev.files {
        sqlx::query(
            "INSERT INTO revision_files (repo_id, commit_id, path, sha256, size) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .arg(rev.repo_id)
        .arg(rev.commit.as_str())
        .arg(f.path.as_str())
        .arg(f.sha256.as_str())
        .arg(to_i64(f.size, "file size")?)
        .execute(DB::executor(&mut tx))
        .await?;
    }
    sqlx::query(
        "INSERT INTO refs (repo_id, name, commit_id) VALUES ($1, 'main', $2) \
         ON CONFLICT (repo_id, name) DO UPDATE SET commit_id = excluded.commit_id",
    )
    .arg(rev.repo_id)
    .arg(rev.commit.as_str())
    .execute(DB::executor(&mut tx))
    .await?;
    sqlx::query("UPDATE repos SET updated_at = $2 WHERE id = $1")
        .arg(rev.repo_id)
        .arg(t)
        .execute(DB::executor(&mut tx))
        .await?;
    if let Some(scan) = &rev.scan {
        super::scans::record::<DB>(&mut tx, rev.repo_id, &rev.commit, scan).await?;
    }
    for claim in &rev.claims {
        super::claims::add::<DB>(&mut tx, rev.repo_id, &rev.commit, claim, t).await?;
    }
    if let Some(up) = &rev.upload_id {
        delete_upload::<DB>(&mut tx, up).await?;
    }
    tx.commit().await?;
    revision::<DB>(c, rev.repo_id, &rev.commit)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("revision {}", rev.commit)))
}

pub(super) async fn resolve_ref<DB: Backend>(
    c: &mut DB::Connection,
    repo_id: i64,
    name: &str,
) -> Result<Option<String>> {
    let row = sqlx::query("SELECT commit_id FROM refs WHERE repo_id = $1 AND name = $2")
        .arg(repo_id)
        .arg(name)
        .fetch_optional(DB::executor(c))
        .await?;
    Ok(row.map(|r| r.col("commit_id")).transpose()?)
}

pub(super) async fn revision<DB: Backend>(
    c: &mut DB::Connection,
    repo_id: i64,
    commit: &str,
) -> Result<Option<Revision>> {
    let q = sqlx::query(AssertSqlSafe(format!(
        "{REVISION_SELECT} WHERE v.repo_id = $1 AND v.commit_id = $2"
    )))
    .arg(repo_id)
    .arg(commit);
    optional::<DB, _>(c, q, revision_from_row).await
}

pub(super) async fn revisions<DB: Backend>(
    c: &mut DB::Connection,
    repo_id: i64,
    limit: u32,
) -> Result<Vec<Revision>> {
    let order = DB::DIALECT.insertion_order;
    let q = sqlx::query(AssertSqlSafe(format!(
        "{REVISION_SELECT} WHERE v.repo_id = $1 ORDER BY v.created_at DESC, v.{order} DESC LIMIT $2"
    )))
    .arg(repo_id)
    .arg(i64::from(limit.clamp(1, 10_000)));
    all::<DB, _>(c, q, revision_from_row).await
}

pub(super) async fn set_signature_state<DB: Backend>(
    c: &mut DB::Connection,
    repo_id: i64,
    commit: &str,
    s: &SignatureState,
) -> Result<()> {
    let r = sqlx::query(
        "UPDATE revisions SET sig_status = $3, sig_method = $4, sig_identity = $5, sig_issuer = $6, \
         sig_log_index = $7, sig_detail = $8, sig_checked_at = $9 WHERE repo_id = $1 AND commit_id = $2",
    )
    .arg(repo_id)
    .arg(commit)
    .arg(s.status.as_str())
    .arg(s.method.as_deref())
    .arg(s.identity.as_deref())
    .arg(s.issuer.as_deref())
    .arg(s.log_index)
    .arg(s.detail.as_deref())
    .arg(s.checked_at)
    .execute(DB::executor(c))
    .await?;
    expect_changed(DB::rows_affected(&r), || format!("revision {commit}"))
}

pub(super) async fn signing_events<DB: Backend>(
    c: &mut DB::Connection,
    limit: u32,
) -> Result<Vec<SigningEvent>> {
    let order = DB::DIALECT.insertion_order;
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT v.*, u.name AS uploader, o.name AS owner, r.name AS repo_name, r.private, \
         r.owner_id FROM revisions v JOIN repos r ON r.id = v.repo_id \
         JOIN accounts o ON o.id = r.owner_id JOIN accounts u ON u.id = v.uploader_id \
         ORDER BY v.created_at DESC, v.{order} DESC LIMIT $1"
    )))
    .arg(i64::from(limit.clamp(1, 10_000)))
    .fetch_all(DB::executor(c))
    .await?;
    rows.iter()
        .map(|r| {
            let owner: String = r.col("owner")?;
            let name: String = r.col("repo_name")?;
            Ok(SigningEvent {
                repo: format!("{owner}/{name}"),
                private: r.col("private")?,
                owner_id: r.col("owner_id")?,
                commit: r.col("commit_id")?,
                uploader: r.col("uploader")?,
                created_at: r.col("created_at")?,
                signature: signature_from_row(r)?,
            })
        })
        .collect()
}
