//! A test kit for the people who write tasks: a runtime for tests, typed assertions on what was
//! submitted, time that moves when the test says, and faults injected into chosen attempts.
//!
//! Turn on the `testing` feature in `[dev-dependencies]` only:
//!
//! ```toml
//! [dev-dependencies]
//! preheat = { version = "0.1", features = ["testing"] }
//! tokio = { version = "1", features = ["macros", "rt", "test-util"] }
//! ```
//!
//! A [`TestRuntime`] is built from the same linked registry and metadata as the real one, in one
//! of three modes:
//!
//! - [`manual`](TestRuntime::manual): submits (from the test, from tasks through `ctx.submit`,
//!   from flows, from delays and schedules as time moves) are recorded and queued, not run. The
//!   test looks at them ([`submitted`](TestRuntime::submitted), the `assert_*` methods) and runs
//!   them when it wants ([`run_queued`](TestRuntime::run_queued)).
//! - [`inline`](TestRuntime::inline): `submit(...).await` runs the task to completion in the
//!   caller, with its real timeout, retry and dead-letter rules, then every task that follows
//!   from it (downstream flow tasks, `ctx.submit`), in order, before it returns.
//! - [`live`](TestRuntime::live): the real pools and timers, for integration tests; submits are
//!   still recorded.
//!
//! In every mode the pools are built lazily, no warm-up job runs, schedules do not fire unless
//! the test asks ([`TestBuilder::schedules`]), and a resource can be supplied by the test instead
//! of its warmer ([`TestBuilder::supply`]). Time: run the test under `tokio::time::pause`
//! (`#[tokio::test(start_paused = true)]`) and move it with [`advance`](TestRuntime::advance),
//! which fires what comes due, in order. The README's "Testing your tasks" has a full example.

mod fault;
#[cfg(feature = "postgres")]
pub mod postgres;
mod submitted;

use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::Instant;

pub use self::fault::Fault;
pub use self::submitted::Submitted;
use self::submitted::{Entry, listing};
use crate::erased::typed_outcome;
use crate::error::StartError;
use crate::harness::Setup;
use crate::job::{End, Job};
use crate::outcome::{Outcome, TaskError};
use crate::record::ShutdownError;
use crate::runtime::{Runtime, RuntimeBuilder};
use crate::schedule::Timetable;
use crate::sync::lock;
use crate::task::{Task, index_of};

/// A runtime for tests: see the [module documentation](self).
///
/// Dereferences to the [`Runtime`] it drives, so the code under test gets a real one
/// (`kit.submit(...)`, `&*kit`, `kit.runtime().clone()`).
#[derive(Debug)]
pub struct TestRuntime {
    runtime: Runtime,
    /// The schedules' fire times, when the test moves time itself.
    timetables: Mutex<Vec<Timetable>>,
    /// When the runtime started: failure messages give due times from here.
    started: Instant,
}

/// Configures a [`TestRuntime`].
#[derive(Debug, Clone)]
#[must_use = "call `.start().await` to start the test runtime"]
pub struct TestBuilder {
    setup: Setup,
    shutdown_timeout: Duration,
}

impl TestRuntime {
    /// A runtime whose submits are recorded and queued, and run only when the test says.
    pub fn manual() -> TestBuilder {
        TestBuilder::new(Setup { held: true, ..Setup::default() })
    }

    /// A runtime whose `submit(...).await` runs the task, and all that follows from it, before
    /// it returns. A submit that never waits (`try_submit`, `ctx.submit`) queues its job, which
    /// runs with the next waiting submit, [`advance`](Self::advance) or
    /// [`run_queued`](Self::run_queued).
    pub fn inline() -> TestBuilder {
        TestBuilder::new(Setup { held: true, inline: true, ..Setup::default() })
    }

    /// The real pools and timers (delayed tasks included), with every submit recorded.
    pub fn live() -> TestBuilder {
        TestBuilder::new(Setup::default())
    }

    /// The runtime the code under test submits to.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// Every job of `T` submitted so far, in order: those queued (run or not), then delayed ones
    /// still waiting, by due time.
    pub fn submitted<T: Task>(&self) -> Vec<Submitted<T>> {
        let index = registered::<T>();
        self.entries().iter().filter(|entry| entry.task == index).map(Entry::typed::<T>).collect()
    }

    /// Asserts that `T` was submitted at least once, and returns the first such job.
    ///
    /// # Panics
    ///
    /// If it was not; the message lists everything that was submitted.
    #[track_caller]
    pub fn assert_submitted<T: Task>(&self) -> Submitted<T> {
        self.assert_submitted_where::<T>(|_| true)
    }

    /// Asserts that `T` was submitted with an input for which `matches` holds, and returns the
    /// first such job.
    ///
    /// # Panics
    ///
    /// If no job of `T` matches; the message lists everything that was submitted.
    #[track_caller]
    pub fn assert_submitted_where<T: Task>(&self, matches: impl Fn(&T::Input) -> bool) -> Submitted<T> {
        match self.submitted::<T>().into_iter().find(|job| matches(&job.input)) {
            Some(job) => job,
            None => panic!("expected a submit of `{}` matching the predicate; {}", T::ID, self.listing()),
        }
    }

    /// Asserts that `T` was never submitted.
    ///
    /// # Panics
    ///
    /// If it was; the message lists everything that was submitted.
    #[track_caller]
    pub fn assert_not_submitted<T: Task>(&self) {
        let count = self.submitted::<T>().len();
        if count > 0 {
            panic!("expected no submit of `{}`, found {count}; {}", T::ID, self.listing());
        }
    }

    /// Asserts that `T` was submitted exactly `times` times, and returns those jobs.
    ///
    /// # Panics
    ///
    /// If the count differs; the message lists everything that was submitted.
    #[track_caller]
    pub fn assert_submitted_times<T: Task>(&self, times: usize) -> Vec<Submitted<T>> {
        let jobs = self.submitted::<T>();
        if jobs.len() != times {
            panic!("expected {times} submit(s) of `{}`, found {}; {}", T::ID, jobs.len(), self.listing());
        }
        jobs
    }

    /// Forgets what was submitted so far (jobs still queued or delayed stay where they are).
    pub fn clear_submitted(&self) {
        if let Some(harness) = self.runtime.pools().harness() {
            harness.clear_log();
        }
    }

    /// Jobs queued and not run yet (manual and inline modes).
    pub fn queued(&self) -> usize {
        self.runtime.pools().harness().map_or(0, |harness| harness.held_count())
    }

    /// Runs the oldest queued job in the caller, as a worker would; `false` if none is queued.
    pub async fn run_next(&self) -> bool {
        self.runtime.pools().run_next_held().await
    }

    /// Runs every queued job, and the jobs they queue, in order, until none is left; returns how
    /// many ran. Delayed tasks wait for [`advance`](Self::advance).
    pub async fn run_queued(&self) -> usize {
        self.runtime.pools().run_held_until_idle().await
    }

    /// Moves the paused tokio clock forward by `by`, stopping at each instant something comes
    /// due (a delayed task, a schedule's tick) to submit it, in order of due time. In inline mode
    /// each runs (with all that follows from it) before the clock moves on; in manual mode they
    /// are queued. In live mode the runtime's own timers fire.
    ///
    /// # Panics
    ///
    /// If the clock is not paused (`#[tokio::test(start_paused = true)]` or
    /// `tokio::time::pause()`): tokio's own check.
    pub async fn advance(&self, by: Duration) {
        let target = Instant::now() + by;
        let (held, inline) = self.runtime.pools().harness().map_or((false, false), |h| (h.held, h.inline));
        if !held {
            move_clock(by).await;
            return;
        }
        loop {
            let now = Instant::now();
            self.fire_due(now);
            if inline {
                self.run_queued().await;
            }
            let next = self.next_due();
            match next {
                Some(at) if at <= now => continue,
                Some(at) if at <= target => move_clock(at - now).await,
                _ => break,
            }
        }
        move_clock(target.saturating_duration_since(Instant::now())).await;
    }

    /// Makes attempt `attempt` (1-based) of every job of `task` do `fault` instead of running.
    /// Each attempt number holds one fault; injecting again replaces it.
    pub fn inject<T: Task>(&self, _task: T, attempt: u32, fault: Fault<T>) {
        if let Some(harness) = self.runtime.pools().harness() {
            harness.inject(registered::<T>(), attempt, fault.fault);
        }
    }

    /// Runs one job of `task` now, in the caller, as a worker would, and returns its outcome:
    /// the input goes through its serde form (as a durable backend stores it), the task gets
    /// its real [`Ctx`](crate::Ctx), and its timeout, retries and dead-letter rules apply. The
    /// job is not a submit: it is not recorded, and it jumps any queue.
    pub async fn run_task<T: Task>(&self, _task: T, input: T::Input) -> Outcome<T> {
        let index = registered::<T>();
        let pools = self.runtime.pools();
        let Some(pool) = pools.pool_for(index, crate::route::Route::from_scope) else {
            return Err(TaskError::Abandoned);
        };
        let vtable = pool.task();
        let json = match serde_json::to_string(&input) {
            Ok(json) => json,
            Err(error) => panic!("the input of `{}` does not serialize: {error}", T::ID),
        };
        let input = match (vtable.parse_input)(&json) {
            Ok(input) => input,
            Err(error) => panic!("the input of `{}` does not deserialize from its own JSON {json}: {error}", T::ID),
        };
        let (reply, outcome) = oneshot::channel();
        pool.run_now(Job::new(vtable, input, End::Reply(reply))).await;
        match outcome.await {
            Ok(outcome) => typed_outcome::<T>(outcome),
            Err(_) => Err(TaskError::Abandoned),
        }
    }

    /// Shuts the runtime down, as [`Runtime::shutdown`] does.
    pub async fn shutdown(&self) -> Result<(), ShutdownError> {
        self.runtime.shutdown().await
    }

    /// What was queued, then what is delayed.
    fn entries(&self) -> Vec<Entry> {
        let pools = self.runtime.pools();
        let tasks = pools.registry.tasks();
        let queued = pools.harness().map(|harness| harness.log()).unwrap_or_default();
        let queued = queued.into_iter().map(|job| Entry {
            task: job.task,
            id: tasks[job.task].id(),
            input: job.input,
            due: job.at,
            delayed: false,
            flow: job.flow,
            key: job.key,
        });
        let delayed = self.runtime.delays().pending().into_iter().map(|job| Entry {
            task: job.task,
            id: tasks[job.task].id(),
            input: job.input,
            due: job.at,
            delayed: true,
            flow: None,
            key: job.name,
        });
        queued.chain(delayed).collect()
    }

    fn listing(&self) -> String {
        listing(&self.entries(), self.started)
    }

    /// Submits the delayed tasks and schedule ticks due at `now`.
    fn fire_due(&self, now: Instant) {
        self.runtime.delays().submit_due(self.runtime.pools(), now);
        for timetable in lock(&self.timetables).iter_mut() {
            while timetable.next().is_some_and(|at| at <= now) {
                timetable.fire();
            }
        }
    }

    /// When the next delayed task or schedule tick is due.
    fn next_due(&self) -> Option<Instant> {
        let ticks = lock(&self.timetables).iter().filter_map(Timetable::next).min();
        [self.runtime.delays().next_due(), ticks].into_iter().flatten().min()
    }
}

impl std::ops::Deref for TestRuntime {
    type Target = Runtime;

    fn deref(&self) -> &Runtime {
        &self.runtime
    }
}

impl TestBuilder {
    fn new(setup: Setup) -> Self {
        Self { setup, shutdown_timeout: Duration::from_secs(5) }
    }

    /// Lets the tasks' schedules fire: as [`TestRuntime::advance`] reaches their ticks (manual
    /// and inline modes, without jitter), or by their own timers (live). An `every` schedule
    /// fires first at start plus its `initial_delay`, as in production.
    pub fn schedules(mut self) -> Self {
        self.setup.schedules = true;
        self
    }

    /// Does not run the warmer of `resource`: the test supplies it (sets the pool its tasks
    /// read, say, to a test database) and it counts as warm.
    pub fn supply(mut self, resource: &'static str) -> Self {
        self.setup.supplied.push(resource);
        self
    }

    /// How long [`TestRuntime::shutdown`] waits for running tasks. Default: 5 s.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Starts the runtime: the registry is built and checked as in production, pools are built
    /// on first use, and the resources not [`supply`](Self::supply)'d are warmed.
    ///
    /// # Errors
    ///
    /// As [`RuntimeBuilder::start`].
    pub async fn start(self) -> Result<TestRuntime, StartError> {
        let Self { setup, shutdown_timeout } = self;
        let (held, schedules) = (setup.held, setup.schedules);
        let mut builder =
            RuntimeBuilder::default().warmup(preheat_meta::Warmup::Lazy).shutdown_timeout(shutdown_timeout);
        builder.testing = Some(setup);
        let runtime = builder.start().await?;
        let timetables = if held && schedules {
            let wall = chrono::Utc::now();
            runtime.tickers().map(|ticker| Timetable::new(ticker.clone(), wall)).collect()
        } else {
            Vec::new()
        };
        let kit = TestRuntime { runtime, timetables: Mutex::new(timetables), started: Instant::now() };
        // A schedule due at start (`initial_delay: 0s`) fires now, as in production.
        if held {
            kit.advance(Duration::ZERO).await;
        }
        Ok(kit)
    }
}

/// Moves the paused clock; a zero move needs no paused clock (start-up fires what is due at once).
async fn move_clock(by: Duration) {
    if !by.is_zero() {
        tokio::time::advance(by).await;
    }
}

/// The registry index of `T`.
///
/// # Panics
///
/// For a `Task` written by hand, without `#[task]`, which no runtime knows.
#[track_caller]
fn registered<T: Task>() -> usize {
    match index_of::<T>() {
        Some(index) => index,
        None => panic!("`{}` is not a `#[task]` of this binary's registry (a `Task` implemented by hand?)", T::ID),
    }
}
