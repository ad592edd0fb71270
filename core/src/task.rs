//! The [`Task`] trait that `#[task]` implements, and the [`Ctx`] every run receives.

use std::future::Future;

use serde::Serialize;

use crate::error::SubmitError;
use crate::flow::FlowId;
use serde::de::DeserializeOwned;

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
}

/// What a running task knows about its run, and its way to submit more work.
#[derive(Clone, Debug)]
pub struct Ctx {
    task: &'static str,
    attempt: u32,
    flow: Option<FlowId>,
}

impl Ctx {
    pub(crate) fn new(task: &'static str, attempt: u32, flow: Option<FlowId>) -> Self {
        Self { task, attempt, flow }
    }

    /// The context a task receives on its first attempt, for calling a task function directly
    /// in a unit test: `close_unpaid::call(Ctx::for_test::<close_unpaid>(), input)`.
    pub fn for_test<T: Task>() -> Self {
        Self::new(T::ID, 1, None)
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

    /// Submits another task from inside this one, the event-driven way: never waits, so a task
    /// cannot deadlock on a full queue (even its own). When the target queue is full and its
    /// policy is `block`, the job waits for room on its own, outside this task; with `reject`,
    /// the error hands the input back.
    ///
    /// Only works from the task's own future, where the runtime is known: from a tokio task it
    /// spawns, this returns [`SubmitError::Closed`].
    pub fn submit<T: Task>(&self, task: T, input: T::Input) -> Result<(), SubmitError<T::Input>> {
        match crate::runtime::current() {
            Some(runtime) => runtime.submit_from_task(task, input),
            None => Err(SubmitError::Closed { task: T::ID, input }),
        }
    }
}
