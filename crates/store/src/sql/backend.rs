//! What [`super::SqlMeta`] needs from a sqlx driver: [`Backend`], implemented for SQLite
//! and PostgreSQL (its [`Dialect`] can be built only in this crate).
//!
//! The generic queries bind with [`Arg::arg`] and read with [`Col::col`] instead of sqlx's
//! `bind`/`try_get`: sqlx states "this type encodes for that database" as a bound on the
//! value type, which generic code would have to repeat on every function; here it is a
//! supertrait of [`Backend`] ([`sealed::Binds`], [`sealed::Reads`]), stated once.

use sqlx::IntoArguments;
use sqlx::migrate::{Migrate, Migrator};
use sqlx::query::Query;
use sqlx::{Database, Executor, Postgres, Sqlite};

use super::dialect::{self, Dialect};
use super::schema;
use crate::error::{Result, StoreError};

/// A sqlx database [`super::SqlMeta`] runs on: [`Sqlite`] or [`Postgres`] (no other: a
/// [`Dialect`] can be built only in this crate).
pub trait Backend:
    Database<Arguments: IntoArguments<Self>, Connection: Migrate>
    + sealed::Binds<i64>
    + sealed::Binds<Option<i64>>
    + sealed::Binds<bool>
    + for<'a> sealed::Binds<&'a str>
    + for<'a> sealed::Binds<Option<&'a str>>
    + sealed::Reads<i64>
    + sealed::Reads<Option<i64>>
    + sealed::Reads<bool>
    + sealed::Reads<String>
    + sealed::Reads<Option<String>>
{
    /// This database's spelling of the differences.
    const DIALECT: Dialect;

    /// The schema migrations, rendered for this database.
    fn migrator() -> &'static Migrator;

    /// A connection (pooled or in a transaction) as sqlx's executor.
    fn executor(conn: &mut Self::Connection) -> impl Executor<'_, Database = Self>;

    /// How many rows a statement changed.
    fn rows_affected(r: &Self::QueryResult) -> u64;
}

impl Backend for Sqlite {
    const DIALECT: Dialect = dialect::SQLITE;
    fn migrator() -> &'static Migrator {
        &schema::MIGRATOR
    }
    fn executor(conn: &mut Self::Connection) -> impl Executor<'_, Database = Self> {
        conn
    }
    fn rows_affected(r: &Self::QueryResult) -> u64 {
        r.rows_affected()
    }
}

impl Backend for Postgres {
    const DIALECT: Dialect = dialect::POSTGRES;
    fn migrator() -> &'static Migrator {
        &schema::PG_MIGRATOR
    }
    fn executor(conn: &mut Self::Connection) -> impl Executor<'_, Database = Self> {
        conn
    }
    fn rows_affected(r: &Self::QueryResult) -> u64 {
        r.rows_affected()
    }
}

/// A query of database `DB` with its arguments.
pub(super) type Q<'q, DB> = Query<'q, DB, <DB as Database>::Arguments>;

/// Binding a value to a generic query.
pub(super) trait Arg<DB: Database> {
    /// Binds `v` as the next parameter.
    fn arg<T>(self, v: T) -> Self
    where
        DB: sealed::Binds<T>;
}

impl<DB: Database> Arg<DB> for Q<'_, DB> {
    fn arg<T>(self, v: T) -> Self
    where
        DB: sealed::Binds<T>,
    {
        DB::bind(self, v)
    }
}

/// Reading a column of a generic row.
pub(super) trait Col: sqlx::Row {
    /// The value of column `name`.
    fn col<T>(&self, name: &str) -> Result<T, sqlx::Error>
    where
        Self::Database: sealed::Reads<T>;
}

impl<R: sqlx::Row> Col for R {
    fn col<T>(&self, name: &str) -> Result<T, sqlx::Error>
    where
        Self::Database: sealed::Reads<T>,
    {
        <R::Database as sealed::Reads<T>>::read(self, name)
    }
}

/// The row `q` returns, if any, as `f` reads it.
pub(super) async fn optional<DB: Backend, T>(
    c: &mut DB::Connection,
    q: Q<'_, DB>,
    f: fn(&DB::Row) -> Result<T>,
) -> Result<Option<T>> {
    let row = q.fetch_optional(DB::executor(c)).await?;
    row.as_ref().map(f).transpose()
}

/// Every row `q` returns, as `f` reads it.
pub(super) async fn all<DB: Backend, T>(
    c: &mut DB::Connection,
    q: Q<'_, DB>,
    f: fn(&DB::Row) -> Result<T>,
) -> Result<Vec<T>> {
    let rows = q.fetch_all(DB::executor(c)).await?;
    rows.iter().map(f).collect()
}

/// Maps a unique-constraint violation to [`StoreError::Conflict`].
pub(super) fn conflict_on_unique(e: sqlx::Error, what: impl FnOnce() -> String) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(what()),
        _ => StoreError::Database(e),
    }
}

/// Unix seconds.
pub(super) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[allow(unreachable_pub)] // public only as supertraits of `Backend`; nameable by no one else
mod sealed {
    use sqlx::{ColumnIndex, Database, Decode, Encode, Row, Type};

    use crate::sql::backend::Q;

    /// The database encodes `T` as a parameter.
    pub trait Binds<T>: Database {
        /// Binds `v` to `q`.
        fn bind(q: Q<'_, Self>, v: T) -> Q<'_, Self>;
    }

    // `'e` is the value's own lifetime: `Option<&'a str>` encodes only for `'e` within `'a`.
    impl<'e, DB: Database, T> Binds<T> for DB
    where
        T: Encode<'e, DB> + Type<DB>,
    {
        fn bind(q: Q<'_, Self>, v: T) -> Q<'_, Self> {
            q.bind(v)
        }
    }

    /// The database decodes a column as `T`.
    pub trait Reads<T>: Database {
        /// Column `name` of `row`.
        fn read(row: &Self::Row, name: &str) -> Result<T, sqlx::Error>;
    }

    impl<DB: Database, T> Reads<T> for DB
    where
        T: for<'r> Decode<'r, DB> + Type<DB>,
        for<'n> &'n str: ColumnIndex<DB::Row>,
    {
        fn read(row: &Self::Row, name: &str) -> Result<T, sqlx::Error> {
            row.try_get(name)
        }
    }
}
