//! [`RuntimeBuilder`]: the settings of a runtime, and its start-up, step by step.
//!
//! `registry` (join the linked tasks and metadata), `pools` (every eager pool, its workers
//! parked), `timers` (schedules armed), then the warm-up: `jobs` (the runtime's own no-op job
//! through every eager pool) and `warmup:<resource>` (each `#[warmup]`, which began with the
//! pools). Each step is timed in [`Runtime::readiness`].

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use preheat_meta::Warmup;
use tokio::runtime::Handle;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::{Inner, Runtime};

/// Starts the HTTP endpoints of a runtime on an address.
#[cfg(feature = "http")]
pub(crate) type ServeHttp =
    for<'a> fn(&'a Runtime, std::net::SocketAddr) -> futures_util::future::BoxFuture<'a, Result<(), StartError>>;
use crate::error::StartError;
use crate::pools::Pools;
use crate::readiness::{Lifecycle, Phase};
use crate::registry::Registry;
use crate::schedule::Ticker;
use crate::sync::lock;
use crate::warmup::{Resources, WarmState};

/// Configures and starts a [`Runtime`].
#[derive(Debug, Clone)]
#[must_use = "call `.start().await` to start the runtime"]
pub struct RuntimeBuilder {
    shutdown_timeout: Duration,
    warm_in_background: bool,
    /// Replaces every task's `warmup:` when set.
    warmup: Option<Warmup>,
    /// The HTTP endpoints' address and the function that serves them (set in `http.rs`, the
    /// layer above, so that start-up need not know it).
    #[cfg(feature = "http")]
    pub(crate) http: Option<(std::net::SocketAddr, ServeHttp)>,
    #[cfg(feature = "postgres")]
    postgres: Option<crate::postgres::Postgres>,
    /// A test runtime's setup (see [`crate::testing`]).
    #[cfg(feature = "testing")]
    pub(crate) testing: Option<crate::harness::Setup>,
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
            #[cfg(feature = "testing")]
            testing: None,
        }
    }
}

impl RuntimeBuilder {
    /// How long [`Runtime::shutdown`] waits for queued and running tasks. Default: 30 s.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
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
    /// parked on its queue, and arms the timers, while the resources warm beside them. Then it
    /// runs one internal no-op job through every eager pool, so that the first real job finds the
    /// job path warm, and waits for the resources (unless
    /// [`warm_in_background`](Self::warm_in_background)); the runtime is then
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
        let handle = Handle::current();
        let resources = Arc::new(Resources::new(registry.warmers()));
        #[allow(unused_mut)] // changed by a test runtime only
        let mut shared = crate::pool::Shared::default();
        #[allow(unused_mut)]
        let mut timers_run = Timers::All;
        #[cfg(feature = "testing")]
        if let Some(setup) = &self.testing {
            for resource in &setup.supplied {
                resources.supplied(resource);
            }
            shared.harness = Some(Arc::new(crate::harness::Harness::new(setup.held, setup.inline)));
            timers_run = match (setup.held, setup.schedules) {
                // The test moves time, and fires what is due itself.
                (true, _) => Timers::None,
                (false, true) => Timers::All,
                (false, false) => Timers::DelaysOnly,
            };
        }
        let mut timers = JoinSet::new();
        // The warmers run while the pools are built: a database connection need not wait for
        // workers, nor workers for it (tasks that need it wait for it by themselves).
        if !registry.warmers().is_empty() {
            let resources = resources.clone();
            timers.spawn_on(async move { resources.warm_all().await }, &handle);
        }
        let pools = Pools::new(registry, handle.clone(), resources.clone(), shared);
        #[cfg(feature = "postgres")]
        let postgres = self.postgres.map(|postgres| crate::postgres::Worker::new(postgres, registry));
        let tickers = registry
            .tasks()
            .iter()
            .enumerate()
            .filter_map(|(index, task)| {
                let schedule = task.meta().schedule.as_ref()?;
                // One ticker per task: its other variants are only pools its ticks route to.
                if registry.task_of(index) != index {
                    return None;
                }
                let pools = Arc::downgrade(&pools);
                #[cfg(feature = "postgres")]
                let ticker = Ticker::new(index, task.id(), pools, postgres.clone(), schedule);
                #[cfg(not(feature = "postgres"))]
                let ticker = Ticker::new(index, task.id(), pools, schedule);
                Some((index, ticker))
            })
            .collect();
        let inner = Arc::new(Inner {
            pools,
            shutdown_timeout: self.shutdown_timeout,
            stopped: tokio::sync::OnceCell::new(),
            tickers,
            delays: Arc::default(),
            timers: Mutex::new(timers),
            #[cfg(feature = "http")]
            services: Mutex::new(JoinSet::new()),
            lifecycle: watch::Sender::new(Lifecycle::Starting),
            phases: Mutex::new(vec![Phase { name: "registry".into(), took: registry_took }]),
            resources,
            #[cfg(feature = "http")]
            http_addr: once_cell::sync::OnceCell::new(),
            #[cfg(feature = "postgres")]
            postgres,
        });
        let eager = inner.build_eager_pools(self.warmup).await;
        inner.arm_timers(&handle, timers_run).await;
        inner.lifecycle.send_replace(Lifecycle::Warming);
        let runtime = Runtime { inner };
        // Listening before the warm-up, so that `/readyz` says what is still warming.
        #[cfg(feature = "http")]
        if let Some((addr, serve)) = self.http
            && let Err(error) = serve(&runtime, addr).await
        {
            // The pools and timers stop; the caller gets the reason, not a runtime nobody can probe.
            let _ = runtime.shutdown().await;
            return Err(error);
        }
        let inner = runtime.inner.clone();
        if self.warm_in_background {
            inner.warm_job_path(&eager).await;
            lock(&inner.timers).spawn_on(
                {
                    let inner = inner.clone();
                    async move {
                        inner.resources.settled().await;
                        inner.warmed(began);
                    }
                },
                &handle,
            );
        } else {
            inner.resources.settled().await;
            // Last, so that the first real job finds the job path as the warm-up left it.
            inner.warm_job_path(&eager).await;
            inner.warmed(began);
            if let Err(error) = inner.resources.ready().await {
                // Whatever was started stops; the caller gets the reason, not a half-ready runtime.
                let _ = runtime.shutdown().await;
                return Err(error);
            }
        }
        Ok(runtime)
    }
}

/// Which timers start-up arms: all of them, except in a test runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(not(feature = "testing"), allow(dead_code))]
enum Timers {
    All,
    /// Delayed tasks run, schedules do not fire.
    DelaysOnly,
    /// Neither: the test fires what is due.
    None,
}

impl Inner {
    /// Builds every eager pool and waits until each of its `workers.min` workers is parked on
    /// its queue; returns the pools' task indices.
    async fn build_eager_pools(&self, warmup: Option<Warmup>) -> Vec<usize> {
        let step = Instant::now();
        let (ready, mut parked) = mpsc::unbounded_channel();
        let mut warming = 0;
        let mut eager = Vec::new();
        for (index, task) in self.pools.registry.tasks().iter().enumerate() {
            if warmup.unwrap_or(task.meta().warmup) == Warmup::Eager {
                self.pools.build(index, Some(ready.clone()));
                warming += task.meta().workers.min;
                eager.push(index);
            }
        }
        drop(ready);
        for _ in 0..warming {
            if parked.recv().await.is_none() {
                break;
            }
        }
        self.phase("pools", step.elapsed());
        eager
    }

    /// Timer pre-warm: every schedule's first fire time is computed and armed, and the delayed
    /// tasks' driver started.
    async fn arm_timers(&self, handle: &Handle, run: Timers) {
        let step = Instant::now();
        let (armed, mut arming) = mpsc::unbounded_channel();
        let tickers = if run == Timers::All { self.tickers.len() } else { 0 };
        {
            let mut timers = lock(&self.timers);
            for (_, ticker) in &self.tickers[..tickers] {
                timers.spawn_on(ticker.clone().run(armed.clone()), handle);
            }
            if run != Timers::None {
                timers.spawn_on(self.delays.clone().drive(Arc::downgrade(&self.pools)), handle);
            }
        }
        drop(armed);
        for _ in 0..tickers {
            if arming.recv().await.is_none() {
                break;
            }
        }
        self.phase("timers", step.elapsed());
    }

    /// Runs the runtime's own no-op job through every eager pool, end to end (queue, wake-up,
    /// worker, attempt, outcome), so that the first real job finds that code, the allocator and
    /// the workers' wake-up path hot. Never the user's code: the job has a table of its own.
    async fn warm_job_path(&self, eager: &[usize]) {
        let step = Instant::now();
        let done: Vec<_> =
            eager.iter().filter_map(|&index| self.pools.built(index)).filter_map(|pool| pool.warm_up()).collect();
        for warmed in done {
            let _ = warmed.await;
        }
        self.phase("jobs", step.elapsed());
    }

    /// Once every warmer has finished: records their durations, and makes the runtime ready if
    /// all are warm.
    fn warmed(&self, began: Instant) {
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
                worker.start(Arc::downgrade(&self.pools));
            }
        }
        self.report_start(began);
    }

    /// The one-screen start-up report: each step and how long it took.
    fn report_start(&self, began: Instant) {
        let phases = lock(&self.phases).clone();
        let steps: Vec<String> = phases.iter().map(|phase| format!("{} {:.2?}", phase.name, phase.took)).collect();
        let state = *self.lifecycle.borrow();
        let workers: u32 = self.pools.all_built().map(|(_, pool)| pool.stats().workers).sum();
        tracing::info!(
            tasks = self.pools.registry.tasks().len(),
            workers,
            resources = self.pools.registry.warmers().len(),
            %state,
            "preheat started in {:.2?}: {}",
            began.elapsed(),
            steps.join(", ")
        );
    }
}
