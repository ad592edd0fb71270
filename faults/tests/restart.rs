//! Tasks that wait in the table outlive the processes: delayed tasks survive the SIGKILL of
//! every worker, and a task submitted in a transaction exists only if the transaction commits.
//!
//! Needs `PREHEAT_DATABASE_URL`; without it each test says it skipped.

mod fleet;

use std::time::Duration;

use fleet::Database;
use preheat::postgres::{Counts, NewTask, Submitted};
use preheat_faults::record_effect;

/// Delayed tasks in the restart test.
const DELAYED: i64 = 100;
/// Their delay: long enough to submit them all and kill every worker before the first is due.
const DELAY: Duration = Duration::from_secs(3);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delayed_tasks_survive_a_sigkill_of_every_worker() {
    let Some(db) = Database::fresh("delayed").await else { return };
    let mut first = [db.worker(), db.worker()];
    for worker in &mut first {
        worker.ready().await;
    }
    // Submitted while workers listen: they wake, find nothing due, and wait for the first.
    for task in 0..DELAYED {
        NewTask::new(record_effect, task).after(DELAY).submit(&db.pg).await.unwrap();
    }
    for worker in first {
        worker.kill();
    }
    // Every worker is gone before any task was due: the tasks are rows, untouched.
    let waiting =
        db.scalar("SELECT count(*) FROM preheat_tasks WHERE state = 'ready' AND attempt = 0 AND run_at > now()").await;
    assert_eq!(waiting, DELAYED, "every delayed task still waiting, not due yet, never claimed");
    assert_eq!(db.scalar("SELECT count(*) FROM effects").await, 0);

    let mut second = [db.worker(), db.worker()];
    for worker in &mut second {
        worker.ready().await;
    }
    let counts = db.until("delayed tasks run", Duration::from_secs(30), |counts| counts.completed == DELAYED).await;
    assert_eq!(counts, Counts { completed: DELAYED, ..Counts::default() });
    drop(second);
    // Each ran once, and not before it was due.
    assert_eq!(db.scalar("SELECT count(*) FROM effects WHERE runs = 1").await, DELAYED);
    let early = db
        .scalar(&format!(
            "SELECT count(*) FROM effects e JOIN preheat_tasks t ON e.task_id = t.input::bigint
             WHERE e.first_at < t.created_at + interval '{} milliseconds'",
            DELAY.as_millis()
        ))
        .await;
    assert_eq!(early, 0, "delayed tasks ran before they were due");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_submitted_in_a_rolled_back_transaction_never_runs() {
    let Some(db) = Database::fresh("transaction").await else { return };
    let mut worker = db.worker();
    worker.ready().await;

    let mut tx = db.pg.pool().begin().await.unwrap();
    let submitted = NewTask::new(record_effect, 1).key("order:1:close").submit_tx(&mut tx).await.unwrap();
    assert!(submitted.id().is_some(), "{submitted:?}");
    tx.rollback().await.unwrap();
    assert_eq!(db.pg.counts().await.unwrap(), Counts::default(), "the rollback took the task along");

    let mut tx = db.pg.pool().begin().await.unwrap();
    NewTask::new(record_effect, 2).key("order:2:close").submit_tx(&mut tx).await.unwrap();
    // The rolled-back key is free again: the rollback took the key along too.
    let again = NewTask::new(record_effect, 3).key("order:1:close").submit_tx(&mut tx).await.unwrap();
    assert_ne!(again, Submitted::Duplicate);
    assert_eq!(db.pg.counts().await.unwrap(), Counts::default(), "invisible to others until the commit");
    tx.commit().await.unwrap();

    // The worker process runs the committed tasks, and only those.
    db.until("committed tasks run", Duration::from_secs(30), |counts| counts.completed == 2).await;
    drop(worker);
    let ran: Vec<(i64, i32)> =
        sqlx::query_as("SELECT task_id, runs FROM effects ORDER BY task_id").fetch_all(db.pg.pool()).await.unwrap();
    assert_eq!(ran, [(2, 1), (3, 1)], "task 1 was rolled back, so it never ran");
}
