//! What a pool's workers have done, counted without contention.
//!
//! Each worker counts into a [`WorkerTally`] that no other worker writes, so a count is a plain
//! load and store: an atomic read-modify-write per job, shared by the submitter and the workers,
//! cost about a tenth of the no-op throughput. A worker that exits hands its tally to the next
//! one, and the pool keeps every tally it ever made, so the sums never go down.

use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};

use crate::sync::lock;

/// One worker's counts.
#[derive(Debug, Default)]
pub(crate) struct WorkerTally {
    /// Jobs taken from the queue.
    taken: AtomicU64,
    /// Attempts that failed and were tried again.
    retried: AtomicU64,
    /// Jobs that failed for good.
    dead_lettered: AtomicU64,
    /// How long each job took, by outcome.
    #[cfg(feature = "http")]
    pub(crate) durations: crate::durations::WorkerDurations,
}

/// Adds to a counter that only one worker writes. Readers may see it a job late.
pub(crate) fn add(counter: &AtomicU64, value: u64) {
    counter.store(counter.load(Relaxed).wrapping_add(value), Relaxed);
}

/// Every tally of one pool.
#[derive(Debug, Default)]
pub(crate) struct Tallies {
    all: Mutex<Vec<Arc<WorkerTally>>>,
    free: Mutex<Vec<Arc<WorkerTally>>>,
}

/// The sums of a pool's tallies.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Totals {
    pub(crate) taken: u64,
    pub(crate) retried: u64,
    pub(crate) dead_lettered: u64,
}

impl Tallies {
    /// A tally for a new worker: one a departed worker left, or a fresh one.
    pub(crate) fn worker(self: &Arc<Self>) -> Worker {
        let tally = lock(&self.free).pop().unwrap_or_else(|| {
            let fresh = Arc::<WorkerTally>::default();
            lock(&self.all).push(fresh.clone());
            fresh
        });
        Worker { tally, tallies: self.clone() }
    }

    pub(crate) fn totals(&self) -> Totals {
        lock(&self.all).iter().fold(Totals::default(), |totals, tally| Totals {
            taken: totals.taken + tally.taken.load(Relaxed),
            retried: totals.retried + tally.retried.load(Relaxed),
            dead_lettered: totals.dead_lettered + tally.dead_lettered.load(Relaxed),
        })
    }

    /// Every tally, for merging the duration histograms.
    #[cfg(feature = "http")]
    pub(crate) fn each(&self) -> Vec<Arc<WorkerTally>> {
        lock(&self.all).clone()
    }
}

/// A worker's hold on its tally; gives it back when the worker exits.
#[derive(Debug)]
pub(crate) struct Worker {
    pub(crate) tally: Arc<WorkerTally>,
    tallies: Arc<Tallies>,
}

impl Worker {
    /// Ends a job on the worker's clock and records its duration under its outcome.
    #[cfg(feature = "http")]
    pub(crate) fn record<O, E>(
        &self,
        clock: &mut crate::durations::JobClock,
        started: tokio::time::Instant,
        outcome: &Result<O, crate::outcome::TaskError<E>>,
    ) {
        self.tally.durations.record(outcome, clock.end(started));
    }

    /// Without metrics, jobs are not timed.
    #[cfg(not(feature = "http"))]
    pub(crate) fn record<O, E>(
        &self,
        _: &mut crate::durations::JobClock,
        _: (),
        _: &Result<O, crate::outcome::TaskError<E>>,
    ) {
    }

    pub(crate) fn took_job(&self) {
        add(&self.tally.taken, 1);
    }

    pub(crate) fn retried(&self) {
        add(&self.tally.retried, 1);
    }

    pub(crate) fn dead_lettered(&self) {
        add(&self.tally.dead_lettered, 1);
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        lock(&self.tallies.free).push(self.tally.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_departed_workers_counts_stay_and_its_tally_is_reused() {
        let tallies = Arc::new(Tallies::default());
        let first = tallies.worker();
        let second = tallies.worker();
        first.took_job();
        first.took_job();
        second.took_job();
        second.retried();
        drop(first);
        let third = tallies.worker();
        third.took_job();
        third.dead_lettered();
        let totals = tallies.totals();
        assert_eq!((totals.taken, totals.retried, totals.dead_lettered), (4, 1, 1));
        assert_eq!(lock(&tallies.all).len(), 2, "the third worker took over the first one's tally");
    }
}
