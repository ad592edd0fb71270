//! Errors of the runtime API.

use std::fmt;

use crate::problem::RegistryError;

/// Why [`RuntimeBuilder::start`](crate::RuntimeBuilder::start) failed.
///
/// Its `Debug` form is its message, so that `fn main() -> Result<(), Box<dyn Error>>` (which
/// prints the error with `{:?}`) shows every problem readably, as `anyhow` users expect.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The registry is invalid: tasks and metadata do not match.
    #[error(transparent)]
    Registry(&'static RegistryError),
    /// A resource failed to warm after every attempt (`start` waits for warm-up by default).
    #[error("resource `{resource}` failed to warm after {attempts} attempt(s): {error}")]
    Warmup {
        /// The resource.
        resource: &'static str,
        /// Attempts made.
        attempts: u32,
        /// The last attempt's error.
        error: String,
    },
    /// The runtime began shutting down before it was ready.
    #[error("the runtime shut down before it was ready")]
    Stopped,
    /// The HTTP endpoints could not listen on their address.
    #[error("cannot serve HTTP on {addr}: {error}")]
    Http {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        error: std::io::Error,
    },
}

impl fmt::Debug for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Why a task was not submitted. The input is handed back: nothing is lost.
#[non_exhaustive]
pub enum SubmitError<I> {
    /// The task's queue is full and its `on_full` policy is `reject` (or the call was `try_submit`).
    Full {
        /// The task id.
        task: &'static str,
        /// The queue's capacity.
        capacity: u32,
        /// The input, handed back.
        input: I,
    },
    /// The runtime is shutting down.
    Closed {
        /// The task id.
        task: &'static str,
        /// The input, handed back.
        input: I,
    },
    /// The task is not in the registry: its `Task` impl was written by hand, not by `#[task]`.
    NotRegistered {
        /// The task id.
        task: &'static str,
        /// The input, handed back.
        input: I,
    },
}

impl<I> SubmitError<I> {
    /// The task id.
    pub fn task(&self) -> &'static str {
        match self {
            Self::Full { task, .. } | Self::Closed { task, .. } | Self::NotRegistered { task, .. } => task,
        }
    }

    /// Whether the queue was full.
    pub fn is_full(&self) -> bool {
        matches!(self, Self::Full { .. })
    }

    /// Whether the runtime was shutting down.
    pub fn is_closed(&self) -> bool {
        matches!(self, Self::Closed { .. })
    }

    /// The input that was not submitted.
    pub fn into_input(self) -> I {
        match self {
            Self::Full { input, .. } | Self::Closed { input, .. } | Self::NotRegistered { input, .. } => input,
        }
    }
}

impl<I> fmt::Display for SubmitError<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full { task, capacity, .. } => write!(f, "the queue of task `{task}` is full ({capacity} waiting)"),
            Self::Closed { task, .. } => write!(f, "the runtime is shutting down; task `{task}` was not submitted"),
            Self::NotRegistered { task, .. } => {
                write!(f, "task `{task}` is not registered; only `#[task]` functions can be submitted")
            }
        }
    }
}

// By hand so that `I` need not be `Debug`.
impl<I> fmt::Debug for SubmitError<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full { task, capacity, .. } => {
                f.debug_struct("Full").field("task", task).field("capacity", capacity).finish_non_exhaustive()
            }
            Self::Closed { task, .. } => f.debug_struct("Closed").field("task", task).finish_non_exhaustive(),
            Self::NotRegistered { task, .. } => {
                f.debug_struct("NotRegistered").field("task", task).finish_non_exhaustive()
            }
        }
    }
}

impl<I> std::error::Error for SubmitError<I> {}
