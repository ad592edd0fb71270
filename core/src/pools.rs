//! [`Pools`]: the pool table of a runtime, one cell per task of the registry.
//!
//! What the parts below the runtime (flows, delays, schedules, the PostgreSQL worker) are handed
//! instead of the runtime: they find a task's pool here by its index, and a `warmup: lazy` pool
//! is built here on its first job.

use std::sync::{Arc, Mutex, Weak};

use once_cell::sync::OnceCell;
use tokio::runtime::Handle;
use tokio::sync::mpsc;

use crate::pool::{Pool, PoolContext, Shared};
use crate::registry::Registry;
use crate::route::{Route, Router};
use crate::sync::lock;
use crate::task::Submitter;
use crate::warmup::Resources;

/// Every pool of one runtime.
pub(crate) struct Pools {
    pub(crate) registry: &'static Registry,
    /// Indexed like `registry.tasks()`; empty cells are lazy pools not yet needed.
    cells: Box<[OnceCell<Arc<Pool>>]>,
    /// One per task with `variants`, in the registry's order of them.
    routers: Box<[Router]>,
    pub(crate) shared: Arc<Shared>,
    handle: Handle,
    resources: Arc<Resources>,
    /// Set by shutdown. A lazy pool is only built while holding it unset, so shutdown sees
    /// every pool that could have accepted a job.
    closing: Mutex<bool>,
    /// What the pools' workers hand to `Ctx::submit`: this table, seen as a [`Submitter`].
    this: Weak<Pools>,
}

impl Pools {
    pub(crate) fn new(
        registry: &'static Registry,
        handle: Handle,
        resources: Arc<Resources>,
        shared: Shared,
    ) -> Arc<Self> {
        Arc::new_cyclic(|this| Self {
            registry,
            cells: registry.tasks().iter().map(|_| OnceCell::new()).collect(),
            routers: registry.variant_groups().iter().map(Router::new).collect(),
            shared: Arc::new(shared),
            handle,
            resources,
            closing: Mutex::new(false),
            this: this.clone(),
        })
    }

    /// The table, for handing to a job that outlives this borrow.
    pub(crate) fn handle(&self) -> Weak<Pools> {
        self.this.clone()
    }

    /// Builds the pool of task `index` now (start-up: `warmup: eager`); its workers each send one
    /// message on `ready` once parked.
    pub(crate) fn build(&self, index: usize, ready: Option<mpsc::UnboundedSender<()>>) -> &Arc<Pool> {
        self.cells[index].get_or_init(|| {
            let task = &self.registry.tasks()[index];
            let submitter: Weak<dyn Submitter> = self.this.clone();
            let context = PoolContext {
                index,
                #[cfg(feature = "testing")]
                task_index: self.registry.task_of(index),
                variants: self.registry.group_index(index),
                #[cfg(feature = "otel")]
                variant: task.variant(),
                task: task.vtable(),
                meta: task.meta(),
                submitter,
                shared: self.shared.clone(),
                handle: self.handle.clone(),
                resources: self.resources.needed(&task.meta().resources),
            };
            Pool::start(context, ready)
        })
    }

    /// The pool of task `index`, built now if it is lazy; `None` once shutdown has begun.
    pub(crate) fn pool(&self, index: usize) -> Option<&Arc<Pool>> {
        self.cells[index].get().or_else(|| {
            let closing = lock(&self.closing);
            (!*closing).then(|| self.build(index, None))
        })
    }

    /// The pool a job of task `index` goes to: its own, or for a task with `variants`, the
    /// variant's that `route` picks. `route` is only read for a task with variants.
    pub(crate) fn pool_for(&self, index: usize, route: impl FnOnce() -> Route) -> Option<&Arc<Pool>> {
        // The task's own pool says whether it routes: it is in cache for the push anyway, where
        // the registry's table would be one more load on every submit.
        let pool = self.pool(index)?;
        match pool.variants {
            None => Some(pool),
            Some(group) => self.pool(self.routers[group].pick(&route())),
        }
    }

    /// Every task's router, one per task with variants, in the registry's order of them.
    pub(crate) fn routers(&self) -> &[Router] {
        &self.routers
    }

    /// The router of task `index`, if it has variants.
    pub(crate) fn router(&self, index: usize) -> Option<&Router> {
        self.registry.group_index(index).map(|group| &self.routers[group])
    }

    /// The pool of task `index` if it is built.
    pub(crate) fn built(&self, index: usize) -> Option<&Arc<Pool>> {
        self.cells[index].get()
    }

    /// Every built pool, with its task's index.
    pub(crate) fn all_built(&self) -> impl Iterator<Item = (usize, &Arc<Pool>)> {
        self.cells.iter().enumerate().filter_map(|(index, cell)| Some((index, cell.get()?)))
    }

    /// A test runtime's log, held jobs and faults.
    #[cfg(feature = "testing")]
    pub(crate) fn harness(&self) -> Option<&Arc<crate::harness::Harness>> {
        self.shared.harness.as_ref()
    }

    /// Runs the oldest held job of any pool (a test runtime's) in the caller; `false` if none
    /// is left.
    #[cfg(feature = "testing")]
    pub(crate) async fn run_next_held(&self) -> bool {
        let Some(harness) = self.harness() else { return false };
        while let Some(index) = harness.next_held() {
            if let Some(pool) = self.built(index)
                && pool.run_held().await
            {
                return true;
            }
        }
        false
    }

    /// Runs held jobs, and the jobs they queue, until none is left; how many ran.
    #[cfg(feature = "testing")]
    pub(crate) async fn run_held_until_idle(&self) -> usize {
        let mut ran = 0;
        while self.run_next_held().await {
            ran += 1;
        }
        ran
    }

    /// Stops building pools and closes every built one; returns their workers to wait for.
    pub(crate) fn close(&self) -> Vec<tokio::task::JoinSet<()>> {
        let mut closing = lock(&self.closing);
        *closing = true;
        self.all_built()
            .map(|(_, pool)| {
                pool.close();
                pool.take_workers()
            })
            .collect()
    }
}

impl Drop for Pools {
    fn drop(&mut self) {
        // Without a shutdown, let workers finish what is queued and exit rather than park forever.
        for (_, pool) in self.all_built() {
            pool.close();
        }
    }
}

impl std::fmt::Debug for Pools {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pools").field("tasks", &self.cells.len()).finish_non_exhaustive()
    }
}
