//! Flows: a task's success starts the tasks that follow it, as `upstream` edges in YAML say.
//!
//! Submitting a task that has downstream tasks starts a flow run with a [`FlowId`]. When a task
//! of the run succeeds, its output is handed to each downstream task as its input; a task with
//! several upstream tasks runs once all of them have succeeded, with their outputs as a tuple
//! (see [`FanIn`](crate::FanIn)). When a task fails for good, every task after it is skipped and
//! the run fails. [`Flow::outcome`] waits for the end and reports each task.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::{oneshot, watch};

use crate::erased::{ErasedInput, ErasedOutcome};
pub use crate::flow_id::FlowId;
use crate::job::{End, Ended, Job, Watch, Watcher};
use crate::pool::Wait;
use crate::pools::Pools;
use crate::registry::Registry;
use crate::route::{Route, stable_hash};
use crate::sync::lock;
use crate::task::{Refusal, RefusalReason, Submitter, Task};

/// Where a task of a flow run stands.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TaskStatus {
    /// Not finished yet (queued, running or waiting for its upstream tasks).
    Pending,
    /// Finished with an output.
    Succeeded,
    /// Failed for good, with the last error.
    Failed(String),
    /// Never ran, and why.
    Skipped(String),
}

/// One run of a flow.
pub(crate) struct FlowRun {
    id: FlowId,
    pools: Weak<Pools>,
    registry: &'static Registry,
    state: Mutex<State>,
    done: watch::Sender<bool>,
    /// Told when the root task ends, for a schedule's overlap policy.
    root_watch: Option<Arc<dyn Watcher>>,
    root: usize,
    /// The colour of the scope the run was started in (see [`Route::colour`]).
    colour: Option<Arc<str>>,
    /// The root job's trace, which the run's later tasks continue (fan-out and fan-in alike).
    #[cfg(feature = "otel")]
    trace: std::sync::OnceLock<crate::trace::Carried>,
}

struct State {
    status: HashMap<usize, TaskStatus>,
    outputs: HashMap<usize, Arc<dyn Any + Send + Sync>>,
    /// Upstream outputs collected so far by each task with several upstream tasks.
    parts: HashMap<usize, Vec<Option<Box<dyn Any + Send>>>>,
    /// Tasks not finished yet.
    open: usize,
}

impl FlowRun {
    /// A run rooted at task `root`: the root and every task after it.
    pub(crate) fn start(
        pools: Weak<Pools>,
        registry: &'static Registry,
        root: usize,
        root_watch: Option<Arc<dyn Watcher>>,
    ) -> Arc<Self> {
        let mut status = HashMap::new();
        let mut queue = vec![root];
        while let Some(task) = queue.pop() {
            if status.insert(task, TaskStatus::Pending).is_none() {
                queue.extend(registry.downstream(task));
            }
        }
        // A task whose upstream lies outside this run would wait forever: skip it now.
        let mut skipped = Vec::new();
        for (&task, _) in status.iter() {
            if let Some(missing) = registry.upstream(task).iter().find(|up| !status.contains_key(up)) {
                skipped.push((task, format!("`{}` is not part of this flow", registry.tasks()[*missing].id())));
            }
        }
        let mut state = State { open: status.len(), status, outputs: HashMap::new(), parts: HashMap::new() };
        for (task, reason) in skipped {
            skip_after(registry, &mut state, task, &reason, true);
        }
        let id = FlowId::next();
        let (done, _) = watch::channel(state.open == 0);
        tracing::debug!(flow = %id, root = registry.tasks()[root].id(), "flow started");
        // Only a registry with variants routes: every other run skips the task-local read.
        let colour = match registry.variant_groups() {
            [] => None,
            _ => Route::current().and_then(|route| route.colour_name().cloned()),
        };
        Arc::new(Self {
            id,
            pools,
            registry,
            state: Mutex::new(state),
            done,
            root_watch,
            root,
            colour,
            #[cfg(feature = "otel")]
            trace: std::sync::OnceLock::new(),
        })
    }

    /// How the run's downstream tasks pick their variants: by the run's id, so that one run
    /// keeps to one variant at each weight, in the colour the root was submitted in.
    fn route(&self) -> Route {
        let route = match &self.colour {
            Some(colour) => Route::new().colour(colour.clone()),
            None => Route::new(),
        };
        route.or_key(Some(stable_hash(&self.id)))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        lock(&self.state)
    }

    fn report(&self) -> FlowReport {
        let state = self.state();
        let name = |task: &usize| self.registry.tasks()[*task].id();
        FlowReport {
            id: self.id,
            tasks: state.status.iter().map(|(task, status)| (name(task), status.clone())).collect(),
            outputs: state.outputs.iter().map(|(task, output)| (name(task), output.clone())).collect(),
        }
    }
}

impl Watcher for FlowRun {
    fn finished(self: Arc<Self>, task: usize, outcome: Ended) {
        if task == self.root
            && let Some(watch) = &self.root_watch
        {
            watch.clone().finished(task, outcome.clone());
        }
        let registry = self.registry;
        let mut ready: Vec<(usize, ErasedInput)> = Vec::new();
        let finished = {
            let mut state = self.state();
            if state.status.get(&task) != Some(&TaskStatus::Pending) {
                return;
            }
            state.open -= 1;
            match outcome {
                Ok(output) => {
                    state.status.insert(task, TaskStatus::Succeeded);
                    for &next in registry.downstream(task) {
                        if state.status.get(&next) != Some(&TaskStatus::Pending) {
                            continue;
                        }
                        let handed = (registry.tasks()[task].vtable().clone_output)(&*output);
                        let upstream = registry.upstream(next);
                        if upstream.len() == 1 {
                            ready.push((next, handed));
                            continue;
                        }
                        let parts = state.parts.entry(next).or_insert_with(|| upstream.iter().map(|_| None).collect());
                        if let Some(slot) = upstream.iter().position(|&up| up == task) {
                            // Dropping `Sync`: a part is moved into its tuple, never shared.
                            parts[slot] = Some(handed as Box<dyn Any + Send>);
                        }
                        if parts.iter().all(Option::is_some) {
                            let parts = state.parts.remove(&next).unwrap_or_default().into_iter().flatten().collect();
                            match registry.tasks()[next].entry.assemble(parts) {
                                Some(input) => ready.push((next, input)),
                                None => unreachable!("edge types are checked when the registry is built"),
                            }
                        }
                    }
                    state.outputs.insert(task, output);
                }
                Err(error) => {
                    state.status.insert(task, TaskStatus::Failed(error));
                    let reason = format!("`{}` failed", registry.tasks()[task].id());
                    skip_after(registry, &mut state, task, &reason, false);
                }
            }
            state.open == 0
        };
        for (next, input) in ready {
            let watch = End::watch(Watch { watcher: self.clone(), task: next });
            let submit = || match self.pools.upgrade() {
                Some(pools) => push(&pools, next, input, watch, || self.route()),
                None => Err(RefusalReason::Closed),
            };
            #[cfg(feature = "otel")]
            let submitted = crate::trace::scoped(crate::trace::Parent::Kept(self.trace.get()), submit);
            #[cfg(not(feature = "otel"))]
            let submitted = submit();
            if let Err(reason) = submitted {
                self.clone().finished(next, Err(format!("not submitted: {}", refusal_text(reason))));
            }
        }
        if finished {
            let failed = self.state().status.values().any(|status| *status != TaskStatus::Succeeded);
            tracing::debug!(flow = %self.id, failed, "flow finished");
            self.done.send_replace(true);
        }
    }

    fn flow_id(&self) -> Option<FlowId> {
        Some(self.id)
    }

    #[cfg(feature = "otel")]
    fn keep_trace(&self, trace: &crate::trace::Carried) {
        // The first job to end here is the root's: later ones are the run's own tasks.
        let _ = self.trace.set(trace.clone());
    }
}

/// Marks every pending task after `task` (and `task` itself if `including`) skipped.
fn skip_after(registry: &Registry, state: &mut State, task: usize, reason: &str, including: bool) {
    let mut queue: Vec<usize> = if including { vec![task] } else { registry.downstream(task).to_vec() };
    while let Some(next) = queue.pop() {
        if state.status.get(&next) == Some(&TaskStatus::Pending) {
            state.status.insert(next, TaskStatus::Skipped(reason.to_owned()));
            state.open -= 1;
            queue.extend(registry.downstream(next));
        }
    }
}

/// A flow run started by [`Runtime::submit_flow`](crate::Runtime::submit_flow).
#[must_use = "a Flow does nothing unless its outcome is awaited; drop it to let the run go on alone"]
pub struct Flow {
    run: Arc<FlowRun>,
}

impl Flow {
    pub(crate) fn new(run: Arc<FlowRun>) -> Self {
        Self { run }
    }

    /// The run's id.
    pub fn id(&self) -> FlowId {
        self.run.id
    }

    /// Waits until every task of the run has succeeded, failed or been skipped.
    pub async fn outcome(&self) -> FlowReport {
        let mut done = self.run.done.subscribe();
        // The sender lives in `self.run`, so the wait ends only when the run does.
        let _ = done.wait_for(|finished| *finished).await;
        self.run.report()
    }
}

impl fmt::Debug for Flow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Flow").field("id", &self.run.id).finish_non_exhaustive()
    }
}

/// How each task of a finished flow run ended, with the outputs of those that succeeded.
#[derive(Clone)]
pub struct FlowReport {
    id: FlowId,
    tasks: HashMap<&'static str, TaskStatus>,
    outputs: HashMap<&'static str, Arc<dyn Any + Send + Sync>>,
}

impl FlowReport {
    /// The run's id.
    pub fn id(&self) -> FlowId {
        self.id
    }

    /// Whether every task of the run succeeded.
    pub fn succeeded(&self) -> bool {
        self.tasks.values().all(|status| *status == TaskStatus::Succeeded)
    }

    /// How task `T` ended; `None` if it is not part of the run. Typed:
    /// `report.status_of::<reserve_stock>()`.
    pub fn status_of<T: Task>(&self) -> Option<&TaskStatus> {
        self.status(T::ID)
    }

    /// How the task with this id ended, for tools; `None` if it is not part of the run.
    pub fn status(&self, task_id: &str) -> Option<&TaskStatus> {
        self.tasks.get(task_id)
    }

    /// The output of task `T`, if it succeeded in this run.
    pub fn output<T: Task>(&self) -> Option<&T::Output> {
        self.outputs.get(T::ID)?.downcast_ref()
    }
}

impl fmt::Debug for FlowReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlowReport").field("id", &self.id).field("tasks", &self.tasks).finish_non_exhaustive()
    }
}

/// Where a job of task `index` ends: in a new flow run if the task has downstream tasks (then
/// `root` and `reply` are told of the task's own end too), else in `root` or `reply`.
pub(crate) fn end_for(
    pools: &Pools,
    index: usize,
    root: Option<Arc<dyn Watcher>>,
    reply: Option<oneshot::Sender<ErasedOutcome>>,
) -> End {
    if pools.registry.downstream(index).is_empty() {
        let end = match (root, reply) {
            (Some(watcher), None) => End::watch(Watch { watcher, task: index }),
            (None, Some(reply)) => End::Reply(reply),
            (Some(watcher), Some(reply)) => End::WatchAndReply(Box::new((Watch { watcher, task: index }, reply))),
            (None, None) => End::Detached,
        };
        return end;
    }
    let run = FlowRun::start(pools.handle(), pools.registry, index, root);
    let watch = Watch { watcher: run.clone(), task: index };
    match reply {
        Some(reply) => End::WatchAndReply(Box::new((watch, reply))),
        None => End::watch(watch),
    }
}

/// Queues a type-erased input for task `index` without waiting (flows, schedules, delays,
/// `Ctx::submit`), starting a flow run if the task has downstream tasks; `root` is told of the
/// task's end.
pub(crate) fn submit_root(
    pools: &Pools,
    index: usize,
    input: ErasedInput,
    root: Option<Arc<dyn Watcher>>,
    route: impl FnOnce() -> Route,
) -> Result<(), RefusalReason> {
    let end = end_for(pools, index, root, None);
    push(pools, index, input, end, route)
}

/// Queues a job without waiting; a refused job is dropped (nobody can take its input back),
/// and the reason returned.
fn push(
    pools: &Pools,
    index: usize,
    input: ErasedInput,
    end: End,
    route: impl FnOnce() -> Route,
) -> Result<(), RefusalReason> {
    let pool = pools.pool_for(index, route).ok_or(RefusalReason::Closed)?;
    pool.push_now(Job::new(pool.task(), input, end), Wait::Background).map_err(|refused| refused.reason)
}

/// A refusal as the logs and a flow's report say it.
pub(crate) fn refusal_text(reason: RefusalReason) -> &'static str {
    match reason {
        RefusalReason::Full { .. } => "the queue is full",
        RefusalReason::Closed => "the runtime is shutting down",
    }
}

impl Submitter for Pools {
    fn submit_from_task(&self, index: usize, input: ErasedInput) -> Result<(), Refusal> {
        let pool = self.pool_for(index, Route::from_scope).ok_or(RefusalReason::Closed);
        let pool = match pool {
            Ok(pool) => pool,
            Err(reason) => return Err(Refusal { reason, input }),
        };
        let end = end_for(self, index, None, None);
        pool.push_now(Job::new(pool.task(), input, end), Wait::Background)
            .map_err(|refused| Refusal { reason: refused.reason, input: refused.job.input })
    }
}
