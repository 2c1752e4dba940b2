//! The same conformance suite on PostgreSQL, when `HALLMARK_TEST_PG_URL` names a server
//! (e.g. the URL `scripts/pg-start.sh` prints); skipped, saying so, otherwise. Each test
//! creates its own database so tests can run in parallel and leave nothing shared.

use hallmark_store::{MetaStore, PgStore};

/// A URL for a fresh database on the test server, or `None` (skip) when unset.
pub(crate) async fn fresh_pg_url(test: &str) -> Option<String> {
    let Ok(base) = std::env::var("HALLMARK_TEST_PG_URL") else {
        eprintln!("skipped {test}: HALLMARK_TEST_PG_URL is not set");
        return None;
    };
    let (head, query) = match base.split_once('?') {
        Some((h, q)) => (h.to_owned(), format!("?{q}")),
        None => (base.clone(), String::new()),
    };
    let (server, _db) = head.rsplit_once('/').unwrap();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let name = format!("t_{test}_{}_{nanos}", std::process::id());
    let admin = sqlx::PgPool::connect(&base).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&admin)
        .await
        .unwrap();
    Some(format!("{server}/{name}{query}"))
}

#[tokio::test]
async fn pg_conformance() {
    let Some(url) = fresh_pg_url("pg_conformance").await else {
        return;
    };
    let s = PgStore::connect(&url, 4).await.unwrap();
    super::conformance(&s).await;
    // a second replica on the same database sees the same data (migrations idempotent)
    let again = PgStore::connect(&url, 2).await.unwrap();
    assert_eq!(again.count_users().await.unwrap(), 2);
}
