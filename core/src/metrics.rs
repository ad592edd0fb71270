//! Prometheus metrics of a runtime, in the text format `/metrics` serves (feature `http`).
//!
//! Task durations are the only values recorded as they happen (see `durations.rs`): per job a
//! clock read and two counter updates in memory only that worker writes, merged into a histogram
//! per task and outcome when scraped (prometheus-client's own `Histogram` takes a lock per
//! observation). Everything else — queue depths, workers, the submit and
//! failure counters each pool keeps anyway, start-up phases, resident memory — is read when
//! scraped.
//!
//! Every series is labelled by `task` and `variant`: the variant's name for a task with
//! `variants` (each variant is its own pool), and empty for every other task, which Prometheus
//! reads as no label at all.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};

use crate::durations::{BUCKETS, OUTCOMES, upper_bound};
use crate::pool::PoolStats;
use crate::registry::RegisteredTask;
use crate::runtime::Runtime;
use crate::tally::Tallies;

type TaskLabel = [(&'static str, &'static str); 2];
type TaskOutcomeLabel = [(&'static str, &'static str); 3];
type PhaseLabel = [(&'static str, String); 1];

/// Reads one figure off a pool's stats.
type Read<T> = fn(&PoolStats) -> T;

/// Writes every task's `task_duration_seconds` histogram, merging the shards, when scraped.
#[derive(Debug)]
struct DurationCollector(Vec<(TaskLabel, Arc<Tallies>)>);

impl Collector for DurationCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let mut family = encoder.encode_descriptor(
            "task_duration",
            "Time from a worker taking a job to its outcome, all attempts included, by outcome",
            Some(&Unit::Seconds),
            MetricType::Histogram,
        )?;
        for ([task, variant], tallies) in &self.0 {
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
                    let labels: TaskOutcomeLabel = [*task, *variant, ("outcome", outcome)];
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
pub(crate) fn render(runtime: &Runtime) -> Result<String, std::fmt::Error> {
    let mut registry = Registry::default();
    let pools = runtime.built_pools();
    let tallies = pools.iter().map(|(task, pool)| (labels(task), pool.tallies.clone())).collect();
    registry.register_collector(Box::new(DurationCollector(tallies)));

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
    // Every function's own pool, built or not: a variant is its own series.
    let stats: Vec<(TaskLabel, PoolStats)> = runtime
        .registry()
        .tasks()
        .iter()
        .enumerate()
        .map(|(index, task)| (labels(task), runtime.stats_at(index)))
        .collect();
    for (name, help, value) in gauges {
        let family = Family::<TaskLabel, Gauge>::default();
        for (labels, stats) in &stats {
            family.get_or_create(labels).set(value(stats));
        }
        registry.register(name, help, family);
    }
    for (name, help, value) in counters {
        let family = Family::<TaskLabel, Counter>::default();
        for (labels, stats) in &stats {
            family.get_or_create(labels).inc_by(value(stats));
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

/// The `task` and `variant` labels of a registered function's series.
fn labels(task: &RegisteredTask) -> TaskLabel {
    [("task", task.id()), ("variant", task.variant().unwrap_or(""))]
}

impl Runtime {
    /// The runtime's metrics in the Prometheus text format, as `/metrics` serves them.
    ///
    /// # Errors
    ///
    /// If the encoder fails to write (it writes to a `String`, so only on a bug).
    pub fn render_metrics(&self) -> Result<String, std::fmt::Error> {
        render(self)
    }
}
