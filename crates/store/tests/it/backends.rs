//! The metadata store's databases under test. Every suite named in [`on_every_backend!`]
//! runs on SQLite (a file in a temporary directory) and, when `HALLMARK_TEST_PG_URL` is
//! set, on PostgreSQL (a fresh database); plus what only one of them can show: the schema
//! is the same on both, and a database made by the first SQLite schema still opens.

use hallmark_store::{MetaStore, PgStore, SqliteStore, StoreError};

use crate::pg::fresh_pg_url;

/// Table, column, declared type, not null.
type Column = (String, String, String, bool);

/// One test's database.
pub(crate) enum Db {
    /// `hub.db` in this directory.
    Sqlite(tempfile::TempDir),
    /// A fresh database on the test server.
    Postgres(String),
}

impl Db {
    pub(crate) fn sqlite() -> Self {
        Self::Sqlite(tempfile::tempdir().unwrap())
    }

    pub(crate) async fn postgres(test: &str) -> Option<Self> {
        fresh_pg_url(test).await.map(Self::Postgres)
    }

    /// Opens the store (again, as a second process or replica would: migrations run
    /// every time and must find nothing left to do).
    pub(crate) async fn open(&self) -> Box<dyn MetaStore> {
        match self {
            Self::Sqlite(dir) => {
                Box::new(SqliteStore::open(&dir.path().join("hub.db")).await.unwrap())
            }
            Self::Postgres(url) => Box::new(PgStore::connect(url, 4).await.unwrap()),
        }
    }

    /// The schema in terms both databases share, one sorted line per column
    /// (`table.column class nullability`) and per named index.
    async fn schema(&self) -> Vec<String> {
        let (columns, indexes): (Vec<Column>, Vec<(String,)>) = match self {
            Self::Sqlite(dir) => {
                let url = format!("sqlite://{}", dir.path().join("hub.db").display());
                let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
                let columns = sqlx::query_as(
                    "SELECT m.name, p.name, p.type, p.\"notnull\" OR p.pk > 0 \
                     FROM sqlite_master m JOIN pragma_table_info(m.name) p \
                     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite%' \
                     AND m.name <> '_sqlx_migrations'",
                );
                let indexes = sqlx::query_as(
                    "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL",
                );
                (
                    columns.fetch_all(&pool).await.unwrap(),
                    indexes.fetch_all(&pool).await.unwrap(),
                )
            }
            Self::Postgres(url) => {
                let pool = sqlx::PgPool::connect(url).await.unwrap();
                // SQLite orders revisions by its rowid instead of `seq`.
                let columns = sqlx::query_as(
                    "SELECT table_name::text, column_name::text, data_type::text, \
                     is_nullable = 'NO' FROM information_schema.columns \
                     WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations' \
                     AND (table_name, column_name) <> ('revisions', 'seq')",
                );
                let indexes = sqlx::query_as(
                    "SELECT indexname::text FROM pg_indexes WHERE schemaname = current_schema() \
                     AND indexname NOT LIKE '%\\_pkey' AND indexname NOT LIKE '%\\_key'",
                );
                (
                    columns.fetch_all(&pool).await.unwrap(),
                    indexes.fetch_all(&pool).await.unwrap(),
                )
            }
        };
        let class = |ty: &str| {
            let ty = ty.to_ascii_uppercase();
            if ty.contains("INT") {
                "integer"
            } else if ty.contains("BOOL") {
                "boolean"
            } else {
                "text"
            }
        };
        let mut lines: Vec<String> = columns
            .into_iter()
            .map(|(t, c, ty, not_null)| {
                let null = if not_null { "not null" } else { "null" };
                format!("{t}.{c} {} {null}", class(&ty))
            })
            .chain(indexes.into_iter().map(|(name,)| format!("index {name}")))
            .collect();
        lines.sort();
        lines
    }
}

/// Declares, for each async `fn suite(db: &Db)`, a module `suite` with a test per database.
macro_rules! on_every_backend {
    ($($suite:ident),+ $(,)?) => {$(
        mod $suite {
            #[tokio::test]
            async fn sqlite() {
                super::$suite(&crate::backends::Db::sqlite()).await;
            }

            #[tokio::test]
            async fn postgres() {
                if let Some(db) = crate::backends::Db::postgres(stringify!($suite)).await {
                    super::$suite(&db).await;
                }
            }
        }
    )+};
}
pub(crate) use on_every_backend;

#[tokio::test]
async fn postgres_gets_the_sqlite_schema() {
    let Some(pg) = Db::postgres("schema").await else {
        return;
    };
    let sqlite = Db::sqlite();
    sqlite.open().await;
    pg.open().await;
    let (a, b) = (sqlite.schema().await, pg.schema().await);
    assert!(a.len() > 50, "{a:?}");
    assert_eq!(a, b);
}

/// `tests/data/hub-schema-v1.sqlite` was made by the store before SQLite and PostgreSQL
/// shared one schema (names unique through `COLLATE NOCASE`; user `Alice`, her org `Acme`
/// with the private repo `Model`, a token with secret hash `hash1`).
#[tokio::test]
async fn a_database_from_the_first_sqlite_schema_opens() {
    let db = Db::sqlite();
    let Db::Sqlite(dir) = &db else { unreachable!() };
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/hub-schema-v1.sqlite"
    );
    std::fs::copy(fixture, dir.path().join("hub.db")).unwrap();
    let s = db.open().await;
    let alice = s.account("alice").await.unwrap().unwrap();
    assert_eq!((alice.name.as_str(), alice.is_admin), ("Alice", true));
    assert!(matches!(
        s.create_user("ALICE", None, None, false).await,
        Err(StoreError::Conflict(_))
    ));
    let repo = s.repo("acme", "model").await.unwrap().unwrap();
    assert!(repo.private);
    assert!(matches!(
        s.create_repo(repo.owner_id, "MODEL", false).await,
        Err(StoreError::Conflict(_))
    ));
    let (_, user) = s.token_by_hash("hash1").await.unwrap().unwrap();
    assert_eq!(user.id, alice.id);
    let bob = s.create_user("bob", None, None, false).await.unwrap();
    assert_eq!(s.count_users().await.unwrap(), 2);
    assert!(bob.id > alice.id);
    // Version 2 gave it the lower() indexes a new database has.
    let schema = db.schema().await;
    for index in ["index accounts_name", "index repos_owner_name"] {
        assert!(
            schema.iter().any(|l| l == index),
            "{index} missing: {schema:?}"
        );
    }
}
