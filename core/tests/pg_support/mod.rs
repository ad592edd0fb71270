//! What the PostgreSQL tests share: a fresh schema per test, and a worker runtime on it.

use std::io::Write;
use std::time::Duration;

use preheat::Runtime;
use preheat::postgres::Postgres;

/// A fresh schema for one test (lease 2 s, so a lost lease shows in seconds); `None`, after
/// saying so, without a database URL.
pub(crate) async fn database(test: &str) -> Option<Postgres> {
    let Ok(url) = std::env::var("PREHEAT_DATABASE_URL") else {
        // Straight to stderr: the test harness captures `eprintln!` of passing tests.
        let _ =
            writeln!(std::io::stderr(), "SKIPPED {test}: PREHEAT_DATABASE_URL is not set (CI sets it; see .ci/run)");
        return None;
    };
    let schema = format!("preheat_test_{test}");
    let admin = sqlx::PgPool::connect(&url).await.expect("PREHEAT_DATABASE_URL is set, so the database must answer");
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).execute(&admin).await.expect("a fresh schema");
    admin.close().await;
    Some(Postgres::connect_in_schema(&url, &schema).await.expect("the task table").lease(Duration::from_secs(2)))
}

/// A runtime that runs the tasks of `pg`'s table, quick to shut down.
pub(crate) async fn worker(pg: &Postgres) -> Runtime {
    Runtime::builder()
        .postgres(pg.clone())
        .shutdown_timeout(Duration::from_millis(500))
        .start()
        .await
        .expect("a runtime on postgres")
}
