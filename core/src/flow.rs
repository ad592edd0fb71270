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
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::watch;

use crate::registry::Registry;
use crate::runtime::Inner;
use crate::sync::lock;
use crate::task::Task;

/// Identifies one run of a flow; it is in the context and in every log line of the run's tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FlowId(u64);

impl FlowId {
    /// The id of a flow run stored in the PostgreSQL task table.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) fn from_stored(id: i64) -> Self {
        Self(id as u64)
    }
}

impl fmt::Display for FlowId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "flow-{:x}", self.0)
    }
}

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

/// A task's outcome as a watcher sees it: the output, type-erased, or the error's text.
pub(crate) type ErasedOutcome = Result<Arc<dyn Any + Send + Sync>, String>;

/// Told when a job ends. A flow run watches its tasks; a schedule watches its ticks.
pub(crate) trait Watcher: Send + Sync {
    fn finished(self: Arc<Self>, task: usize, outcome: ErasedOutcome);

    fn flow_id(&self) -> Option<FlowId> {
        None
    }
}

/// A job's watcher, with the job's task index.
#[derive(Clone)]
pub(crate) struct Watch {
    pub(crate) watcher: Arc<dyn Watcher>,
    pub(crate) task: usize,
}

/// One run of a flow.
pub(crate) struct FlowRun {
    id: FlowId,
    runtime: Weak<Inner>,
    registry: &'static Registry,
    state: Mutex<State>,
    done: watch::Sender<bool>,
    /// Told when the root task ends, for a schedule's overlap policy.
    root_watch: Option<Arc<dyn Watcher>>,
    root: usize,
}

struct State {
    status: HashMap<usize, TaskStatus>,
    outputs: HashMap<usize, Arc<dyn Any + Send + Sync>>,
    /// Upstream outputs collected so far by each task with several upstream tasks.
    parts: HashMap<usize, Vec<Option<Box<dyn Any + Send>>>>,
    /// Tasks not finished yet.
    open: usize,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl FlowRun {
    /// A run rooted at task `root`: the root and every task after it.
    pub(crate) fn start(
        runtime: Weak<Inner>,
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
        let id = FlowId(NEXT_ID.fetch_add(1, Ordering::Relaxed));
        let (done, _) = watch::channel(state.open == 0);
        tracing::debug!(flow = %id, root = registry.tasks()[root].id(), "flow started");
        Arc::new(Self { id, runtime, registry, state: Mutex::new(state), done, root_watch, root })
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
    fn finished(self: Arc<Self>, task: usize, outcome: ErasedOutcome) {
        if task == self.root
            && let Some(watch) = &self.root_watch
        {
            watch.clone().finished(task, outcome.clone());
        }
        let registry = self.registry;
        let mut ready: Vec<(usize, Box<dyn Any + Send>)> = Vec::new();
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
                        let handed = registry.tasks()[task].clone_output(&*output);
                        let upstream = registry.upstream(next);
                        if upstream.len() == 1 {
                            ready.push((next, handed));
                            continue;
                        }
                        let parts = state.parts.entry(next).or_insert_with(|| upstream.iter().map(|_| None).collect());
                        if let Some(slot) = upstream.iter().position(|&up| up == task) {
                            parts[slot] = Some(handed);
                        }
                        if parts.iter().all(Option::is_some) {
                            let parts = state.parts.remove(&next).unwrap_or_default().into_iter().flatten().collect();
                            match registry.tasks()[next].assemble(parts) {
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
            let submitted = match self.runtime.upgrade() {
                Some(runtime) => runtime.submit_erased(next, input, Some(Watch { watcher: self.clone(), task: next })),
                None => Err("the runtime is gone".to_owned()),
            };
            if let Err(reason) = submitted {
                self.clone().finished(next, Err(format!("not submitted: {reason}")));
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

    /// How the task with this id ended; `None` if it is not part of the run.
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
