//! The typed shell around the engine: a task's values without their types, and the small table
//! of functions that knows them.
//!
//! The engine (queue, pool, worker, retries, outcome) is compiled once and sees every task through
//! a [`TaskVTable`]: run one attempt, describe an error, clone an output, convert to and from
//! JSON. Only these few functions are compiled per task, so a binary with hundreds of tasks holds
//! one engine, warm in the instruction cache, instead of hundreds.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;

use crate::outcome::TaskError;
use crate::task::{Ctx, Task};

/// A task's input. `Sync` so that an attempt can borrow it while the job keeps it.
pub(crate) type ErasedInput = Box<dyn Any + Send + Sync>;
/// A task's output (a `()` when nobody wants it, which costs no allocation).
pub(crate) type ErasedOutput = Box<dyn Any + Send + Sync>;
/// A task's error.
pub(crate) type ErasedError = Box<dyn Any + Send>;
/// How a job ended, after all its attempts.
pub(crate) type ErasedOutcome = Result<ErasedOutput, TaskError<ErasedError>>;
/// One attempt, borrowing the job's input.
pub(crate) type Attempt<'a> = Pin<Box<dyn Future<Output = Result<ErasedOutput, ErasedError>> + Send + 'a>>;

/// What the engine needs to know about one task's types. One `static` per task, made by
/// [`TaskVTable::of`] in the task's entry.
pub(crate) struct TaskVTable {
    pub(crate) id: &'static str,
    /// Clones the input (user code, so inside the attempt's unwind guard) and runs the task;
    /// keeps the output only if asked to.
    pub(crate) attempt: for<'a> fn(Ctx, &'a ErasedInput, bool) -> Attempt<'a>,
    /// The error's `Display`, which is user code and may itself panic.
    pub(crate) describe_error: fn(&ErasedError) -> String,
    /// A copy of an output, as the input of a downstream task or a second receiver.
    pub(crate) clone_output: fn(&(dyn Any + Send + Sync)) -> ErasedOutput,
    pub(crate) input_json: fn(&(dyn Any + Send + Sync)) -> serde_json::Result<serde_json::Value>,
    pub(crate) output_json: fn(&(dyn Any + Send + Sync)) -> serde_json::Result<String>,
    pub(crate) parse_input: fn(&str) -> serde_json::Result<ErasedInput>,
}

impl fmt::Debug for TaskVTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskVTable").field("id", &self.id).finish_non_exhaustive()
    }
}

impl TaskVTable {
    /// The table of task `T`.
    pub(crate) const fn of<T: Task>() -> Self {
        Self {
            id: T::ID,
            attempt: attempt::<T>,
            describe_error: describe_typed_error::<T::Error>,
            clone_output: clone_output::<T::Output>,
            input_json: to_json::<T::Input>,
            output_json: output_json::<T::Output>,
            parse_input: parse_input::<T::Input>,
        }
    }

    /// The internal no-op job that warms the shared job path at start-up: it never runs user
    /// code, and it never fails.
    pub(crate) const WARMUP: &'static Self = &Self {
        id: "preheat.warmup",
        attempt: warmup_attempt,
        describe_error: describe_typed_error::<String>,
        clone_output: clone_output::<()>,
        input_json: to_json::<()>,
        output_json: output_json::<()>,
        parse_input: parse_input::<()>,
    };
}

fn typed<V: 'static>(value: &(dyn Any + Send + Sync)) -> &V {
    match value.downcast_ref::<V>() {
        Some(value) => value,
        None => unreachable!("a task's erased values have the types of its table"),
    }
}

/// An input back in its type, once the engine hands it back (a refused or cancelled submit).
pub(crate) fn unerase<V: 'static>(value: ErasedInput) -> V {
    match value.downcast::<V>() {
        Ok(value) => *value,
        Err(_) => unreachable!("an input handed back has the type it was submitted with"),
    }
}

fn attempt<T: Task>(ctx: Ctx, input: &ErasedInput, keep_output: bool) -> Attempt<'_> {
    Box::pin(async move {
        let input = typed::<T::Input>(&**input).clone();
        match T::run(ctx, input).await {
            Ok(output) if keep_output => Ok(Box::new(output) as ErasedOutput),
            Ok(_) => Ok(Box::new(()) as ErasedOutput),
            Err(error) => Err(Box::new(error) as ErasedError),
        }
    })
}

fn warmup_attempt(_: Ctx, _: &ErasedInput, _: bool) -> Attempt<'static> {
    Box::pin(async { Ok(Box::new(()) as ErasedOutput) })
}

fn output_json<O: serde::Serialize + 'static>(output: &(dyn Any + Send + Sync)) -> serde_json::Result<String> {
    serde_json::to_string(typed::<O>(output))
}

fn parse_input<I: serde::de::DeserializeOwned + Send + Sync + 'static>(json: &str) -> serde_json::Result<ErasedInput> {
    Ok(Box::new(serde_json::from_str::<I>(json)?))
}

fn describe_typed_error<E: fmt::Display + 'static>(error: &ErasedError) -> String {
    match error.downcast_ref::<E>() {
        Some(error) => describe(error),
        None => unreachable!("a task's error has the type of its table"),
    }
}

fn clone_output<O: Clone + Send + Sync + 'static>(output: &(dyn Any + Send + Sync)) -> ErasedOutput {
    Box::new(typed::<O>(output).clone())
}

fn to_json<V: serde::Serialize + 'static>(value: &(dyn Any + Send + Sync)) -> serde_json::Result<serde_json::Value> {
    serde_json::to_value(typed::<V>(value))
}

/// A value's `Display`, which is user code and may itself panic.
pub(crate) fn describe<E: fmt::Display + ?Sized>(error: &E) -> String {
    std::panic::catch_unwind(AssertUnwindSafe(|| error.to_string()))
        .unwrap_or_else(|_| "(the error's `Display` panicked)".to_owned())
}

/// A task error's message, with the task's own error shown through its table.
pub(crate) fn describe_error(task: &TaskVTable, error: &TaskError<ErasedError>) -> String {
    describe(&error.as_ref().map_failed(|error| (task.describe_error)(error)))
}

/// A job's input as JSON, for a test runtime's log; `Serialize` is user code, so a panic in it
/// is the entry's error, not the caller's.
#[cfg(feature = "testing")]
pub(crate) fn input_json_guarded(task: &TaskVTable, input: &ErasedInput) -> Result<serde_json::Value, String> {
    match std::panic::catch_unwind(AssertUnwindSafe(|| (task.input_json)(&**input))) {
        Ok(Ok(json)) => Ok(json),
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => Err("the input's `Serialize` panicked".to_owned()),
    }
}

/// The message of a caught panic.
pub(crate) fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(message) = panic.downcast_ref::<&str>() {
        (*message).to_owned()
    } else if let Some(message) = panic.downcast_ref::<String>() {
        message.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}

/// A typed outcome from an erased one: the output and error downcast back to `T`'s.
pub(crate) fn typed_outcome<T: Task>(outcome: ErasedOutcome) -> crate::outcome::Outcome<T> {
    match outcome {
        Ok(output) => match output.downcast::<T::Output>() {
            Ok(output) => Ok(*output),
            Err(_) => unreachable!("a reply's output is kept, with the task's output type"),
        },
        Err(error) => Err(error.map_failed(|error| match error.downcast::<T::Error>() {
            Ok(error) => *error,
            Err(_) => unreachable!("a task's error has its task's error type"),
        })),
    }
}
