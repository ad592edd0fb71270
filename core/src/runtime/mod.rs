//! The [`Runtime`]: one pre-warmed pool per task, and the submit and shutdown API.
//!
//! The top of the engine: it holds the pool table and the timers, and hands each part below it
//! only what that part needs (the table, the registry), never itself. Start-up lives in
//! `builder.rs`, shutdown in `shutdown.rs`, delayed submits in `delayed.rs`.

mod builder;
mod delayed;
mod shutdown;

#[cfg(feature = "http")]
use std::sync::Weak;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::FutureExt;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinSet;

pub use self::builder::RuntimeBuilder;
pub use self::delayed::Delay;
use crate::completion::Completion;
use crate::delay::{DelayedKey, Delays};
use crate::erased::{ErasedOutcome, unerase};
use crate::error::{StartError, SubmitError};
use crate::flow::{Flow, FlowRun, end_for};
use crate::job::{End, Job, Watch};
use crate::pool::{PoolStats, Shared, Wait};
use crate::pools::Pools;
use crate::readiness::{Lifecycle, Phase, Readiness, ResourceState};
use crate::record::{ShutdownError, TaskRecord};
use crate::registry::Registry;
use crate::route::Route;
use crate::schedule::{ScheduleStats, Ticker};
use crate::sync::lock;
use crate::task::{Refusal, Task, index_of};
use crate::warmup::Resources;

/// Runs tasks in pre-warmed worker pools, one pool per task.
///
/// Cheap to clone: clones share the same pools. See the [crate documentation](crate) for a tour.
#[derive(Clone, Debug)]
pub struct Runtime {
    inner: Arc<Inner>,
}

/// What a runtime holds. Only the runtime's own files see it: the parts below get the pool
/// table, the delays or the registry.
struct Inner {
    pools: Arc<Pools>,
    shutdown_timeout: Duration,
    /// The one shutdown's result, shared by every caller.
    stopped: tokio::sync::OnceCell<Result<(), ShutdownError>>,
    /// One per scheduled task.
    tickers: Vec<(usize, Arc<Ticker>)>,
    delays: Arc<Delays>,
    /// The schedules' timers, the delayed tasks' driver and the warmers.
    timers: Mutex<JoinSet<()>>,
    /// Tasks that outlive the drain, such as the HTTP endpoints; stopped with the runtime.
    #[cfg(feature = "http")]
    services: Mutex<JoinSet<()>>,
    lifecycle: watch::Sender<Lifecycle>,
    /// Start-up steps and their durations, in order.
    phases: Mutex<Vec<Phase>>,
    resources: Arc<Resources>,
    /// The HTTP endpoints' address, once they listen.
    #[cfg(feature = "http")]
    http_addr: once_cell::sync::OnceCell<std::net::SocketAddr>,
    /// The worker on the PostgreSQL task table, when the runtime runs durable tasks.
    #[cfg(feature = "postgres")]
    postgres: Option<Arc<crate::postgres::Worker>>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("tasks", &self.pools.registry.tasks().len())
            .field("schedules", &self.tickers.len())
            .field("delayed", &self.delays.len())
            .finish_non_exhaustive()
    }
}

impl Inner {
    fn phase(&self, name: impl Into<String>, took: Duration) {
        lock(&self.phases).push(Phase { name: name.into(), took });
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
        self.enqueue(task, input, Wait::Caller, Some(reply)).await?;
        Ok(Completion::new(receiver))
    }

    /// Submits a task without ever waiting: a full queue is an error whatever the `on_full`
    /// policy.
    pub fn try_submit<T: Task>(&self, task: T, input: T::Input) -> Result<Completion<T>, SubmitError<T::Input>> {
        let (reply, receiver) = oneshot::channel();
        now(self.enqueue(task, input, Wait::Never, Some(reply)))?;
        Ok(Completion::new(receiver))
    }

    /// Like [`submit`](Self::submit) for a task whose outcome nobody awaits (it still reaches
    /// the logs and, on failure, the dead-letter list). Cheaper: no completion channel is made.
    pub async fn submit_detached<T: Task>(&self, task: T, input: T::Input) -> Result<(), SubmitError<T::Input>> {
        self.enqueue(task, input, Wait::Caller, None).await
    }

    /// Like [`try_submit`](Self::try_submit) for a task whose outcome nobody awaits.
    pub fn try_submit_detached<T: Task>(&self, task: T, input: T::Input) -> Result<(), SubmitError<T::Input>> {
        now(self.enqueue(task, input, Wait::Never, None))
    }

    /// Submits a task that has downstream tasks and returns its flow run, whose
    /// [`outcome`](Flow::outcome) reports every task of the run. Waits for room like
    /// [`submit`](Self::submit).
    ///
    /// A task without downstream tasks makes a run of one task.
    pub async fn submit_flow<T: Task>(&self, _task: T, input: T::Input) -> Result<Flow, SubmitError<T::Input>> {
        let pools = &self.inner.pools;
        let (index, pool) = match self.pool_of::<T>() {
            Ok(found) => found,
            Err(unavailable) => return Err(unavailable.with_input(input)),
        };
        let run = FlowRun::start(pools.handle(), pools.registry, index, None);
        let job = Job::new(pool.task(), Box::new(input), End::watch(Watch { watcher: run.clone(), task: index }));
        pool.push(job, Wait::Caller).await.map_err(refused::<T>)?;
        #[cfg(feature = "testing")]
        self.run_inline().await;
        Ok(Flow::new(run))
    }

    /// Queues a job of `T`, starting a flow run if the task has downstream tasks. Typed only at
    /// this edge: the input is erased once, and the pool found by the index the registry wrote
    /// into the task's slot.
    async fn enqueue<T: Task>(
        &self,
        _task: T,
        input: T::Input,
        wait: Wait,
        reply: Option<oneshot::Sender<ErasedOutcome>>,
    ) -> Result<(), SubmitError<T::Input>> {
        let (index, pool) = match self.pool_of::<T>() {
            Ok(found) => found,
            Err(unavailable) => return Err(unavailable.with_input(input)),
        };
        let end = end_for(&self.inner.pools, index, None, reply);
        pool.push(Job::new(pool.task(), Box::new(input), end), wait).await.map_err(refused::<T>)?;
        // A submit that may not wait cannot run the task either: it runs with the next one.
        #[cfg(feature = "testing")]
        if wait == Wait::Caller {
            self.run_inline().await;
        }
        Ok(())
    }

    /// On an inline test runtime, runs what the submit queued and all that follows from it.
    #[cfg(feature = "testing")]
    async fn run_inline(&self) {
        if self.inner.pools.harness().is_some_and(|harness| harness.inline) {
            self.inner.pools.run_held_until_idle().await;
        }
    }

    /// What a test runtime reads and drives.
    #[cfg(feature = "testing")]
    pub(crate) fn pools(&self) -> &Arc<Pools> {
        &self.inner.pools
    }

    #[cfg(feature = "testing")]
    pub(crate) fn delays(&self) -> &Arc<Delays> {
        &self.inner.delays
    }

    #[cfg(feature = "testing")]
    pub(crate) fn tickers(&self) -> impl Iterator<Item = &Arc<Ticker>> {
        self.inner.tickers.iter().map(|(_, ticker)| ticker)
    }

    /// The index and pool of `T`, built now if it is lazy.
    fn pool_of<T: Task>(&self) -> Result<(usize, &Arc<crate::pool::Pool>), Unavailable> {
        // A `Task` implemented by hand, without `#[task]`, is in no registry.
        let index = index_of::<T>().ok_or(Unavailable::NotRegistered(T::ID))?;
        let pool = self.inner.pools.pool_for(index, Route::from_scope).ok_or(Unavailable::Closed(T::ID))?;
        Ok((index, pool))
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

    fn delay_until<T: Task>(
        &self,
        input: T::Input,
        at: tokio::time::Instant,
        key: Option<String>,
    ) -> Result<DelayedKey, SubmitError<T::Input>> {
        let Some(index) = index_of::<T>() else {
            return Err(SubmitError::NotRegistered { task: T::ID, input });
        };
        let vtable = self.inner.pools.registry.tasks()[index].vtable();
        self.inner
            .delays
            .insert(index, vtable, Box::new(input), at, key)
            .map_err(|input| SubmitError::Closed { task: T::ID, input: unerase(input) })
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

    /// What task `T`'s schedule has done; `None` if it has no schedule. Typed by the handle:
    /// `rt.schedule_stats_of(sync_prices)`; [`schedule_stats`](Self::schedule_stats) takes an id,
    /// for tools.
    pub fn schedule_stats_of<T: Task>(&self, _task: T) -> Option<ScheduleStats> {
        self.schedule_stats_at(index_of::<T>()?)
    }

    /// What a scheduled task's schedule has done, by task id; `None` if no task has this id or
    /// it has no schedule.
    pub fn schedule_stats(&self, task_id: &str) -> Option<ScheduleStats> {
        self.schedule_stats_at(self.registry().index_of_id(task_id)?)
    }

    fn schedule_stats_at(&self, index: usize) -> Option<ScheduleStats> {
        let (_, ticker) = self.inner.tickers.iter().find(|(task, _)| *task == index)?;
        Some(ticker.stats())
    }

    /// Changes how a task with `variants` splits its traffic, at once and without a restart:
    /// `rt.set_weights("inventory.reserve", &[("v1", 50), ("v2", 50)])`. Variants not named keep
    /// their weight; a variant at 0 gets only coloured traffic and keeps its pre-warmed workers.
    /// The weights are this runtime's: the YAML's are the start-up values.
    ///
    /// # Errors
    ///
    /// If the task is unknown or has no variants, a name is not one of its variants, a weight
    /// is above [`meta::MAX_WEIGHT`](crate::meta::MAX_WEIGHT), or every weight would be 0; then
    /// nothing changed.
    pub fn set_weights(&self, task_id: &str, weights: &[(&str, u32)]) -> Result<(), crate::WeightsError> {
        let (task, router) = self.router(task_id)?;
        router.set(task, weights)
    }

    /// A task's variants and their current weights, in the YAML's order.
    ///
    /// # Errors
    ///
    /// If the task is unknown or has no variants.
    pub fn weights(&self, task_id: &str) -> Result<Vec<(&'static str, u32)>, crate::WeightsError> {
        Ok(self.router(task_id)?.1.weights())
    }

    fn router(&self, task_id: &str) -> Result<(&'static str, &crate::route::Router), crate::WeightsError> {
        let index = self
            .registry()
            .index_of_id(task_id)
            .ok_or_else(|| crate::WeightsError::UnknownTask { task: task_id.to_owned() })?;
        let task = self.registry().tasks()[index].id();
        let router = self.inner.pools.router(index).ok_or(crate::WeightsError::NoVariants { task })?;
        Ok((task, router))
    }

    /// A snapshot of one variant's pool: `rt.variant_stats("inventory.reserve", "v2")`. `None`
    /// if the task has no such variant. [`stats`](Self::stats) of a task with variants is its
    /// first variant's pool.
    pub fn variant_stats(&self, task_id: &str, variant: &str) -> Option<PoolStats> {
        let group = self.registry().variants_at(self.registry().index_of_id(task_id)?)?;
        let member = group.members.iter().find(|member| member.name == variant)?;
        Some(self.stats_at(member.index))
    }

    /// Every task with variants, each variant's count, failure rate and queue-wait and run-time
    /// percentiles side by side, with its difference from the first variant (see
    /// [`variants`](crate::variants)). Also served as JSON by `GET /variants`.
    pub fn variants(&self) -> crate::variants::VariantsReport {
        let pools = &self.inner.pools;
        let tasks = pools
            .routers()
            .iter()
            .map(|router| {
                let figures = router.group.members.iter().zip(router.weights()).map(|(member, (name, weight))| {
                    (name, weight, pools.built(member.index).and_then(|pool| pool.timings.as_deref()))
                });
                crate::variants::TaskVariants::new(pools.registry.tasks()[router.group.task].id(), figures)
            })
            .collect();
        crate::variants::VariantsReport { tasks }
    }

    /// Tasks that failed every attempt, oldest first, with their inputs and last errors.
    pub fn dead_letters(&self) -> Vec<TaskRecord> {
        lock(&self.inner.pools.shared.dead_letters).clone()
    }

    /// Takes the dead-letter list, leaving it empty.
    pub fn take_dead_letters(&self) -> Vec<TaskRecord> {
        Shared::take(&self.inner.pools.shared.dead_letters)
    }

    /// A snapshot of task `T`'s pool, typed by the handle: `rt.stats_of(close_unpaid)`. A task
    /// written by hand, without `#[task]`, has no pool and reads as an unbuilt one.
    pub fn stats_of<T: Task>(&self, _task: T) -> PoolStats {
        index_of::<T>().map(|index| self.stats_at(index)).unwrap_or_default()
    }

    /// A snapshot of a task's pool by id, for tools; `None` if no task has this id.
    pub fn stats(&self, task_id: &str) -> Option<PoolStats> {
        Some(self.stats_at(self.registry().index_of_id(task_id)?))
    }

    /// A snapshot of the pool of the function at `index` in the registry.
    pub(crate) fn stats_at(&self, index: usize) -> PoolStats {
        self.inner.pools.built(index).map(|pool| pool.stats()).unwrap_or_default()
    }

    /// The registry this runtime was started from.
    pub fn registry(&self) -> &'static Registry {
        self.inner.pools.registry
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

    /// Each built pool, with the function it runs.
    #[cfg(feature = "http")]
    pub(crate) fn built_pools(&self) -> Vec<(&'static crate::RegisteredTask, &Arc<crate::pool::Pool>)> {
        let pools = &self.inner.pools;
        pools.all_built().map(|(index, pool)| (&pools.registry.tasks()[index], pool)).collect()
    }

    /// Each built pool's poll statistics, by task id.
    #[cfg(feature = "profiling")]
    pub(crate) fn poll_reports(&self) -> std::collections::HashMap<&'static str, crate::profiling::stats::PollReport> {
        let pools = &self.inner.pools;
        pools.all_built().map(|(index, pool)| (pools.registry.tasks()[index].id(), pool.poll_report())).collect()
    }

    #[cfg(feature = "http")]
    pub(crate) fn lifecycle_watch(&self) -> watch::Receiver<Lifecycle> {
        self.inner.lifecycle.subscribe()
    }

    /// Runs `service` until the runtime stops (or is dropped).
    #[cfg(feature = "http")]
    pub(crate) fn spawn_service(&self, service: impl std::future::Future<Output = ()> + Send + 'static) {
        lock(&self.inner.services).spawn(service);
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

/// The result of a submit that never waits.
fn now<R>(submit: impl std::future::Future<Output = R>) -> R {
    match submit.now_or_never() {
        Some(result) => result,
        None => unreachable!("a submit with `Wait::Never` completes on its first poll"),
    }
}

/// A refused job as the typed error, with its input handed back.
fn refused<T: Task>(refused: crate::pool::Refused) -> SubmitError<T::Input> {
    Refusal { reason: refused.reason, input: refused.job.input }.typed::<T>()
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
