//! What a test runtime adds to the engine: a log of every job queued, pools whose jobs wait for
//! the test to run them, and faults injected into chosen attempts.
//!
//! Below the pools, like the queue: the pools call it, and [`crate::testing`] reads it. Only in
//! builds with the `testing` feature.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use tokio::time::Instant;

use crate::erased::{Attempt, ErasedError, ErasedOutput};
use crate::flow_id::FlowId;
use crate::job::Job;
use crate::sync::lock;

/// The test side of one runtime's engine.
pub(crate) struct Harness {
    /// Pools have no workers: a queued job waits until the test (or an inline submit) runs it.
    pub(crate) held: bool,
    /// Every `Runtime::submit` runs what it queued, and all that follows from it, before it returns.
    pub(crate) inline: bool,
    /// Every job that entered a queue, in order.
    log: Mutex<Vec<Queued>>,
    /// Held pools' jobs in the order they were queued, by task index: each pool's queue is FIFO,
    /// so running "the pool named next" runs jobs in the order they came.
    order: Mutex<VecDeque<usize>>,
    faults: Mutex<HashMap<(usize, u32), InjectedFault>>,
    /// The name of the delayed task being fired, for the log entry of its job.
    firing: Mutex<Option<Box<str>>>,
}

/// One job that entered a queue.
#[derive(Clone, Debug)]
pub(crate) struct Queued {
    pub(crate) task: usize,
    /// The pool it went to: the task's, or one of its variants'.
    pub(crate) pool: usize,
    /// The input as JSON (`Err`: it does not serialize), read back typed by the test.
    pub(crate) input: Result<serde_json::Value, String>,
    pub(crate) at: Instant,
    pub(crate) flow: Option<FlowId>,
    /// The name of the delayed task it was, if it was one.
    pub(crate) key: Option<Box<str>>,
}

/// What an injected attempt does instead of running the task.
pub(crate) enum InjectedFault {
    /// Returns the task's own error, made fresh for each job.
    Fail(Box<dyn Fn() -> ErasedError + Send + Sync>),
    Panic(String),
    /// Never finishes: the task's timeout ends it.
    Hang,
}

impl Harness {
    pub(crate) fn new(held: bool, inline: bool) -> Self {
        Self {
            held,
            inline,
            log: Mutex::default(),
            order: Mutex::default(),
            faults: Mutex::default(),
            firing: Mutex::default(),
        }
    }

    /// What the log will say of `job` if the pool takes it: read before the push moves it.
    pub(crate) fn describe(&self, task: usize, pool: usize, job: &Job) -> Queued {
        let input = crate::erased::input_json_guarded(job.task, &job.input);
        let key = lock(&self.firing).clone();
        Queued { task, pool, input, at: Instant::now(), flow: job.flow(), key }
    }

    /// The pool took the job.
    pub(crate) fn queued(&self, entry: Queued) {
        if self.held {
            lock(&self.order).push_back(entry.pool);
        }
        lock(&self.log).push(entry);
    }

    /// The task index of the oldest held job.
    pub(crate) fn next_held(&self) -> Option<usize> {
        lock(&self.order).pop_front()
    }

    /// Held jobs not yet run.
    pub(crate) fn held_count(&self) -> usize {
        lock(&self.order).len()
    }

    pub(crate) fn log(&self) -> Vec<Queued> {
        lock(&self.log).clone()
    }

    pub(crate) fn clear_log(&self) {
        lock(&self.log).clear();
    }

    /// Runs `fire` with the log knowing that its jobs are the delayed task `name`.
    pub(crate) fn firing<R>(&self, name: Option<&str>, fire: impl FnOnce() -> R) -> R {
        *lock(&self.firing) = name.map(Into::into);
        let fired = fire();
        *lock(&self.firing) = None;
        fired
    }

    pub(crate) fn inject(&self, task: usize, attempt: u32, fault: InjectedFault) {
        lock(&self.faults).insert((task, attempt), fault);
    }

    /// The attempt to run instead of the task's, if one was injected for this task and attempt.
    pub(crate) fn fault(&self, task: usize, attempt: u32) -> Option<Attempt<'static>> {
        let faults = lock(&self.faults);
        Some(match faults.get(&(task, attempt))? {
            InjectedFault::Fail(make) => {
                let error = make();
                Box::pin(async move { Err::<ErasedOutput, _>(error) })
            }
            InjectedFault::Panic(message) => {
                let message = message.clone();
                Box::pin(async move { std::panic::panic_any(message) })
            }
            InjectedFault::Hang => Box::pin(std::future::pending()),
        })
    }
}

impl std::fmt::Debug for Harness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harness").field("held", &self.held).field("inline", &self.inline).finish_non_exhaustive()
    }
}

/// How a test runtime is set up, from [`crate::testing`] down to start-up.
#[derive(Clone, Debug, Default)]
pub(crate) struct Setup {
    pub(crate) held: bool,
    pub(crate) inline: bool,
    /// Schedules fire (off unless the test asks).
    pub(crate) schedules: bool,
    /// Resources the test supplies itself: their warmers do not run, and they count as warm.
    pub(crate) supplied: Vec<&'static str>,
}
