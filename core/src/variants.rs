//! Variants of a task compared side by side: what each variant's pool recorded, and the report
//! [`Runtime::variants`](crate::Runtime::variants) makes of it.
//!
//! Only the pools of tasks with `variants` record anything here: per job, the time it waited in
//! the queue and the time it ran (every attempt, and the wait for a cold resource), into
//! HDR histograms (two significant digits, nanoseconds up to an hour), and whether it failed.
//! Every other pool skips it with one test of an `Option`.
//!
//! ```rust,standalone_crate
//! # preheat::metadata!("doc-meta/variants");
//! # #[preheat::task("inventory.reserve", metadata = "doc-meta/variants")]
//! # async fn reserve(order: u64) -> Result<u64, String> { Ok(order) }
//! # #[preheat::task("inventory.reserve", metadata = "doc-meta/variants", variant = "v2")]
//! # async fn reserve_v2(order: u64) -> Result<u64, String> { Ok(order) }
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let rt = preheat::Runtime::builder().start().await?;
//! for order in 0..100_u64 {
//!     rt.submit(reserve, order).await?.await?;
//! }
//! let report = rt.variants();
//! let task = &report.tasks[0];
//! assert_eq!(task.task, "inventory.reserve");
//! assert_eq!(task.variants.iter().map(|variant| variant.count).sum::<u64>(), 100);
//! println!("{report}"); // a table: count, failure rate, p50/p95/p99 of wait and run, each against v1
//! # rt.shutdown().await?;
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::num::NonZeroU64;
use std::sync::Mutex;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;
use tokio::time::Instant;

use crate::sync::lock;

/// The largest time recorded as itself; a longer one is recorded as this.
const LONGEST: Duration = Duration::from_secs(3_600);

/// What one variant's pool has recorded since it started.
#[derive(Debug)]
pub(crate) struct VariantTimings {
    /// What [`Stamp`]s count from.
    epoch: Instant,
    recorded: Mutex<Recorded>,
}

/// When a job was queued in a variant's pool: nanoseconds since the pool's epoch, plus one so
/// that `Option<Stamp>` is eight bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Stamp(NonZeroU64);

#[derive(Debug)]
struct Recorded {
    wait: Histogram<u64>,
    run: Histogram<u64>,
    failed: u64,
}

impl VariantTimings {
    pub(crate) fn new() -> Self {
        let histogram = || match Histogram::new_with_bounds(1, nanos(LONGEST), 2) {
            Ok(histogram) => histogram,
            Err(error) => unreachable!("the bounds are constants that hdrhistogram accepts: {error}"),
        };
        let recorded = Mutex::new(Recorded { wait: histogram(), run: histogram(), failed: 0 });
        Self { epoch: Instant::now(), recorded }
    }

    /// Now, for a job being queued.
    pub(crate) fn stamp(&self) -> Stamp {
        Stamp(NonZeroU64::MIN.saturating_add(nanos(self.epoch.elapsed())))
    }

    /// A job taken by a worker now, which was queued at `queued_at` (`None`: it never was, such as
    /// a test's `run_task`).
    pub(crate) fn start(&self, queued_at: Option<Stamp>) -> Timing<'_> {
        let taken = Instant::now();
        let waited = queued_at.map(|Stamp(queued)| {
            let taken = nanos(taken.saturating_duration_since(self.epoch));
            Duration::from_nanos(taken.saturating_sub(queued.get() - 1))
        });
        Timing { timings: self, waited, taken }
    }

    /// The figures so far, as the report shows them.
    fn figures(&self, name: &'static str, weight: u32) -> VariantFigures {
        let recorded = lock(&self.recorded);
        let count = recorded.run.len();
        VariantFigures {
            count,
            failed: recorded.failed,
            failure_rate: if count == 0 { 0.0 } else { recorded.failed as f64 / count as f64 },
            wait_ms: Percentiles::of(&recorded.wait),
            run_ms: Percentiles::of(&recorded.run),
            ..VariantFigures::none(name, weight)
        }
    }
}

/// One job of a variant between its worker taking it and its outcome.
#[derive(Debug)]
pub(crate) struct Timing<'a> {
    timings: &'a VariantTimings,
    waited: Option<Duration>,
    taken: Instant,
}

impl Timing<'_> {
    /// Records the job's wait and run time, and whether it `failed`.
    pub(crate) fn finish(self, failed: bool) {
        let ran = self.taken.elapsed();
        let mut recorded = lock(&self.timings.recorded);
        if let Some(waited) = self.waited {
            recorded.wait.saturating_record(nanos(waited));
        }
        recorded.run.saturating_record(nanos(ran));
        recorded.failed += u64::from(failed);
    }
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// Every task with variants, each variant's figures side by side: from
/// [`Runtime::variants`](crate::Runtime::variants), and as JSON from `GET /variants`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct VariantsReport {
    /// The tasks with variants, in the registry's order.
    pub tasks: Vec<TaskVariants>,
}

/// One task's variants, in the YAML's order.
#[derive(Clone, Debug, Serialize)]
pub struct TaskVariants {
    /// The task's id.
    pub task: &'static str,
    /// The first variant is the one the others are compared against.
    pub variants: Vec<VariantFigures>,
}

/// What one variant's pool did in this runtime.
#[derive(Clone, Debug, Serialize)]
pub struct VariantFigures {
    /// The variant's name, as in the YAML.
    pub name: &'static str,
    /// Its weight now (see [`Runtime::set_weights`](crate::Runtime::set_weights)).
    pub weight: u32,
    /// Jobs that ended (after all their attempts) in this variant's pool.
    pub count: u64,
    /// How many of those failed for good.
    pub failed: u64,
    /// `failed / count`; 0 before any job.
    pub failure_rate: f64,
    /// Time from the submit queueing the job to a worker taking it, in milliseconds.
    pub wait_ms: Percentiles,
    /// Time from a worker taking the job to its outcome, every attempt included, in milliseconds.
    pub run_ms: Percentiles,
    /// This variant minus the task's first variant; `None` for the first variant itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub against_first: Option<Difference>,
}

impl VariantFigures {
    /// A variant that has run nothing (its lazy pool is not built yet).
    fn none(name: &'static str, weight: u32) -> Self {
        Self {
            name,
            weight,
            count: 0,
            failed: 0,
            failure_rate: 0.0,
            wait_ms: Percentiles::default(),
            run_ms: Percentiles::default(),
            against_first: None,
        }
    }
}

/// The 50th, 95th and 99th percentiles of a time, in milliseconds; all 0 before any job.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Percentiles {
    /// The median.
    pub p50: f64,
    /// The 95th percentile.
    pub p95: f64,
    /// The 99th percentile.
    pub p99: f64,
}

impl Percentiles {
    fn of(histogram: &Histogram<u64>) -> Self {
        let at = |quantile: f64| histogram.value_at_quantile(quantile) as f64 / 1e6;
        Self { p50: at(0.50), p95: at(0.95), p99: at(0.99) }
    }

    fn minus(self, other: Self) -> Self {
        Self { p50: self.p50 - other.p50, p95: self.p95 - other.p95, p99: self.p99 - other.p99 }
    }
}

/// A variant's figures minus its task's first variant's: positive is more (slower, or failing
/// more often).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Difference {
    /// Failure rate, as a difference of fractions.
    pub failure_rate: f64,
    /// Queue wait percentiles, in milliseconds.
    pub wait_ms: Percentiles,
    /// Run time percentiles, in milliseconds.
    pub run_ms: Percentiles,
}

impl TaskVariants {
    /// The figures of `variants` (name, weight, and its pool's timings if built), each compared
    /// with the first.
    pub(crate) fn new<'a>(
        task: &'static str,
        variants: impl Iterator<Item = (&'static str, u32, Option<&'a VariantTimings>)>,
    ) -> Self {
        let mut variants: Vec<VariantFigures> = variants
            .map(|(name, weight, timings)| match timings {
                Some(timings) => timings.figures(name, weight),
                None => VariantFigures::none(name, weight),
            })
            .collect();
        if let Some((first, rest)) = variants.split_first_mut() {
            for variant in rest {
                variant.against_first = Some(Difference {
                    failure_rate: variant.failure_rate - first.failure_rate,
                    wait_ms: variant.wait_ms.minus(first.wait_ms),
                    run_ms: variant.run_ms.minus(first.run_ms),
                });
            }
        }
        Self { task, variants }
    }
}

impl fmt::Display for VariantsReport {
    /// A table per task: one line per variant, the first variant's figures as they are, the
    /// others' with their difference in brackets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for task in &self.tasks {
            writeln!(f, "{}", task.task)?;
            let header = format!(
                "  {:<10} {:>7} {:>9} {:>8}  {:<26} {:<26}",
                "variant", "weight", "count", "failed", "wait p50/p95/p99 ms", "run p50/p95/p99 ms"
            );
            writeln!(f, "{}", header.trim_end())?;
            for variant in &task.variants {
                let percentiles = |p: Percentiles| format!("{:.3}/{:.3}/{:.3}", p.p50, p.p95, p.p99);
                let mut line = format!(
                    "  {:<10} {:>7} {:>9} {:>7.2}%  {:<26} {:<26}",
                    variant.name,
                    variant.weight,
                    variant.count,
                    variant.failure_rate * 100.0,
                    percentiles(variant.wait_ms),
                    percentiles(variant.run_ms),
                );
                if let Some(difference) = &variant.against_first {
                    line += &format!(
                        " vs first: failed {:+.2} pts, run p50 {:+.3} ms, p99 {:+.3} ms",
                        difference.failure_rate * 100.0,
                        difference.run_ms.p50,
                        difference.run_ms.p99,
                    );
                }
                writeln!(f, "{}", line.trim_end())?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_variant_is_compared_with_the_first_one() {
        let (first, second) = (VariantTimings::new(), VariantTimings::new());
        for (timings, run, failed) in [(&first, 10, false), (&second, 30, true), (&second, 30, false)] {
            let queued = timings.stamp();
            tokio::time::advance(Duration::from_millis(2)).await;
            let timing = timings.start(Some(queued));
            tokio::time::advance(Duration::from_millis(run)).await;
            timing.finish(failed);
        }
        let task =
            TaskVariants::new("t", [("a", 90, Some(&first)), ("b", 10, Some(&second)), ("c", 0, None)].into_iter());
        let [a, b, c] = &task.variants[..] else { panic!("three variants: {task:?}") };
        assert_eq!((a.count, a.failed, b.count, b.failed, c.count), (1, 0, 2, 1, 0));
        assert_eq!(b.failure_rate, 0.5);
        // Two significant digits: 10 ms and 30 ms are recorded within 1 %.
        assert!((a.run_ms.p50 - 10.0).abs() < 0.1 && (b.run_ms.p99 - 30.0).abs() < 0.3, "{task:?}");
        assert!((b.wait_ms.p50 - 2.0).abs() < 0.02, "{task:?}");
        let difference = b.against_first.expect("b is compared with a");
        assert!((difference.run_ms.p50 - 20.0).abs() < 0.3, "{difference:?}");
        assert_eq!(difference.failure_rate, 0.5);
        assert!(a.against_first.is_none());
        assert_eq!(c.run_ms, Percentiles::default(), "an unbuilt pool has run nothing");
    }
}
