//! The [`Task`] trait that `#[task]` implements, and the [`Ctx`] every run receives.

use std::any::Any;
use std::future::Future;
use std::sync::Weak;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::SubmitError;
use crate::flow_id::FlowId;

/// A background task: what `#[task("id")]` generates for an `async fn`.
///
/// The macro turns the function's name into a unit struct that implements this trait, so the
/// name is a typed handle: `runtime.submit(close_unpaid, input)` only compiles when `input` is
/// the function's input type. You rarely implement it by hand.
pub trait Task: Copy + Send + Sync + 'static {
    /// The id that links the function to its YAML metadata, `domain.action`.
    const ID: &'static str;
    /// The input, cloned for each attempt; serde so that a durable backend can store it.
    type Input: Clone + Send + Sync + Serialize + DeserializeOwned + 'static;
    /// What a successful run returns; cloned when a flow hands it to several downstream tasks.
    type Output: Clone + Send + Sync + Serialize + DeserializeOwned + 'static;
    /// What a failed run returns; its `Display` form goes to the logs and the dead-letter list.
    type Error: std::fmt::Display + std::fmt::Debug + Send + 'static;

    /// Runs one attempt.
    fn run(ctx: Ctx, input: Self::Input) -> impl Future<Output = Result<Self::Output, Self::Error>> + Send + 'static;

    /// Where the registry writes the task's index, so that a typed submit finds its pool with
    /// one load. `#[task]` gives every task one; a `Task` written by hand has none and is in no
    /// registry. Not a public API.
    #[doc(hidden)]
    const __SLOT: Option<&'static TaskSlot> = None;
}

/// A task's index in the registry, written once when the registry is built. Not a public API:
/// `#[task]` makes one static per task.
#[doc(hidden)]
#[derive(Debug)]
pub struct TaskSlot(AtomicUsize);

impl TaskSlot {
    const UNSET: usize = usize::MAX;

    /// A slot not yet written.
    #[allow(clippy::new_without_default)] // only ever a `static`, made by the macro
    pub const fn new() -> Self {
        Self(AtomicUsize::new(Self::UNSET))
    }

    pub(crate) fn set(&self, index: usize) {
        self.0.store(index, Ordering::Release);
    }

    pub(crate) fn index(&self) -> Option<usize> {
        let index = self.0.load(Ordering::Acquire);
        (index != Self::UNSET).then_some(index)
    }
}

/// The index of task `T` in the linked registry; `None` for a task written by hand.
pub(crate) fn index_of<T: Task>() -> Option<usize> {
    T::__SLOT?.index()
}

/// What a running task knows about its run, and its way to submit more work.
#[derive(Clone, Debug)]
pub struct Ctx {
    task: &'static str,
    attempt: u32,
    flow: Option<FlowId>,
    #[cfg(feature = "otel")]
    trace: Option<crate::TraceId>,
}

impl Ctx {
    pub(crate) fn new(task: &'static str, attempt: u32, flow: Option<FlowId>) -> Self {
        Self {
            task,
            attempt,
            flow,
            #[cfg(feature = "otel")]
            trace: None,
        }
    }

    /// The same context in trace `trace`.
    #[cfg(feature = "otel")]
    pub(crate) fn with_trace(mut self, trace: Option<crate::TraceId>) -> Self {
        self.trace = trace;
        self
    }

    /// The context a task receives on its first attempt, for calling a task function directly
    /// in a unit test: `close_unpaid::call(Ctx::for_test::<close_unpaid>(), input)`.
    pub fn for_test<T: Task>() -> Self {
        Self::new(T::ID, 1, None)
    }

    /// The same context as attempt `attempt` (1-based) would see: for a unit test of a task
    /// that behaves differently on a retry, `Ctx::for_test::<close_unpaid>().with_attempt(3)`.
    pub fn with_attempt(mut self, attempt: u32) -> Self {
        self.attempt = attempt;
        self
    }

    /// The id of the running task.
    pub fn task_id(&self) -> &'static str {
        self.task
    }

    /// Which attempt this is, starting at 1.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The flow this run belongs to, if it was started by an upstream task's success.
    pub fn flow_id(&self) -> Option<FlowId> {
        self.flow
    }

    /// The trace this run belongs to: `None` in a build without the `otel` feature, without
    /// the layer of `preheat::otel` installed, or when the submit was not sampled. The task's
    /// log lines carry it as `trace_id`, and the flow's id as `flow_id`.
    pub fn trace_id(&self) -> Option<crate::TraceId> {
        #[cfg(feature = "otel")]
        return self.trace;
        #[cfg(not(feature = "otel"))]
        None
    }

    /// Submits another task from inside this one, the event-driven way: never waits, so a task
    /// cannot deadlock on a full queue (even its own). When the target queue is full and its
    /// policy is `block`, the job waits for room on its own, outside this task; with `reject`,
    /// the error hands the input back.
    ///
    /// Only works from the task's own future, where the runtime is known: from a tokio task it
    /// spawns, this returns [`SubmitError::Closed`].
    pub fn submit<T: Task>(&self, _task: T, input: T::Input) -> Result<(), SubmitError<T::Input>> {
        let Some(index) = index_of::<T>() else {
            return Err(SubmitError::NotRegistered { task: T::ID, input });
        };
        let Some(submitter) = CURRENT.try_with(Weak::upgrade).ok().flatten() else {
            return Err(SubmitError::Closed { task: T::ID, input });
        };
        submitter.submit_from_task(index, Box::new(input)).map_err(|refusal| refusal.typed::<T>())
    }
}

/// Where `Ctx::submit` sends its jobs: the runtime's pools, seen from below them. Handed to
/// each pool, which makes it known to the tasks its workers run.
pub(crate) trait Submitter: Send + Sync {
    /// Queues task `index` without waiting, starting a flow run if it has downstream tasks.
    fn submit_from_task(&self, index: usize, input: Box<dyn Any + Send + Sync>) -> Result<(), Refusal>;
}

/// Why a type-erased submit was refused, with the input handed back.
pub(crate) struct Refusal {
    pub(crate) reason: RefusalReason,
    pub(crate) input: Box<dyn Any + Send + Sync>,
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum RefusalReason {
    Full { capacity: u32 },
    Closed,
}

impl Refusal {
    /// The typed error, with the input downcast back to `T`'s.
    pub(crate) fn typed<T: Task>(self) -> SubmitError<T::Input> {
        let input = match self.input.downcast::<T::Input>() {
            Ok(input) => *input,
            Err(_) => unreachable!("a refused input has the type of the task it was submitted to"),
        };
        match self.reason {
            RefusalReason::Full { capacity } => SubmitError::Full { task: T::ID, capacity, input },
            RefusalReason::Closed => SubmitError::Closed { task: T::ID, input },
        }
    }
}

tokio::task_local! {
    /// The pools of the worker running the current task, for `Ctx::submit`.
    static CURRENT: Weak<dyn Submitter>;
}

/// Runs a worker with its pools known to the tasks it runs. Set once per worker, not per job.
pub(crate) async fn with_submitter(submitter: Weak<dyn Submitter>, worker: impl Future<Output = ()>) {
    CURRENT.scope(submitter, worker).await;
}
