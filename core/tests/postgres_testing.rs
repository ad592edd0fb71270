//! `preheat::testing::postgres`: what a transaction's `submit_tx` inserted, seen on both sides of
//! its commit. Needs `PREHEAT_DATABASE_URL` (CI sets it); without it the test says it skipped.

// The worker runtime of the shared helpers is for the other PostgreSQL tests.
#[allow(dead_code)]
mod pg_support;

use std::time::{Duration, SystemTime};

use pg_support::database;
use preheat::postgres::NewTask;
use preheat::task;
use preheat::testing::postgres::inserted;

preheat::metadata!("tests/meta/postgres_testing");

#[task("pgkit.close", metadata = "tests/meta/postgres_testing")]
async fn close(order_id: u64) -> Result<(), String> {
    let _ = order_id;
    Ok(())
}

#[tokio::test]
async fn a_transaction_sees_what_it_inserted_and_others_see_it_after_the_commit() {
    let Some(pg) = database("kit").await else { return };
    let mut tx = pg.pool().begin().await.unwrap();
    let before = SystemTime::now();
    preheat::postgres::submit_tx(&mut tx, close, 42).await.unwrap();
    NewTask::new(close, 43).key("order-43-close").after(Duration::from_secs(1800)).submit_tx(&mut tx).await.unwrap();

    let mine = inserted::<close>(&mut tx).await.unwrap();
    assert_eq!(mine.iter().map(|row| row.input).collect::<Vec<_>>(), [42, 43]);
    assert_eq!((mine[1].key.as_deref(), mine[1].state.as_str()), (Some("order-43-close"), "ready"));
    let delay = mine[1].run_at.duration_since(before).unwrap();
    assert!(delay >= Duration::from_secs(1799) && delay <= Duration::from_secs(1801), "{delay:?}");
    let others = inserted::<close>(&mut pg.pool().acquire().await.unwrap()).await.unwrap();
    assert!(others.is_empty(), "not visible before the commit: {others:?}");

    tx.commit().await.unwrap();
    let committed = inserted::<close>(&mut pg.pool().acquire().await.unwrap()).await.unwrap();
    assert_eq!(committed.len(), 2);

    let mut rolled_back = pg.pool().begin().await.unwrap();
    preheat::postgres::submit_tx(&mut rolled_back, close, 44).await.unwrap();
    assert_eq!(inserted::<close>(&mut rolled_back).await.unwrap().len(), 3);
    rolled_back.rollback().await.unwrap();
    assert_eq!(inserted::<close>(&mut pg.pool().acquire().await.unwrap()).await.unwrap().len(), 2, "rolled back");
}
