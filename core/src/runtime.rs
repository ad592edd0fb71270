//! The [`Runtime`]: one pre-warmed pool per task, and the submit and shutdown API.

use std::any::Any;
use std::future::Future;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use once_cell::sync::OnceCell;
use preheat_meta::{OnFull, Warmup};
use tokio::runtime::Handle;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinSet;

use crate::delay::{Delay, DelayedKey, Delays};
use crate::error::{ShutdownError, StartError, SubmitError};
use crate::flow::{Flow, FlowRun, Watch, Watcher};
use crate::outcome::{Completion, Outcome};
use crate::pool::{ErasedPool, Pool, PoolContext, PoolStats, Shared};
use crate::queue::{Job, PushError};
use crate::readiness::{Lifecycle, Phase, Readiness, ResourceState};
use crate::record::TaskRecord;
use crate::registry::Registry;
use crate::schedule::{ScheduleStats, Ticker};
use crate::sync::lock;
use crate::task::Task;
use crate::warmup::{Resources, WarmState};

/// Configures and starts a [`Runtime`].
#[derive(Debug, Clone)]
#[must_use = "call `.start().await` to start the runtime"]
pub struct RuntimeBuilder {
    shutdown_timeout: Duration,
    warm_in_background: bool,
    /// Replaces every task's `warmup:` when set.
    warmup: Option<Warmup>,
    #[cfg(feature = "http")]
    http: Option<std::net::SocketAddr>,
    #[cfg(feature = "postgres")]
    postgres: Option<crate::postgres::Postgres>,
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
    /// Tasks that outlive the drain, such as the HTTP endpoints; stopped with the runtime.
    #[cfg(feature = "http")]
    services: Mutex<JoinSet<()>>,
    lifecycle: watch::Sender<Lifecycle>,
    /// Start-up steps and their durations, in order.
    phases: Mutex<Vec<Phase>>,
    resources: Resources,
    /// The HTTP endpoints' address, once they listen.
    #[cfg(feature = "http")]
    pub(crate) http_addr: OnceCell<std::net::SocketAddr>,
    #[cfg(feature = "http")]
    pub(crate) metrics: crate::metrics::Metrics,
    /// The worker on the PostgreSQL task table, when the runtime runs durable tasks.
    #[cfg(feature = "postgres")]
    pub(crate) postgres: Option<Arc<crate::postgres::Worker>>,
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
        Self {
            shutdown_timeout: Duration::from_secs(30),
            warm_in_background: false,
            warmup: None,
            #[cfg(feature = "http")]
            http: None,
            #[cfg(feature = "postgres")]
            postgres: None,
        }
    }
}

impl RuntimeBuilder {
    /// How long [`Runtime::shutdown`] waits for queued and running tasks. Default: 30 s.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Serves `/livez`, `/readyz`, `/metrics` and `/tasks` over HTTP on `addr` (port 0 picks a
    /// free port; see [`Runtime::http_addr`]). The server starts before the warm-up, so that
    /// readiness probes see it, and stops at shutdown.
    #[cfg(feature = "http")]
    pub fn http_addr(mut self, addr: std::net::SocketAddr) -> Self {
        self.http = Some(addr);
        self
    }

    /// Serves the HTTP endpoints on `PREHEAT_HTTP_ADDR`, or on
    /// [`DEFAULT_HTTP_ADDR`](crate::http::DEFAULT_HTTP_ADDR) (127.0.0.1:9464) if it is unset.
    ///
    /// # Errors
    ///
    /// If `PREHEAT_HTTP_ADDR` is set but is not an address such as `0.0.0.0:9464`; the message
    /// names the variable and the value.
    #[cfg(feature = "http")]
    pub fn serve_http(self) -> Result<Self, String> {
        Ok(self.http_addr(crate::http::addr_from_env()?))
    }

    /// Makes [`start`](Self::start) return as soon as the pools and timers are up, while the
    /// resources warm in the background: the runtime reports [`Lifecycle::Warming`] (and
    /// `/readyz` 503) until every `#[warmup]` has succeeded, and tasks that need a resource still
    /// warming wait for it. For services that must answer health checks during warm-up.
    ///
    /// By default `start` waits for the warm-up and fails if a resource cannot be warmed.
    pub fn warm_in_background(mut self) -> Self {
        self.warm_in_background = true;
        self
    }

    /// Builds every pool as `warmup` says, whatever the `warmup:` of its task's metadata: with
    /// [`Warmup::Lazy`], [`start`](Self::start) builds no pool and each is built on its task's
    /// first submit; with [`Warmup::Eager`], every pool is built during `start`.
    ///
    /// For processes that are not the service the metadata was written for: a CLI that lists the
    /// tasks or runs one of them (lazy: no workers for the other tasks), a test that wants every
    /// pool warm or none, a benchmark that compares eager and lazy start-up on the same tasks.
    /// Resources (`#[warmup]`) are warmed either way.
    pub fn warmup(mut self, warmup: Warmup) -> Self {
        self.warmup = Some(warmup);
        self
    }

    /// Also runs the durable tasks of a PostgreSQL task table: once the runtime is warm, it
    /// claims due rows and runs them in the same pre-warmed pools, and schedules fire once
    /// per tick across every process sharing the table. See [`crate::postgres`].
    #[cfg(feature = "postgres")]
    pub fn postgres(mut self, postgres: crate::postgres::Postgres) -> Self {
        self.postgres = Some(postgres);
        self
    }

    /// Builds the registry, then every `warmup: eager` pool (all or none if
    /// [`warmup`](Self::warmup) says so), returning once each of their `workers.min` workers is
    /// parked on its queue, arms the timers, and warms the resources
    /// (unless [`warm_in_background`](Self::warm_in_background)); the runtime is then
    /// [`Lifecycle::Ready`]. Each step is timed: see [`Runtime::readiness`].
    ///
    /// Must be called from within a tokio runtime, whose handle the workers are spawned on.
    ///
    /// # Errors
    ///
    /// [`StartError::Registry`] if tasks and metadata do not match, [`StartError::Warmup`] if a
    /// resource fails every warm-up attempt (the runtime is shut down first), and
    /// [`StartError::Http`] if the HTTP endpoints cannot listen.
    pub async fn start(self) -> Result<Runtime, StartError> {
        let began = Instant::now();
        let registry = Registry::global().map_err(StartError::Registry)?;
        let registry_took = began.elapsed();
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
            #[cfg(feature = "http")]
            services: Mutex::new(JoinSet::new()),
            lifecycle: watch::Sender::new(Lifecycle::Starting),
            phases: Mutex::new(vec![Phase { name: "registry".into(), took: registry_took }]),
            resources: Resources::new(registry.warmers()),
            #[cfg(feature = "http")]
            http_addr: OnceCell::new(),
            #[cfg(feature = "http")]
            metrics: crate::metrics::Metrics::default(),
            #[cfg(feature = "postgres")]
            postgres: self.postgres.map(|postgres| crate::postgres::Worker::new(postgres, registry)),
        });
        let step = Instant::now();
        let (ready, mut parked) = mpsc::unbounded_channel();
        let mut warming = 0;
        for (index, task) in registry.tasks().iter().enumerate() {
            if self.warmup.unwrap_or(task.meta().warmup) == Warmup::Eager {
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
        inner.phase("pools", step.elapsed());
        let step = Instant::now();
        // Timer pre-warm: every schedule's first fire time is computed and armed before start
        // returns.
        let (armed, mut arming) = mpsc::unbounded_channel();
        {
            let mut timers = lock(&inner.timers);
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
        inner.phase("timers", step.elapsed());
        inner.lifecycle.send_replace(Lifecycle::Warming);
        let runtime = Runtime { inner };
        // Listening before the warm-up, so that `/readyz` says what is still warming.
        #[cfg(feature = "http")]
        if let Some(addr) = self.http
            && let Err(error) = crate::http::serve(&runtime, addr).await
        {
            // The pools and timers stop; the caller gets the reason, not a runtime nobody can probe.
            let _ = runtime.shutdown().await;
            return Err(error);
        }
        if self.warm_in_background {
            let inner = runtime.inner.clone();
            let mut timers = lock(&runtime.inner.timers);
            timers.spawn_on(async move { inner.warm(began).await }, &runtime.inner.handle);
        } else {
            runtime.inner.warm(began).await;
            if let Err(error) = runtime.inner.resources.ready().await {
                // Whatever was started stops; the caller gets the reason, not a half-ready runtime.
                let _ = runtime.shutdown().await;
                return Err(error);
            }
        }
        Ok(runtime)
    }
}

impl Inner {
    fn phase(&self, name: impl Into<String>, took: Duration) {
        lock(&self.phases).push(Phase { name: name.into(), took });
    }

    /// Where a new pool's workers count, seen by `/metrics` too.
    fn tallies(&self, _id: &'static str) -> Arc<crate::tally::Tallies> {
        let tallies = Arc::default();
        #[cfg(feature = "http")]
        self.metrics.register(_id, Arc::clone(&tallies));
        tallies
    }

    /// Runs every warmer, records their durations, and makes the runtime ready if all are warm.
    async fn warm(&self, began: Instant) {
        self.resources.warm_all().await;
        for (resource, state) in self.resources.states() {
            if let WarmState::Warm { took, .. } = state {
                self.phase(format!("warmup:{resource}"), took);
            }
        }
        if self.resources.all_warm() {
            // Only from `Warming`: a shutdown that began meanwhile wins.
            self.lifecycle.send_if_modified(|state| {
                let warming = *state == Lifecycle::Warming;
                if warming {
                    *state = Lifecycle::Ready;
                }
                warming
            });
            // Durable tasks are claimed only once they can run: a claimed task waiting for a
            // cold resource would hold its lease for nothing.
            #[cfg(feature = "postgres")]
            if let Some(worker) = &self.postgres {
                worker.start(self.this.clone());
            }
        }
        self.report_start(began);
    }

    /// The one-screen start-up report: each step and how long it took.
    fn report_start(&self, began: Instant) {
        let phases = lock(&self.phases).clone();
        let steps: Vec<String> = phases.iter().map(|phase| format!("{} {:.2?}", phase.name, phase.took)).collect();
        let state = *self.lifecycle.borrow();
        let workers: u32 = self.built_pools().map(|pool| pool.stats().workers).sum();
        tracing::info!(
            tasks = self.registry.tasks().len(),
            workers,
            resources = self.registry.warmers().len(),
            %state,
            "preheat started in {:.2?}: {}",
            began.elapsed(),
            steps.join(", ")
        );
    }

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
                resources: self.resources.needed(&task.meta().resources),
                tallies: self.tallies(task.id()),
            })
        })
    }

    /// Builds a lazy pool on its first submit; `None` once shutdown has begun.
    fn build_lazy_pool(&self, index: usize) -> Option<&Arc<dyn ErasedPool>> {
        let closing = lock(&self.closing);
        (!*closing).then(|| self.build_pool(index, None))
    }

    /// The pool at `index`, built now if it is lazy; `None` once shutdown has begun.
    pub(crate) fn pool_at(&self, index: usize) -> Option<&Arc<dyn ErasedPool>> {
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
        self.lifecycle.send_replace(Lifecycle::Draining);
        let result = self.stop().await;
        self.lifecycle.send_replace(Lifecycle::Stopped);
        #[cfg(feature = "http")]
        self.stop_services().await;
        result
    }

    /// Lets the services (the HTTP endpoints) see `Stopped` and close, or stops them after a
    /// second: a client holding a connection open must not hold up the shutdown.
    #[cfg(feature = "http")]
    async fn stop_services(&self) {
        let mut services = std::mem::take(&mut *lock(&self.services));
        let closed =
            tokio::time::timeout(Duration::from_secs(1), async { while services.join_next().await.is_some() {} });
        if closed.await.is_err() {
            services.abort_all();
            while services.join_next().await.is_some() {}
        }
    }

    async fn stop(&self) -> Result<(), ShutdownError> {
        #[cfg(feature = "postgres")]
        if let Some(worker) = &self.postgres {
            worker.stop_claiming(self.shutdown_timeout).await;
        }
        // No more ticks or due delays; delays still waiting are listed as unfinished.
        let mut timers = std::mem::take(&mut *lock(&self.timers));
        timers.abort_all();
        while timers.join_next().await.is_some() {}
        let delayed = self.delays.close();
        let mut workers: Vec<_> = {
            let mut closing = lock(&self.closing);
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
        // Every leased job has now settled or given itself back: store that.
        #[cfg(feature = "postgres")]
        if let Some(worker) = &self.postgres {
            worker.finish(deadline.max(tokio::time::Instant::now() + Duration::from_secs(5))).await;
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
        pool.submit_without_waiting(Job { input, reply: None, watch, lease: None })
            .map_err(|error| rejected::<T>(pool, error))
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
        let job = Job { input, reply, watch, lease: None };
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
        lock(&self.inner.shared.dead_letters).clone()
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

    /// Where the HTTP endpoints listen, once they do (see [`RuntimeBuilder::http_addr`]).
    #[cfg(feature = "http")]
    pub fn http_addr(&self) -> Option<std::net::SocketAddr> {
        self.inner.http_addr.get().copied()
    }

    #[cfg(feature = "http")]
    pub(crate) fn set_http_addr(&self, addr: std::net::SocketAddr) {
        let _ = self.inner.http_addr.set(addr);
    }

    /// The runtime's metrics in the Prometheus text format, as `/metrics` serves them.
    ///
    /// # Errors
    ///
    /// If the encoder fails to write (it writes to a `String`, so only on a bug).
    #[cfg(feature = "http")]
    pub fn render_metrics(&self) -> Result<String, std::fmt::Error> {
        crate::metrics::render(self, &self.inner.metrics)
    }

    /// Each built pool's poll statistics, by task id.
    #[cfg(feature = "profiling")]
    pub(crate) fn poll_reports(&self) -> std::collections::HashMap<&'static str, crate::profiling::PollReport> {
        let tasks = self.inner.registry.tasks().iter();
        tasks
            .zip(self.inner.pools.iter())
            .filter_map(|(task, pool)| Some((task.id(), pool.get()?.poll_report())))
            .collect()
    }

    #[cfg(feature = "http")]
    pub(crate) fn lifecycle_watch(&self) -> watch::Receiver<Lifecycle> {
        self.inner.lifecycle.subscribe()
    }

    /// Runs `service` until the runtime stops (or is dropped).
    #[cfg(feature = "http")]
    pub(crate) fn spawn_service(&self, service: impl Future<Output = ()> + Send + 'static) {
        lock(&self.inner.services).spawn_on(service, &self.inner.handle);
    }

    #[cfg(feature = "http")]
    pub(crate) fn downgrade(&self) -> WeakRuntime {
        WeakRuntime(Arc::downgrade(&self.inner))
    }

    /// Where the runtime is in its life.
    pub fn lifecycle(&self) -> Lifecycle {
        *self.inner.lifecycle.borrow()
    }

    /// Whether the runtime is ready, each start-up step's duration, and each resource's state.
    pub fn readiness(&self) -> Readiness {
        Readiness {
            state: self.lifecycle(),
            phases: lock(&self.inner.phases).clone(),
            resources: self
                .inner
                .resources
                .states()
                .into_iter()
                .map(|(name, state)| ResourceState { name, state })
                .collect(),
        }
    }

    /// Waits until the runtime is [`Lifecycle::Ready`]: after a
    /// [`warm_in_background`](RuntimeBuilder::warm_in_background) start, until every resource
    /// is warm.
    ///
    /// # Errors
    ///
    /// [`StartError::Warmup`] if a resource failed for good, [`StartError::Stopped`] if the
    /// runtime began shutting down first.
    pub async fn ready(&self) -> Result<(), StartError> {
        let mut lifecycle = self.inner.lifecycle.subscribe();
        self.inner.resources.ready().await?;
        match lifecycle.wait_for(|state| *state >= Lifecycle::Ready).await.as_deref() {
            Ok(Lifecycle::Ready) => Ok(()),
            _ => Err(StartError::Stopped),
        }
    }
}

/// A runtime that services hold without keeping it alive.
#[cfg(feature = "http")]
#[derive(Clone, Debug)]
pub(crate) struct WeakRuntime(Weak<Inner>);

#[cfg(feature = "http")]
impl WeakRuntime {
    pub(crate) fn upgrade(&self) -> Option<Runtime> {
        self.0.upgrade().map(|inner| Runtime { inner })
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
        PushError::Full(job) => {
            pool.rejected();
            SubmitError::Full { task: T::ID, capacity: pool.meta.queue.capacity, input: job.input }
        }
        PushError::Closed(job) => SubmitError::Closed { task: T::ID, input: job.input },
    }
}
