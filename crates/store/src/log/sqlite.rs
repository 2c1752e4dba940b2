//! [`TileStorage`] and [`CheckpointLock`] on one SQLite database through sqlx (the driver
//! the hub's metadata store uses), WAL with `synchronous=FULL`, so a committed transaction
//! is durable.
//!
//! Tables: `objects(key TEXT PRIMARY KEY, data BLOB)` and
//! `checkpoints(origin TEXT PRIMARY KEY, note TEXT)`; several logs can share a database.

use std::path::Path;
use std::time::Duration;

use hallmark_tlog::{
    CheckpointLock, Error, TileFetch, TileStorage, Upload, Uploaded, compare_existing,
};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Row as _, SqlitePool};
use tokio::runtime::Handle;

use super::bridge::{Bridge, write_error};

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS objects (key TEXT PRIMARY KEY NOT NULL, data BLOB NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS checkpoints (origin TEXT PRIMARY KEY NOT NULL, note TEXT NOT NULL) WITHOUT ROWID",
];

/// A log's objects in a SQLite database (its `objects` table).
#[derive(Debug)]
pub struct SqliteTiles {
    db: String,
    pool: SqlitePool,
    rt: Bridge,
}

impl SqliteTiles {
    /// Opens (creating if needed) the database at `path`; queries run on `rt`. Blocking:
    /// call it, like every method, off the runtime's async workers.
    ///
    /// # Errors
    /// SQLite failures.
    pub fn open(path: &Path, rt: Handle) -> Result<Self, Error> {
        let rt = Bridge::new(rt);
        let db = path.display().to_string();
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10));
        let pool = rt.wait(async {
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(opts)
                .await
                .map_err(sqlite_error("open", &db))?;
            for ddl in SCHEMA {
                sqlx::query(*ddl)
                    .execute(&pool)
                    .await
                    .map_err(sqlite_error("create schema", &db))?;
            }
            Ok::<_, Error>(pool)
        })?;
        Ok(Self { db, pool, rt })
    }

    fn err(&self, op: &'static str) -> impl Fn(sqlx::Error) -> Error + '_ {
        sqlite_error(op, &self.db)
    }
}

/// Maps a driver error, naming the operation and the database file.
/// A full disk or database becomes [`Error::StorageFull`].
fn sqlite_error<'a>(op: &'static str, db: &'a str) -> impl Fn(sqlx::Error) -> Error + 'a {
    move |e| write_error(op, &format!("SQLite {db}"), &e)
}

async fn put_one(
    conn: &mut SqliteConnection,
    key: &str,
    data: &[u8],
    mode: Upload,
) -> sqlx::Result<Uploaded> {
    let sql = if mode == Upload::IfAbsent {
        "INSERT INTO objects (key, data) VALUES (?1, ?2) ON CONFLICT(key) DO NOTHING"
    } else {
        "INSERT INTO objects (key, data) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET data = excluded.data"
    };
    let n = sqlx::query(sql)
        .bind(key)
        .bind(data)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if n == 1 {
        return Ok(Uploaded::Written);
    }
    let existing: Vec<u8> = sqlx::query_scalar("SELECT data FROM objects WHERE key = ?1")
        .bind(key)
        .fetch_one(&mut *conn)
        .await?;
    Ok(compare_existing(&existing, data))
}

impl TileFetch for SqliteTiles {
    fn fetch(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        self.rt
            .wait(
                sqlx::query_scalar("SELECT data FROM objects WHERE key = ?1")
                    .bind(key)
                    .fetch_optional(&self.pool),
            )
            .map_err(self.err("get object"))
    }
}

impl TileStorage for SqliteTiles {
    fn upload(&self, key: &str, data: &[u8], mode: Upload) -> Result<Uploaded, Error> {
        self.upload_all(&[(key.to_owned(), data.to_vec())], mode)?
            .pop()
            .ok_or_else(|| Error::Corrupt(format!("no outcome for {key}")))
    }

    fn discard(&self, key: &str) -> Result<(), Error> {
        self.rt
            .wait(
                sqlx::query("DELETE FROM objects WHERE key = ?1")
                    .bind(key)
                    .execute(&self.pool),
            )
            .map(|_| ())
            .map_err(self.err("delete object"))
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, Error> {
        let rows = self
            .rt
            .wait(
                sqlx::query("SELECT key FROM objects WHERE substr(key, 1, length(?1)) = ?1")
                    .bind(prefix)
                    .fetch_all(&self.pool),
            )
            .map_err(self.err("list objects"))?;
        Ok(rows.into_iter().map(|r| r.get(0)).collect())
    }

    /// One transaction, so one sync, for the whole batch.
    fn upload_all(
        &self,
        objects: &[(String, Vec<u8>)],
        mode: Upload,
    ) -> Result<Vec<Uploaded>, Error> {
        self.rt
            .wait(async {
                let mut tx = self.pool.begin().await?;
                let mut out = Vec::with_capacity(objects.len());
                for (k, d) in objects {
                    out.push(put_one(&mut tx, k, d, mode).await?);
                }
                tx.commit().await?;
                Ok(out)
            })
            .map_err(self.err("upload objects"))
    }
}

/// The checkpoint of the log `origin` in a SQLite database.
#[derive(Debug)]
pub struct SqliteLock {
    store: SqliteTiles,
    origin: String,
}

impl SqliteLock {
    /// Opens the lock row of `origin` in the database at `path` (its own connection);
    /// queries run on `rt`.
    ///
    /// # Errors
    /// SQLite failures.
    pub fn open(path: &Path, origin: &str, rt: Handle) -> Result<Self, Error> {
        Ok(Self {
            store: SqliteTiles::open(path, rt)?,
            origin: origin.to_owned(),
        })
    }

    /// Runs `query` (bound to this origin first), which changes the row iff the swap is
    /// allowed.
    fn swap(
        &self,
        op: &'static str,
        query: sqlx::query::Query<'_, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>,
    ) -> Result<(), Error> {
        let s = &self.store;
        let n =
            s.rt.wait(query.execute(&s.pool))
                .map_err(s.err(op))?
                .rows_affected();
        if n == 1 {
            Ok(())
        } else {
            Err(Error::LockConflict {
                log: self.origin.clone(),
            })
        }
    }
}

impl CheckpointLock for SqliteLock {
    fn fetch(&self) -> Result<Option<String>, Error> {
        let s = &self.store;
        s.rt.wait(
            sqlx::query_scalar("SELECT note FROM checkpoints WHERE origin = ?1")
                .bind(&self.origin)
                .fetch_optional(&s.pool),
        )
        .map_err(s.err("load checkpoint"))
    }

    fn create(&self, note: &str) -> Result<(), Error> {
        self.swap(
            "create checkpoint",
            sqlx::query(
                "INSERT INTO checkpoints (origin, note) VALUES (?1, ?2) ON CONFLICT(origin) DO NOTHING",
            )
            .bind(&self.origin)
            .bind(note),
        )
    }

    fn replace(&self, old: &str, new: &str) -> Result<(), Error> {
        self.swap(
            "replace checkpoint",
            sqlx::query("UPDATE checkpoints SET note = ?2 WHERE origin = ?1 AND note = ?3")
                .bind(&self.origin)
                .bind(new)
                .bind(old),
        )
    }
}
