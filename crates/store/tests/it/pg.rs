//! The PostgreSQL test server: `HALLMARK_TEST_PG_URL` (e.g. the URL `scripts/pg-start.sh`
//! prints); tests that need it are skipped, saying so, when it is unset. Each test creates
//! its own database so tests can run in parallel and leave nothing shared.

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
