//! Prometheus metrics of a runtime, in the text format `/metrics` serves (feature `http`).
//!
//! Task durations are the only values recorded as they happen: per job a clock read or two and
//! two counter updates in memory only that worker writes, merged into a histogram per task and
//! outcome when scraped (prometheus-client's own `Histogram` takes a lock per observation). Everything else — queue depths, workers, the submit and
//! failure counters each pool keeps anyway, start-up phases, resident memory — is read when
//! scraped.

use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};

use crate::outcome::TaskError;
use crate::pool::PoolStats;
use crate::runtime::Runtime;
use crate::sync::lock;
use crate::tally::{Tallies, Worker, add};

type TaskLabel = [(&'static str, &'static str); 1];
type TaskOutcomeLabel = [(&'static str, &'static str); 2];
type PhaseLabel = [(&'static str, String); 1];

/// Reads one figure off a pool's stats.
type Read<T> = fn(&PoolStats) -> T;

/// The outcomes `task_duration_seconds` is split by.
const OUTCOMES: [&str; 5] = ["ok", "failed", "timed_out", "panicked", "resource_failed"];
/// Finite buckets: 100 µs doubling up to about 52 s, then +Inf.
const BUCKETS: usize = 20;
const FIRST_BOUND_NS: u64 = 100_000;

/// The durations of one outcome: a count per bucket (the last is +Inf) and the sum.
#[derive(Debug, Default)]
struct Durations {
    buckets: [AtomicU64; BUCKETS + 1],
    sum_ns: AtomicU64,
}

/// The bucket of a duration: the first whose upper bound, `100 µs × 2^k`, is not below it.
fn bucket(ns: u64) -> usize {
    if ns <= FIRST_BOUND_NS {
        return 0;
    }
    let ratio = (ns - 1) / FIRST_BOUND_NS;
    (u64::BITS - ratio.leading_zeros()).min(BUCKETS as u32) as usize
}

fn upper_bound(bucket: usize) -> f64 {
    if bucket == BUCKETS { f64::MAX } else { (FIRST_BOUND_NS << bucket) as f64 / 1e9 }
}

/// One worker's job durations, by outcome, in its [`WorkerTally`](crate::tally::WorkerTally):
/// written only by that worker.
#[derive(Debug, Default)]
pub(crate) struct WorkerDurations([Durations; OUTCOMES.len()]);

/// The job durations of every pool, which `/metrics` reads when scraped.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    pools: Mutex<Vec<(&'static str, Arc<Tallies>)>>,
}

impl Metrics {
    /// Adds the pool of task `id`, whose workers count into `tallies`.
    pub(crate) fn register(&self, id: &'static str, tallies: Arc<Tallies>) {
        lock(&self.pools).push((id, tallies));
    }
}

/// A worker's clock for job durations. A job starts when its worker takes it; a worker that
/// goes straight from one job to the next starts the next at the instant the previous ended, so
/// a busy worker reads the clock once per job rather than twice.
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

    /// Ends the job that began at `started` and records its duration under its outcome in the
    /// worker's own durations.
    pub(crate) fn record<O, E>(&mut self, worker: &Worker, started: Instant, outcome: &Result<O, TaskError<E>>) {
        let now = Instant::now();
        self.previous_end = Some(now);
        let outcome = match outcome {
            Ok(_) => 0,
            Err(TaskError::Failed(_) | TaskError::Abandoned) => 1,
            Err(TaskError::TimedOut(_)) => 2,
            Err(TaskError::Panicked(_)) => 3,
            Err(TaskError::ResourceFailed { .. }) => 4,
        };
        let durations = &worker.tally.durations.0[outcome];
        let ns = u64::try_from((now - started).as_nanos()).unwrap_or(u64::MAX);
        add(&durations.buckets[bucket(ns)], 1);
        add(&durations.sum_ns, ns);
    }
}

/// Writes every task's `task_duration_seconds` histogram, merging the shards, when scraped.
#[derive(Debug)]
struct DurationCollector(Vec<(&'static str, Arc<Tallies>)>);

impl Collector for DurationCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let mut family = encoder.encode_descriptor(
            "task_duration",
            "Time from a worker taking a job to its outcome, all attempts included, by outcome",
            Some(&Unit::Seconds),
            MetricType::Histogram,
        )?;
        for (task, tallies) in &self.0 {
            let workers = tallies.each();
            for (index, outcome) in OUTCOMES.iter().enumerate() {
                let mut buckets: Vec<(f64, u64)> = (0..=BUCKETS).map(|bucket| (upper_bound(bucket), 0)).collect();
                let mut sum_ns = 0u64;
                for worker in &workers {
                    let durations = &worker.durations.0[index];
                    for (merged, count) in buckets.iter_mut().zip(&durations.buckets) {
                        merged.1 += count.load(Relaxed);
                    }
                    sum_ns = sum_ns.saturating_add(durations.sum_ns.load(Relaxed));
                }
                let count: u64 = buckets.iter().map(|(_, count)| count).sum();
                // An outcome a task never had is left out, as a labelled histogram would be.
                if count > 0 {
                    let labels: TaskOutcomeLabel = [("task", task), ("outcome", outcome)];
                    family.encode_family(&labels)?.encode_histogram::<NoLabelSet>(
                        sum_ns as f64 / 1e9,
                        count,
                        &buckets,
                        None,
                    )?;
                }
            }
        }
        Ok(())
    }
}

/// The runtime's metrics in the Prometheus text format.
pub(crate) fn render(runtime: &Runtime, metrics: &Metrics) -> Result<String, std::fmt::Error> {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(DurationCollector(lock(&metrics.pools).clone())));

    let init = Family::<PhaseLabel, Gauge<f64, std::sync::atomic::AtomicU64>>::default();
    for phase in runtime.readiness().phases {
        init.get_or_create(&[("phase", phase.name)]).set(phase.took.as_secs_f64());
    }
    registry.register_with_unit("task_init_duration", "Time each start-up phase took", Unit::Seconds, init);

    let gauges: [(&str, &str, Read<i64>); 3] = [
        ("task_queue_depth", "Jobs waiting in the task's queue", |stats| stats.queued as i64),
        ("task_workers_busy", "Workers running a job", |stats| i64::from(stats.workers.saturating_sub(stats.idle))),
        ("task_workers_idle", "Workers parked, waiting for a job", |stats| i64::from(stats.idle)),
    ];
    let counters: [(&str, &str, Read<u64>); 4] = [
        ("task_submitted", "Jobs accepted into the task's queue", |stats| stats.submitted),
        ("task_rejected", "Submits turned away by a full queue", |stats| stats.rejected),
        ("task_retried", "Attempts that failed and were tried again", |stats| stats.retried),
        ("task_dead_lettered", "Jobs that failed for good", |stats| stats.dead_lettered),
    ];
    let stats: Vec<(&'static str, PoolStats)> =
        runtime.registry().tasks().iter().filter_map(|task| Some((task.id(), runtime.stats(task.id())?))).collect();
    for (name, help, value) in gauges {
        let family = Family::<TaskLabel, Gauge>::default();
        for (id, stats) in &stats {
            family.get_or_create(&[("task", id)]).set(value(stats));
        }
        registry.register(name, help, family);
    }
    for (name, help, value) in counters {
        let family = Family::<TaskLabel, Counter>::default();
        for (id, stats) in &stats {
            family.get_or_create(&[("task", id)]).inc_by(value(stats));
        }
        registry.register(name, help, family);
    }

    let resident = Gauge::<i64>::default();
    if let Some(usage) = memory_stats::memory_stats() {
        resident.set(i64::try_from(usage.physical_mem).unwrap_or(i64::MAX));
    }
    registry.register_with_unit("process_resident_memory", "Resident memory of the process", Unit::Bytes, resident);

    let mut text = String::new();
    encode(&mut text, &registry)?;
    Ok(text)
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
