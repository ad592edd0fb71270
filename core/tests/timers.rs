//! Schedules and delayed tasks on the paused tokio clock. Each test starts its own runtime, whose
//! schedules all fire; the logs are per thread, and a paused-clock test runs its runtime and all
//! its tasks on its own thread, so each test sees only its own runs.

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Duration;

use preheat::{Runtime, task};
use tokio::time::Instant;

preheat::metadata!("tests/meta/timers");

thread_local! {
    /// When each task's runs started, by task id.
    static RUNS: RefCell<HashMap<&'static str, Vec<Instant>>> = RefCell::default();
    /// The order delayed tasks ran in.
    static DELAYED: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

fn ran(task: &'static str) {
    RUNS.with_borrow_mut(|runs| runs.entry(task).or_default().push(Instant::now()));
}

fn runs(task: &'static str) -> Vec<Instant> {
    RUNS.with_borrow(|runs| runs.get(task).cloned().unwrap_or_default())
}

#[task("timer.grid", metadata = "tests/meta/timers")]
async fn grid() -> Result<(), String> {
    ran("timer.grid");
    Ok(())
}

/// Runs take 250 ms: longer than two periods of their 100 ms schedule.
async fn slow(task: &'static str) -> Result<(), String> {
    ran(task);
    tokio::time::sleep(Duration::from_millis(250)).await;
    Ok(())
}

#[task("timer.skip", metadata = "tests/meta/timers")]
async fn skip() -> Result<(), String> {
    slow("timer.skip").await
}

#[task("timer.queue", metadata = "tests/meta/timers")]
async fn queue() -> Result<(), String> {
    slow("timer.queue").await
}

#[task("timer.allow", metadata = "tests/meta/timers")]
async fn allow() -> Result<(), String> {
    slow("timer.allow").await
}

#[task("timer.missed_skip", metadata = "tests/meta/timers")]
async fn missed_skip() -> Result<(), String> {
    ran("timer.missed_skip");
    Ok(())
}

#[task("timer.catch_up", metadata = "tests/meta/timers")]
async fn catch_up() -> Result<(), String> {
    ran("timer.catch_up");
    Ok(())
}

#[task("timer.cron", metadata = "tests/meta/timers")]
async fn cron() -> Result<(), String> {
    Ok(())
}

#[task("delayed.record", metadata = "tests/meta/timers")]
async fn record(seq: u64) -> Result<(), String> {
    DELAYED.with_borrow_mut(|ran| ran.push(seq));
    Ok(())
}

async fn start() -> (Runtime, Instant) {
    let rt = Runtime::builder().start().await.expect("the test registry is valid");
    (rt, Instant::now())
}

fn offsets(start: Instant, times: &[Instant]) -> Vec<u128> {
    times.iter().map(|time| (*time - start).as_millis()).collect()
}

#[tokio::test(start_paused = true)]
async fn an_interval_fires_on_its_grid() {
    let (rt, start) = start().await;
    assert!(rt.schedule_stats("timer.grid").is_some(), "armed by start");
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    // initial_delay 50ms, then every 100ms: nothing drifts, however long it runs.
    assert_eq!(offsets(start, &runs("timer.grid")), [50, 150, 250, 350, 450, 550, 650, 750, 850, 950]);
    assert_eq!(rt.schedule_stats("timer.grid").map(|s| s.fired), Some(10));
    assert_eq!(rt.schedule_stats("timer.cron").map(|s| s.fired), Some(0), "10:00 Shanghai is not now");
    assert_eq!(rt.schedule_stats("delayed.record"), None, "no schedule");
}

#[tokio::test(start_paused = true)]
async fn overlap_policies() {
    let (rt, start) = start().await;
    tokio::time::sleep(Duration::from_millis(950)).await;
    // Runs take 250 ms, ticks come every 100 ms.
    // skip: a tick while a run is going is dropped; the next free tick runs.
    assert_eq!(offsets(start, &runs("timer.skip")), [0, 300, 600, 900]);
    // queue: one tick waits for the run in flight and starts when it ends.
    assert_eq!(offsets(start, &runs("timer.queue")), [0, 250, 500, 750]);
    // allow: every tick runs at once, beside the others.
    assert_eq!(offsets(start, &runs("timer.allow")), [0, 100, 200, 300, 400, 500, 600, 700, 800, 900]);
    assert!(rt.schedule_stats("timer.skip").unwrap().skipped >= 5);
}

#[tokio::test(start_paused = true)]
async fn missed_ticks_after_a_stall() {
    let (_rt, start) = start().await;
    tokio::time::sleep(Duration::from_millis(10)).await; // the tick at 0 has run
    // A stall: the clock jumps 5.5 s with no timer firing on the way.
    tokio::time::advance(Duration::from_millis(5_500)).await;
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    // skip: the ticks of 1 s to 5 s are dropped; the grid goes on at 6 s.
    assert_eq!(offsets(start, &runs("timer.missed_skip")), [0, 6_000]);
    // catch_up with a bound of 3 (and `overlap: allow`, or the overlap policy would drop the
    // ticks that find the first still queued): three of the five missed ticks run at once.
    assert_eq!(offsets(start, &runs("timer.catch_up")), [0, 5_510, 5_510, 5_510, 6_000]);
}

#[tokio::test(start_paused = true)]
async fn delayed_tasks_fire_in_order_and_can_be_cancelled() {
    let (rt, start) = start().await;
    // 100,000 tasks due in a scrambled order over 100 s.
    let count: u64 = 100_000;
    for seq in 0..count {
        let due = (seq * 7_919) % count; // a permutation of 0..count
        rt.submit_at(record, due, start + Duration::from_millis(due)).unwrap();
    }
    let cancelled = rt.delay(record, 5).key("order-5-close").after(Duration::from_secs(1)).unwrap();
    let replaced = rt.delay(record, 6).key("order-6-close").after(Duration::from_secs(1)).unwrap();
    rt.delay(record, 7).key("order-6-close").after(Duration::from_secs(2)).unwrap();
    assert_eq!(cancelled.name(), Some("order-5-close"));
    assert!(rt.cancel("order-5-close"));
    assert!(!rt.cancel("order-5-close"), "already cancelled");
    assert_eq!(replaced.name(), Some("order-6-close"));
    assert_eq!(rt.delayed(), count as usize + 1);

    tokio::time::sleep(Duration::from_secs(101)).await;
    rt.shutdown().await.expect("all ran");
    let ran = DELAYED.with_borrow(Clone::clone);
    assert_eq!(ran.len(), count as usize + 1);
    let mut expected: Vec<u64> = (0..count).collect();
    expected.insert(2_001, 7); // `order-6-close`, replaced by input 7, due at 2 s after task 2000
    assert_eq!(ran, expected, "in due order; the cancelled and the replaced tasks never ran");
}

#[tokio::test(start_paused = true)]
async fn a_key_without_a_name_cancels_its_own_task_only() {
    let (rt, _) = start().await;
    let first = rt.submit_after(record, 1, Duration::from_secs(1)).unwrap();
    assert_eq!(first.name(), None);
    assert!(rt.cancel(&first));
    // The second task may take the first one's slot: the old key must not reach it.
    let second = rt.submit_after(record, 2, Duration::from_secs(1)).unwrap();
    assert!(!rt.cancel(&first), "already cancelled");
    assert_ne!(first, second);
    assert_eq!(rt.delayed(), 1);

    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(!rt.cancel(&second), "it ran");
    rt.shutdown().await.expect("all ran");
    assert_eq!(DELAYED.with_borrow(Clone::clone), [2]);
}

#[tokio::test(start_paused = true)]
async fn delayed_tasks_pending_at_shutdown_are_listed() {
    let (rt, _) = start().await;
    rt.submit_after(record, 42, Duration::from_secs(3_600)).unwrap();
    let error = rt.shutdown().await.expect_err("one task still waits");
    assert_eq!(error.unfinished()[0].input::<record>(), Some(&42));
    assert!(rt.submit_after(record, 43, Duration::from_secs(1)).unwrap_err().is_closed());
}
