//! Delayed tasks: one timer queue for every task submitted to run later.
//!
//! A binary heap ordered by due time, with the jobs in a map beside it, and one driver task that
//! sleeps until the earliest due time: a million pending tasks are a million small entries, not
//! a million timers. Cancelling removes the job from the map; its heap entry is skipped when it
//! comes up.

use std::any::Any;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::record::TaskRecord;
use crate::runtime::Inner;
use crate::task::Task;

/// Every delayed job of a runtime.
#[derive(Default)]
pub(crate) struct Delays {
    state: Mutex<State>,
    /// Told when the earliest due time may have moved earlier.
    changed: Notify,
}

#[derive(Default)]
struct State {
    due: BinaryHeap<Reverse<(Instant, u64)>>,
    jobs: HashMap<u64, Delayed>,
    keys: HashMap<String, u64>,
    next: u64,
    /// Set at shutdown: no more delays are taken.
    closed: bool,
}

/// One job waiting for its time.
struct Delayed {
    task: usize,
    input: Box<dyn Any + Send>,
    key: String,
    /// Makes the job a record, for shutdown's list of unfinished tasks.
    record: fn(Box<dyn Any + Send>) -> TaskRecord,
}

/// A delayed task's key, to cancel it with [`Runtime::cancel`](crate::Runtime::cancel).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DelayedKey(String);

impl DelayedKey {
    /// The key as a string (given with `.key(..)`, or made up).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Delays {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a job due at `at`; a job already waiting under the same key is replaced. `Err` gives
    /// the input back when shutdown has begun.
    pub(crate) fn insert<T: Task>(
        &self,
        task: usize,
        input: T::Input,
        at: Instant,
        key: Option<String>,
    ) -> Result<DelayedKey, T::Input> {
        let mut state = self.state();
        if state.closed {
            return Err(input);
        }
        let seq = state.next;
        state.next += 1;
        let key = key.unwrap_or_else(|| format!("{}#{seq}", T::ID));
        if let Some(replaced) = state.keys.insert(key.clone(), seq) {
            state.jobs.remove(&replaced);
        }
        let earliest = state.due.peek().is_none_or(|Reverse((first, _))| at < *first);
        state.due.push(Reverse((at, seq)));
        let input = Box::new(input);
        state.jobs.insert(seq, Delayed { task, input, key: key.clone(), record: record::<T> });
        drop(state);
        if earliest {
            self.changed.notify_one();
        }
        Ok(DelayedKey(key))
    }

    /// Cancels the job waiting under `key`; `false` if there is none (it ran, or never was).
    pub(crate) fn cancel(&self, key: &str) -> bool {
        let mut state = self.state();
        let Some(seq) = state.keys.remove(key) else { return false };
        state.jobs.remove(&seq).is_some()
    }

    /// Jobs waiting.
    pub(crate) fn len(&self) -> usize {
        self.state().jobs.len()
    }

    /// Submits each job when it is due, until the runtime is gone.
    pub(crate) async fn drive(self: Arc<Self>, runtime: Weak<Inner>) {
        loop {
            // Registered before looking at the heap, so an earlier job added meanwhile wakes us.
            let mut changed = pin!(self.changed.notified());
            changed.as_mut().enable();
            let (ready, next) = self.take_due(Instant::now());
            let Some(inner) = runtime.upgrade() else { return };
            for job in ready {
                if let Err(reason) = inner.submit_root_erased(job.task, job.input, None) {
                    tracing::error!(key = job.key, %reason, "a delayed task came due but could not be submitted");
                }
            }
            drop(inner);
            match next {
                Some(at) => {
                    let _ = tokio::time::timeout_at(at, changed).await;
                }
                None => changed.await,
            }
        }
    }

    /// Removes the jobs due at `now`, in due order, and says when the next one is.
    fn take_due(&self, now: Instant) -> (Vec<Delayed>, Option<Instant>) {
        let mut state = self.state();
        let mut ready = Vec::new();
        while let Some(&Reverse((at, seq))) = state.due.peek() {
            if at > now {
                return (ready, Some(at));
            }
            state.due.pop();
            // A cancelled or replaced job left its heap entry behind.
            if let Some(job) = state.jobs.remove(&seq) {
                state.keys.remove(&job.key);
                ready.push(job);
            }
        }
        (ready, None)
    }

    /// Stops taking delays and hands back every job still waiting, as records.
    pub(crate) fn close(&self) -> Vec<TaskRecord> {
        let mut state = self.state();
        state.closed = true;
        state.due.clear();
        state.keys.clear();
        let mut jobs: Vec<(u64, Delayed)> = state.jobs.drain().collect();
        jobs.sort_by_key(|(seq, _)| *seq);
        jobs.into_iter().map(|(_, job)| (job.record)(job.input)).collect()
    }
}

fn record<T: Task>(input: Box<dyn Any + Send>) -> TaskRecord {
    match input.downcast::<T::Input>() {
        Ok(input) => TaskRecord::new::<T>(*input, 0, None),
        Err(_) => unreachable!("a delayed job's input has its task's input type"),
    }
}

/// A task to submit later, from [`Runtime::delay`](crate::Runtime::delay).
#[must_use = "a Delay does nothing until `.after(..)` or `.at(..)`"]
pub struct Delay<'a, T: Task> {
    runtime: &'a crate::Runtime,
    input: T::Input,
    key: Option<String>,
}

impl<'a, T: Task> Delay<'a, T> {
    pub(crate) fn new(runtime: &'a crate::Runtime, input: T::Input) -> Self {
        Self { runtime, input, key: None }
    }

    /// Names the delayed task, to cancel it by this key (`order-42-close`). A task already
    /// waiting under the key is replaced, so submitting twice schedules once.
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Submits the task `delay` from now.
    pub fn after(self, delay: std::time::Duration) -> Result<DelayedKey, crate::SubmitError<T::Input>> {
        self.at(Instant::now() + delay)
    }

    /// Submits the task at `at`.
    pub fn at(self, at: Instant) -> Result<DelayedKey, crate::SubmitError<T::Input>> {
        self.runtime.delay_until::<T>(self.input, at, self.key)
    }
}

impl<T: Task> std::fmt::Debug for Delay<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delay").field("task", &T::ID).field("key", &self.key).finish_non_exhaustive()
    }
}
