//! A task's worker pool: pre-warmed workers parked on the task's queue.
//!
//! One engine for every task: the pool, its workers, retries, timeouts, panic containment and
//! tallies are ordinary code, compiled once, that sees the task only through its
//! [`TaskVTable`]. The pool keeps `workers.min` workers for its whole life, grows toward
//! `workers.max` while jobs wait and nobody is idle, and lets the extra workers go after
//! `workers.idle` without work.

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
use crate::durations::JobClock;
use crate::erased::{ErasedOutcome, TaskVTable, describe_error, panic_message};
use crate::flow_id::FlowId;
use crate::job::{End, Job, Watch};
use crate::lease::{AttemptResult, Lease};
use crate::outcome::TaskError;
use crate::queue::{JobQueue, PushError};
use crate::record::TaskRecord;
use crate::retry::backoff;
use crate::sync::lock;
use crate::tally::{Tallies, Worker};
use crate::task::{Ctx, RefusalReason, Submitter};
use crate::variants::VariantTimings;
use crate::warmup::ResourceWait;

/// What a pool needs from the table it belongs to.
pub(crate) struct PoolContext {
    /// The function's index in the registry.
    pub(crate) index: usize,
    /// The task's: the same, or for a variant, its task's first variant's.
    #[cfg(feature = "testing")]
    pub(crate) task_index: usize,
    /// For a task with `variants`: which of the registry's variant groups it is in.
    pub(crate) variants: Option<usize>,
    /// The variant this pool's function is, for its spans.
    #[cfg(feature = "otel")]
    pub(crate) variant: Option<&'static str>,
    pub(crate) task: &'static TaskVTable,
    pub(crate) meta: &'static TaskMeta,
    /// For tasks that submit tasks (`Ctx::submit`): the pool table, which the pool must not keep
    /// alive.
    pub(crate) submitter: Weak<dyn Submitter>,
    pub(crate) shared: Arc<Shared>,
    pub(crate) handle: Handle,
    /// The resources the task needs (`resources:`), which each job waits for.
    pub(crate) resources: Vec<ResourceWait>,
}

/// State shared by all pools of one runtime.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    pub(crate) dead_letters: Mutex<Vec<TaskRecord>>,
    /// Jobs whose worker was stopped at the shutdown deadline.
    pub(crate) unfinished: Mutex<Vec<TaskRecord>>,
    /// A test runtime's log, held jobs and faults.
    #[cfg(feature = "testing")]
    pub(crate) harness: Option<Arc<crate::harness::Harness>>,
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

/// Whether a submit may wait for room in a full queue whose `on_full` policy is `block`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wait {
    /// Never: a full queue refuses the job (`try_submit`).
    Never,
    /// The caller waits (`Runtime::submit`).
    Caller,
    /// The job waits in a task of its own, so the caller (a worker, a timer) never does.
    Background,
}

/// A job the pool did not take, handed back.
#[derive(Debug)]
pub(crate) struct Refused {
    pub(crate) reason: RefusalReason,
    pub(crate) job: Job,
}

/// The pool of one task.
pub(crate) struct Pool {
    /// The function's index in the registry, which a test runtime's held jobs name.
    #[cfg_attr(not(feature = "testing"), allow(dead_code))]
    index: usize,
    /// The task's index, which a test runtime's log and faults name.
    #[cfg(feature = "testing")]
    task_index: usize,
    /// For a task with `variants`: its group, whose router picks the pool of each submit.
    pub(crate) variants: Option<usize>,
    /// For a variant: each job's queue wait and run time, for comparing it with its siblings.
    /// Boxed: inline it made every pool 224 bytes larger, variants or not.
    pub(crate) timings: Option<Box<VariantTimings>>,
    #[cfg(feature = "otel")]
    variant: Option<&'static str>,
    task: &'static TaskVTable,
    pub(crate) meta: &'static TaskMeta,
    queue: JobQueue,
    workers: AtomicU32,
    idle: AtomicU32,
    closed: AtomicBool,
    shared: Arc<Shared>,
    handle: Handle,
    submitter: Weak<dyn Submitter>,
    /// Workers, and jobs waiting for room in a full queue on a non-waiting submit's behalf.
    joins: Mutex<JoinSet<()>>,
    this: Weak<Pool>,
    resources: Vec<ResourceWait>,
    pub(crate) tallies: Arc<Tallies>,
    /// Submits turned away by a full queue: counted on the slow path only.
    rejected: AtomicU64,
    #[cfg(feature = "profiling")]
    polls: crate::profiling::stats::PollStats,
}

impl Pool {
    /// Builds the pool and spawns its `workers.min` workers; each sends one message on `ready`
    /// once it is about to park.
    pub(crate) fn start(context: PoolContext, ready: Option<mpsc::UnboundedSender<()>>) -> Arc<Self> {
        let meta = context.meta;
        let workers = if held(&context.shared) { 0 } else { meta.workers.min };
        let pool = Arc::new_cyclic(|this| Self {
            index: context.index,
            #[cfg(feature = "testing")]
            task_index: context.task_index,
            variants: context.variants,
            timings: context.variants.map(|_| Box::new(VariantTimings::new())),
            #[cfg(feature = "otel")]
            variant: context.variant,
            task: context.task,
            meta,
            queue: JobQueue::new(meta.queue.capacity as usize),
            workers: AtomicU32::new(workers),
            idle: AtomicU32::new(0),
            closed: AtomicBool::new(false),
            shared: context.shared,
            handle: context.handle,
            submitter: context.submitter,
            joins: Mutex::new(JoinSet::new()),
            this: this.clone(),
            resources: context.resources,
            tallies: Arc::default(),
            rejected: AtomicU64::new(0),
            #[cfg(feature = "profiling")]
            polls: Default::default(),
        });
        for _ in 0..workers {
            pool.spawn_worker(ready.clone());
        }
        pool
    }

    /// The task's table.
    pub(crate) fn task(&self) -> &'static TaskVTable {
        self.task
    }

    /// Queues a job: the one submit policy of the engine. A full queue refuses the job, unless
    /// its policy is `block` (or the job is leased: the claim already bounds how many there are,
    /// and the table, not this queue, is where durable work waits its turn) and `wait` allows it.
    /// Only [`Wait::Caller`] ever makes the future wait.
    pub(crate) async fn push(&self, mut job: Job, wait: Wait) -> Result<(), Refused> {
        if let Some(timings) = &self.timings {
            job.queued_at = Some(timings.stamp());
        }
        #[cfg(feature = "testing")]
        let logged =
            self.shared.harness.as_ref().map(|harness| (harness, harness.describe(self.task_index, self.index, &job)));
        #[cfg(feature = "testing")]
        let queued = || {
            if let Some((harness, entry)) = logged {
                harness.queued(entry);
            }
        };
        #[cfg(not(feature = "testing"))]
        let queued = || {};
        let job = match self.queue.try_push(job) {
            Ok(()) => {
                queued();
                self.grow_if_backlogged();
                return Ok(());
            }
            Err(PushError::Closed(job)) => return Err(Refused { reason: RefusalReason::Closed, job }),
            Err(PushError::Full(job)) => job,
        };
        let blocks = self.meta.queue.on_full == OnFull::Block || job.lease().is_some();
        match wait {
            Wait::Caller if blocks => {
                self.try_grow();
                self.queue.push(job).await.map_err(|job| Refused { reason: RefusalReason::Closed, job })?;
                queued();
                self.grow_if_backlogged();
                Ok(())
            }
            Wait::Background if blocks => {
                let pushed = self.push_in_background(job);
                // Logged once accepted, before it reaches the queue: a test may never make room.
                if pushed.is_ok() {
                    queued();
                }
                pushed
            }
            _ => {
                self.rejected.fetch_add(1, Relaxed);
                Err(Refused { reason: RefusalReason::Full { capacity: self.meta.queue.capacity }, job })
            }
        }
    }

    /// [`push`](Self::push) for callers that must not wait: [`Wait::Never`] or
    /// [`Wait::Background`].
    pub(crate) fn push_now(&self, job: Job, wait: Wait) -> Result<(), Refused> {
        debug_assert_ne!(wait, Wait::Caller, "only the caller's own submit waits");
        match self.push(job, wait).now_or_never() {
            Some(pushed) => pushed,
            None => unreachable!("a push that may not wait completes on its first poll"),
        }
    }

    /// Queues the runtime's own no-op job, which runs the job path end to end and counts nowhere;
    /// the receiver is told when it is done. `None` for a pool without pre-warmed workers, which
    /// the job would only make grow.
    pub(crate) fn warm_up(&self) -> Option<tokio::sync::oneshot::Receiver<()>> {
        if self.meta.workers.min == 0 {
            return None;
        }
        let (done, warmed) = tokio::sync::oneshot::channel();
        let job = Job::new(TaskVTable::WARMUP, Box::new(()), End::Warmup(done));
        self.push_now(job, Wait::Background).ok().map(|()| warmed)
    }

    /// Lets a job wait for room in a task of its own.
    fn push_in_background(&self, job: Job) -> Result<(), Refused> {
        self.try_grow();
        let Some(pool) = self.this.upgrade() else { return Err(Refused { reason: RefusalReason::Closed, job }) };
        let mut joins = lock(&self.joins);
        if self.closed.load(SeqCst) {
            return Err(Refused { reason: RefusalReason::Closed, job });
        }
        joins.spawn_on(
            async move {
                // Shutdown closes the queue, which hands the job back: list it rather than lose it.
                if let Err(job) = pool.queue.push(job).await {
                    pool.never_started(job);
                }
            },
            &self.handle,
        );
        Ok(())
    }

    /// Queues a job leased from a durable backend, its input as JSON, without waiting. A job
    /// that cannot be queued goes back through its lease; one whose input does not parse fails
    /// for good.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) fn push_leased(&self, input: &str, lease: Lease) {
        // `Deserialize` is user code, run on the claimer's task: a panic must fail this job, not
        // end the claimer.
        let parsed = std::panic::catch_unwind(AssertUnwindSafe(|| (self.task.parse_input)(input)));
        let error = match parsed {
            Ok(Ok(input)) => {
                // A full queue makes it wait for room; a closed one (shutdown) gives it back.
                let job = Job::new(self.task, input, End::Lease(Box::new(lease)));
                if let Err(refused) = self.push_now(job, Wait::Background) {
                    self.never_started(refused.job);
                }
                return;
            }
            Ok(Err(error)) => format!("the stored input of `{}` does not parse: {error}", self.task.id),
            Err(panic) => {
                format!("the input's `Deserialize` of `{}` panicked: {}", self.task.id, panic_message(&*panic))
            }
        };
        lease.settle(AttemptResult::Failed { error, retryable: false });
    }

    /// A job that could not be queued at shutdown: listed as unfinished, or, leased, given back
    /// to its backend with its attempt undone.
    fn never_started(&self, job: Job) {
        if let Some(record) = job.give_back(AttemptResult::NotRun, 0) {
            Shared::push(&self.shared.unfinished, record);
        }
    }

    /// More jobs waiting than workers parked means a backlog: grow. Called after each push, and
    /// by a worker that just left the parked ones.
    fn grow_if_backlogged(&self) {
        // The cheap test first: a pool at its maximum (the common busy case) cannot grow.
        if self.workers.load(SeqCst) < self.meta.workers.max() && self.queue.len() > self.idle.load(SeqCst) as usize {
            self.try_grow();
        }
    }

    /// Adds a worker if the pool is below `workers.max`.
    fn try_grow(&self) {
        if self.reserve_worker() {
            self.spawn_worker(None);
        }
    }

    fn reserve_worker(&self) -> bool {
        let max = self.meta.workers.max();
        !held(&self.shared)
            && !self.closed.load(SeqCst)
            && self.workers.fetch_update(SeqCst, SeqCst, |n| (n < max).then_some(n + 1)).is_ok()
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
        // Set once per worker, not per job: `Ctx::submit` finds the pool table here.
        let work = crate::task::with_submitter(self.submitter.clone(), pool.work(ready, worker));
        joins.spawn_on(work, &self.handle);
    }

    async fn work(self: Arc<Self>, mut ready: Option<mpsc::UnboundedSender<()>>, worker: Worker) {
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
            self.execute(job, &worker, &mut clock).await;
            // Taking a job from the queue never waits while the queue is full, so without this
            // a worker with a backlog of quick tasks would keep its thread from everyone else.
            tokio::task::coop::consume_budget().await;
        }
    }

    /// Parks until a job comes; `None` when this worker should exit.
    async fn wait_for_job(&self, ready: &mut Option<mpsc::UnboundedSender<()>>) -> Option<Job> {
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
    /// outcome to where the job ends and, on failure, the job to the dead-letter list.
    async fn execute(&self, job: Job, worker: &Worker, clock: &mut JobClock) {
        if let End::Warmup(_) = job.end {
            // The runtime's own job: the same path, counted nowhere.
            return self.run_job(job, None, None, clock).await;
        }
        worker.took_job();
        // A traced job's consumer spans carry the flow's id themselves.
        #[cfg(feature = "otel")]
        if job.trace.is_some() {
            let flow = job.flow();
            return self.run_job(job, flow, Some(worker), clock).await;
        }
        match job.flow() {
            // Every log line of a flow's tasks carries the flow's id.
            Some(flow) => {
                let span = tracing::info_span!("flow", id = %flow);
                self.run_job(job, Some(flow), Some(worker), clock).instrument(span).await;
            }
            None => self.run_job(job, None, Some(worker), clock).await,
        }
    }

    /// `worker` is `None` for the warm-up job, which counts nowhere.
    async fn run_job(&self, job: Job, flow: Option<FlowId>, worker: Option<&Worker>, clock: &mut JobClock) {
        let task = job.task;
        let keep_output = job.wants_output();
        // Only a variant's pool times its jobs apart from the metrics, for the comparison.
        let timing = self.timings.as_ref().filter(|_| worker.is_some()).map(|timings| timings.start(job.queued_at));
        let mut flight = InFlight { pool: self, job: Some(job), attempts: 0 };
        // Most tasks need no resource: that path stays one state machine with the attempts (split
        // into nested futures it measured 15 % slower).
        if !self.resources.is_empty() && worker.is_some() {
            if let Err(error) = self.resources_warm().await {
                if let Some(timing) = timing {
                    timing.finish(true);
                }
                self.finish(flight, Err(error), worker);
                return;
            }
            // A wait for a cold resource is not part of the job's duration.
            clock.parked();
        }
        #[cfg_attr(not(feature = "http"), allow(clippy::let_unit_value))]
        let started = clock.start();
        let retry = &self.meta.retry;
        // A leased job runs the one attempt its backend numbered; the backend retries.
        let (first, last) = match flight.lease() {
            Some(lease) => (lease.attempt, lease.attempt),
            None => (1, retry.max_attempts),
        };
        flight.attempts = first.saturating_sub(1);
        let outcome: ErasedOutcome = loop {
            flight.attempts += 1;
            let attempt = flight.attempts;
            let ctx = Ctx::new(task.id, attempt, flow);
            // An untraced job has no span at all, not `Span::none()`: entering, leaving and
            // dropping even an empty one on every poll measured 11 % of the job path.
            #[cfg(feature = "otel")]
            let (ctx, span) = match flight.trace() {
                Some(carried) => {
                    let (span, trace) = crate::trace::consumer_span(carried, task.id, self.variant, attempt, flow);
                    (ctx.with_trace(trace), Some(span))
                }
                None => (ctx, None),
            };
            // The input's clone is user code too: it runs inside the attempt, under the guard.
            let run = (task.attempt)(ctx, flight.input(), keep_output);
            #[cfg(feature = "testing")]
            let run = match self.shared.harness.as_ref().and_then(|harness| harness.fault(self.task_index, attempt)) {
                Some(fault) => fault,
                None => run,
            };
            let run = AssertUnwindSafe(run).catch_unwind();
            // The warm-up job's poll is the engine's, not the task's.
            #[cfg(feature = "profiling")]
            let run = crate::profiling::stats::timed(worker.map(|_| &self.polls), run);
            #[cfg(feature = "otel")]
            let ran = match span.clone() {
                Some(span) => deadline::within(self.meta.timeout, run.instrument(span)).await,
                None => deadline::within(self.meta.timeout, run).await,
            };
            #[cfg(not(feature = "otel"))]
            let ran = deadline::within(self.meta.timeout, run).await;
            let error = match ran {
                Ok(Ok(Ok(output))) => {
                    #[cfg(feature = "otel")]
                    if let Some(span) = &span {
                        span.record("preheat.outcome", "succeeded");
                    }
                    break Ok(output);
                }
                Ok(Ok(Err(error))) => TaskError::Failed(error),
                Ok(Err(panic)) => TaskError::Panicked(panic_message(&*panic)),
                Err(_) => TaskError::TimedOut(self.meta.timeout),
            };
            #[cfg(feature = "otel")]
            if let Some(span) = &span {
                crate::trace::record_failure(span, &error);
            }
            if attempt >= last {
                break Err(error);
            }
            if let Some(worker) = worker {
                worker.retried();
            }
            let delay = backoff(retry, attempt);
            let error = describe_error(task, &error);
            tracing::warn!(task = task.id, attempt, ?delay, %error, "task attempt failed; retrying");
            tokio::time::sleep(delay).await;
        };
        if let Some(worker) = worker {
            worker.record(clock, started, &outcome);
        }
        if let Some(timing) = timing {
            timing.finish(outcome.is_err());
        }
        self.finish(flight, outcome, worker);
    }

    /// Runs the oldest job of a held pool (a test runtime's) in the caller, as a worker would;
    /// `false` if its queue is empty.
    #[cfg(feature = "testing")]
    pub(crate) async fn run_held(&self) -> bool {
        let Some(job) = self.queue.try_pop() else { return false };
        self.run_now(job).await;
        true
    }

    /// Runs `job` in the caller, as a worker would, without queueing it (a test's `run_task`).
    #[cfg(feature = "testing")]
    pub(crate) async fn run_now(&self, job: Job) {
        let worker = self.tallies.worker();
        let mut clock = JobClock::new();
        crate::task::with_submitter(self.submitter.clone(), self.execute(job, &worker, &mut clock)).await;
    }

    /// Waits until every resource the task needs is warm: a cold one is still warming, and the
    /// job would only fail without it.
    async fn resources_warm(&self) -> Result<(), TaskError<crate::erased::ErasedError>> {
        for resource in &self.resources {
            resource
                .clone()
                .warm()
                .await
                .map_err(|failure| TaskError::ResourceFailed { resource: resource.resource, error: failure.error })?;
        }
        Ok(())
    }

    /// Hands the outcome to where the job ends; on failure, to the dead-letter list too.
    fn finish(&self, mut flight: InFlight<'_>, outcome: ErasedOutcome, worker: Option<&Worker>) {
        let attempts = flight.attempts;
        let Some(job) = flight.job.take() else { return };
        let task = job.task;
        if let End::Lease(lease) = job.end {
            let result = leased_result(task, &outcome, lease.wants_output);
            return lease.settle(result);
        }
        if let (Err(error), Some(worker)) = (&outcome, worker) {
            worker.dead_lettered();
            let error = describe_error(task, error);
            tracing::error!(task = task.id, attempts, %error, "task failed for good; moved to the dead-letter list");
            Shared::push(&self.shared.dead_letters, TaskRecord::new(task, job.input, attempts, Some(error)));
        }
        // The submitter may have dropped its `Completion`: that only means nobody waits.
        match job.end {
            End::Detached | End::Lease(_) => {}
            End::Reply(reply) => {
                let _ = reply.send(outcome);
            }
            End::Watch { watcher, task: index } => watcher.finished(index as usize, watched(task, outcome)),
            End::WatchAndReply(both) => {
                let (Watch { watcher, task: index }, reply) = *both;
                let copy = match &outcome {
                    Ok(output) => Ok(Arc::from((task.clone_output)(&**output))),
                    Err(error) => Err(describe_error(task, error)),
                };
                watcher.finished(index, copy);
                let _ = reply.send(outcome);
            }
            End::Warmup(done) => {
                let _ = done.send(());
            }
        }
    }

    pub(crate) fn stats(&self) -> PoolStats {
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

    /// How the task's futures were polled.
    #[cfg(feature = "profiling")]
    pub(crate) fn poll_report(&self) -> crate::profiling::stats::PollReport {
        self.polls.report()
    }

    /// Stops intake: workers finish what is queued and exit.
    pub(crate) fn close(&self) {
        let _joins = lock(&self.joins);
        self.closed.store(true, SeqCst);
        self.queue.close();
    }

    pub(crate) fn take_workers(&self) -> JoinSet<()> {
        std::mem::take(&mut *lock(&self.joins))
    }

    /// Takes every job still queued, as records.
    pub(crate) fn drain_queue(&self) -> Vec<TaskRecord> {
        let mut records = Vec::new();
        while let Some(job) = self.queue.try_pop() {
            // A leased job goes back to its backend, never started; only local ones are listed.
            records.extend(job.give_back(AttemptResult::NotRun, 0));
        }
        records
    }
}

/// Whether the pools of this runtime are a test's, whose jobs wait to be run by the test.
fn held(shared: &Shared) -> bool {
    #[cfg(feature = "testing")]
    if let Some(harness) = &shared.harness {
        return harness.held;
    }
    let _ = shared;
    false
}

/// An outcome as a watcher sees it.
fn watched(task: &TaskVTable, outcome: ErasedOutcome) -> crate::job::Ended {
    match outcome {
        Ok(output) => Ok(Arc::from(output)),
        Err(error) => Err(describe_error(task, &error)),
    }
}

/// What a leased attempt reports to its backend.
fn leased_result(task: &TaskVTable, outcome: &ErasedOutcome, wants_output: bool) -> AttemptResult {
    match outcome {
        // `Serialize` is user code: a panic in it fails the task, like one in the task.
        Ok(output) if wants_output => {
            match std::panic::catch_unwind(AssertUnwindSafe(|| (task.output_json)(&**output))) {
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
            error: describe_error(task, error),
            retryable: !matches!(error, TaskError::ResourceFailed { .. }),
        },
    }
}

/// A job held by a worker. If the worker is stopped at the shutdown deadline, dropping this
/// records the job as unfinished instead of losing it.
struct InFlight<'a> {
    pool: &'a Pool,
    job: Option<Job>,
    attempts: u32,
}

impl InFlight<'_> {
    fn lease(&self) -> Option<&Lease> {
        self.job.as_ref().and_then(Job::lease)
    }

    #[cfg(feature = "otel")]
    fn trace(&self) -> Option<&crate::trace::Carried> {
        self.job.as_ref().and_then(|job| job.trace.as_deref())
    }

    fn input(&self) -> &crate::erased::ErasedInput {
        match &self.job {
            Some(job) => &job.input,
            None => unreachable!("the job is only taken when its run is over"),
        }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let Some(job) = self.job.take() else { return };
        // A leased job is not lost: its backend makes it due again.
        if let Some(record) = job.give_back(AttemptResult::Interrupted, self.attempts) {
            Shared::push(&self.pool.shared.unfinished, record);
        }
    }
}

/// A worker's stand-in for the day user code panics outside the guarded attempt (in an input's
/// `Drop`, say): the worker dies, so give its slot back and keep `workers.min` alive.
struct Replacement<'a> {
    pool: &'a Pool,
}

impl Drop for Replacement<'_> {
    fn drop(&mut self) {
        // A worker that returns has already settled its slot; one aborted at shutdown is not
        // replaced either.
        if !std::thread::panicking() {
            return;
        }
        let pool = self.pool;
        let left = pool.workers.fetch_sub(1, SeqCst) - 1;
        tracing::error!(task = pool.task.id, "a worker panicked outside a task attempt; replacing it");
        if left < pool.meta.workers.min {
            pool.workers.fetch_add(1, SeqCst);
            pool.spawn_worker(None);
        }
    }
}
