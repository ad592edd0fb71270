//! Job durations as a worker records them: a clock read per job and two counter updates in
//! memory only that worker writes (feature `http`; without it, jobs are not timed at all).
//!
//! `/metrics` merges every worker's counts into a histogram per task and outcome when scraped
//! (see `metrics.rs`); nothing here takes a lock or shares a cache line between workers.

#[cfg(feature = "http")]
pub(crate) use timed::{BUCKETS, JobClock, OUTCOMES, WorkerDurations, upper_bound};

/// Without metrics, jobs are not timed: the clock is a unit and every call is empty.
#[cfg(not(feature = "http"))]
#[derive(Debug, Default)]
pub(crate) struct JobClock;

#[cfg(not(feature = "http"))]
impl JobClock {
    pub(crate) fn new() -> Self {
        Self
    }

    pub(crate) fn parked(&mut self) {}

    pub(crate) fn start(&mut self) {}
}

#[cfg(feature = "http")]
mod timed {
    use std::sync::atomic::AtomicU64;

    // Tokio's clock: in a release build it is `std::time::Instant` itself; under
    // `tokio::time::pause` (tests) it is the paused clock, so durations can be checked exactly.
    use tokio::time::Instant;

    use std::sync::atomic::Ordering::Relaxed;

    use crate::outcome::TaskError;

    /// The outcomes `task_duration_seconds` is split by.
    pub(crate) const OUTCOMES: [&str; 5] = ["ok", "failed", "timed_out", "panicked", "resource_failed"];
    /// Finite buckets: 100 µs doubling up to about 52 s, then +Inf.
    pub(crate) const BUCKETS: usize = 20;
    const FIRST_BOUND_NS: u64 = 100_000;

    /// The durations of one outcome: a count per bucket (the last is +Inf) and the sum.
    #[derive(Debug, Default)]
    pub(crate) struct Durations {
        pub(crate) buckets: [AtomicU64; BUCKETS + 1],
        pub(crate) sum_ns: AtomicU64,
    }

    /// One worker's job durations, by outcome, in its tally: written only by that worker.
    #[derive(Debug, Default)]
    pub(crate) struct WorkerDurations(pub(crate) [Durations; OUTCOMES.len()]);

    /// The bucket of a duration: the first whose upper bound, `100 µs × 2^k`, is not below it.
    pub(crate) fn bucket(ns: u64) -> usize {
        if ns <= FIRST_BOUND_NS {
            return 0;
        }
        let ratio = (ns - 1) / FIRST_BOUND_NS;
        (u64::BITS - ratio.leading_zeros()).min(BUCKETS as u32) as usize
    }

    /// The upper bound of a bucket, in seconds.
    pub(crate) fn upper_bound(bucket: usize) -> f64 {
        if bucket == BUCKETS { f64::MAX } else { (FIRST_BOUND_NS << bucket) as f64 / 1e9 }
    }

    /// A worker's clock for job durations. A job starts when its worker takes it; a worker that
    /// goes straight from one job to the next starts the next at the instant the previous
    /// ended, so a busy worker reads the clock once per job rather than twice.
    #[derive(Debug, Default)]
    pub(crate) struct JobClock {
        previous_end: Option<Instant>,
    }

    impl JobClock {
        pub(crate) fn new() -> Self {
            Self::default()
        }

        /// The worker parked: its next job starts when it wakes.
        pub(crate) fn parked(&mut self) {
            self.previous_end = None;
        }

        pub(crate) fn start(&mut self) -> Instant {
            self.previous_end.take().unwrap_or_else(Instant::now)
        }

        /// Ends the job that began at `started`: its duration in nanoseconds.
        pub(crate) fn end(&mut self, started: Instant) -> u64 {
            let now = Instant::now();
            self.previous_end = Some(now);
            u64::try_from((now - started).as_nanos()).unwrap_or(u64::MAX)
        }
    }

    impl WorkerDurations {
        /// Records a job's duration under its outcome. Only the worker that owns these writes.
        pub(crate) fn record<O, E>(&self, outcome: &Result<O, TaskError<E>>, ns: u64) {
            let outcome = match outcome {
                Ok(_) => 0,
                Err(TaskError::Failed(_) | TaskError::Abandoned) => 1,
                Err(TaskError::TimedOut(_)) => 2,
                Err(TaskError::Panicked(_)) => 3,
                Err(TaskError::ResourceFailed { .. }) => 4,
            };
            let durations = &self.0[outcome];
            // One writer: a load and a store, not a read-modify-write.
            for (counter, value) in [(&durations.buckets[bucket(ns)], 1), (&durations.sum_ns, ns)] {
                counter.store(counter.load(Relaxed).wrapping_add(value), Relaxed);
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn a_duration_falls_in_the_first_bucket_whose_bound_is_not_below_it() {
            let ms = |ms: f64| (ms * 1e6) as u64;
            assert_eq!(bucket(0), 0);
            assert_eq!(bucket(ms(0.1)), 0);
            assert_eq!(bucket(ms(0.1) + 1), 1);
            assert_eq!(bucket(ms(0.2)), 1);
            assert_eq!(bucket(ms(0.3)), 2);
            assert_eq!(bucket(ms(1_000.0)), 14, "1 s is at most 100 µs × 2^14 = 1.64 s");
            assert_eq!(upper_bound(14), 1.6384);
            assert_eq!(bucket(u64::MAX), BUCKETS, "+Inf");
            assert_eq!(upper_bound(BUCKETS), f64::MAX);
        }
    }
}
