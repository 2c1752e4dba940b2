//! [`TileStorage`] and [`CheckpointLock`] on one SQLite database (rusqlite, bundled SQLite,
//! WAL with `synchronous=FULL`, so a committed transaction is durable).
//!
//! Tables: `objects(key TEXT PRIMARY KEY, data BLOB)` and
//! `checkpoints(origin TEXT PRIMARY KEY, note TEXT)`; several logs can share a database.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use hallmark_tlog::{CheckpointLock, Error, TileFetch, TileStorage, Upload, Uploaded};
use rusqlite::{Connection, OptionalExtension as _, params};

use super::storage_error;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS objects (key TEXT PRIMARY KEY NOT NULL, data BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoints (origin TEXT PRIMARY KEY NOT NULL, note TEXT NOT NULL) WITHOUT ROWID;
";

/// Maps a driver error, naming the operation and the database file.
fn sqlite_error<'a>(op: &'static str, db: &'a str) -> impl Fn(rusqlite::Error) -> Error + 'a {
    move |e| storage_error(op, format!("SQLite {db}: {e}"))
}

fn open_conn(path: &Path) -> Result<Connection, Error> {
    let db = path.display().to_string();
    let err = |op| sqlite_error(op, &db);
    let conn = Connection::open(path).map_err(err("open"))?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(err("set WAL"))?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(err("set synchronous"))?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(err("set busy timeout"))?;
    conn.execute_batch(SCHEMA).map_err(err("create schema"))?;
    Ok(conn)
}

/// A log's objects in a SQLite database (its `objects` table).
#[derive(Debug)]
pub struct SqliteTiles {
    db: String,
    conn: Mutex<Connection>,
}

impl SqliteTiles {
    /// Opens (creating if needed) the database at `path`.
    ///
    /// # Errors
    /// SQLite failures.
    pub fn open(path: &Path) -> Result<Self, Error> {
        Ok(Self {
            db: path.display().to_string(),
            conn: Mutex::new(open_conn(path)?),
        })
    }

    fn conn(&self) -> Result<MutexGuard<'_, Connection>, Error> {
        self.conn
            .lock()
            .map_err(|_| Error::Stopped("SQLite connection mutex poisoned".into()))
    }

    fn err(&self, op: &'static str) -> impl Fn(rusqlite::Error) -> Error + '_ {
        sqlite_error(op, &self.db)
    }
}

fn put_one(conn: &Connection, key: &str, data: &[u8], mode: Upload) -> rusqlite::Result<Uploaded> {
    if mode != Upload::IfAbsent {
        conn.execute(
            "INSERT INTO objects (key, data) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET data = excluded.data",
            params![key, data],
        )?;
        return Ok(Uploaded::Written);
    }
    let n = conn.execute(
        "INSERT INTO objects (key, data) VALUES (?1, ?2) ON CONFLICT(key) DO NOTHING",
        params![key, data],
    )?;
    if n == 1 {
        return Ok(Uploaded::Written);
    }
    let existing: Vec<u8> =
        conn.query_row("SELECT data FROM objects WHERE key = ?1", [key], |r| {
            r.get(0)
        })?;
    Ok(hallmark_tlog::compare_existing(&existing, data))
}

impl TileFetch for SqliteTiles {
    fn fetch(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        self.conn()?
            .query_row("SELECT data FROM objects WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()
            .map_err(self.err("get object"))
    }
}

impl TileStorage for SqliteTiles {
    fn upload(&self, key: &str, data: &[u8], mode: Upload) -> Result<Uploaded, Error> {
        let conn = self.conn()?;
        put_one(&conn, key, data, mode).map_err(self.err("upload object"))
    }

    fn discard(&self, key: &str) -> Result<(), Error> {
        self.conn()?
            .execute("DELETE FROM objects WHERE key = ?1", params![key])
            .map(|_| ())
            .map_err(self.err("delete object"))
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, Error> {
        let conn = self.conn()?;
        let mut st = conn
            .prepare("SELECT key FROM objects WHERE substr(key, 1, length(?1)) = ?1")
            .map_err(self.err("list objects"))?;
        st.query_map(params![prefix], |r| r.get(0))
            .and_then(Iterator::collect)
            .map_err(self.err("list objects"))
    }

    /// One transaction, so one sync, for the whole batch.
    fn upload_all(
        &self,
        objects: &[(String, Vec<u8>)],
        mode: Upload,
    ) -> Result<Vec<Uploaded>, Error> {
        let mut conn = self.conn()?;
        let tx = conn.transaction().map_err(self.err("begin"))?;
        let out = objects
            .iter()
            .map(|(k, d)| put_one(&tx, k, d, mode))
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(self.err("upload objects"))?;
        tx.commit().map_err(self.err("commit"))?;
        Ok(out)
    }
}

/// The checkpoint of the log `origin` in a SQLite database.
#[derive(Debug)]
pub struct SqliteLock {
    store: SqliteTiles,
    origin: String,
}

impl SqliteLock {
    /// Opens the lock row of `origin` in the database at `path` (its own connection).
    ///
    /// # Errors
    /// SQLite failures.
    pub fn open(path: &Path, origin: &str) -> Result<Self, Error> {
        Ok(Self {
            store: SqliteTiles::open(path)?,
            origin: origin.to_owned(),
        })
    }
}

impl CheckpointLock for SqliteLock {
    fn fetch(&self) -> Result<Option<String>, Error> {
        self.store
            .conn()?
            .query_row(
                "SELECT note FROM checkpoints WHERE origin = ?1",
                [&self.origin],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.store.err("load checkpoint"))
    }

    fn create(&self, note: &str) -> Result<(), Error> {
        let n = self
            .store
            .conn()?
            .execute(
                "INSERT INTO checkpoints (origin, note) VALUES (?1, ?2) ON CONFLICT(origin) DO NOTHING",
                params![self.origin, note],
            )
            .map_err(self.store.err("create checkpoint"))?;
        if n == 1 {
            Ok(())
        } else {
            Err(Error::LockConflict {
                log: self.origin.clone(),
            })
        }
    }

    fn replace(&self, old: &str, new: &str) -> Result<(), Error> {
        let n = self
            .store
            .conn()?
            .execute(
                "UPDATE checkpoints SET note = ?1 WHERE origin = ?2 AND note = ?3",
                params![new, self.origin, old],
            )
            .map_err(self.store.err("replace checkpoint"))?;
        if n == 1 {
            Ok(())
        } else {
            Err(Error::LockConflict {
                log: self.origin.clone(),
            })
        }
    }
}
