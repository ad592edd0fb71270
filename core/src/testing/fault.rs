//! [`Fault`]: what an injected attempt does instead of running its task.

use std::marker::PhantomData;

use crate::erased::ErasedError;
use crate::harness::InjectedFault;
use crate::task::Task;

/// What an attempt of task `T` does instead of running, for testing retries, dead letters and a
/// flow's failure handling: see [`TestRuntime::inject`](super::TestRuntime::inject).
///
/// The rest of the job path is the real one: the task's timeout ends a hanging attempt, a panic
/// is caught like one in the task, and the retry and dead-letter rules of its metadata apply.
pub struct Fault<T: Task> {
    pub(crate) fault: InjectedFault,
    task: PhantomData<T>,
}

impl<T: Task> Fault<T> {
    /// The attempt fails with the task's own error, made by `error` for each job it hits.
    pub fn fail(error: impl Fn() -> T::Error + Send + Sync + 'static) -> Self {
        Self::new(InjectedFault::Fail(Box::new(move || Box::new(error()) as ErasedError)))
    }

    /// The attempt panics with `message`.
    pub fn panic(message: impl Into<String>) -> Self {
        Self::new(InjectedFault::Panic(message.into()))
    }

    /// The attempt never finishes, so the task's `timeout` ends it (at once under
    /// `tokio::time::pause`, which moves the clock when nothing else can run).
    pub fn time_out() -> Self {
        Self::new(InjectedFault::Hang)
    }

    fn new(fault: InjectedFault) -> Self {
        Self { fault, task: PhantomData }
    }
}

impl<T: Task> std::fmt::Debug for Fault<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.fault {
            InjectedFault::Fail(_) => "fail",
            InjectedFault::Panic(_) => "panic",
            InjectedFault::Hang => "time out",
        };
        f.debug_struct("Fault").field("task", &T::ID).field("kind", &kind).finish()
    }
}
