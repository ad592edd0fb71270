//! Runtime behaviour on the paused tokio clock: retries, timeouts, panics, queue policies, pool
//! sizing, lazy pools and shutdown. Each test starts its own runtime; the tasks' metadata is in
//! `tests/meta/runtime/`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::FutureExt;
use once_cell::sync::Lazy;
use preheat::meta::Warmup;
use preheat::{Ctx, PoolStats, Runtime, TaskError, task};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use tokio::time::Instant;

preheat::metadata!("tests/meta/runtime");

/// What a scripted task does on each attempt.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Script {
    /// Unique per test: keys the attempt log and the gate.
    key: u64,
    /// The first `panics` attempts panic.
    panics: u32,
    /// The next `failures` attempts return an error.
    failures: u32,
    /// Each attempt sleeps this long (on the paused clock).
    sleep_ms: u64,
    /// Each attempt waits for a permit of the key's gate.
    gated: bool,
}

static ATTEMPTS: Lazy<Mutex<HashMap<u64, Vec<Instant>>>> = Lazy::new(Mutex::default);
static GATES: Lazy<Mutex<HashMap<u64, Arc<Semaphore>>>> = Lazy::new(Mutex::default);

fn gate(key: u64) -> Arc<Semaphore> {
    GATES.lock().expect("gates lock").entry(key).or_insert_with(|| Arc::new(Semaphore::new(0))).clone()
}

fn attempt_times(key: u64) -> Vec<Instant> {
    ATTEMPTS.lock().expect("attempts lock").get(&key).cloned().unwrap_or_default()
}

async fn script(ctx: Ctx, script: Script) -> Result<u32, String> {
    ATTEMPTS.lock().expect("attempts lock").entry(script.key).or_default().push(Instant::now());
    if script.sleep_ms > 0 {
        tokio::time::sleep(Duration::from_millis(script.sleep_ms)).await;
    }
    if script.gated {
        gate(script.key).acquire().await.expect("gates are never closed").forget();
    }
    let attempt = ctx.attempt();
    if attempt <= script.panics {
        panic!("scripted panic");
    }
    if attempt <= script.panics + script.failures {
        return Err(format!("scripted failure {attempt}"));
    }
    Ok(attempt)
}

#[task("test.basic", metadata = "tests/meta/runtime")]
async fn basic(ctx: Ctx, input: Script) -> Result<u32, String> {
    script(ctx, input).await
}

#[task("test.once", metadata = "tests/meta/runtime")]
async fn once(ctx: Ctx, input: Script) -> Result<u32, String> {
    script(ctx, input).await
}

#[task("test.reject", metadata = "tests/meta/runtime")]
async fn reject(ctx: Ctx, input: Script) -> Result<u32, String> {
    script(ctx, input).await
}

#[task("test.block", metadata = "tests/meta/runtime")]
async fn block(ctx: Ctx, input: Script) -> Result<u32, String> {
    script(ctx, input).await
}

#[task("test.elastic", metadata = "tests/meta/runtime")]
async fn elastic(ctx: Ctx, input: Script) -> Result<u32, String> {
    script(ctx, input).await
}

#[task("test.lazy", metadata = "tests/meta/runtime")]
async fn lazy(ctx: Ctx, input: Script) -> Result<u32, String> {
    script(ctx, input).await
}

async fn start() -> Runtime {
    Runtime::builder().start().await.expect("the test registry is valid")
}

fn stats(rt: &Runtime, task: &str) -> PoolStats {
    rt.stats(task).expect("task is registered")
}

/// Yields to the workers until `done` holds; fails rather than spin forever.
async fn until(mut done: impl FnMut() -> bool) {
    for _ in 0..10_000 {
        if done() {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("condition not reached");
}

#[tokio::test(start_paused = true)]
async fn submit_returns_the_typed_output() {
    let rt = start().await;
    let output = rt.submit(basic, Script { key: 1, ..Script::default() }).await.unwrap().await;
    assert_eq!(output.unwrap(), 1);
}

#[tokio::test(start_paused = true)]
async fn retries_back_off_exponentially_up_to_the_cap() {
    let rt = start().await;
    let output = rt.submit(basic, Script { key: 2, failures: 3, ..Script::default() }).await.unwrap().await;
    assert_eq!(output.unwrap(), 4, "three failures, then success on the fourth attempt");
    let times = attempt_times(2);
    let gaps: Vec<u128> = times.windows(2).map(|w| (w[1] - w[0]).as_millis()).collect();
    // base 100ms doubling, capped at 300ms; jitter is off for this task.
    assert_eq!(gaps, [100, 200, 300]);
}

#[tokio::test(start_paused = true)]
async fn exhausted_retries_go_to_the_dead_letter_list() {
    let rt = start().await;
    let input = Script { key: 3, failures: 10, ..Script::default() };
    let outcome = rt.submit(basic, input.clone()).await.unwrap().await;
    assert!(matches!(outcome, Err(TaskError::Failed(ref e)) if e == "scripted failure 4"), "{outcome:?}");
    assert_eq!(attempt_times(3).len(), 4);
    let dead = rt.take_dead_letters();
    assert_eq!(dead.len(), 1);
    assert_eq!(
        (dead[0].task(), dead[0].attempts(), dead[0].error()),
        ("test.basic", 4, Some("task failed: scripted failure 4"))
    );
    assert_eq!(dead[0].input::<basic>(), Some(&input));
    assert_eq!(dead[0].input_json().unwrap()["key"], 3);
    assert!(rt.dead_letters().is_empty(), "take empties the list");
}

#[tokio::test(start_paused = true)]
async fn a_slow_attempt_times_out() {
    let rt = start().await;
    let began = Instant::now();
    let outcome = rt.submit(once, Script { key: 4, sleep_ms: 10_000, ..Script::default() }).await.unwrap().await;
    assert!(matches!(outcome, Err(TaskError::TimedOut(d)) if d == Duration::from_millis(100)), "{outcome:?}");
    assert!(began.elapsed() < Duration::from_secs(1), "cancelled at the timeout, not after the sleep");
    assert_eq!(rt.dead_letters().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_panic_is_a_failed_attempt_and_the_worker_survives() {
    let rt = start().await;
    let outcome = rt.submit(once, Script { key: 5, panics: 1, ..Script::default() }).await.unwrap().await;
    assert!(matches!(outcome, Err(TaskError::Panicked(ref m)) if m == "scripted panic"), "{outcome:?}");
    let next = rt.submit(once, Script { key: 6, ..Script::default() }).await.unwrap().await;
    assert_eq!(next.unwrap(), 1, "the pool's only worker still runs tasks");
    assert_eq!(stats(&rt, "test.once").workers, 1);

    let retried = rt.submit(basic, Script { key: 7, panics: 1, ..Script::default() }).await.unwrap().await;
    assert_eq!(retried.unwrap(), 2, "a panic is retried like an error");
}

#[tokio::test(start_paused = true)]
async fn reject_hands_the_input_back_when_the_queue_is_full() {
    let rt = start().await;
    let script = |n| Script { key: 8, gated: true, sleep_ms: n, ..Script::default() };
    let running = rt.submit(reject, script(0)).await.unwrap();
    until(|| stats(&rt, "test.reject").queued == 0).await;
    let queued = [rt.submit(reject, script(1)).await.unwrap(), rt.submit(reject, script(2)).await.unwrap()];

    let error = rt.submit(reject, script(3)).await.unwrap_err();
    assert!(error.is_full());
    assert_eq!(error.to_string(), "the queue of task `test.reject` is full (2 waiting)");
    assert_eq!(error.into_input(), script(3));

    gate(8).add_permits(3);
    assert!(running.await.is_ok());
    for completion in queued {
        assert!(completion.await.is_ok());
    }
}

#[tokio::test(start_paused = true)]
async fn block_waits_for_room_and_try_submit_never_waits() {
    let rt = start().await;
    let script = |n| Script { key: 9, gated: true, sleep_ms: n, ..Script::default() };
    let running = rt.submit(block, script(0)).await.unwrap();
    until(|| stats(&rt, "test.block").queued == 0).await;
    let queued = [rt.submit(block, script(1)).await.unwrap(), rt.submit(block, script(2)).await.unwrap()];

    let mut waiting = Box::pin(rt.submit(block, script(3)));
    assert!(waiting.as_mut().now_or_never().is_none(), "a full `block` queue makes submit wait");
    assert!(rt.try_submit(block, script(4)).unwrap_err().is_full());

    gate(9).add_permits(4);
    let late = waiting.await.expect("room was made");
    assert!(running.await.is_ok());
    for completion in queued {
        assert!(completion.await.is_ok());
    }
    assert!(late.await.is_ok());
}

#[tokio::test(start_paused = true)]
async fn the_pool_grows_under_backlog_and_shrinks_when_idle() {
    let rt = start().await;
    assert_eq!(stats(&rt, "test.elastic").workers, 1);
    let mut completions = Vec::new();
    for _ in 0..6 {
        completions.push(rt.submit(elastic, Script { key: 10, gated: true, ..Script::default() }).await.unwrap());
    }
    until(|| stats(&rt, "test.elastic").idle == 0 && stats(&rt, "test.elastic").queued == 3).await;
    assert_eq!(stats(&rt, "test.elastic").workers, 3, "grown to `workers.max`, no further");

    gate(10).add_permits(6);
    for completion in completions {
        assert!(completion.await.is_ok());
    }
    assert_eq!(stats(&rt, "test.elastic").workers, 3);
    tokio::time::sleep(Duration::from_secs(2)).await; // past `workers.idle`, on the paused clock
    assert_eq!(stats(&rt, "test.elastic").workers, 1, "back to `workers.min`");
}

#[tokio::test(start_paused = true)]
async fn eager_pools_are_warm_at_start_and_lazy_pools_wait_for_a_submit() {
    let rt = start().await;
    let eager = stats(&rt, "test.basic");
    assert_eq!(
        (eager.built, eager.workers, eager.idle, eager.queued),
        (true, 2, 2, 0),
        "workers parked before start returned"
    );
    assert!(!stats(&rt, "test.lazy").built);
    assert_eq!(stats(&rt, "test.lazy").workers, 0);

    let output = rt.submit(lazy, Script { key: 11, ..Script::default() }).await.unwrap().await;
    assert_eq!(output.unwrap(), 1);
    assert!(stats(&rt, "test.lazy").built);
    assert_eq!(stats(&rt, "test.lazy").workers, 2);
    assert_eq!(rt.stats("no.such.task"), None);
}

#[tokio::test(start_paused = true)]
async fn the_builder_can_make_every_pool_lazy_or_every_pool_eager() {
    let rt = Runtime::builder().warmup(Warmup::Lazy).start().await.expect("the test registry is valid");
    for task in rt.registry().tasks() {
        let stats = stats(&rt, task.id());
        assert_eq!((stats.built, stats.workers), (false, 0), "`{}` has a pool after a lazy start", task.id());
    }
    // `test.basic` says `warmup: eager`; with the override its pool comes with the first submit.
    // Its own key: tests run in parallel and count attempts by key.
    let output = rt.submit(basic, Script { key: 18, ..Script::default() }).await.unwrap().await;
    assert_eq!(output.unwrap(), 1);
    assert_eq!((stats(&rt, "test.basic").built, stats(&rt, "test.basic").workers), (true, 2));
    assert!(!stats(&rt, "test.once").built, "only the submitted task's pool is built");
    rt.shutdown().await.expect("nothing left running");

    // `test.lazy` says `warmup: lazy`; with the override its workers are parked before start returns.
    let rt = Runtime::builder().warmup(Warmup::Eager).start().await.expect("the test registry is valid");
    let lazy_pool = stats(&rt, "test.lazy");
    assert_eq!((lazy_pool.built, lazy_pool.workers, lazy_pool.idle), (true, 2, 2));
    rt.shutdown().await.expect("nothing left running");
}

#[tokio::test(start_paused = true)]
async fn shutdown_drains_queued_and_running_tasks() {
    let rt = start().await;
    let mut completions = Vec::new();
    for _ in 0..20 {
        completions.push(rt.submit(basic, Script { key: 12, sleep_ms: 50, ..Script::default() }).await.unwrap());
    }
    rt.shutdown().await.expect("everything finishes within the timeout");
    assert_eq!(attempt_times(12).len(), 20);
    for completion in completions {
        assert_eq!(completion.await.unwrap(), 1);
    }
    let refused = rt.submit(basic, Script { key: 13, ..Script::default() }).await.unwrap_err();
    assert!(refused.is_closed());
    assert_eq!(refused.into_input().key, 13);
    assert!(rt.try_submit(lazy, Script::default()).unwrap_err().is_closed(), "no lazy pool is built while closing");
}

#[tokio::test(start_paused = true)]
async fn shutdown_past_its_deadline_returns_every_unfinished_task() {
    let rt = Runtime::builder().shutdown_timeout(Duration::from_secs(1)).start().await.unwrap();
    let script = |n| Script { key: 14, gated: true, sleep_ms: n, ..Script::default() };
    let running = rt.submit(reject, script(0)).await.unwrap();
    until(|| stats(&rt, "test.reject").queued == 0).await;
    let queued = [rt.submit(reject, script(1)).await.unwrap(), rt.submit(reject, script(2)).await.unwrap()];

    let error = rt.shutdown().await.expect_err("the gate never opens");
    assert_eq!(error.to_string(), "shutdown deadline passed with 3 task(s) unfinished: `test.reject` ×3");
    let mut left: Vec<(u64, u32)> =
        error.unfinished().iter().map(|r| (r.input::<reject>().unwrap().sleep_ms, r.attempts())).collect();
    left.sort();
    assert_eq!(left, [(0, 1), (1, 0), (2, 0)], "the running task (one attempt) and both queued ones");

    assert!(matches!(running.await, Err(TaskError::Abandoned)));
    for completion in queued {
        assert!(matches!(completion.await, Err(TaskError::Abandoned)));
    }
}

#[tokio::test(start_paused = true)]
async fn detached_tasks_run_and_their_failures_reach_the_dead_letter_list() {
    let rt = start().await;
    rt.submit_detached(basic, Script { key: 15, ..Script::default() }).await.unwrap();
    rt.try_submit_detached(once, Script { key: 16, failures: 1, ..Script::default() }).unwrap();
    rt.shutdown().await.expect("both finish");
    assert_eq!(attempt_times(15).len(), 1);
    let dead = rt.dead_letters();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].input::<once>().map(|s| s.key), Some(16));
}

/// An input whose `Clone` panics when asked to: user code outside the task function.
#[derive(Debug, Serialize, Deserialize)]
struct Fragile {
    panic_on_clone: bool,
}

impl Clone for Fragile {
    fn clone(&self) -> Self {
        assert!(!self.panic_on_clone, "scripted clone panic");
        Self { panic_on_clone: false }
    }
}

#[task("test.fragile", metadata = "tests/meta/runtime")]
async fn fragile(input: Fragile) -> Result<bool, String> {
    Ok(input.panic_on_clone)
}

#[tokio::test(start_paused = true)]
async fn a_panic_while_cloning_the_input_is_contained() {
    let rt = start().await;
    let outcome = rt.submit(fragile, Fragile { panic_on_clone: true }).await.unwrap().await;
    assert!(matches!(outcome, Err(TaskError::Panicked(ref m)) if m == "scripted clone panic"), "{outcome:?}");
    let next = rt.submit(fragile, Fragile { panic_on_clone: false }).await.unwrap().await;
    assert!(!next.unwrap(), "the pool's only worker survived");
    assert_eq!(stats(&rt, "test.fragile").workers, 1);
}

#[tokio::test(start_paused = true)]
async fn concurrent_shutdowns_share_one_drain() {
    let rt = start().await;
    let mut completions = Vec::new();
    for _ in 0..20 {
        completions.push(rt.submit(basic, Script { key: 17, sleep_ms: 50, ..Script::default() }).await.unwrap());
    }
    let (first, second) = tokio::join!(rt.shutdown(), rt.shutdown());
    assert!(first.is_ok() && second.is_ok(), "{first:?} {second:?}");
    for completion in completions {
        assert_eq!(completion.await.unwrap(), 1, "nothing abandoned");
    }
    assert!(rt.shutdown().await.is_ok(), "a later call gets the same result");
}

/// A `Task` written by hand: it compiles, but no `#[task]` registered it.
#[derive(Clone, Copy)]
struct Unregistered;

impl preheat::Task for Unregistered {
    const ID: &'static str = "test.unregistered";
    type Input = u32;
    type Output = ();
    type Error = String;

    async fn run(_: Ctx, _: u32) -> Result<(), String> {
        Ok(())
    }
}

#[tokio::test]
async fn an_unregistered_task_is_refused_with_its_input() {
    let rt = start().await;
    let error = rt.submit(Unregistered, 7).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "task `test.unregistered` is not registered; only `#[task]` functions can be submitted"
    );
    assert_eq!(error.into_input(), 7);
}
