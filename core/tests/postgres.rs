//! The PostgreSQL backend against a live database: set `PREHEAT_DATABASE_URL` (CI does); without
//! it every test here says it skipped. Each test works in a schema of its own.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use preheat::postgres::{Counts, NewTask, Postgres, Submitted, Wake};
use preheat::{Ctx, task};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

preheat::metadata!("tests/meta/postgres");

mod pg_support;
use pg_support::{database, worker};

/// Each test's channel, by tag: tasks report what they saw to the test that submitted them.
static REPORTS: LazyLock<Mutex<HashMap<String, mpsc::UnboundedSender<String>>>> = LazyLock::new(Mutex::default);

fn report(tag: &str, what: impl Into<String>) {
    if let Some(sender) = REPORTS.lock().expect("no test panics holding it").get(tag) {
        let _ = sender.send(what.into());
    }
}

fn reports(tag: &str) -> mpsc::UnboundedReceiver<String> {
    let (sender, receiver) = mpsc::unbounded_channel();
    REPORTS.lock().expect("no test panics holding it").insert(tag.to_owned(), sender);
    receiver
}

#[task("pg.record", metadata = "tests/meta/postgres")]
async fn record(input: (String, u64)) -> Result<u64, String> {
    report(&input.0, input.1.to_string());
    Ok(input.1)
}

/// Fails its first `fails` attempts.
#[task("pg.flaky", metadata = "tests/meta/postgres")]
async fn flaky(ctx: Ctx, input: (String, u32)) -> Result<(), String> {
    report(&input.0, format!("attempt {}", ctx.attempt()));
    if ctx.attempt() <= input.1 { Err(format!("attempt {} failed", ctx.attempt())) } else { Ok(()) }
}

#[task("pg.panics", metadata = "tests/meta/postgres")]
async fn panics(ctx: Ctx, tag: String) -> Result<(), String> {
    report(&tag, format!("attempt {}", ctx.attempt()));
    panic!("boom on attempt {}", ctx.attempt())
}

/// A one-worker pool behind a two-job queue that rejects when full.
#[task("pg.narrow", metadata = "tests/meta/postgres")]
async fn narrow(input: (String, u64)) -> Result<(), String> {
    report(&input.0, input.1.to_string());
    Ok(())
}

/// The application's pool, for tasks that query (`pg.hold`).
static APP_POOL: std::sync::OnceLock<sqlx::PgPool> = std::sync::OnceLock::new();

/// Holds one of the application's connections for 3 s, longer than the tests' 2 s lease.
#[task("pg.hold", metadata = "tests/meta/postgres")]
async fn hold(tag: String) -> Result<(), String> {
    let pool = APP_POOL.get().ok_or("no pool")?;
    sqlx::query("SELECT pg_sleep(3)").execute(pool).await.map_err(|error| error.to_string())?;
    report(&tag, "held");
    Ok(())
}

/// Fails with a NUL byte in its error, which PostgreSQL's text cannot store.
#[task("pg.nul", metadata = "tests/meta/postgres")]
async fn nul(tag: String) -> Result<(), String> {
    report(&tag, "nul");
    Err("a \0 in the error".to_owned())
}

/// An output whose `Serialize` panics.
#[derive(Clone, Debug, Deserialize)]
struct Unserializable;

impl Serialize for Unserializable {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        panic!("Serialize panicked")
    }
}

/// Its output goes to `pg.after_bad`, so it is serialized, and that panics.
#[task("pg.bad_output", metadata = "tests/meta/postgres")]
async fn bad_output(tag: String) -> Result<Unserializable, String> {
    report(&tag, "bad output");
    Ok(Unserializable)
}

#[task("pg.after_bad", metadata = "tests/meta/postgres")]
async fn after_bad(_input: Unserializable) -> Result<(), String> {
    Ok(())
}

/// An input whose `Deserialize` panics on "boom".
#[derive(Clone, Debug, Serialize)]
struct Poison(String);

impl<'de> Deserialize<'de> for Poison {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        assert_ne!(text, "boom", "Deserialize panicked");
        Ok(Poison(text))
    }
}

#[task("pg.poison", metadata = "tests/meta/postgres")]
async fn poison(_input: Poison) -> Result<(), String> {
    Ok(())
}

/// Released one at a time by the stale-result test.
static GATES: [tokio::sync::Notify; 2] = [tokio::sync::Notify::const_new(), tokio::sync::Notify::const_new()];

/// Attempt 1 waits for gate 0 and fails; attempt 2 waits for gate 1 and succeeds.
#[task("pg.twice", metadata = "tests/meta/postgres")]
async fn twice(ctx: Ctx, tag: String) -> Result<(), String> {
    report(&tag, format!("attempt {} started", ctx.attempt()));
    match ctx.attempt() {
        1 => {
            GATES[0].notified().await;
            Err("attempt 1 failed".into())
        }
        _ => {
            GATES[1].notified().await;
            Ok(())
        }
    }
}

/// Never finishes: for shutdown.
#[task("pg.stuck", metadata = "tests/meta/postgres")]
async fn stuck(tag: String) -> Result<(), String> {
    report(&tag, "started");
    std::future::pending().await
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Order {
    tag: String,
    id: u32,
}

#[task("pg.order", metadata = "tests/meta/postgres")]
async fn place_order(ctx: Ctx, placed: Order) -> Result<Order, String> {
    report(
        &placed.tag,
        format!("order {} in {}", placed.id, ctx.flow_id().map(|id| id.to_string()).unwrap_or_default()),
    );
    Ok(placed)
}

#[task("pg.reserve", metadata = "tests/meta/postgres")]
async fn reserve(placed: Order) -> Result<(String, u32), String> {
    report(&placed.tag, format!("reserve {}", placed.id));
    Ok((placed.tag, placed.id * 10))
}

#[task("pg.pay", metadata = "tests/meta/postgres")]
async fn pay(placed: Order) -> Result<u32, String> {
    report(&placed.tag, format!("pay {}", placed.id));
    Ok(placed.id * 100)
}

#[task("pg.ship", metadata = "tests/meta/postgres")]
async fn ship(input: ((String, u32), u32)) -> Result<(), String> {
    let ((tag, reserved), paid) = input;
    report(&tag, format!("ship {reserved} {paid}"));
    Ok(())
}

async fn next(reports: &mut mpsc::UnboundedReceiver<String>) -> String {
    tokio::time::timeout(Duration::from_secs(20), reports.recv())
        .await
        .expect("a report within 20 s")
        .expect("the sender is kept in REPORTS")
}

/// Waits until the counts satisfy `done`, for what no task reports (a row's final state).
async fn until(pg: &Postgres, done: impl Fn(&Counts) -> bool) -> Counts {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let counts = pg.counts().await.expect("counts");
        if done(&counts) {
            return counts;
        }
        assert!(tokio::time::Instant::now() < deadline, "counts stuck at {counts:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submitted_task_runs_once_and_is_completed() {
    let Some(pg) = database("runs").await else { return };
    let mut seen = reports("runs");
    let runtime = worker(&pg).await;
    let submitted = pg.submit(record, ("runs".into(), 7)).await.unwrap();
    assert!(matches!(submitted, Submitted::New { flow: None, .. }), "{submitted:?}");
    assert_eq!(next(&mut seen).await, "7");
    let counts = until(&pg, |counts| counts.completed == 1).await;
    assert_eq!(counts, Counts { completed: 1, ..counts }, "nothing else left");
    runtime.shutdown().await.unwrap();
    assert!(seen.try_recv().is_err(), "ran once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_submitted_in_a_transaction_exists_only_if_it_commits() {
    let Some(pg) = database("tx").await else { return };
    let mut seen = reports("tx");
    let mut tx = pg.pool().begin().await.unwrap();
    preheat::postgres::submit_tx(&mut tx, record, ("tx".into(), 1)).await.unwrap();
    tx.rollback().await.unwrap();
    let mut tx = pg.pool().begin().await.unwrap();
    NewTask::new(record, ("tx".into(), 2)).submit_tx(&mut tx).await.unwrap();
    assert_eq!(pg.counts().await.unwrap(), Counts::default(), "not visible before the commit");
    tx.commit().await.unwrap();
    let runtime = worker(&pg).await;
    assert_eq!(next(&mut seen).await, "2", "only the committed task runs");
    until(&pg, |counts| counts.completed == 1).await;
    runtime.shutdown().await.unwrap();
    assert!(seen.try_recv().is_err(), "the rolled-back task never ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unique_key_takes_effect_once() {
    let Some(pg) = database("unique").await else { return };
    let mut seen = reports("unique");
    let first = NewTask::new(record, ("unique".into(), 1)).key("coupon:1").submit(&pg).await.unwrap();
    let again = NewTask::new(record, ("unique".into(), 2)).key("coupon:1").submit(&pg).await.unwrap();
    assert!(first.id().is_some());
    assert_eq!(again, Submitted::Duplicate);
    let runtime = worker(&pg).await;
    assert_eq!(next(&mut seen).await, "1");
    until(&pg, |counts| counts.completed == 1).await;
    let late = NewTask::new(record, ("unique".into(), 3)).key("coupon:1").submit(&pg).await.unwrap();
    assert_eq!(late, Submitted::Duplicate, "a completed task keeps its key");
    runtime.shutdown().await.unwrap();
    assert!(seen.try_recv().is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delayed_task_survives_a_restart_of_every_worker() {
    let Some(pg) = database("delayed").await else { return };
    let mut seen = reports("delayed");
    NewTask::new(record, ("delayed".into(), 1)).after(Duration::from_millis(1500)).submit(&pg).await.unwrap();
    let first = worker(&pg).await;
    first.shutdown().await.unwrap();
    drop(first);
    assert_eq!(pg.counts().await.unwrap(), Counts { ready: 1, ..Counts::default() }, "still waiting");
    let second = worker(&pg).await;
    assert_eq!(next(&mut seen).await, "1");
    until(&pg, |counts| counts.completed == 1).await;
    second.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_attempts_are_retried_then_dead_with_their_input_and_error() {
    let Some(pg) = database("retries").await else { return };
    let mut seen = reports("retries");
    let runtime = worker(&pg).await;
    pg.submit(flaky, ("retries".into(), 2)).await.unwrap();
    for attempt in 1..=3 {
        assert_eq!(next(&mut seen).await, format!("attempt {attempt}"));
    }
    until(&pg, |counts| counts.completed == 1).await;
    pg.submit(flaky, ("retries".into(), 5)).await.unwrap();
    for attempt in 1..=3 {
        assert_eq!(next(&mut seen).await, format!("attempt {attempt}"));
    }
    until(&pg, |counts| counts.dead == 1).await;
    let dead = pg.dead_letters().await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!((dead[0].task.as_str(), dead[0].attempts), ("pg.flaky", 3));
    assert_eq!(dead[0].input, serde_json::json!(["retries", 5]));
    assert_eq!(dead[0].error.as_deref(), Some("task failed: attempt 3 failed"));
    // Replayed with fresh attempts: it fails 5 times, so attempts 1 to 3 run again.
    assert!(pg.retry_dead(dead[0].id).await.unwrap());
    assert!(!pg.retry_dead(dead[0].id).await.unwrap(), "no longer dead");
    for attempt in 1..=3 {
        assert_eq!(next(&mut seen).await, format!("attempt {attempt}"));
    }
    until(&pg, |counts| counts.dead == 1 && counts.running == 0).await;
    runtime.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_task_is_contained_retried_and_dead() {
    let Some(pg) = database("panics").await else { return };
    let mut seen = reports("panics");
    let runtime = worker(&pg).await;
    pg.submit(panics, "panics".into()).await.unwrap();
    assert_eq!(next(&mut seen).await, "attempt 1");
    assert_eq!(next(&mut seen).await, "attempt 2");
    until(&pg, |counts| counts.dead == 1).await;
    let dead = pg.dead_letters().await.unwrap();
    assert!(dead[0].error.as_deref().is_some_and(|error| error.contains("boom on attempt 2")), "{dead:?}");
    // The pool still works.
    pg.submit(record, ("panics".into(), 9)).await.unwrap();
    assert_eq!(next(&mut seen).await, "9");
    runtime.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_workers_task_is_taken_again_after_its_lease() {
    let Some(pg) = database("lease").await else { return };
    let mut seen = reports("lease");
    // What a worker killed mid-run leaves behind: a running row with a lease that ran out.
    let id = pg.submit(record, ("lease".into(), 5)).await.unwrap().id().unwrap();
    sqlx::query(
        "UPDATE preheat_tasks SET state = 'running', attempt = 1, lease_owner = 42, run_at = now() WHERE id = $1",
    )
    .bind(id)
    .execute(pg.pool())
    .await
    .unwrap();
    // One whose lease still runs, and one lost on its last attempt.
    let held = pg.submit(record, ("lease".into(), 6)).await.unwrap().id().unwrap();
    sqlx::query(
        "UPDATE preheat_tasks SET state = 'running', attempt = 1, lease_owner = 42, run_at = now() + interval '1 hour'
         WHERE id = $1",
    )
    .bind(held)
    .execute(pg.pool())
    .await
    .unwrap();
    let lost = pg.submit(panics, "lease".into()).await.unwrap().id().unwrap();
    sqlx::query(
        "UPDATE preheat_tasks SET state = 'running', attempt = 2, lease_owner = 42, run_at = now() WHERE id = $1",
    )
    .bind(lost)
    .execute(pg.pool())
    .await
    .unwrap();
    let runtime = worker(&pg).await;
    assert_eq!(next(&mut seen).await, "5", "the expired lease is reclaimed");
    let counts = until(&pg, |counts| counts.completed == 1 && counts.dead == 1).await;
    assert_eq!(counts.running, 1, "the live lease is left alone");
    let dead = pg.dead_letters().await.unwrap();
    assert_eq!(dead[0].id, lost);
    assert!(
        dead[0].error.as_deref().is_some_and(|error| error.contains("did not finish: its worker died")),
        "{dead:?}"
    );
    runtime.shutdown().await.unwrap();
    assert!(seen.try_recv().is_err(), "the lost task is not run a third time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_gives_back_what_it_could_not_finish() {
    let Some(pg) = database("shutdown").await else { return };
    let mut seen = reports("shutdown");
    let runtime = worker(&pg).await;
    pg.submit(stuck, "shutdown".into()).await.unwrap();
    assert_eq!(next(&mut seen).await, "started");
    // The stuck run is stopped at the deadline; its row is due again at once.
    let _ = runtime.shutdown().await;
    let row: (String, i32, Option<i64>) =
        sqlx::query_as("SELECT state, attempt, lease_owner FROM preheat_tasks").fetch_one(pg.pool()).await.unwrap();
    assert_eq!(row, ("ready".to_owned(), 1, None), "due again; the interrupted attempt counts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flow_runs_from_the_table_with_its_fan_in() {
    let Some(pg) = database("flow").await else { return };
    let mut seen = reports("flow");
    let submitted = pg.submit(place_order, Order { tag: "flow".into(), id: 3 }).await.unwrap();
    let Submitted::New { flow: Some(flow), .. } = submitted else {
        panic!("a task with downstream tasks starts a flow: {submitted:?}")
    };
    let runtime = worker(&pg).await;
    let mut steps = Vec::new();
    for _ in 0..4 {
        steps.push(next(&mut seen).await);
    }
    steps.sort();
    assert_eq!(steps, [format!("order 3 in flow-{flow:x}"), "pay 3".into(), "reserve 3".into(), "ship 30 300".into()]);
    until(&pg, |counts| counts.completed == 4).await;
    let parts: i64 = sqlx::query_scalar("SELECT count(*) FROM preheat_flow_parts").fetch_one(pg.pool()).await.unwrap();
    assert_eq!(parts, 0, "the fan-in's parts are gone once it started");
    let in_flow: i64 = sqlx::query_scalar("SELECT count(*) FROM preheat_tasks WHERE flow_id = $1")
        .bind(flow)
        .fetch_one(pg.pool())
        .await
        .unwrap();
    assert_eq!(in_flow, 4);
    runtime.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_alone_finds_work() {
    let Some(pg) = database("poll").await else { return };
    let pg = pg.wake(Wake::Poll(Duration::from_millis(50)));
    let mut seen = reports("poll");
    let runtime = worker(&pg).await;
    pg.submit_all(record, (0..100).map(|n| ("poll".to_owned(), n))).await.unwrap();
    let mut got: Vec<u64> = Vec::new();
    for _ in 0..100 {
        got.push(next(&mut seen).await.parse().unwrap());
    }
    got.sort();
    assert_eq!(got, (0..100).collect::<Vec<_>>());
    until(&pg, |counts| counts.completed == 100).await;
    runtime.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_larger_than_the_queue_waits_for_room_instead_of_failing() {
    let Some(pg) = database("narrow").await else { return };
    let mut seen = reports("narrow");
    pg.submit_all(narrow, (0..50).map(|n| ("narrow".to_owned(), n))).await.unwrap();
    // One claim takes all 50 rows for a queue of 2 whose policy rejects.
    let runtime = worker(&pg).await;
    let mut got: Vec<u64> = Vec::new();
    for _ in 0..50 {
        got.push(next(&mut seen).await.parse().unwrap());
    }
    got.sort();
    assert_eq!(got, (0..50).collect::<Vec<_>>());
    let counts = until(&pg, |counts| counts.completed == 50).await;
    assert_eq!(counts.ready + counts.dead, 0);
    runtime.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_holding_every_application_connection_do_not_starve_the_heartbeat() {
    let Some(pg) = database("hold").await else { return };
    let mut seen = reports("hold");
    APP_POOL.set(pg.pool().clone()).unwrap();
    // Eight workers hold all eight of the application's connections for longer than a lease:
    // if the heartbeat waited for one of them, the leases would run out and the tasks run again.
    pg.submit_all(hold, (0..8).map(|_| "hold".to_owned())).await.unwrap();
    let runtime = worker(&pg).await;
    until(&pg, |counts| counts.running == 8).await;
    // A second worker, with connections to spare, would take any lease that ran out.
    let url = std::env::var("PREHEAT_DATABASE_URL").unwrap();
    let other = Postgres::connect_in_schema(&url, "preheat_test_hold").await.unwrap().lease(Duration::from_secs(2));
    let other = worker(&other).await;
    for _ in 0..8 {
        assert_eq!(next(&mut seen).await, "held");
    }
    until(&pg, |counts| counts.completed == 8).await;
    let attempts: i32 =
        sqlx::query_scalar("SELECT max(attempt) FROM preheat_tasks").fetch_one(pg.pool()).await.unwrap();
    assert_eq!(attempts, 1, "no lease ran out on a live worker");
    runtime.shutdown().await.unwrap();
    other.shutdown().await.unwrap();
    assert!(seen.try_recv().is_err(), "each ran once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listening_worker_wakes_on_the_insert_not_its_poll() {
    let Some(pg) = database("listen").await else { return };
    // With an hour between polls and an hour's lease (whose expiry the worker would wake for),
    // only the notification can bring each task in before `next` gives up.
    let pg = pg.wake(Wake::Listen { poll: Duration::from_secs(3600) }).lease(Duration::from_secs(3600));
    let mut seen = reports("listen");
    let runtime = worker(&pg).await;
    // Idle by now or soon: either way the claim that follows the insert finds it.
    for n in 0..3 {
        pg.submit(record, ("listen".into(), n)).await.unwrap();
        assert_eq!(next(&mut seen).await, n.to_string());
    }
    runtime.shutdown().await.unwrap();
}

/// Compiles only if connecting can happen inside `tokio::spawn` (the futures are `Send`).
#[allow(dead_code)]
fn connecting_is_send() {
    fn send<T: Send>(_: T) {}
    send(Postgres::connect("postgres://"));
    send(Postgres::connect_in_schema("postgres://", "schema"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_the_database_refuses_fails_that_task_alone() {
    let Some(pg) = database("nul").await else { return };
    let mut seen = reports("nul");
    let runtime = worker(&pg).await;
    pg.submit(nul, "nul".into()).await.unwrap();
    assert_eq!(next(&mut seen).await, "nul");
    pg.submit_all(record, (0..5).map(|n| ("nul".to_owned(), n))).await.unwrap();
    let counts = until(&pg, |counts| counts.completed == 5 && counts.dead == 1).await;
    assert_eq!(counts.running + counts.ready, 0);
    let dead = pg.dead_letters().await.unwrap();
    assert!(dead[0].error.as_deref().is_some_and(|error| error.contains("a \u{fffd} in the error")), "{dead:?}");
    runtime.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_serialize_fails_the_task_for_good() {
    let Some(pg) = database("serialize").await else { return };
    let mut seen = reports("serialize");
    let runtime = worker(&pg).await;
    pg.submit(bad_output, "serialize".into()).await.unwrap();
    assert_eq!(next(&mut seen).await, "bad output");
    until(&pg, |counts| counts.dead == 1).await;
    let dead = pg.dead_letters().await.unwrap();
    assert!(dead[0].error.as_deref().is_some_and(|error| error.contains("Serialize panicked")), "{dead:?}");
    runtime.shutdown().await.unwrap();
    assert!(seen.try_recv().is_err(), "ran once: max_attempts is 1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_deserialize_fails_that_task_and_the_claimer_goes_on() {
    let Some(pg) = database("poison").await else { return };
    let mut seen = reports("poison");
    pg.submit(poison, Poison("boom".into())).await.unwrap();
    let runtime = worker(&pg).await;
    until(&pg, |counts| counts.dead == 1).await;
    pg.submit_all(record, (0..3).map(|n| ("poison".to_owned(), n))).await.unwrap();
    for _ in 0..3 {
        next(&mut seen).await;
    }
    let dead = pg.dead_letters().await.unwrap();
    assert!(dead[0].error.as_deref().is_some_and(|error| error.contains("Deserialize panicked")), "{dead:?}");
    runtime.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_the_worker_does_not_hold_is_not_renewed() {
    let Some(pg) = database("orphan").await else { return };
    let mut seen = reports("orphan");
    let runtime = worker(&pg).await;
    pg.submit(stuck, "orphan".into()).await.unwrap();
    assert_eq!(next(&mut seen).await, "started");
    let owner: i64 = sqlx::query_scalar("SELECT lease_owner FROM preheat_tasks WHERE state = 'running'")
        .fetch_one(pg.pool())
        .await
        .unwrap();
    // What a claim whose reply was lost leaves: a row leased to this worker that it never got.
    let orphan = pg.submit(record, ("orphan".into(), 1)).await.unwrap().id().unwrap();
    sqlx::query(
        "UPDATE preheat_tasks SET state = 'running', attempt = 1, lease_owner = $2, run_at = now() + interval '2 seconds'
         WHERE id = $1",
    )
    .bind(orphan)
    .bind(owner)
    .execute(pg.pool())
    .await
    .unwrap();
    assert_eq!(next(&mut seen).await, "1", "its lease ran out and it was taken again");
    let _ = runtime.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_of_an_earlier_claim_does_not_settle_a_later_one() {
    let Some(pg) = database("stale").await else { return };
    // An hour's lease: the heartbeat renews once at start, then not for 20 minutes.
    let pg = pg.lease(Duration::from_secs(3600));
    let mut seen = reports("stale");
    let runtime = worker(&pg).await;
    let id = pg.submit(twice, "stale".into()).await.unwrap().id().unwrap();
    assert_eq!(next(&mut seen).await, "attempt 1 started");
    // Its lease runs out while attempt 1 still runs (a heartbeat lost, say); an insert wakes the
    // claimer, which takes the row again: attempt 2, same worker.
    sqlx::query("UPDATE preheat_tasks SET run_at = now() - interval '1 second' WHERE id = $1")
        .bind(id)
        .execute(pg.pool())
        .await
        .unwrap();
    pg.submit(record, ("stale".into(), 0)).await.unwrap();
    let mut started = vec![next(&mut seen).await, next(&mut seen).await];
    started.sort();
    assert_eq!(started, ["0", "attempt 2 started"]);
    // Attempt 1 fails now: its result is of a claim that is over and must change nothing.
    GATES[0].notify_one();
    GATES[1].notify_one();
    until(&pg, |counts| counts.completed == 2).await;
    let row: (String, i32) = sqlx::query_as("SELECT state, attempt FROM preheat_tasks WHERE id = $1")
        .bind(id)
        .fetch_one(pg.pool())
        .await
        .unwrap();
    assert_eq!(row, ("completed".to_owned(), 2));
    runtime.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_name_that_is_not_plain_is_refused() {
    // Refused before any connection is tried.
    let url = "postgres://127.0.0.1:1/nowhere";
    for name in ["my schema", "1st", "a\\b", "x\"y"] {
        let error = Postgres::connect_in_schema(url, name).await.unwrap_err();
        assert!(error.to_string().contains("is not plain"), "{name}: {error}");
    }
}
