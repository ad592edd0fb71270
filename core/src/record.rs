//! [`TaskRecord`]: a task the runtime gave up on, with its input, for inspection or replay; and
//! [`ShutdownError`], the records of the tasks a shutdown could not finish.

use std::any::Any;
use std::fmt;
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

/// Shutdown reached its deadline with tasks unfinished; they are all here, inputs included.
#[derive(Clone, Debug)]
pub struct ShutdownError {
    pub(crate) unfinished: Vec<TaskRecord>,
}

impl ShutdownError {
    /// The tasks that were queued or running at the deadline.
    pub fn unfinished(&self) -> &[TaskRecord] {
        &self.unfinished
    }

    /// Takes the unfinished tasks, for example to store them for the next start.
    pub fn into_unfinished(self) -> Vec<TaskRecord> {
        self.unfinished
    }
}

impl fmt::Display for ShutdownError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "shutdown deadline passed with {} task(s) unfinished", self.unfinished.len())?;
        let mut counts: Vec<(&str, usize)> = Vec::new();
        for record in &self.unfinished {
            match counts.iter_mut().find(|(task, _)| *task == record.task()) {
                Some((_, count)) => *count += 1,
                None => counts.push((record.task(), 1)),
            }
        }
        let listed: Vec<String> = counts.iter().map(|(task, count)| format!("`{task}` ×{count}")).collect();
        write!(f, ": {}", listed.join(", "))
    }
}

impl std::error::Error for ShutdownError {}
