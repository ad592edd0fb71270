//! Three worker processes work through 100,000 tasks while one of them is killed with SIGKILL
//! over and over: no task is lost, none dies, duplicates stay within what the killed workers
//! held, and tasks submitted twice under one key take effect once.
//!
//! Needs `PREHEAT_DATABASE_URL`; without it the test says it skipped.

mod fleet;

use std::io::Write;
use std::time::{Duration, Instant};

use fleet::Database;
use preheat::postgres::{NewTask, Submitted};
use preheat_faults::{Coupon, MAX_IN_FLIGHT, issue_coupon, record_effect};

/// Tasks of `fault.effect`, ids `0..TASKS`.
const TASKS: i64 = 100_000;
/// Rows per `submit_all` statement.
const CHUNK: i64 = 10_000;
/// Coupons, each submitted twice under one key.
const COUPONS: i64 = 200;
/// Kills of the victim, one per `1/STEPS` of the tasks completed: at 5 %, 10 %, ... 90 %.
/// Paced by progress rather than by the clock, so a slow machine gets as many kills.
const KILLS: i64 = 18;
const STEPS: i64 = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_killed_over_and_over_lose_nothing() {
    let Some(db) = Database::fresh("sigkill").await else { return };
    let started = Instant::now();
    let mut steady = [db.worker(), db.worker()];
    let mut victim = db.worker();
    for worker in steady.iter_mut().chain([&mut victim]) {
        worker.ready().await;
    }

    for coupon in 0..COUPONS {
        let first = Coupon { coupon, holder: "first".into() };
        let submitted = NewTask::new(issue_coupon, first).key(format!("coupon:{coupon}")).submit(&db.pg).await.unwrap();
        assert!(submitted.id().is_some(), "coupon {coupon}: {submitted:?}");
    }
    for chunk in (0..TASKS).step_by(CHUNK as usize) {
        let written = db.pg.submit_all(record_effect, chunk..(chunk + CHUNK).min(TASKS)).await.unwrap();
        assert_eq!(written, (CHUNK.min(TASKS - chunk)) as u64);
    }
    let total = TASKS + COUPONS;

    let mut kills = 0;
    for kill in 1..=KILLS {
        // Only a victim that holds work tests anything: wait until one of its tasks ran.
        if !victim.working(Duration::from_secs(30)).await {
            break;
        }
        let at = total * kill / STEPS;
        db.until("progress before a kill", Duration::from_secs(60), |counts| counts.completed >= at || counts.dead > 0)
            .await;
        let pid = victim.pid();
        victim.kill();
        kills += 1;
        let _ =
            writeln!(std::io::stderr(), "killed worker {pid} at {at} of {total} completed ({:?})", started.elapsed());
        if kill == KILLS / 2 {
            // Half-way, while some coupons are done and some may be held by the dead: the key
            // still refuses a second copy, whatever state the first is in.
            for coupon in 0..COUPONS {
                let second = Coupon { coupon, holder: "second".into() };
                let again = NewTask::new(issue_coupon, second).key(format!("coupon:{coupon}")).submit(&db.pg).await;
                assert_eq!(again.unwrap(), Submitted::Duplicate, "coupon {coupon} submitted again");
            }
        }
        victim = db.worker();
        victim.ready().await;
    }
    assert!(kills >= 5, "only {kills} kills: the victim did not get work before the rest finished it");

    // The last victim's rows come back after its lease; then everything is done.
    let counts = db
        .until("all tasks completed", Duration::from_secs(90), |counts| counts.completed == total || counts.dead > 0)
        .await;
    let elapsed = started.elapsed();
    assert_eq!(counts.dead, 0, "tasks died: {:?}", db.pg.dead_letters().await.unwrap());
    assert_eq!((counts.ready, counts.running, counts.completed), (0, 0, total));
    drop((steady, victim));

    // None lost: every task's effect is there, one row per task id (its primary key).
    assert_eq!(db.scalar("SELECT count(*) FROM effects").await, TASKS, "a task without its effect");
    let in_range = db.scalar(&format!("SELECT count(*) FROM effects WHERE task_id >= 0 AND task_id < {TASKS}")).await;
    assert_eq!(in_range, TASKS, "an effect of a task never submitted");
    // Unique keys: one row per coupon in the task table, one coupon each, to its first holder.
    assert_eq!(db.scalar("SELECT count(*) FROM preheat_tasks WHERE unique_key LIKE 'coupon:%'").await, COUPONS);
    assert_eq!(db.scalar("SELECT count(*) FROM coupons WHERE holder = 'first'").await, COUPONS);
    assert_eq!(db.scalar("SELECT count(*) FROM coupons").await, COUPONS);

    // An attempt is counted at each claim, so a task held by a killed worker has one attempt
    // more than its runs that were stored; no task may run more often than it was claimed.
    // (The casts are in CASE: PostgreSQL may evaluate a join condition in any order.)
    let over = db
        .scalar(
            "SELECT count(*) FROM preheat_tasks t
             LEFT JOIN effects e ON e.task_id = CASE WHEN t.task = 'fault.effect' THEN t.input::bigint END
             LEFT JOIN coupons c ON c.coupon = CASE WHEN t.task = 'fault.coupon' THEN (t.input->>'coupon')::bigint END
             WHERE coalesce(e.runs, c.runs) > t.attempt",
        )
        .await;
    assert_eq!(over, 0, "tasks ran more often than they were claimed");
    let lost = db.scalar("SELECT sum(attempt - 1) FROM preheat_tasks").await;
    let duplicates =
        db.scalar("SELECT (SELECT sum(runs - 1) FROM effects) + (SELECT sum(runs - 1) FROM coupons)").await;
    // A killed worker held at most `MAX_IN_FLIGHT` claimed tasks, each of which may have run
    // before the kill and runs again elsewhere: that is every duplicate there may be.
    let bound = kills * MAX_IN_FLIGHT as i64;
    assert!(lost > 0, "the kills took no work away, so they tested nothing");
    assert!(duplicates <= lost && lost <= bound, "duplicates {duplicates}, lost attempts {lost}, bound {bound}");

    let _ = writeln!(
        std::io::stderr(),
        "sigkill: {TASKS} tasks + {COUPONS} coupons by 3 workers in {elapsed:.1?} ({:.0} tasks/s); {kills} kills; \
         {lost} attempts lost with killed workers; {duplicates} runs beyond the first (bound {kills} x {MAX_IN_FLIGHT} = \
         {bound})",
        total as f64 / elapsed.as_secs_f64(),
    );
}
