//! The [`Runtime`]: one pre-warmed pool per task, and the submit and shutdown API.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use once_cell::sync::OnceCell;
use preheat_meta::{OnFull, Warmup};
use tokio::runtime::Handle;
use tokio::sync::{mpsc, oneshot};

use crate::error::{ShutdownError, StartError, SubmitError};
use crate::outcome::Completion;
use crate::pool::{ErasedPool, Pool, PoolContext, PoolStats, Shared};
use crate::queue::{Job, PushError};
use crate::record::TaskRecord;
use crate::registry::Registry;
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

#[derive(Debug)]
struct Inner {
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
        let inner = Arc::new(Inner {
            registry,
            pools: registry.tasks().iter().map(|_| OnceCell::new()).collect(),
            shared: Arc::default(),
            handle: Handle::current(),
            closing: Mutex::new(false),
            shutdown_timeout: self.shutdown_timeout,
            stopped: tokio::sync::OnceCell::new(),
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

    async fn drain(&self) -> Result<(), ShutdownError> {
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
        let mut unfinished = Shared::take(&self.shared.unfinished);
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
    /// task run detached.
    pub async fn submit<T: Task>(&self, task: T, input: T::Input) -> Result<Completion<T>, SubmitError<T::Input>> {
        let (reply, receiver) = oneshot::channel();
        self.enqueue(task, Job { input, reply: Some(reply) }).await?;
        Ok(Completion::new(receiver))
    }

    /// Submits a task without ever waiting: a full queue is an error whatever the `on_full`
    /// policy.
    pub fn try_submit<T: Task>(&self, task: T, input: T::Input) -> Result<Completion<T>, SubmitError<T::Input>> {
        let (reply, receiver) = oneshot::channel();
        self.try_enqueue(task, Job { input, reply: Some(reply) })?;
        Ok(Completion::new(receiver))
    }

    /// Like [`submit`](Self::submit) for a task whose outcome nobody awaits (it still reaches
    /// the logs and, on failure, the dead-letter list). Cheaper: no completion channel is made.
    pub async fn submit_detached<T: Task>(&self, task: T, input: T::Input) -> Result<(), SubmitError<T::Input>> {
        self.enqueue(task, Job { input, reply: None }).await
    }

    /// Like [`try_submit`](Self::try_submit) for a task whose outcome nobody awaits.
    pub fn try_submit_detached<T: Task>(&self, task: T, input: T::Input) -> Result<(), SubmitError<T::Input>> {
        self.try_enqueue(task, Job { input, reply: None })
    }

    async fn enqueue<T: Task>(&self, task: T, job: Job<T>) -> Result<(), SubmitError<T::Input>> {
        let pool = match self.pool(task) {
            Ok(pool) => pool,
            Err(unavailable) => return Err(unavailable.with_input(job.input)),
        };
        match pool.queue.try_push(job) {
            Ok(()) => pool.grow_if_backlogged(),
            Err(PushError::Full(job)) if pool.meta.queue.on_full == OnFull::Block => {
                pool.try_grow();
                pool.queue.push(job).await.map_err(|job| SubmitError::Closed { task: T::ID, input: job.input })?;
                pool.grow_if_backlogged();
            }
            Err(error) => return Err(rejected::<T>(pool, error)),
        }
        Ok(())
    }

    fn try_enqueue<T: Task>(&self, task: T, job: Job<T>) -> Result<(), SubmitError<T::Input>> {
        let pool = match self.pool(task) {
            Ok(pool) => pool,
            Err(unavailable) => return Err(unavailable.with_input(job.input)),
        };
        pool.queue.try_push(job).map_err(|error| rejected::<T>(pool, error))?;
        pool.grow_if_backlogged();
        Ok(())
    }

    /// The pool of `T`, built now if it is lazy.
    fn pool<T: Task>(&self, _task: T) -> Result<&Pool<T>, Unavailable> {
        // A `Task` implemented by hand, without `#[task]`, is in no registry.
        let index = self.inner.registry.index_of::<T>().ok_or(Unavailable::NotRegistered(T::ID))?;
        let pool = match self.inner.pools[index].get() {
            Some(pool) => pool,
            None => self.inner.build_lazy_pool(index).ok_or(Unavailable::Closed(T::ID))?,
        };
        match pool.as_any().downcast_ref::<Pool<T>>() {
            Some(pool) => Ok(pool),
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
