//! A schedule on the PostgreSQL backend, with runtimes of its own: its ticks would land in every
//! other test's table. Set `PREHEAT_DATABASE_URL` (CI does); without it the test says it skipped.

use std::time::Duration;

use preheat::task;

preheat::metadata!("tests/meta/postgres_schedule");

mod pg_support;
use pg_support::{database, worker};

#[task("pg.tick", metadata = "tests/meta/postgres_schedule")]
async fn tick() -> Result<(), String> {
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedule_fires_once_per_tick_across_workers() {
    let Some(pg) = database("ticks").await else { return };
    let (a, b) = (worker(&pg).await, worker(&pg).await);
    let ticks = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM preheat_tasks WHERE task = 'pg.tick'")
            .fetch_one(pg.pool())
            .await
            .unwrap()
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while ticks().await < 5 {
        assert!(tokio::time::Instant::now() < deadline, "no ticks");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    a.shutdown().await.unwrap();
    b.shutdown().await.unwrap();
    let (fired_a, fired_b) = (a.schedule_stats("pg.tick").unwrap().fired, b.schedule_stats("pg.tick").unwrap().fired);
    let rows = ticks().await as u64;
    // Both runtimes ticked, and their ticks landed on the same rows.
    assert!(fired_a >= 5 && fired_b >= 5, "{fired_a} {fired_b}");
    assert!(rows <= fired_a.max(fired_b) + 1, "{rows} rows for {fired_a} + {fired_b} ticks");
}
