//! Delayed tasks: one timer queue for every task submitted to run later.
//!
//! A binary heap of due times, with the jobs in a slab beside it, and one driver task that
//! sleeps until the earliest due time: a million pending tasks are a million small entries, not
//! a million timers. A job without a key is found by its slot, so it costs no string and no
//! hashing; only jobs given a key are also in a map by that key. Cancelling empties the job's
//! slot; its heap entry is skipped when it comes up (the sequence number tells a reused slot from
//! the one the entry was made for).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use slab::Slab;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::erased::{ErasedInput, TaskVTable};
use crate::pools::Pools;
use crate::record::TaskRecord;
use crate::sync::lock;

/// Every delayed job of a runtime.
#[derive(Default)]
pub(crate) struct Delays {
    state: Mutex<State>,
    /// Told when the earliest due time may have moved earlier.
    changed: Notify,
}

#[derive(Default)]
struct State {
    due: BinaryHeap<Reverse<Due>>,
    jobs: Slab<Delayed>,
    /// The slots of the jobs given a key.
    named: HashMap<Box<str>, usize>,
    next: u64,
    /// Set at shutdown: no more delays are taken.
    closed: bool,
}

/// A heap entry. Ordered by time, then by submission, so jobs due at the same instant run in
/// the order they were submitted.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Due {
    at: Instant,
    seq: u64,
    slot: usize,
}

/// One job waiting for its time.
struct Delayed {
    seq: u64,
    task: usize,
    /// The task's table: makes the job a record, for shutdown's list of unfinished tasks.
    vtable: &'static TaskVTable,
    input: ErasedInput,
    name: Option<Box<str>>,
    /// When it is due, for a test runtime's listing (the heap, which orders the jobs, also has
    /// it, but keeps entries of cancelled jobs until they come up).
    #[cfg(feature = "testing")]
    at: Instant,
    /// The trace of the delayed submit, which the job continues when it comes due.
    #[cfg(feature = "otel")]
    trace: Option<Box<crate::trace::Carried>>,
}

/// A job waiting for its time, as a test runtime lists it.
#[cfg(feature = "testing")]
pub(crate) struct Pending {
    pub(crate) task: usize,
    /// The input as JSON (`Err`: it does not serialize).
    pub(crate) input: Result<serde_json::Value, String>,
    pub(crate) at: Instant,
    pub(crate) name: Option<Box<str>>,
}

/// A delayed task's key, to cancel it with [`Runtime::cancel`](crate::Runtime::cancel).
///
/// Either the name given with [`Delay::key`](crate::Delay::key) (and a plain `&str` or `String` converts to that
/// key, so a task can be cancelled by its name alone), or, for a task submitted without one, a
/// number only this key holds.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DelayedKey(Key);

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Named(Box<str>),
    Unnamed { slot: usize, seq: u64 },
}

impl DelayedKey {
    /// The name given with [`Delay::key`](crate::Delay::key); `None` for a task submitted without one.
    pub fn name(&self) -> Option<&str> {
        match &self.0 {
            Key::Named(name) => Some(name),
            Key::Unnamed { .. } => None,
        }
    }
}

impl From<&str> for DelayedKey {
    fn from(name: &str) -> Self {
        Self(Key::Named(name.into()))
    }
}

impl From<String> for DelayedKey {
    fn from(name: String) -> Self {
        Self(Key::Named(name.into()))
    }
}

impl From<&DelayedKey> for DelayedKey {
    fn from(key: &DelayedKey) -> Self {
        key.clone()
    }
}

impl Delays {
    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Adds a job due at `at`; a job already waiting under the same name is replaced. `Err`
    /// gives the input back when shutdown has begun.
    pub(crate) fn insert(
        &self,
        task: usize,
        vtable: &'static TaskVTable,
        input: ErasedInput,
        at: Instant,
        name: Option<String>,
    ) -> Result<DelayedKey, ErasedInput> {
        // Before the lock: opening the producer span may export it.
        #[cfg(feature = "otel")]
        let trace = crate::trace::Carried::capture(vtable.id);
        let mut state = self.state();
        if state.closed {
            return Err(input);
        }
        let seq = state.next;
        state.next += 1;
        let name: Option<Box<str>> = name.map(Into::into);
        let job = Delayed {
            seq,
            task,
            vtable,
            input,
            name: name.clone(),
            #[cfg(feature = "testing")]
            at,
            #[cfg(feature = "otel")]
            trace,
        };
        let slot = state.jobs.insert(job);
        let key = match name {
            Some(name) => {
                if let Some(replaced) = state.named.insert(name.clone(), slot) {
                    state.jobs.remove(replaced);
                }
                Key::Named(name)
            }
            None => Key::Unnamed { slot, seq },
        };
        let earliest = state.due.peek().is_none_or(|Reverse(first)| at < first.at);
        state.due.push(Reverse(Due { at, seq, slot }));
        drop(state);
        if earliest {
            self.changed.notify_one();
        }
        Ok(DelayedKey(key))
    }

    /// Cancels the job waiting under `key`; `false` if there is none (it ran, or never was).
    pub(crate) fn cancel(&self, key: &DelayedKey) -> bool {
        let mut state = self.state();
        let slot = match &key.0 {
            Key::Named(name) => state.named.remove(name),
            Key::Unnamed { slot, seq } => state.jobs.get(*slot).filter(|job| job.seq == *seq).map(|_| *slot),
        };
        slot.and_then(|slot| state.jobs.try_remove(slot)).is_some()
    }

    /// Jobs waiting.
    pub(crate) fn len(&self) -> usize {
        self.state().jobs.len()
    }

    /// Submits each job when it is due, until the runtime is gone.
    pub(crate) async fn drive(self: Arc<Self>, pools: Weak<Pools>) {
        loop {
            // Registered before looking at the heap, so an earlier job added meanwhile wakes us.
            let mut changed = pin!(self.changed.notified());
            changed.as_mut().enable();
            let Some(table) = pools.upgrade() else { return };
            let next = self.submit_due(&table, Instant::now());
            drop(table);
            match next {
                Some(at) => {
                    let _ = tokio::time::timeout_at(at, changed).await;
                }
                None => changed.await,
            }
        }
    }

    /// Submits every job due at `now`, in due order; says when the next one is.
    pub(crate) fn submit_due(&self, pools: &Pools, now: Instant) -> Option<Instant> {
        let (ready, next) = self.take_due(now);
        for job in ready {
            // A named delayed task routes by its name: one order's close, one variant.
            let route = || crate::route::Route::new().or_key(job.name.as_deref().map(crate::route::stable_hash));
            #[cfg(feature = "otel")]
            let trace = job.trace;
            let submit = || crate::flow::submit_root(pools, job.task, job.input, None, route);
            #[cfg(feature = "otel")]
            let submit = || crate::trace::scoped(crate::trace::Parent::Kept(trace.as_deref()), submit);
            #[cfg(feature = "testing")]
            let submitted = match pools.harness() {
                Some(harness) => harness.firing(job.name.as_deref(), submit),
                None => submit(),
            };
            #[cfg(not(feature = "testing"))]
            let submitted = submit();
            if let Err(reason) = submitted {
                let reason = crate::flow::refusal_text(reason);
                tracing::error!(task = job.vtable.id, key = ?job.name, reason, "a delayed task came due but could not be submitted");
            }
        }
        next
    }

    /// When the next job is due, if any waits.
    #[cfg(feature = "testing")]
    pub(crate) fn next_due(&self) -> Option<Instant> {
        self.state().jobs.iter().map(|(_, job)| job.at).min()
    }

    /// Every job waiting, in due order.
    #[cfg(feature = "testing")]
    pub(crate) fn pending(&self) -> Vec<Pending> {
        let state = self.state();
        let mut jobs: Vec<&Delayed> = state.jobs.iter().map(|(_, job)| job).collect();
        jobs.sort_by_key(|job| (job.at, job.seq));
        jobs.into_iter()
            .map(|job| {
                let input = crate::erased::input_json_guarded(job.vtable, &job.input);
                Pending { task: job.task, input, at: job.at, name: job.name.clone() }
            })
            .collect()
    }

    /// Removes the jobs due at `now`, in due order, and says when the next one is.
    fn take_due(&self, now: Instant) -> (Vec<Delayed>, Option<Instant>) {
        let mut state = self.state();
        let mut ready = Vec::new();
        while let Some(&Reverse(due)) = state.due.peek() {
            if due.at > now {
                return (ready, Some(due.at));
            }
            state.due.pop();
            // A cancelled or replaced job left its heap entry behind, and its slot may hold a
            // newer job by now.
            if state.jobs.get(due.slot).is_some_and(|job| job.seq == due.seq) {
                let job = state.jobs.remove(due.slot);
                if let Some(name) = &job.name {
                    state.named.remove(name);
                }
                ready.push(job);
            }
        }
        (ready, None)
    }

    /// Stops taking delays and hands back every job still waiting, as records, in submission
    /// order.
    pub(crate) fn close(&self) -> Vec<TaskRecord> {
        let mut state = self.state();
        state.closed = true;
        state.due = BinaryHeap::new();
        state.named = HashMap::new();
        let mut jobs: Vec<Delayed> = state.jobs.drain().collect();
        jobs.sort_by_key(|job| job.seq);
        jobs.into_iter().map(|job| TaskRecord::new(job.vtable, job.input, 0, None)).collect()
    }
}
