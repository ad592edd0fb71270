//! [`Delay`]: a delayed submit being written, `rt.delay(task, input).key(..).after(..)`.

use tokio::time::Instant;

use super::Runtime;
use crate::delay::DelayedKey;
use crate::error::SubmitError;
use crate::task::Task;

/// A task to submit later, from [`Runtime::delay`](crate::Runtime::delay).
#[must_use = "a Delay does nothing until `.after(..)` or `.at(..)`"]
pub struct Delay<'a, T: Task> {
    runtime: &'a Runtime,
    input: T::Input,
    key: Option<String>,
}

impl<'a, T: Task> Delay<'a, T> {
    pub(crate) fn new(runtime: &'a Runtime, input: T::Input) -> Self {
        Self { runtime, input, key: None }
    }

    /// Names the delayed task, to cancel it by this key (`order-42-close`). A task already
    /// waiting under the key is replaced, so submitting twice schedules once.
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Submits the task `delay` from now.
    pub fn after(self, delay: std::time::Duration) -> Result<DelayedKey, SubmitError<T::Input>> {
        self.at(Instant::now() + delay)
    }

    /// Submits the task at `at`.
    pub fn at(self, at: Instant) -> Result<DelayedKey, SubmitError<T::Input>> {
        self.runtime.delay_until::<T>(self.input, at, self.key)
    }
}

impl<T: Task> std::fmt::Debug for Delay<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delay").field("task", &T::ID).field("key", &self.key).finish_non_exhaustive()
    }
}
