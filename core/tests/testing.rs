//! The test kit (`preheat::testing`) tested on itself: each mode, each assertion (and its
//! failure message), time under `tokio::time::pause`, injected faults, supplied resources.
//!
//! Run with `cargo test -p preheat --features testing --test testing` (`.ci/run` does).

#![cfg(feature = "testing")]

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use preheat::testing::{Fault, TestRuntime};
use preheat::{Ctx, TaskError, task, warmup};
use serde::{Deserialize, Serialize};

preheat::metadata!("tests/meta/testing");

const MINUTE: Duration = Duration::from_secs(60);

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Order {
    id: u64,
    /// Not part of the serde form: a task sees it reset, as a durable backend would hand it.
    #[serde(skip)]
    note: String,
}

fn order(id: u64) -> Order {
    Order { id, note: "local only".into() }
}

static PLACED: AtomicU32 = AtomicU32::new(0);
static RESERVED: AtomicU32 = AtomicU32::new(0);
static CLOSED: AtomicU32 = AtomicU32::new(0);

/// Places an order and, the event-driven way, submits its close; `kit.reserve` follows it as a
/// flow.
#[task("kit.place", metadata = "tests/meta/testing")]
async fn place(ctx: Ctx, order: Order) -> Result<u64, String> {
    PLACED.fetch_add(1, Ordering::SeqCst);
    ctx.submit(close, order.id).map_err(|error| error.to_string())?;
    Ok(order.id)
}

#[task("kit.reserve", metadata = "tests/meta/testing")]
async fn reserve(order_id: u64) -> Result<(), String> {
    RESERVED.fetch_add(1, Ordering::SeqCst);
    let _ = order_id;
    Ok(())
}

#[task("kit.close", metadata = "tests/meta/testing")]
async fn close(order_id: u64) -> Result<u64, String> {
    CLOSED.fetch_add(1, Ordering::SeqCst);
    Ok(order_id)
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("card declined")]
struct Declined;

/// Echoes what it was given, and on which attempt.
#[task("kit.charge", metadata = "tests/meta/testing")]
async fn charge(ctx: Ctx, order: Order) -> Result<(Order, u32), Declined> {
    Ok((order, ctx.attempt()))
}

#[task("kit.tick", metadata = "tests/meta/testing")]
async fn tick() -> Result<(), String> {
    Ok(())
}

#[task("kit.query", metadata = "tests/meta/testing")]
async fn query() -> Result<String, String> {
    Ok("rows".to_owned())
}

/// A database no test can reach: a test runtime must not need it when the test supplies it.
#[warmup("kitdb", timeout = "1s", max_attempts = 1)]
async fn kitdb() -> Result<(), String> {
    Err("no database in this test".to_owned())
}

/// The message of a panic raised by `assert`.
fn panic_message(assert: impl FnOnce()) -> String {
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(assert)).expect_err("the assertion must fail");
    match panic.downcast::<String>() {
        Ok(message) => *message,
        Err(panic) => panic.downcast_ref::<&str>().map(|message| (*message).to_owned()).unwrap_or_default(),
    }
}

// The tests share the counters above: each test that reads one runs in a process-wide order
// through this lock, so that `cargo test`'s threads do not interleave them.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Takes the lock and zeroes the counters, for a test that reads them.
async fn fresh_counters() -> tokio::sync::MutexGuard<'static, ()> {
    let serial = SERIAL.lock().await;
    for counter in [&PLACED, &RESERVED, &CLOSED] {
        counter.store(0, Ordering::SeqCst);
    }
    serial
}

#[tokio::test(start_paused = true)]
async fn manual_mode_records_submits_and_runs_them_when_asked() {
    let _serial = fresh_counters().await;
    let kit = TestRuntime::manual().supply("kitdb").start().await.unwrap();
    kit.submit_detached(place, order(42)).await.unwrap();

    let placed = kit.assert_submitted_where::<place>(|order| order.id == 42);
    assert_eq!(placed.input.note, "", "the input is read back through its serde form");
    assert!(!placed.delayed);
    assert!(placed.flow.is_some(), "`kit.place` has a downstream task: its submit starts a flow run");
    assert_eq!(PLACED.load(Ordering::SeqCst), 0, "manual mode runs nothing by itself");
    assert_eq!(kit.queued(), 1);
    kit.assert_not_submitted::<close>();

    // The close and the flow's next task are queued by the run, and run in the order queued.
    assert!(kit.run_next().await);
    assert_eq!(PLACED.load(Ordering::SeqCst), 1);
    let closes = kit.assert_submitted_times::<close>(1);
    assert_eq!(closes[0].input, 42);
    assert_eq!(kit.assert_submitted::<reserve>().flow, placed.flow, "the flow's task carries its run's id");
    assert_eq!(CLOSED.load(Ordering::SeqCst), 0);
    assert_eq!(kit.run_queued().await, 2);
    assert_eq!((CLOSED.load(Ordering::SeqCst), RESERVED.load(Ordering::SeqCst)), (1, 1));
    assert_eq!(kit.queued(), 0);
    assert!(!kit.run_next().await);
    kit.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn inline_mode_runs_the_submit_and_what_follows_before_it_returns() {
    let _serial = fresh_counters().await;
    let kit = TestRuntime::inline().supply("kitdb").start().await.unwrap();
    let placed = kit.submit(place, order(7)).await.unwrap();
    // Everything already ran: the task, its `ctx.submit` and the flow's downstream task.
    assert_eq!(
        (PLACED.load(Ordering::SeqCst), CLOSED.load(Ordering::SeqCst), RESERVED.load(Ordering::SeqCst)),
        (1, 1, 1)
    );
    assert_eq!(placed.await.unwrap(), 7);
    assert_eq!(kit.queued(), 0);

    // A submit that never waits queues its job, which the next waiting one runs first.
    kit.try_submit_detached(close, 8).unwrap();
    assert_eq!(CLOSED.load(Ordering::SeqCst), 1);
    assert_eq!(kit.submit(close, 9).await.unwrap().await.unwrap(), 9);
    assert_eq!(CLOSED.load(Ordering::SeqCst), 3);
    let inputs: Vec<u64> = kit.submitted::<close>().into_iter().map(|job| job.input).collect();
    assert_eq!(inputs, [7, 8, 9]);
    kit.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_delayed_task_fires_when_the_clock_reaches_it_and_not_before() {
    let _serial = fresh_counters().await;
    let kit = TestRuntime::inline().supply("kitdb").start().await.unwrap();
    let start = tokio::time::Instant::now();
    kit.delay(close, 1).key("order-1-close").after(30 * MINUTE).unwrap();
    kit.submit_after(close, 2, 10 * MINUTE).unwrap();

    let delayed = kit.assert_submitted_times::<close>(2);
    assert_eq!((delayed[0].input, delayed[0].due - start, delayed[0].delayed), (2, 10 * MINUTE, true));
    assert_eq!((delayed[1].input, delayed[1].due - start), (1, 30 * MINUTE));
    assert_eq!(delayed[1].key.as_deref(), Some("order-1-close"));

    kit.advance(29 * MINUTE).await;
    assert_eq!(CLOSED.load(Ordering::SeqCst), 1, "only the 10-minute one is due");
    kit.advance(MINUTE).await;
    assert_eq!(CLOSED.load(Ordering::SeqCst), 2);
    let fired = kit.assert_submitted_where::<close>(|order| *order == 1);
    assert_eq!((fired.due - start, fired.delayed), (30 * MINUTE, false), "fired exactly at its due time");
    assert_eq!(fired.key.as_deref(), Some("order-1-close"));
    assert_eq!(kit.delayed(), 0);
    kit.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn manual_mode_queues_what_comes_due_in_order_of_due_time() {
    let _serial = SERIAL.lock().await;
    let kit = TestRuntime::manual().supply("kitdb").start().await.unwrap();
    kit.submit_after(close, 3, 3 * MINUTE).unwrap();
    kit.submit_after(close, 1, MINUTE).unwrap();
    kit.submit_after(close, 2, 2 * MINUTE).unwrap();
    kit.advance(5 * MINUTE).await;
    assert_eq!(kit.queued(), 3, "due, queued, not run");
    let order: Vec<u64> = kit.submitted::<close>().into_iter().map(|job| job.input).collect();
    assert_eq!(order, [1, 2, 3]);
    // Nothing is lost: shutdown lists what the test never ran.
    let left = kit.shutdown().await.unwrap_err();
    assert_eq!(left.unfinished().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn schedules_fire_only_when_asked_and_then_on_every_tick() {
    let _serial = SERIAL.lock().await;
    let quiet = TestRuntime::manual().supply("kitdb").start().await.unwrap();
    quiet.advance(60 * MINUTE).await;
    quiet.assert_not_submitted::<tick>();
    quiet.shutdown().await.unwrap();

    let kit = TestRuntime::inline().schedules().supply("kitdb").start().await.unwrap();
    let start = tokio::time::Instant::now();
    kit.advance(30 * MINUTE).await;
    let ticks: Vec<Duration> = kit.submitted::<tick>().into_iter().map(|job| job.due - start).collect();
    assert_eq!(ticks, [Duration::ZERO, 10 * MINUTE, 20 * MINUTE, 30 * MINUTE], "one at start, then every 10 min");
    assert_eq!(kit.schedule_stats_of(tick).map(|stats| stats.fired), Some(4));
    kit.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn injected_faults_go_through_the_real_retry_and_dead_letter_rules() {
    let _serial = SERIAL.lock().await;
    let kit = TestRuntime::inline().supply("kitdb").start().await.unwrap();
    kit.inject(charge, 1, Fault::fail(|| Declined));
    kit.inject(charge, 2, Fault::panic("injected"));
    let (_, attempt) = kit.run_task(charge, order(1)).await.unwrap();
    assert_eq!(attempt, 3, "two faulty attempts, then the task itself");
    assert_eq!(kit.stats_of(charge).retried, 2);

    kit.inject(charge, 3, Fault::time_out());
    let outcome = kit.submit(charge, order(2)).await.unwrap().await;
    assert!(matches!(outcome, Err(TaskError::TimedOut(limit)) if limit == Duration::from_secs(2)), "{outcome:?}");
    let dead = kit.take_dead_letters();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].attempts(), 3);
    kit.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn run_task_goes_through_the_serde_form_and_the_real_context() {
    let _serial = SERIAL.lock().await;
    let kit = TestRuntime::manual().supply("kitdb").start().await.unwrap();
    let (seen, attempt) = kit.run_task(charge, order(5)).await.unwrap();
    assert_eq!((seen.id, seen.note.as_str(), attempt), (5, "", 1));
    kit.assert_not_submitted::<charge>();
    assert_eq!(kit.run_task(query, ()).await.unwrap(), "rows", "the supplied resource counts as warm");
    kit.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn failed_assertions_say_what_was_submitted() {
    let _serial = SERIAL.lock().await;
    let kit = TestRuntime::manual().supply("kitdb").start().await.unwrap();
    let empty = panic_message(|| {
        kit.assert_submitted::<close>();
    });
    assert_eq!(empty, "expected a submit of `kit.close` matching the predicate; nothing was submitted");

    kit.submit_detached(close, 11).await.unwrap();
    kit.submit_after(charge, order(12), MINUTE).unwrap();
    let unexpected = panic_message(|| kit.assert_not_submitted::<close>());
    assert_eq!(
        unexpected,
        "expected no submit of `kit.close`, found 1; what was submitted, in order:\n  kit.close 11 due +0ns\n  \
         kit.charge {\"id\":12} due +60s, delayed"
    );
    let count = panic_message(|| {
        kit.assert_submitted_times::<close>(2);
    });
    assert!(count.starts_with("expected 2 submit(s) of `kit.close`, found 1; what was submitted"), "{count}");
    let mismatch = panic_message(|| {
        kit.assert_submitted_where::<close>(|id| *id == 99);
    });
    assert!(mismatch.contains("kit.close 11"), "{mismatch}");
    assert_eq!(kit.shutdown().await.unwrap_err().unfinished().len(), 2);
}

#[tokio::test]
async fn without_supply_the_warmer_runs_and_its_failure_fails_the_start() {
    let _serial = SERIAL.lock().await;
    let error = TestRuntime::manual().start().await.unwrap_err();
    assert!(error.to_string().contains("kitdb"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_mode_runs_the_real_pools_and_still_records() {
    let _serial = fresh_counters().await;
    let kit = TestRuntime::live().supply("kitdb").start().await.unwrap();
    let report = kit.submit_flow(place, order(3)).await.unwrap().outcome().await;
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(RESERVED.load(Ordering::SeqCst), 1, "the flow ran in the real pools");
    // `kit.place` submitted the close from inside its run, before the flow finished.
    assert_eq!(kit.assert_submitted::<close>().input, 3);
    assert_eq!(kit.queued(), 0, "live pools hold nothing back");
    kit.shutdown().await.unwrap();
    assert_eq!(CLOSED.load(Ordering::SeqCst), 1, "shutdown let the close finish");
}

#[tokio::test]
async fn a_task_function_called_directly_sees_the_attempt_the_test_sets() {
    let (_, attempt) = charge::call(Ctx::for_test::<charge>().with_attempt(3), order(1)).await.unwrap();
    assert_eq!(attempt, 3);
    assert_eq!(Ctx::for_test::<charge>().attempt(), 1);
}
