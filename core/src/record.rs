//! [`TaskRecord`]: a task the runtime gave up on, with its input, for inspection or replay.

use std::any::Any;
use std::sync::Arc;

use crate::erased::{ErasedInput, TaskVTable};
use crate::task::Task;

/// A task that ended in the dead-letter list, or that shutdown could not finish.
///
/// The input is kept as the typed value (no serialization on the way in); read it back with
/// [`input`](Self::input) or as JSON with [`input_json`](Self::input_json).
#[derive(Clone)]
pub struct TaskRecord {
    task: &'static str,
    attempts: u32,
    error: Option<String>,
    input: Arc<dyn Any + Send + Sync>,
    to_json: fn(&(dyn Any + Send + Sync)) -> serde_json::Result<serde_json::Value>,
}

impl TaskRecord {
    /// A record of a job of `task`, whose input has that task's input type.
    pub(crate) fn new(task: &'static TaskVTable, input: ErasedInput, attempts: u32, error: Option<String>) -> Self {
        Self { task: task.id, attempts, error, input: Arc::from(input), to_json: task.input_json }
    }

    /// The task id.
    pub fn task(&self) -> &'static str {
        self.task
    }

    /// Attempts started.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The last error, when an attempt finished with one.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// The input, if it is the input of task `T`.
    pub fn input<T: Task>(&self) -> Option<&T::Input> {
        self.input.downcast_ref()
    }

    /// The input as JSON, for logging or storing elsewhere.
    pub fn input_json(&self) -> serde_json::Result<serde_json::Value> {
        (self.to_json)(&*self.input)
    }
}

impl std::fmt::Debug for TaskRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskRecord")
            .field("task", &self.task)
            .field("attempts", &self.attempts)
            .field("error", &self.error)
            .field("input", &self.input_json().ok())
            .finish()
    }
}
