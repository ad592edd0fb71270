//! [`Completion`]: the future a submit returns, which resolves to the task's outcome.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::sync::oneshot;

use crate::erased::{ErasedOutcome, typed_outcome};
use crate::outcome::{Outcome, TaskError};
use crate::task::Task;

/// Resolves to a submitted task's [`Outcome`]. Dropping it does not cancel the task.
#[must_use = "a Completion does nothing unless awaited; drop it to let the task run detached"]
pub struct Completion<T: Task> {
    receiver: oneshot::Receiver<ErasedOutcome>,
    task: PhantomData<fn() -> T>,
}

impl<T: Task> Completion<T> {
    pub(crate) fn new(receiver: oneshot::Receiver<ErasedOutcome>) -> Self {
        Self { receiver, task: PhantomData }
    }
}

impl<T: Task> Future for Completion<T> {
    type Output = Outcome<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // The sender is dropped without a value only when the job was abandoned at shutdown.
        Poll::Ready(match ready!(Pin::new(&mut self.receiver).poll(cx)) {
            Ok(outcome) => typed_outcome::<T>(outcome),
            Err(_) => Err(TaskError::Abandoned),
        })
    }
}

impl<T: Task> std::fmt::Debug for Completion<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Completion").field("task", &T::ID).finish_non_exhaustive()
    }
}
