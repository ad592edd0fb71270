//! Delayed-task lateness, memory per pending delayed task and schedule drift, each beside the
//! common way of doing the same with tokio, in one run.
//!
//! Run with `cargo run --release -p preheat-benches --bin timers`.
//!
//! Every measurement runs in a fresh child process (see [`fresh_process`](preheat_benches::fresh_process)) on a
//! two-thread tokio runtime ([`preheat_benches::runner`]), so that one does not leave garbage or threads for the next.
//!
//! 1. **Lateness.** [`PENDING`] tasks are submitted to run at random times spread evenly over
//!    [`SPREAD`], starting [`LEAD`] from now (so all are pending before the first comes due: on
//!    average 10,000 come due a second). Each records how long after its due time its body
//!    started. preheat: `submit_at` of `bench.delayed`, whose pool has two workers, so the
//!    figure includes the trip through the task's queue. Baseline: one `tokio::spawn` per task
//!    that sleeps until its time, the common way. [`LATENESS_ROUNDS`] rounds, contenders
//!    interleaved; medians of each round's p50, p99 and max.
//! 2. **Memory.** [`MEMORY_PENDING`] tasks due in an hour; the bytes the process holds on the
//!    heap afterwards minus before, per task, counted by the allocator (and the resident set
//!    growth, as a check that includes allocator overhead). Same two contenders.
//! 3. **Drift.** `bench.tick` is scheduled `every: 100ms`. Beside it, the common way: a loop
//!    that sleeps 100 ms and then works. Both run for [`DRIFT_TICKS`] ticks (a minute) in the same
//!    process; tick `k`'s offset is its fire time minus `first + k × 100 ms`. A grid keeps the
//!    offsets bounded; a sleep loop adds its wake-up delay every time and the offset grows.
//!
//! The run ends with `key=value` lines (see [`Report`]).

use std::time::Duration;

use preheat::Runtime;
use preheat_benches::fresh_process::{child_role, run_child_numbers};
use preheat_benches::report::Report;
use preheat_benches::runner::in_runtime;
use preheat_benches::samples::Samples;
use timers_fixture::{LATENESS, Recorder, TICKS, delayed, instant_at, now_ns};

/// Counts the bytes on the heap, for the memory per pending task.
#[global_allocator]
static ALLOCATOR: cap::Cap<std::alloc::System> = cap::Cap::new(std::alloc::System, usize::MAX);

/// Delayed tasks pending in a lateness round.
const PENDING: usize = 100_000;
/// From the submit of the first delayed task to the earliest due time.
const LEAD: Duration = Duration::from_secs(1);
/// Due times are spread evenly over this long.
const SPREAD: Duration = Duration::from_secs(10);
/// Lateness rounds per contender.
const LATENESS_ROUNDS: usize = 3;
/// Delayed tasks pending in the memory measurement.
const MEMORY_PENDING: usize = 1_000_000;
/// The period of `bench.tick` in `timers-fixture/meta/timers.yaml`.
const PERIOD: Duration = Duration::from_millis(100);
/// Ticks of the drift run.
const DRIFT_TICKS: usize = 600;

fn main() {
    if let Some(role) = child_role() {
        let role: Vec<&str> = role.iter().map(String::as_str).collect();
        let line = match role.as_slice() {
            ["lateness", contender] => in_runtime(lateness(Contender::parse(contender))),
            ["memory", contender] => in_runtime(memory(Contender::parse(contender))),
            ["drift"] => in_runtime(drift()),
            _ => panic!("unknown child role {role:?}; expected `lateness|memory preheat|spawn` or `drift`"),
        };
        println!("{line}");
        // Leaves at once: tearing down a million pending timers measures nothing.
        std::process::exit(0);
    }

    let mut report = Report::new();

    println!(
        "lateness: {PENDING} pending delayed tasks due over {SPREAD:?}, {LATENESS_ROUNDS} rounds \
         interleaved (medians of the rounds; µs after the due time)"
    );
    let mut rounds = [Vec::new(), Vec::new()];
    for _ in 0..LATENESS_ROUNDS {
        for (contender, rounds) in Contender::ALL.iter().zip(&mut rounds) {
            rounds.push(run_child_numbers::<3>(&["lateness", contender.name()]));
        }
    }
    println!("  {:<22} {:>9} {:>9} {:>9}", "", "p50", "p99", "max");
    for (contender, rounds) in Contender::ALL.iter().zip(&rounds) {
        let [p50, p99, max] = [0, 1, 2].map(|i| Samples::new(rounds.iter().map(|round| round[i]).collect()).median());
        println!("  {:<22} {p50:>9.1} {p99:>9.1} {max:>9.1}", contender.label());
        let prefix = contender.key_prefix();
        report.add(&format!("{prefix}lateness_p50_us"), format!("{p50:.1}"));
        report.add(&format!("{prefix}lateness_p99_us"), format!("{p99:.1}"));
        report.add(&format!("{prefix}lateness_max_us"), format!("{max:.1}"));
    }

    println!("\nmemory: {MEMORY_PENDING} pending delayed tasks (bytes per task)");
    println!("  {:<22} {:>9} {:>9}", "", "heap", "resident");
    let mut heap = [0.0; 2];
    for (contender, heap) in Contender::ALL.iter().zip(&mut heap) {
        let [bytes, resident] = run_child_numbers(&["memory", contender.name()]);
        println!("  {:<22} {bytes:>9.1} {resident:>9.1}", contender.label());
        let prefix = contender.key_prefix();
        report.add(&format!("{prefix}bytes_per_pending"), format!("{bytes:.1}"));
        report.add(&format!("{prefix}resident_per_pending"), format!("{resident:.1}"));
        *heap = bytes;
    }
    report.add("bytes_vs_spawn", format!("{:.2}", heap[0] / heap[1]));

    println!("\ndrift: {DRIFT_TICKS} ticks of 100 ms (µs off the grid `first + k × 100 ms`)");
    let [max, end, late_p99, skipped, naive_max, naive_end] = run_child_numbers(&["drift"]);
    println!("  {:<22} {:>9} {:>9} {:>9}", "", "max |off|", "last", "p99 late");
    println!("  {:<22} {max:>9.1} {end:>9.1} {late_p99:>9.1}   ({skipped} ticks skipped)", "preheat every: 100ms");
    println!("  {:<22} {naive_max:>9.1} {naive_end:>9.1}", "sleep(100ms) loop");
    report.add("drift_max_us", format!("{max:.1}"));
    report.add("drift_last_us", format!("{end:.1}"));
    report.add("tick_late_p99_us", format!("{late_p99:.1}"));
    report.add("ticks_skipped", skipped);
    report.add("sleep_loop_drift_max_us", format!("{naive_max:.1}"));
    report.add("sleep_loop_drift_last_us", format!("{naive_end:.1}"));

    println!();
    report.print();
}

#[derive(Clone, Copy, Debug)]
enum Contender {
    Preheat,
    Spawn,
}

impl Contender {
    const ALL: [Self; 2] = [Self::Preheat, Self::Spawn];

    fn parse(name: &str) -> Self {
        match name {
            "preheat" => Self::Preheat,
            "spawn" => Self::Spawn,
            _ => panic!("unknown contender `{name}`; expected `preheat` or `spawn`"),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Preheat => "preheat",
            Self::Spawn => "spawn",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Preheat => "preheat submit_at",
            Self::Spawn => "tokio::spawn + sleep",
        }
    }

    /// preheat's keys are the ones the issue names; the baseline's carry a prefix.
    fn key_prefix(self) -> &'static str {
        match self {
            Self::Preheat => "",
            Self::Spawn => "spawn_",
        }
    }

    /// Makes `due_ns` (a [`now_ns`] time) run `bench.delayed`'s body at that time.
    fn submit(self, runtime: &Runtime, due_ns: u64) {
        let at = tokio::time::Instant::from_std(instant_at(due_ns));
        match self {
            Self::Preheat => {
                if let Err(error) = runtime.submit_at(delayed, due_ns, at) {
                    panic!("cannot delay a task: {error}");
                }
            }
            Self::Spawn => {
                tokio::spawn(async move {
                    tokio::time::sleep_until(at).await;
                    LATENESS.record(now_ns().saturating_sub(due_ns));
                });
            }
        }
    }
}

/// One lateness round: prints `p50 p99 max` in µs.
async fn lateness(contender: Contender) -> String {
    let runtime = start().await;
    LATENESS.expect(PENDING);
    let first_due = now_ns() + LEAD.as_nanos() as u64;
    // The same due times every round and for both contenders, in random order.
    let mut random = fastrand::Rng::with_seed(0x7133);
    for _ in 0..PENDING {
        contender.submit(&runtime, first_due + random.u64(0..SPREAD.as_nanos() as u64));
    }
    assert!(now_ns() < first_due, "submitting took longer than the lead; raise LEAD");
    let lateness = Samples::new(LATENESS.reached().await.into_iter().map(|ns| ns as f64 / 1e3).collect());
    format!("{} {} {}", lateness.percentile(50.0), lateness.percentile(99.0), lateness.max())
}

/// Prints the heap bytes and the resident bytes per pending delayed task.
async fn memory(contender: Contender) -> String {
    let runtime = start().await;
    let (heap, resident) = (ALLOCATOR.allocated(), resident_bytes());
    let due = now_ns() + Duration::from_secs(3600).as_nanos() as u64;
    for _ in 0..MEMORY_PENDING {
        contender.submit(&runtime, due);
    }
    let per_task = |before: usize, after: usize| after.saturating_sub(before) as f64 / MEMORY_PENDING as f64;
    format!("{} {}", per_task(heap, ALLOCATOR.allocated()), per_task(resident, resident_bytes()))
}

/// The process's resident set, from `/proc/self/statm` (Linux, 4 KiB pages).
fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    statm.split(' ').nth(1).and_then(|pages| pages.parse::<usize>().ok()).unwrap_or(0) * 4096
}

/// The drift run: prints `max last late_p99 skipped` for preheat's grid, then `max last` for
/// the sleep loop, in µs.
async fn drift() -> String {
    static SLEEP_LOOP: Recorder = Recorder::new();
    let runtime = start().await;
    // Both count from their next tick on.
    TICKS.expect(DRIFT_TICKS);
    SLEEP_LOOP.expect(DRIFT_TICKS);
    let sleep_loop = tokio::spawn(async {
        loop {
            tokio::time::sleep(PERIOD).await;
            SLEEP_LOOP.record(now_ns());
        }
    });
    let (ticks, slept) = tokio::join!(TICKS.reached(), SLEEP_LOOP.reached());
    sleep_loop.abort();
    let skipped = runtime.schedule_stats("bench.tick").map_or(0, |stats| stats.skipped);
    let (grid, loop_offsets) = (offsets(&ticks), offsets(&slept));
    // Lateness against the grid itself: the earliest tick is the closest to it.
    let earliest = grid.iter().copied().fold(f64::INFINITY, f64::min);
    let late = Samples::new(grid.iter().map(|offset| offset - earliest).collect());
    let (max, end) = summary(&grid);
    let (naive_max, naive_end) = summary(&loop_offsets);
    format!("{max} {end} {} {skipped} {naive_max} {naive_end}", late.percentile(99.0))
}

/// Each fire time's offset from `first + k × PERIOD`, in µs.
fn offsets(fire_ns: &[u64]) -> Vec<f64> {
    let first = fire_ns[0] as f64;
    let period = PERIOD.as_nanos() as f64;
    fire_ns.iter().enumerate().map(|(k, &at)| (at as f64 - first - k as f64 * period) / 1e3).collect()
}

/// The largest absolute offset and the last one.
fn summary(offsets: &[f64]) -> (f64, f64) {
    let max = offsets.iter().map(|offset| offset.abs()).fold(0.0, f64::max);
    (max, offsets.last().copied().unwrap_or_default())
}

/// Starts preheat, which arms `bench.tick` and warms `bench.delayed`'s pool.
async fn start() -> Runtime {
    Runtime::builder().start().await.unwrap_or_else(|error| panic!("cannot start preheat: {error}"))
}
