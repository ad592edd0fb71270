//! The [`Runtime`]: one pre-warmed pool per task, and the submit and shutdown API.

use std::any::Any;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use once_cell::sync::OnceCell;
use preheat_meta::{OnFull, Warmup};
use tokio::runtime::Handle;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

use crate::delay::{Delay, DelayedKey, Delays};
use crate::error::{ShutdownError, StartError, SubmitError};
use crate::flow::{Flow, FlowRun, Watch, Watcher};
use crate::outcome::{Completion, Outcome};
use crate::pool::{ErasedPool, Pool, PoolContext, PoolStats, Shared};
use crate::queue::{Job, PushError};
use crate::record::TaskRecord;
use crate::registry::Registry;
use crate::schedule::{ScheduleStats, Ticker};
use crate::task::Task;

/// Configures and starts a [`Runtime`].
#[derive(Debug, Clone)]
#[must_use = "call `.start().await` to start the runtime"]
pub struct RuntimeBuilder {
    shutdown_timeout: Duration,
}

/// Runs tasks in pre-warmed worker pools, one pool per task.
///
/// Cheap to clone: clones share the same pools. See the [crate documentation](crate) for a tour.
#[derive(Clone, Debug)]
pub struct Runtime {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    this: Weak<Inner>,
    registry: &'static Registry,
    /// Indexed like `registry.tasks()`; empty cells are lazy pools not yet needed.
    pools: Box<[OnceCell<Arc<dyn ErasedPool>>]>,
    shared: Arc<Shared>,
    handle: Handle,
    /// Set by shutdown. A lazy pool is only built while holding it unset, so shutdown sees
    /// every pool that could have accepted a job.
    closing: Mutex<bool>,
    shutdown_timeout: Duration,
    /// The one shutdown's result, shared by every caller.
    stopped: tokio::sync::OnceCell<Result<(), ShutdownError>>,
    /// One per scheduled task.
    tickers: Vec<(usize, Arc<Ticker>)>,
    delays: Arc<Delays>,
    /// The schedules' timers and the delayed tasks' driver.
    timers: Mutex<JoinSet<()>>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("tasks", &self.registry.tasks().len())
            .field("schedules", &self.tickers.len())
            .field("delayed", &self.delays.len())
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for dyn ErasedPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.stats().fmt(f)
    }
}

impl Default for RuntimeBuilder {
    fn default() -> Self {
        Self { shutdown_timeout: Duration::from_secs(30) }
    }
}

impl RuntimeBuilder {
    /// How long [`Runtime::shutdown`] waits for queued and running tasks. Default: 30 s.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Builds the registry, then every `warmup: eager` pool, and returns once each of their
    /// `workers.min` workers is parked on its queue.
    ///
    /// Must be called from within a tokio runtime, whose handle the workers are spawned on.
    pub async fn start(self) -> Result<Runtime, StartError> {
        let began = Instant::now();
        let registry = Registry::global().map_err(StartError::Registry)?;
        let inner = Arc::new_cyclic(|this| Inner {
            this: this.clone(),
            registry,
            pools: registry.tasks().iter().map(|_| OnceCell::new()).collect(),
            shared: Arc::default(),
            handle: Handle::current(),
            closing: Mutex::new(false),
            shutdown_timeout: self.shutdown_timeout,
            stopped: tokio::sync::OnceCell::new(),
            tickers: registry
                .tasks()
                .iter()
                .enumerate()
                .filter_map(|(index, task)| {
                    let schedule = task.meta().schedule.as_ref()?;
                    Some((index, Ticker::new(index, task.id(), this.clone(), schedule)))
                })
                .collect(),
            delays: Arc::default(),
            timers: Mutex::new(JoinSet::new()),
        });
        let (ready, mut parked) = mpsc::unbounded_channel();
        let mut warming = 0;
        for (index, task) in registry.tasks().iter().enumerate() {
            if task.meta().warmup == Warmup::Eager {
                inner.build_pool(index, Some(ready.clone()));
                warming += task.meta().workers.min;
            }
        }
        drop(ready);
        for _ in 0..warming {
            if parked.recv().await.is_none() {
                break;
            }
        }
        // Timer pre-warm: every schedule's first fire time is computed and armed before start
        // returns.
        let (armed, mut arming) = mpsc::unbounded_channel();
        {
            let mut timers = inner.timers.lock().unwrap_or_else(PoisonError::into_inner);
            for (_, ticker) in &inner.tickers {
                timers.spawn_on(ticker.clone().run(armed.clone()), &inner.handle);
            }
            timers.spawn_on(inner.delays.clone().drive(Arc::downgrade(&inner)), &inner.handle);
        }
        drop(armed);
        for _ in 0..inner.tickers.len() {
            if arming.recv().await.is_none() {
                break;
            }
        }
        tracing::info!(
            tasks = registry.tasks().len(),
            workers = warming,
            elapsed_us = began.elapsed().as_micros() as u64,
            "preheat runtime started; eager pools are warm"
        );
        Ok(Runtime { inner })
    }
}

impl Inner {
    fn build_pool(&self, index: usize, ready: Option<mpsc::UnboundedSender<()>>) -> &Arc<dyn ErasedPool> {
        self.pools[index].get_or_init(|| {
            let registry: &'static Registry = self.registry;
            let task = &registry.tasks()[index];
            (task.entry.start_pool)(PoolContext {
                meta: task.meta(),
                runtime: self.this.clone(),
                shared: self.shared.clone(),
                handle: self.handle.clone(),
                ready,
            })
        })
    }

    /// Builds a lazy pool on its first submit; `None` once shutdown has begun.
    fn build_lazy_pool(&self, index: usize) -> Option<&Arc<dyn ErasedPool>> {
        let closing = self.closing.lock().unwrap_or_else(PoisonError::into_inner);
        (!*closing).then(|| self.build_pool(index, None))
    }

    /// The pool at `index`, built now if it is lazy; `None` once shutdown has begun.
    fn pool_at(&self, index: usize) -> Option<&Arc<dyn ErasedPool>> {
        self.pools[index].get().or_else(|| self.build_lazy_pool(index))
    }

    /// Where a job of task `index` reports its end: to a new flow run if the task has downstream
    /// tasks (then `root` is told of the task's own end too), else to `root`.
    fn watch_for(&self, index: usize, root: Option<Arc<dyn Watcher>>) -> (Option<Watch>, Option<Arc<FlowRun>>) {
        if self.registry.downstream(index).is_empty() {
            return (root.map(|watcher| Watch { watcher, task: index }), None);
        }
        let run = FlowRun::start(self.this.clone(), self.registry, index, root);
        (Some(Watch { watcher: run.clone(), task: index }), Some(run))
    }

    /// Queues a type-erased input for task `index` without waiting (flows, schedules, delays).
    pub(crate) fn submit_erased(
        &self,
        index: usize,
        input: Box<dyn Any + Send>,
        watch: Option<Watch>,
    ) -> Result<(), String> {
        let pool = self.pool_at(index).ok_or_else(|| "the runtime is shutting down".to_owned())?;
        pool.submit_erased(input, watch)
    }

    /// Like [`submit_erased`](Self::submit_erased) for a job that starts a flow run of its own.
    pub(crate) fn submit_root_erased(
        &self,
        index: usize,
        input: Box<dyn Any + Send>,
        root: Option<Arc<dyn Watcher>>,
    ) -> Result<(), String> {
        let (watch, _) = self.watch_for(index, root);
        self.submit_erased(index, input, watch)
    }

    async fn drain(&self) -> Result<(), ShutdownError> {
        // No more ticks or due delays; delays still waiting are listed as unfinished.
        let mut timers = std::mem::take(&mut *self.timers.lock().unwrap_or_else(PoisonError::into_inner));
        timers.abort_all();
        while timers.join_next().await.is_some() {}
        let delayed = self.delays.close();
        let mut workers: Vec<_> = {
            let mut closing = self.closing.lock().unwrap_or_else(PoisonError::into_inner);
            *closing = true;
            self.built_pools()
                .map(|pool| {
                    pool.close();
                    pool.take_workers()
                })
                .collect()
        };
        let deadline = tokio::time::Instant::now() + self.shutdown_timeout;
        let drained = tokio::time::timeout_at(deadline, async {
            for set in &mut workers {
                while set.join_next().await.is_some() {}
            }
        })
        .await
        .is_ok();
        if !drained {
            for set in &mut workers {
                // Stopped workers record the job they held as unfinished (see `InFlight`).
                set.abort_all();
                while set.join_next().await.is_some() {}
            }
        }
        let mut unfinished = delayed;
        unfinished.extend(Shared::take(&self.shared.unfinished));
        for pool in self.built_pools() {
            unfinished.extend(pool.drain_queue());
        }
        if unfinished.is_empty() {
            tracing::info!("preheat runtime drained and stopped");
            Ok(())
        } else {
            tracing::warn!(unfinished = unfinished.len(), "preheat runtime stopped with tasks unfinished");
            Err(ShutdownError { unfinished })
        }
    }

    fn built_pools(&self) -> impl Iterator<Item = &Arc<dyn ErasedPool>> {
        self.pools.iter().filter_map(OnceCell::get)
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Without a shutdown, let workers finish what is queued and exit rather than park forever.
        for pool in self.built_pools() {
            pool.close();
        }
    }
}

impl Runtime {
    /// A builder with the default settings.
    pub fn builder() -> RuntimeBuilder {
        RuntimeBuilder::default()
    }

    /// Submits a task, waiting for room in its queue if it is full and its `on_full` policy is
    /// `block`. The returned [`Completion`] resolves to the task's outcome; dropping it lets the
    /// task run detached. If the task has downstream tasks, this starts a flow run (see
    /// [`submit_flow`](Self::submit_flow) to follow it).
    pub async fn submit<T: Task>(&self, task: T, input: T::Input) -> Result<Completion<T>, SubmitError<T::Input>> {
        let (reply, receiver) = oneshot::channel();
        self.enqueue(task, input, Some(reply), Wait::PerPolicy).await?;
        Ok(Completion::new(receiver))
    }

    /// Submits a task without ever waiting: a full queue is an error whatever the `on_full`
    /// policy.
    pub fn try_submit<T: Task>(&self, task: T, input: T::Input) -> Result<Completion<T>, SubmitError<T::Input>> {
        let (reply, receiver) = oneshot::channel();
        self.enqueue(task, input, Some(reply), Wait::Never).now_or_never().unwrap_or_else(|| unreachable!())?;
        Ok(Completion::new(receiver))
    }

    /// Like [`submit`](Self::submit) for a task whose outcome nobody awaits (it still reaches
    /// the logs and, on failure, the dead-letter list). Cheaper: no completion channel is made.
    pub async fn submit_detached<T: Task>(&self, task: T, input: T::Input) -> Result<(), SubmitError<T::Input>> {
        self.enqueue(task, input, None, Wait::PerPolicy).await.map(drop)
    }

    /// Like [`try_submit`](Self::try_submit) for a task whose outcome nobody awaits.
    pub fn try_submit_detached<T: Task>(&self, task: T, input: T::Input) -> Result<(), SubmitError<T::Input>> {
        self.enqueue(task, input, None, Wait::Never).now_or_never().unwrap_or_else(|| unreachable!()).map(drop)
    }

    /// Submits a task that has downstream tasks and returns its flow run, whose
    /// [`outcome`](Flow::outcome) reports every task of the run. Waits for room like
    /// [`submit`](Self::submit).
    ///
    /// A task without downstream tasks makes a run of one task.
    pub async fn submit_flow<T: Task>(&self, task: T, input: T::Input) -> Result<Flow, SubmitError<T::Input>> {
        match self.enqueue(task, input, None, Wait::PerPolicy).await? {
            Some(run) => Ok(Flow::new(run)),
            None => unreachable!("`enqueue` starts a run for a flow submit"),
        }
    }

    /// What `Ctx::submit` does: never waits, even for a full queue.
    pub(crate) fn submit_from_task<T: Task>(&self, task: T, input: T::Input) -> Result<(), SubmitError<T::Input>> {
        let (index, pool) = match self.pool(task) {
            Ok(found) => found,
            Err(unavailable) => return Err(unavailable.with_input(input)),
        };
        let (watch, _) = self.inner.watch_for(index, None);
        pool.submit_without_waiting(Job { input, reply: None, watch }).map_err(|error| rejected::<T>(pool, error))
    }

    /// Queues a job, starting a flow run if the task has downstream tasks; returns the run.
    async fn enqueue<T: Task>(
        &self,
        task: T,
        input: T::Input,
        reply: Option<oneshot::Sender<Outcome<T>>>,
        wait: Wait,
    ) -> Result<Option<Arc<FlowRun>>, SubmitError<T::Input>> {
        let (index, pool) = match self.pool(task) {
            Ok(found) => found,
            Err(unavailable) => return Err(unavailable.with_input(input)),
        };
        let (watch, run) = self.inner.watch_for(index, None);
        let job = Job { input, reply, watch };
        match pool.queue.try_push(job) {
            Ok(()) => pool.grow_if_backlogged(),
            Err(PushError::Full(job)) if wait == Wait::PerPolicy && pool.meta.queue.on_full == OnFull::Block => {
                pool.try_grow();
                pool.queue.push(job).await.map_err(|job| SubmitError::Closed { task: T::ID, input: job.input })?;
                pool.grow_if_backlogged();
            }
            Err(error) => return Err(rejected::<T>(pool, error)),
        }
        Ok(run)
    }

    /// The index and pool of `T`, built now if it is lazy.
    fn pool<T: Task>(&self, _task: T) -> Result<(usize, &Pool<T>), Unavailable> {
        // A `Task` implemented by hand, without `#[task]`, is in no registry.
        let index = self.inner.registry.index_of::<T>().ok_or(Unavailable::NotRegistered(T::ID))?;
        let pool = self.inner.pool_at(index).ok_or(Unavailable::Closed(T::ID))?;
        match pool.as_any().downcast_ref::<Pool<T>>() {
            Some(pool) => Ok((index, pool)),
            None => unreachable!("the pool at the index of `{}` is that task's pool", T::ID),
        }
    }

    /// Stops intake, lets workers finish every queued and running task until the shutdown
    /// timeout, then stops them.
    ///
    /// Returns `Ok` when everything finished. Otherwise the error lists every task that did not,
    /// with its input, and their `Completion`s resolve to [`TaskError::Abandoned`](crate::TaskError::Abandoned).
    ///
    /// Every caller, concurrent or later, gets the result of the one shutdown.
    pub async fn shutdown(&self) -> Result<(), ShutdownError> {
        self.inner.stopped.get_or_init(|| self.inner.drain()).await.clone()
    }

    /// Submits a task to run `delay` from now; see [`delay`](Self::delay) to give it a key.
    pub fn submit_after<T: Task>(
        &self,
        task: T,
        input: T::Input,
        delay: Duration,
    ) -> Result<DelayedKey, SubmitError<T::Input>> {
        self.delay(task, input).after(delay)
    }

    /// Submits a task to run at `at`.
    pub fn submit_at<T: Task>(
        &self,
        task: T,
        input: T::Input,
        at: tokio::time::Instant,
    ) -> Result<DelayedKey, SubmitError<T::Input>> {
        self.delay(task, input).at(at)
    }

    /// Starts a delayed submit: `rt.delay(close_unpaid, input).key("order-42").after(30 * MINUTE)`.
    ///
    /// Delayed tasks wait in one timer queue of the runtime, not one timer each. When one comes
    /// due it is submitted like [`Ctx::submit`](crate::Ctx::submit) does: without waiting.
    /// Tasks still waiting at shutdown are listed in the [`ShutdownError`].
    pub fn delay<T: Task>(&self, _task: T, input: T::Input) -> Delay<'_, T> {
        Delay::new(self, input)
    }

    pub(crate) fn delay_until<T: Task>(
        &self,
        input: T::Input,
        at: tokio::time::Instant,
        key: Option<String>,
    ) -> Result<DelayedKey, SubmitError<T::Input>> {
        let Some(index) = self.inner.registry.index_of::<T>() else {
            return Err(SubmitError::NotRegistered { task: T::ID, input });
        };
        self.inner.delays.insert::<T>(index, input, at, key).map_err(|input| SubmitError::Closed { task: T::ID, input })
    }

    /// Cancels a delayed task; `false` if it is not waiting (it ran, or never was).
    ///
    /// `key` is the name given with [`Delay::key`] (`rt.cancel("order-42-close")`) or the
    /// [`DelayedKey`] a submit returned (`rt.cancel(&key)`).
    pub fn cancel(&self, key: impl Into<DelayedKey>) -> bool {
        self.inner.delays.cancel(&key.into())
    }

    /// Delayed tasks waiting for their time.
    pub fn delayed(&self) -> usize {
        self.inner.delays.len()
    }

    /// What a scheduled task's schedule has done; `None` if the task has no schedule.
    pub fn schedule_stats(&self, task_id: &str) -> Option<ScheduleStats> {
        let index = self.inner.registry.index_of_id(task_id)?;
        let (_, ticker) = self.inner.tickers.iter().find(|(task, _)| *task == index)?;
        Some(ticker.stats())
    }

    /// Tasks that failed every attempt, oldest first, with their inputs and last errors.
    pub fn dead_letters(&self) -> Vec<TaskRecord> {
        self.inner.shared.dead_letters.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Takes the dead-letter list, leaving it empty.
    pub fn take_dead_letters(&self) -> Vec<TaskRecord> {
        Shared::take(&self.inner.shared.dead_letters)
    }

    /// A snapshot of a task's pool, or `None` if no task has this id.
    pub fn stats(&self, task_id: &str) -> Option<PoolStats> {
        let index = self.inner.registry.index_of_id(task_id)?;
        Some(self.inner.pools[index].get().map(|pool| pool.stats()).unwrap_or_default())
    }

    /// The registry this runtime was started from.
    pub fn registry(&self) -> &'static Registry {
        self.inner.registry
    }
}

/// Whether a submit may wait for room in a full queue.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Wait {
    /// As the task's `on_full` policy says.
    PerPolicy,
    /// Never: a full queue is an error.
    Never,
}

tokio::task_local! {
    /// The runtime whose worker is running the current task, for `Ctx::submit`.
    static CURRENT: Weak<Inner>;
}

/// Runs a worker with its runtime known to the tasks it runs.
pub(crate) async fn with_current(runtime: Weak<Inner>, worker: impl Future<Output = ()>) {
    CURRENT.scope(runtime, worker).await;
}

/// The runtime of the worker running the current task.
pub(crate) fn current() -> Option<Runtime> {
    CURRENT.try_with(Weak::upgrade).ok().flatten().map(|inner| Runtime { inner })
}

/// Why a task has no pool to take it.
enum Unavailable {
    NotRegistered(&'static str),
    Closed(&'static str),
}

impl Unavailable {
    fn with_input<I>(self, input: I) -> SubmitError<I> {
        match self {
            Self::NotRegistered(task) => SubmitError::NotRegistered { task, input },
            Self::Closed(task) => SubmitError::Closed { task, input },
        }
    }
}

fn rejected<T: Task>(pool: &Pool<T>, error: PushError<Job<T>>) -> SubmitError<T::Input> {
    match error {
        PushError::Full(job) => SubmitError::Full { task: T::ID, capacity: pool.meta.queue.capacity, input: job.input },
        PushError::Closed(job) => SubmitError::Closed { task: T::ID, input: job.input },
    }
}
