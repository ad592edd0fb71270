//! The [`Task`] trait that `#[task]` implements, and the [`Ctx`] every run receives.

use std::future::Future;

use serde::Serialize;
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
    /// What a successful run returns.
    type Output: Send + Serialize + DeserializeOwned + 'static;
    /// What a failed run returns; its `Display` form goes to the logs and the dead-letter list.
    type Error: std::fmt::Display + std::fmt::Debug + Send + 'static;

    /// Runs one attempt.
    fn run(ctx: Ctx, input: Self::Input) -> impl Future<Output = Result<Self::Output, Self::Error>> + Send + 'static;
}

/// What a running task knows about its run.
#[derive(Clone, Debug)]
pub struct Ctx {
    task: &'static str,
    attempt: u32,
}

impl Ctx {
    pub(crate) fn new(task: &'static str, attempt: u32) -> Self {
        Self { task, attempt }
    }

    /// The context a task receives on its first attempt, for calling a task function directly
    /// in a unit test: `close_unpaid::call(Ctx::for_test::<close_unpaid>(), input)`.
    pub fn for_test<T: Task>() -> Self {
        Self::new(T::ID, 1)
    }

    /// The id of the running task.
    pub fn task_id(&self) -> &'static str {
        self.task
    }

    /// Which attempt this is, starting at 1.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }
}
