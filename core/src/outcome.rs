//! What a submitted task ends with: its output, or a [`TaskError`].

use std::time::Duration;

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

    /// The same error with the task's own error, if it is one, mapped by `f`.
    pub(crate) fn map_failed<F>(self, f: impl FnOnce(E) -> F) -> TaskError<F> {
        match self {
            Self::Failed(error) => TaskError::Failed(f(error)),
            Self::TimedOut(limit) => TaskError::TimedOut(limit),
            Self::Panicked(message) => TaskError::Panicked(message),
            Self::Abandoned => TaskError::Abandoned,
            Self::ResourceFailed { resource, error } => TaskError::ResourceFailed { resource, error },
        }
    }

    /// The error, borrowing the task's own error (the messages are copied: failures only).
    pub(crate) fn as_ref(&self) -> TaskError<&E> {
        match self {
            Self::Failed(error) => TaskError::Failed(error),
            Self::TimedOut(limit) => TaskError::TimedOut(*limit),
            Self::Panicked(message) => TaskError::Panicked(message.clone()),
            Self::Abandoned => TaskError::Abandoned,
            Self::ResourceFailed { resource, error } => TaskError::ResourceFailed { resource, error: error.clone() },
        }
    }
}
