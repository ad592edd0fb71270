//! [`Submitted`]: one job a test runtime saw submitted, typed by its task.

use std::fmt;
use std::marker::PhantomData;

use tokio::time::Instant;

use crate::flow_id::FlowId;
use crate::task::Task;

/// A job of task `T` that was submitted: queued to run now, or delayed.
///
/// From [`TestRuntime::submitted`](super::TestRuntime::submitted) and the assertions.
#[derive(Clone)]
#[non_exhaustive]
pub struct Submitted<T: Task> {
    /// The input, read back through its serde form (as a durable backend would store it).
    pub input: T::Input,
    /// When it runs, or ran: the submit's time, or a delayed task's due time.
    pub due: Instant,
    /// Whether it is a delayed task still waiting for its time.
    pub delayed: bool,
    /// The flow run it belongs to, if the task has upstream or downstream tasks.
    pub flow: Option<FlowId>,
    /// The name a delayed submit gave it ([`Delay::key`](crate::Delay::key)).
    pub key: Option<String>,
    pub(crate) task: PhantomData<T>,
}

impl<T: Task> fmt::Debug for Submitted<T>
where
    T::Input: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Submitted")
            .field("task", &T::ID)
            .field("input", &self.input)
            .field("due", &self.due)
            .field("delayed", &self.delayed)
            .field("flow", &self.flow)
            .field("key", &self.key)
            .finish()
    }
}

/// A submitted job of any task, as the failure messages list it.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub(crate) task: usize,
    pub(crate) id: &'static str,
    pub(crate) input: Result<serde_json::Value, String>,
    pub(crate) due: Instant,
    pub(crate) delayed: bool,
    pub(crate) flow: Option<FlowId>,
    pub(crate) key: Option<Box<str>>,
}

impl Entry {
    /// The entry typed as `T`'s; it must be one of `T`'s.
    pub(crate) fn typed<T: Task>(&self) -> Submitted<T> {
        let input = match &self.input {
            Ok(json) => serde_json::from_value::<T::Input>(json.clone()).unwrap_or_else(|error| {
                panic!("the input submitted to `{}` does not deserialize from its own JSON form {json}: {error}", T::ID)
            }),
            Err(error) => panic!("the input submitted to `{}` does not serialize: {error}", T::ID),
        };
        Submitted {
            input,
            due: self.due,
            delayed: self.delayed,
            flow: self.flow,
            key: self.key.as_deref().map(str::to_owned),
            task: PhantomData,
        }
    }

    /// One line of a failure message: `order.timeout_close {"order_id":42} due +1800s, delayed`.
    pub(crate) fn line(&self, start: Instant) -> String {
        let input = match &self.input {
            Ok(json) => json.to_string(),
            Err(error) => format!("(input not serializable: {error})"),
        };
        let due = self.due.saturating_duration_since(start);
        let mut line = format!("  {} {input} due +{due:?}", self.id);
        if self.delayed {
            line.push_str(", delayed");
        }
        if let Some(key) = &self.key {
            line.push_str(&format!(", key {key:?}"));
        }
        if let Some(flow) = &self.flow {
            line.push_str(&format!(", flow {flow}"));
        }
        line
    }
}

/// Every entry, as a failure message lists them.
pub(crate) fn listing(entries: &[Entry], start: Instant) -> String {
    if entries.is_empty() {
        return "nothing was submitted".to_owned();
    }
    let lines: Vec<String> = entries.iter().map(|entry| entry.line(start)).collect();
    format!("what was submitted, in order:\n{}", lines.join("\n"))
}
