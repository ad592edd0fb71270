//! What a submitted task ends with, and the future that delivers it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::sync::oneshot;

use crate::task::Task;

/// The result of a task after all its attempts.
pub type Outcome<T> = Result<<T as Task>::Output, TaskError<<T as Task>::Error>>;

/// Why a task did not produce an output. The variant is that of the last attempt.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TaskError<E> {
    /// The task function returned an error.
    #[error("task failed: {0}")]
    Failed(E),
    /// The attempt ran longer than the task's `timeout` and was cancelled.
    #[error("task timed out after {0:?}")]
    TimedOut(Duration),
    /// The task function panicked; the worker survived.
    #[error("task panicked: {0}")]
    Panicked(String),
    /// The runtime shut down before the task finished; the task is listed in the
    /// [`ShutdownError`](crate::ShutdownError).
    #[error("the runtime shut down before the task finished")]
    Abandoned,
    /// A resource the task needs (`resources:`) failed to warm for good, so the task did not
    /// run. It is in the dead-letter list with its input, to run again once the cause is fixed.
    #[error("resource `{resource}` failed to warm: {error}")]
    ResourceFailed {
        /// The resource.
        resource: &'static str,
        /// Why its last warm-up attempt failed.
        error: String,
    },
}

impl<E> TaskError<E> {
    /// Whether the task ran out of time.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::TimedOut(_))
    }

    /// Whether the task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self, Self::Panicked(_))
    }
}

/// Resolves to a submitted task's [`Outcome`]. Dropping it does not cancel the task.
#[must_use = "a Completion does nothing unless awaited; drop it to let the task run detached"]
pub struct Completion<T: Task> {
    receiver: oneshot::Receiver<Outcome<T>>,
}

impl<T: Task> Completion<T> {
    pub(crate) fn new(receiver: oneshot::Receiver<Outcome<T>>) -> Self {
        Self { receiver }
    }
}

impl<T: Task> Future for Completion<T> {
    type Output = Outcome<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // The sender is dropped without a value only when the job was abandoned at shutdown.
        Poll::Ready(ready!(Pin::new(&mut self.receiver).poll(cx)).unwrap_or_else(|_| Err(TaskError::Abandoned)))
    }
}

impl<T: Task> std::fmt::Debug for Completion<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Completion").field("task", &T::ID).finish_non_exhaustive()
    }
}
