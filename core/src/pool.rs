//! A task's worker pool: pre-warmed workers parked on the task's queue.
//!
//! The pool keeps `workers.min` workers for its whole life, grows toward `workers.max` while
//! jobs wait and nobody is idle, and lets the extra workers go after `workers.idle` without work.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64};
use std::sync::{Arc, Mutex, Weak};

use futures_util::FutureExt;
use preheat_meta::{OnFull, TaskMeta};
use tokio::runtime::Handle;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tracing::Instrument;

use crate::deadline;
use crate::flow::{FlowId, Watch};
use crate::lease::{AttemptResult, Lease};
use crate::outcome::{Outcome, TaskError};
use crate::queue::{Job, JobQueue, MemoryQueue, PushError};
use crate::record::TaskRecord;
use crate::retry::backoff;
use crate::runtime::Inner;
use crate::sync::lock;
use crate::tally::{Tallies, Worker};
use crate::task::{Ctx, Task};
use crate::warmup::ResourceWait;

/// What a pool needs from its runtime.
pub(crate) struct PoolContext {
    pub(crate) meta: &'static TaskMeta,
    /// For tasks that submit tasks (`Ctx::submit`): the runtime, which the pool must not keep alive.
    pub(crate) runtime: Weak<Inner>,
    pub(crate) shared: Arc<Shared>,
    pub(crate) handle: Handle,
    /// Each pre-warmed worker sends one message here once it is about to park.
    pub(crate) ready: Option<mpsc::UnboundedSender<()>>,
    /// The resources the task needs (`resources:`), which each job waits for.
    pub(crate) resources: Vec<ResourceWait>,
    /// Where the pool's workers count what they do.
    pub(crate) tallies: Arc<Tallies>,
}

/// State shared by all pools of one runtime.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    pub(crate) dead_letters: Mutex<Vec<TaskRecord>>,
    /// Jobs whose worker was stopped at the shutdown deadline.
    pub(crate) unfinished: Mutex<Vec<TaskRecord>>,
}

impl Shared {
    pub(crate) fn push(list: &Mutex<Vec<TaskRecord>>, record: TaskRecord) {
        lock(list).push(record);
    }

    pub(crate) fn take(list: &Mutex<Vec<TaskRecord>>) -> Vec<TaskRecord> {
        std::mem::take(&mut *lock(list))
    }
}

/// A snapshot of a pool.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct PoolStats {
    /// Whether the pool exists yet (`warmup: lazy` pools are built on first submit).
    pub built: bool,
    /// Live workers.
    pub workers: u32,
    /// Workers parked, waiting for a job.
    pub idle: u32,
    /// Jobs waiting in the queue.
    pub queued: usize,
    /// Jobs accepted since the pool was built: taken by a worker, or still queued.
    pub submitted: u64,
    /// Submits turned away because the queue was full.
    pub rejected: u64,
    /// Attempts that failed and were tried again.
    pub retried: u64,
    /// Jobs that failed for good and went to the dead-letter list.
    pub dead_lettered: u64,
}

#[cfg(feature = "http")]
use crate::metrics::JobClock;

/// Without metrics, jobs are not timed.
#[cfg(not(feature = "http"))]
struct JobClock;

#[cfg(not(feature = "http"))]
impl JobClock {
    fn new() -> Self {
        Self
    }

    fn parked(&mut self) {}
}

/// The type-erased face of a [`Pool`], for the runtime's per-task table.
pub(crate) trait ErasedPool: Send + Sync {
    fn as_any(&self) -> &dyn Any;
    /// Queues a job whose input comes type-erased (from a flow, a schedule or a delay) without
    /// ever waiting; the input must be the task's input type.
    fn submit_erased(&self, input: Box<dyn Any + Send>, watch: Option<Watch>) -> Result<(), String>;
    /// Queues a job leased from a durable backend, its input as JSON, without waiting. A job
    /// that cannot be queued goes back through its lease; one whose input does not parse fails
    /// for good.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    fn submit_leased(&self, input: &str, lease: Lease);
    fn stats(&self) -> PoolStats;
    fn close(&self);
    fn take_workers(&self) -> JoinSet<()>;
    /// Takes every job still queued, as records.
    fn drain_queue(&self) -> Vec<TaskRecord>;
    /// How the task's futures were polled.
    #[cfg(feature = "profiling")]
    fn poll_report(&self) -> crate::profiling::PollReport;
}

/// The pool of task `T`.
pub(crate) struct Pool<T: Task> {
    pub(crate) meta: &'static TaskMeta,
    pub(crate) queue: Box<dyn JobQueue<T>>,
    workers: AtomicU32,
    idle: AtomicU32,
    closed: AtomicBool,
    shared: Arc<Shared>,
    handle: Handle,
    runtime: Weak<Inner>,
    /// Workers, and jobs waiting for room in a full queue on a non-waiting submit's behalf.
    joins: Mutex<JoinSet<()>>,
    this: Weak<Pool<T>>,
    resources: Vec<ResourceWait>,
    tallies: Arc<Tallies>,
    /// Submits turned away by a full queue: counted by submitters, on the slow path only.
    rejected: AtomicU64,
    #[cfg(feature = "profiling")]
    polls: crate::profiling::PollStats,
}

/// Builds the pool of `T` and spawns its `workers.min` workers. Stored in each `TaskEntry`.
pub(crate) fn start<T: Task>(context: PoolContext) -> Arc<dyn ErasedPool> {
    let PoolContext { meta, runtime, shared, handle, ready, resources, tallies } = context;
    let pool = Arc::new_cyclic(|this| Pool::<T> {
        meta,
        queue: Box::new(MemoryQueue::new(meta.queue.capacity as usize)),
        workers: AtomicU32::new(meta.workers.min),
        idle: AtomicU32::new(0),
        closed: AtomicBool::new(false),
        shared,
        handle,
        runtime,
        joins: Mutex::new(JoinSet::new()),
        this: this.clone(),
        resources,
        tallies,
        rejected: AtomicU64::new(0),
        #[cfg(feature = "profiling")]
        polls: crate::profiling::PollStats::default(),
    });
    for _ in 0..meta.workers.min {
        pool.spawn_worker(ready.clone());
    }
    pool
}

impl<T: Task> Pool<T> {
    /// A job that could not be queued at shutdown: listed as unfinished, or, leased, given back
    /// to its backend with its attempt undone.
    fn never_started(&self, mut job: Job<T>) {
        match job.lease.take() {
            Some(lease) => lease.settle(AttemptResult::NotRun),
            None => Shared::push(&self.shared.unfinished, TaskRecord::new::<T>(job.input, 0, None)),
        }
    }

    /// Called when a submit is turned away by a full queue.
    pub(crate) fn rejected(&self) {
        self.rejected.fetch_add(1, Relaxed);
    }

    /// More jobs waiting than workers parked means a backlog: grow. Called after each push, and
    /// by a worker that just left the parked ones.
    pub(crate) fn grow_if_backlogged(&self) {
        // The cheap test first: a pool at its maximum (the common busy case) cannot grow.
        if self.workers.load(SeqCst) < self.meta.workers.max() && self.queue.len() > self.idle.load(SeqCst) as usize {
            self.try_grow();
        }
    }

    /// Adds a worker if the pool is below `workers.max`.
    pub(crate) fn try_grow(&self) {
        if self.reserve_worker() {
            self.spawn_worker(None);
        }
    }

    fn reserve_worker(&self) -> bool {
        let max = self.meta.workers.max();
        !self.closed.load(SeqCst) && self.workers.fetch_update(SeqCst, SeqCst, |n| (n < max).then_some(n + 1)).is_ok()
    }

    /// Gives back a worker slot if the pool is above `workers.min`.
    fn retire_worker(&self) -> bool {
        let min = self.meta.workers.min;
        self.workers.fetch_update(SeqCst, SeqCst, |n| (n > min).then(|| n - 1)).is_ok()
    }

    /// Spawns a worker into a slot already counted in `workers`.
    fn spawn_worker(&self, ready: Option<mpsc::UnboundedSender<()>>) {
        let Some(pool) = self.this.upgrade() else { return };
        let mut joins = lock(&self.joins);
        // Checked under the lock `close` takes: no worker starts after shutdown took the set.
        if self.closed.load(SeqCst) {
            self.workers.fetch_sub(1, SeqCst);
            return;
        }
        // Reap retired workers so the set does not grow over a long life.
        while joins.try_join_next().is_some() {}
        let worker = self.tallies.worker();
        joins.spawn_on(pool.work(ready, worker), &self.handle);
    }

    async fn work(self: Arc<Self>, ready: Option<mpsc::UnboundedSender<()>>, worker: Worker) {
        // Set once per worker, not per job: `Ctx::submit` finds the runtime here.
        crate::runtime::with_current(self.runtime.clone(), self.clone().work_loop(ready, worker)).await;
    }

    async fn work_loop(self: Arc<Self>, mut ready: Option<mpsc::UnboundedSender<()>>, worker: Worker) {
        let _replace_if_panicking = Replacement { pool: &self };
        let mut clock = JobClock::new();
        loop {
            let job = match self.queue.try_pop() {
                Some(job) => job,
                None => {
                    clock.parked();
                    match self.wait_for_job(&mut ready).await {
                        Some(job) => job,
                        None => return,
                    }
                }
            };
            worker.took_job();
            self.execute(job, &worker, &mut clock).await;
            // Taking a job from the queue never waits while the queue is full, so without this
            // a worker with a backlog of quick tasks would keep its thread from everyone else.
            tokio::task::coop::consume_budget().await;
        }
    }

    /// Parks until a job comes; `None` when this worker should exit.
    async fn wait_for_job(&self, ready: &mut Option<mpsc::UnboundedSender<()>>) -> Option<Job<T>> {
        loop {
            self.idle.fetch_add(1, SeqCst);
            if let Some(ready) = ready.take() {
                let _ = ready.send(());
            }
            let surplus = self.workers.load(SeqCst) > self.meta.workers.min;
            let next = if surplus {
                tokio::time::timeout(self.meta.workers.idle, self.queue.pop()).await.ok()
            } else {
                Some(self.queue.pop().await)
            };
            self.idle.fetch_sub(1, SeqCst);
            match next {
                Some(job) => {
                    // A push made while this worker still counted as parked did not grow the
                    // pool; now that it is busy, check again.
                    self.grow_if_backlogged();
                    return job;
                }
                // Leave if above `min`. But a job pushed while this worker was leaving counted it
                // as idle and did not grow the pool: then stay for it. (`idle` dropped before
                // the check, so a push after it does not count this worker and grows the pool.)
                None if self.retire_worker() && (self.queue.is_empty() || !self.reserve_worker()) => return None,
                None => {}
            }
        }
    }

    /// Runs a job to its end: attempts with timeout, panic containment and backoff, then the
    /// outcome to the submitter and, on failure, the job to the dead-letter list.
    async fn execute(&self, job: Job<T>, worker: &Worker, clock: &mut JobClock) {
        let flow = job.watch.as_ref().and_then(|watch| watch.watcher.flow_id());
        match flow.or_else(|| job.lease.as_ref()?.flow.map(FlowId::from_stored)) {
            // Every log line of a flow's tasks carries the flow's id.
            Some(flow) => {
                self.run_job(job, Some(flow), worker, clock).instrument(tracing::info_span!("flow", id = %flow)).await;
            }
            None => self.run_job(job, None, worker, clock).await,
        }
    }

    async fn run_job(&self, job: Job<T>, flow: Option<FlowId>, worker: &Worker, clock: &mut JobClock) {
        let mut flight = InFlight { pool: self, job: Some(job), attempts: 0 };
        // Most tasks need no resource: that path stays one state machine with the attempts, as
        // it was before resources existed (split into nested futures it measured 15 % slower).
        if !self.resources.is_empty() {
            if let Err(error) = self.resources_warm().await {
                self.finish(flight, Err(error), worker);
                return;
            }
            // A wait for a cold resource is not part of the job's duration.
            clock.parked();
        }
        #[cfg(feature = "http")]
        let started = clock.start();
        let retry = &self.meta.retry;
        // A leased job runs the one attempt its backend numbered; the backend retries.
        let (first, last) = match flight.lease() {
            Some(lease) => (lease.attempt, lease.attempt),
            None => (1, retry.max_attempts),
        };
        flight.attempts = first.saturating_sub(1);
        let outcome = loop {
            flight.attempts += 1;
            let attempt = flight.attempts;
            let ctx = Ctx::new(T::ID, attempt, flow);
            let input = flight.input();
            // The clone is user code too, so it runs inside the unwind guard.
            let run = AssertUnwindSafe(async move { T::run(ctx, input.clone()).await }).catch_unwind();
            #[cfg(feature = "profiling")]
            let run = crate::profiling::timed(&self.polls, run);
            let error = match deadline::within(self.meta.timeout, run).await {
                Ok(Ok(Ok(output))) => break Ok(output),
                Ok(Ok(Err(error))) => TaskError::Failed(error),
                Ok(Err(panic)) => TaskError::Panicked(panic_message(&*panic)),
                Err(_) => TaskError::TimedOut(self.meta.timeout),
            };
            if attempt >= last {
                break Err(error);
            }
            worker.retried();
            let delay = backoff(retry, attempt);
            let error = describe(&error);
            tracing::warn!(task = T::ID, attempt, ?delay, %error, "task attempt failed; retrying");
            tokio::time::sleep(delay).await;
        };
        #[cfg(feature = "http")]
        clock.record(worker, started, &outcome);
        self.finish(flight, outcome, worker);
    }

    /// Waits until every resource the task needs is warm: a cold one is still warming, and the
    /// job would only fail without it.
    async fn resources_warm(&self) -> Result<(), TaskError<T::Error>> {
        for resource in &self.resources {
            resource
                .clone()
                .warm()
                .await
                .map_err(|failure| TaskError::ResourceFailed { resource: resource.resource, error: failure.error })?;
        }
        Ok(())
    }

    /// Hands the outcome on: to the dead-letter list on failure, to the flow, to the submitter.
    fn finish(&self, mut flight: InFlight<'_, T>, outcome: Outcome<T>, worker: &Worker) {
        let attempts = flight.attempts;
        let Some(mut job) = flight.job.take() else { return };
        if let Some(lease) = job.lease.take() {
            let result = match &outcome {
                // `Serialize` is user code: a panic in it fails the task, like one in the task.
                Ok(output) if lease.wants_output => {
                    match std::panic::catch_unwind(AssertUnwindSafe(|| serde_json::to_string(output))) {
                        Ok(Ok(json)) => AttemptResult::Succeeded(Some(json)),
                        Ok(Err(error)) => AttemptResult::Failed {
                            error: format!("the output does not serialize to JSON: {error}"),
                            retryable: false,
                        },
                        Err(panic) => AttemptResult::Failed {
                            error: format!("the output's `Serialize` panicked: {}", panic_message(&*panic)),
                            retryable: false,
                        },
                    }
                }
                Ok(_) => AttemptResult::Succeeded(None),
                Err(error) => AttemptResult::Failed {
                    error: describe(error),
                    retryable: !matches!(error, TaskError::ResourceFailed { .. }),
                },
            };
            lease.settle(result);
            return;
        }
        if let Err(error) = &outcome {
            worker.dead_lettered();
            let error = describe(error);
            tracing::error!(task = T::ID, attempts, %error, "task failed for good; moved to the dead-letter list");
            Shared::push(&self.shared.dead_letters, TaskRecord::new::<T>(job.input, attempts, Some(error)));
        }
        if let Some(Watch { watcher, task }) = job.watch {
            let erased = match &outcome {
                Ok(output) => Ok(Arc::new(output.clone()) as Arc<dyn Any + Send + Sync>),
                Err(error) => Err(describe(error)),
            };
            watcher.finished(task, erased);
        }
        if let Some(reply) = job.reply {
            // The submitter may have dropped its `Completion`: that only means nobody waits.
            let _ = reply.send(outcome);
        }
    }

    /// Queues a job without waiting. When the queue is full and its policy is `block`, the job
    /// waits for room in a task of its own, so the caller (a worker, a timer) never blocks.
    pub(crate) fn submit_without_waiting(&self, job: Job<T>) -> Result<(), PushError<Job<T>>> {
        match self.queue.try_push(job) {
            Ok(()) => self.grow_if_backlogged(),
            // A leased job always waits: the claim already bounds how many there are, and the
            // table, not this queue, is where work waits its turn.
            Err(PushError::Full(job)) if self.meta.queue.on_full == OnFull::Block || job.lease.is_some() => {
                self.try_grow();
                let Some(pool) = self.this.upgrade() else { return Err(PushError::Closed(job)) };
                let mut joins = lock(&self.joins);
                if self.closed.load(SeqCst) {
                    return Err(PushError::Closed(job));
                }
                joins.spawn_on(
                    async move {
                        // Shutdown closes the queue, which hands the job back: list it rather
                        // than lose it.
                        if let Err(job) = pool.queue.push(job).await {
                            pool.never_started(job);
                        }
                    },
                    &self.handle,
                );
            }
            Err(error) => return Err(error),
        }
        Ok(())
    }
}

/// A job held by a worker. If the worker is stopped at the shutdown deadline, dropping this
/// records the job as unfinished instead of losing it.
struct InFlight<'a, T: Task> {
    pool: &'a Pool<T>,
    job: Option<Job<T>>,
    attempts: u32,
}

impl<T: Task> InFlight<'_, T> {
    fn lease(&self) -> Option<&Lease> {
        self.job.as_ref().and_then(|job| job.lease.as_deref())
    }

    fn input(&self) -> &T::Input {
        match &self.job {
            Some(job) => &job.input,
            None => unreachable!("the job is only taken when its run is over"),
        }
    }
}

impl<T: Task> Drop for InFlight<'_, T> {
    fn drop(&mut self) {
        let Some(mut job) = self.job.take() else { return };
        match job.lease.take() {
            // A leased job is not lost: its backend makes it due again.
            Some(lease) => lease.settle(AttemptResult::Interrupted),
            None => Shared::push(&self.pool.shared.unfinished, TaskRecord::new::<T>(job.input, self.attempts, None)),
        }
    }
}

impl<T: Task> ErasedPool for Pool<T> {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn submit_erased(&self, input: Box<dyn Any + Send>, watch: Option<Watch>) -> Result<(), String> {
        let input = *input.downcast::<T::Input>().map_err(|_| format!("an input of the wrong type for `{}`", T::ID))?;
        self.submit_without_waiting(Job { input, reply: None, watch, lease: None }).map_err(|error| match error {
            PushError::Full(_) => {
                self.rejected();
                format!("the queue of `{}` is full", T::ID)
            }
            PushError::Closed(_) => "the runtime is shutting down".to_owned(),
        })
    }

    fn submit_leased(&self, input: &str, lease: Lease) {
        // `Deserialize` is user code, run on the claimer's task: a panic must fail this job, not
        // end the claimer.
        let parsed = std::panic::catch_unwind(AssertUnwindSafe(|| serde_json::from_str::<T::Input>(input)));
        let error = match parsed {
            Ok(Ok(input)) => {
                // A full queue makes it wait for room; a closed one (shutdown) gives it back.
                let job = Job { input, reply: None, watch: None, lease: Some(Box::new(lease)) };
                if let Err(PushError::Full(job) | PushError::Closed(job)) = self.submit_without_waiting(job) {
                    self.never_started(job);
                }
                return;
            }
            Ok(Err(error)) => format!("the stored input of `{}` does not parse: {error}", T::ID),
            Err(panic) => format!("the input's `Deserialize` of `{}` panicked: {}", T::ID, panic_message(&*panic)),
        };
        lease.settle(AttemptResult::Failed { error, retryable: false });
    }

    #[cfg(feature = "profiling")]
    fn poll_report(&self) -> crate::profiling::PollReport {
        self.polls.report()
    }

    fn stats(&self) -> PoolStats {
        let (totals, queued) = (self.tallies.totals(), self.queue.len());
        PoolStats {
            built: true,
            workers: self.workers.load(SeqCst),
            idle: self.idle.load(SeqCst),
            queued,
            // Accepted jobs are either taken by a worker by now or still queued (or, for a
            // non-waiting submit to a full queue, waiting for room in a task of their own).
            submitted: totals.taken + queued as u64,
            rejected: self.rejected.load(Relaxed),
            retried: totals.retried,
            dead_lettered: totals.dead_lettered,
        }
    }

    fn close(&self) {
        let _joins = lock(&self.joins);
        self.closed.store(true, SeqCst);
        self.queue.close();
    }

    fn take_workers(&self) -> JoinSet<()> {
        std::mem::take(&mut *lock(&self.joins))
    }

    fn drain_queue(&self) -> Vec<TaskRecord> {
        let mut records = Vec::new();
        while let Some(mut job) = self.queue.try_pop() {
            // A leased job goes back to its backend, never started; only local ones are listed.
            match job.lease.take() {
                Some(lease) => lease.settle(AttemptResult::NotRun),
                None => records.push(TaskRecord::new::<T>(job.input, 0, None)),
            }
        }
        records
    }
}

/// A worker's stand-in for the day user code panics outside the guarded attempt (in an input's
/// `Drop`, say): the worker dies, so give its slot back and keep `workers.min` alive.
struct Replacement<'a, T: Task> {
    pool: &'a Pool<T>,
}

impl<T: Task> Drop for Replacement<'_, T> {
    fn drop(&mut self) {
        // A worker that returns has already settled its slot; one aborted at shutdown is not
        // replaced either.
        if !std::thread::panicking() {
            return;
        }
        let pool = self.pool;
        let left = pool.workers.fetch_sub(1, SeqCst) - 1;
        tracing::error!(task = T::ID, "a worker panicked outside a task attempt; replacing it");
        if left < pool.meta.workers.min {
            pool.workers.fetch_add(1, SeqCst);
            pool.spawn_worker(None);
        }
    }
}

/// An error's `Display`, which is user code and may itself panic.
fn describe<E: std::fmt::Display>(error: &E) -> String {
    std::panic::catch_unwind(AssertUnwindSafe(|| error.to_string()))
        .unwrap_or_else(|_| "(the error's `Display` panicked)".to_owned())
}

fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(message) = panic.downcast_ref::<&str>() {
        (*message).to_owned()
    } else if let Some(message) = panic.downcast_ref::<String>() {
        message.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}
