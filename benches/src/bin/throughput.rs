//! Throughput and latency of preheat against a raw worker pool and `tokio::spawn`, in one run.
//!
//! Run with `cargo run --release -p preheat-benches --bin throughput`.
//!
//! Everything runs on a multi-thread tokio runtime of [`WORKERS`] threads (the benchmark machine
//! has two cores), and the measuring code is itself a task on that runtime, so submissions come
//! from a worker thread as they do from a request handler. preheat's pools and the raw pool have
//! [`WORKERS`] pre-warmed workers each.
//!
//! 1. **Throughput.** [`TASKS`] no-op tasks from one producer that submits in a loop, timed
//!    until the last task has *run* (each body ticks the [`TALLY`], which wakes the producer at
//!    the last tick). Contenders: preheat with `submit_detached` (`bench.noop`; like the raw pool,
//!    nothing reports back), preheat with `submit` and its `Completion` dropped, the [`RawPool`]
//!    (round-robin over one unbounded mpsc channel per worker) and one `tokio::spawn` per task.
//!    [`ROUNDS`] rounds interleaved after one warm-up round; medians reported.
//! 2. **First task in a fresh process.** The binary runs itself [`FRESH_RUNS`] times per
//!    contender, interleaved. Each child starts its runtime and preheat runtime (or raw pool),
//!    which returns once the workers are parked, then times its very first submission
//!    (`submit_detached`, like the raw pool's plain send) from just before the submit to the
//!    first line of the task body ([`PROBE`]). Medians reported. Again with
//!    [`IDLE_BEFORE_FIRST`] of idle between the start and the first task, as in a service whose
//!    first task comes a while after start-up: by then the runtime's threads sleep.
//! 3. **Steady latency.** In this process, after [`STEADY_WARMUP`] probes, [`STEADY_SAMPLES`]
//!    isolated probes per contender, interleaved: submit, wait until the body has started,
//!    repeat, so every probe finds the workers idle. p50 and p99 of submit-to-start reported.
//!
//! With `--quick` (`cargo run ... --bin throughput -- --quick`) it measures the same figures from
//! fewer samples, in a few seconds: [`Settings::QUICK`]. CI prints them; read them as a smoke
//! test, not as figures to compare.
//!
//! Built with `--features otel`, it also measures the cost of traces (#16): the detached
//! throughput round on three runtimes, interleaved: one whose threads have no `tracing`
//! subscriber (the baseline), one with preheat's OpenTelemetry layer and the sampler
//! `always_off`, one with `always_on` (spans exported in batches to an exporter that drops them).
//! `ratio_otel_off` and `ratio_otel_sampled` are their medians over the baseline's.
//!
//! The run ends with `key=value` lines (see [`Report`]).

use std::time::Instant;

use preheat::Runtime;
use preheat_benches::fresh_process::{child_role, run_child_numbers};
use preheat_benches::length::Length;
use preheat_benches::raw_pool::RawPool;
use preheat_benches::report::Report;
use preheat_benches::runner::{THREADS, in_runtime};
use preheat_benches::samples::Samples;
use preheat_benches::workload::{PROBE, TALLY, noop, now_ns, probe};

/// Workers of every pool (`workers.min = max` in `benches/meta/throughput.yaml`), one per thread
/// of the tokio runtime.
const WORKERS: usize = THREADS;
/// Tasks per throughput round.
const TASKS: u64 = 1_000_000;
/// Timed throughput rounds per contender.
const ROUNDS: usize = 5;
/// Fresh processes per contender for the first-task latency.
const FRESH_RUNS: usize = 31;
/// The idle time before the first task in the `idle` variant of the first-task latency.
const IDLE_BEFORE_FIRST: std::time::Duration = std::time::Duration::from_millis(20);
/// Untimed probes per contender before the steady-latency samples.
const STEADY_WARMUP: usize = 1_000;
/// Timed probes per contender.
const STEADY_SAMPLES: usize = 10_000;

/// How much one run measures.
#[derive(Clone, Copy, Debug)]
struct Settings {
    /// Tasks per throughput round.
    tasks: u64,
    /// Timed throughput rounds per contender.
    rounds: usize,
    /// Fresh processes per contender and variant of the first-task latency.
    fresh_runs: usize,
    /// Untimed probes per contender before the steady-latency samples.
    steady_warmup: usize,
    /// Timed probes per contender.
    steady_samples: usize,
}

impl Settings {
    /// The full run, as the top comment describes it.
    const FULL: Self = Self {
        tasks: TASKS,
        rounds: ROUNDS,
        fresh_runs: FRESH_RUNS,
        steady_warmup: STEADY_WARMUP,
        steady_samples: STEADY_SAMPLES,
    };
    /// `--quick`: about a fifth of every count, 3 rounds.
    const QUICK: Self = Self { tasks: 200_000, rounds: 3, fresh_runs: 7, steady_warmup: 200, steady_samples: 2_000 };
}

fn main() {
    if let Some(role) = child_role() {
        let role: Vec<&str> = role.iter().map(String::as_str).collect();
        match role.as_slice() {
            ["first", contender] => println!("{}", in_runtime(first_task(Contender::parse(contender), false))),
            ["first", contender, "idle"] => println!("{}", in_runtime(first_task(Contender::parse(contender), true))),
            _ => panic!("unknown child role {role:?}; expected `first preheat|raw [idle]`"),
        }
        return;
    }

    let settings = Length::from_args("throughput").pick(Settings::FULL, Settings::QUICK);

    // Children first, while this process has no runtime threads of its own.
    println!(
        "first task in a fresh process ({} processes each, interleaved; submit to task start)",
        settings.fresh_runs
    );
    let [mut first_preheat, mut first_raw, mut idle_preheat, mut idle_raw] = [(); 4].map(|()| Vec::new());
    for _ in 0..settings.fresh_runs {
        first_preheat.push(child_us(Contender::Preheat, false));
        first_raw.push(child_us(Contender::Raw, false));
        idle_preheat.push(child_us(Contender::Preheat, true));
        idle_raw.push(child_us(Contender::Raw, true));
    }
    let [first_preheat, first_raw, idle_preheat, idle_raw] =
        [first_preheat, first_raw, idle_preheat, idle_raw].map(Samples::new);
    let idle_ms = IDLE_BEFORE_FIRST.as_millis();
    for (name, samples) in [
        ("preheat", &first_preheat),
        ("raw pool", &first_raw),
        (&*format!("preheat, {idle_ms} ms idle first"), &idle_preheat),
        (&*format!("raw pool, {idle_ms} ms idle first"), &idle_raw),
    ] {
        println!(
            "  {name:<28} median {:>7.2} µs   (min {:.2}, max {:.2})",
            samples.median(),
            samples.min(),
            samples.max()
        );
    }

    let (throughput, steady) = in_runtime(async move {
        let rt = Runtime::builder().start().await.unwrap_or_else(|error| panic!("cannot start preheat: {error}"));
        let throughput = throughput(&rt, settings).await;
        let steady = steady_latency(&rt, settings).await;
        rt.shutdown().await.expect("every benchmark task finishes");
        (throughput, steady)
    });

    #[cfg(feature = "otel")]
    let traced = otel_rounds::throughput(settings);

    let ratio = |a: f64, b: f64| format!("{:.3}", a / b);
    let mut report = Report::new();
    report.add("preheat_per_s", format!("{:.0}", throughput.preheat.median()));
    report.add("raw_per_s", format!("{:.0}", throughput.raw.median()));
    report.add("spawn_per_s", format!("{:.0}", throughput.spawn.median()));
    report.add("preheat_completion_per_s", format!("{:.0}", throughput.completion.median()));
    report.add("ratio_to_raw", ratio(throughput.preheat.median(), throughput.raw.median()));
    report.add("first_task_us", format!("{:.3}", first_preheat.median()));
    report.add("raw_first_us", format!("{:.3}", first_raw.median()));
    report.add("first_vs_raw", ratio(first_preheat.median(), first_raw.median()));
    report.add("first_idle_us", format!("{:.3}", idle_preheat.median()));
    report.add("raw_first_idle_us", format!("{:.3}", idle_raw.median()));
    report.add("first_idle_vs_raw", ratio(idle_preheat.median(), idle_raw.median()));
    report.add("steady_p50_us", format!("{:.3}", steady.preheat.percentile(50.0)));
    report.add("steady_p99_us", format!("{:.3}", steady.preheat.percentile(99.0)));
    report.add("raw_steady_p50_us", format!("{:.3}", steady.raw.percentile(50.0)));
    report.add("raw_steady_p99_us", format!("{:.3}", steady.raw.percentile(99.0)));
    #[cfg(feature = "otel")]
    {
        report.add("otel_baseline_per_s", format!("{:.0}", traced.baseline.median()));
        report.add("otel_off_per_s", format!("{:.0}", traced.off.median()));
        report.add("otel_sampled_per_s", format!("{:.0}", traced.sampled.median()));
        report.add("ratio_otel_off", ratio(traced.off.median(), traced.baseline.median()));
        report.add("ratio_otel_sampled", ratio(traced.sampled.median(), traced.baseline.median()));
    }
    println!();
    report.print();
}

#[derive(Clone, Copy, Debug)]
enum Contender {
    Preheat,
    Raw,
}

impl Contender {
    fn parse(name: &str) -> Self {
        match name {
            "preheat" => Self::Preheat,
            "raw" => Self::Raw,
            _ => panic!("unknown contender `{name}`; expected `preheat` or `raw`"),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Preheat => "preheat",
            Self::Raw => "raw",
        }
    }
}

/// Runs one child and returns the first-task latency it printed, in µs.
fn child_us(contender: Contender, idle: bool) -> f64 {
    let [us] = if idle {
        run_child_numbers(&["first", contender.name(), "idle"])
    } else {
        run_child_numbers(&["first", contender.name()])
    };
    us
}

/// In a child: starts one contender, times its first task, stops it. Returns µs. With `idle`,
/// the contender first idles for [`IDLE_BEFORE_FIRST`], as a service does between its start and
/// its first task, so its threads have gone to sleep.
async fn first_task(contender: Contender, idle: bool) -> f64 {
    let idle = || async move {
        if idle {
            tokio::time::sleep(IDLE_BEFORE_FIRST).await;
        }
    };
    match contender {
        Contender::Preheat => {
            let rt = Runtime::builder().start().await.unwrap_or_else(|error| panic!("cannot start preheat: {error}"));
            idle().await;
            let us = preheat_probe(&rt).await;
            rt.shutdown().await.expect("the probe finishes");
            us
        }
        Contender::Raw => {
            let mut pool = RawPool::start(WORKERS, || PROBE.mark()).await;
            idle().await;
            let us = raw_probe(&mut pool).await;
            pool.stop().await;
            us
        }
    }
}

/// Submit-to-start of one preheat task, in µs.
async fn preheat_probe(rt: &Runtime) -> f64 {
    let submitted = now_ns();
    rt.submit_detached(probe, ()).await.expect("the runtime accepts tasks");
    (PROBE.wait().await - submitted) as f64 / 1e3
}

/// Submit-to-start of one raw-pool message, in µs.
async fn raw_probe(pool: &mut RawPool) -> f64 {
    let submitted = now_ns();
    pool.send();
    (PROBE.wait().await - submitted) as f64 / 1e3
}

/// Tasks per second of each contender, one sample per round.
struct Throughput {
    /// Detached submits: like the raw pool, nothing reports back to the producer.
    preheat: Samples,
    /// `submit` with a `Completion` per task (dropped at once).
    completion: Samples,
    raw: Samples,
    spawn: Samples,
}

async fn throughput(rt: &Runtime, settings: Settings) -> Throughput {
    let Settings { tasks, rounds: round_count, .. } = settings;
    println!("\nthroughput ({tasks} no-op tasks per round, {WORKERS} workers, {round_count} rounds interleaved)");
    let mut pool = RawPool::start(WORKERS, || TALLY.tick()).await;
    // Untimed round: faults in the channels' blocks, the allocator's caches and the code.
    preheat_round(rt, Submit::Detached, tasks / 10).await;
    preheat_round(rt, Submit::WithCompletion, tasks / 10).await;
    raw_round(&mut pool, tasks / 10).await;
    spawn_round(tasks / 10).await;

    let mut rounds: [Vec<f64>; 4] = Default::default();
    for _ in 0..round_count {
        rounds[0].push(preheat_round(rt, Submit::Detached, tasks).await);
        rounds[1].push(preheat_round(rt, Submit::WithCompletion, tasks).await);
        rounds[2].push(raw_round(&mut pool, tasks).await);
        rounds[3].push(spawn_round(tasks).await);
    }
    pool.stop().await;
    let [preheat, completion, raw, spawn] = rounds.map(Samples::new);
    let throughput = Throughput { preheat, completion, raw, spawn };
    for (name, samples) in [
        ("preheat (detached)", &throughput.preheat),
        ("preheat (with Completion)", &throughput.completion),
        ("raw pool", &throughput.raw),
        ("tokio::spawn", &throughput.spawn),
    ] {
        println!(
            "  {name:<26} median {:>6.2} M tasks/s   (min {:.2}, max {:.2})",
            samples.median() / 1e6,
            samples.min() / 1e6,
            samples.max() / 1e6
        );
    }
    println!("  preheat / raw pool: {:.3}", throughput.preheat.median() / throughput.raw.median());
    throughput
}

/// How a preheat round submits.
#[derive(Clone, Copy)]
enum Submit {
    Detached,
    WithCompletion,
}

/// One timed round: returns tasks per second, counted until the last task has run.
async fn preheat_round(rt: &Runtime, how: Submit, tasks: u64) -> f64 {
    TALLY.expect(tasks);
    let began = Instant::now();
    for _ in 0..tasks {
        let submitted = match how {
            Submit::Detached => rt.submit_detached(noop, ()).await,
            Submit::WithCompletion => rt.submit(noop, ()).await.map(drop),
        };
        submitted.expect("the runtime accepts tasks");
    }
    TALLY.reached().await;
    tasks as f64 / began.elapsed().as_secs_f64()
}

async fn raw_round(pool: &mut RawPool, tasks: u64) -> f64 {
    TALLY.expect(tasks);
    let began = Instant::now();
    for _ in 0..tasks {
        pool.send();
    }
    TALLY.reached().await;
    tasks as f64 / began.elapsed().as_secs_f64()
}

async fn spawn_round(tasks: u64) -> f64 {
    TALLY.expect(tasks);
    let began = Instant::now();
    for _ in 0..tasks {
        drop(tokio::spawn(async { TALLY.tick() }));
    }
    TALLY.reached().await;
    tasks as f64 / began.elapsed().as_secs_f64()
}

/// Submit-to-start latencies in µs, one sample per isolated probe.
struct Steady {
    preheat: Samples,
    raw: Samples,
}

async fn steady_latency(rt: &Runtime, settings: Settings) -> Steady {
    let samples = settings.steady_samples;
    println!("\nsteady latency ({samples} isolated submissions each, interleaved; submit to task start)");
    let mut pool = RawPool::start(WORKERS, || PROBE.mark()).await;
    for _ in 0..settings.steady_warmup {
        preheat_probe(rt).await;
        raw_probe(&mut pool).await;
    }
    let (mut preheat, mut raw) = (Vec::with_capacity(samples), Vec::with_capacity(samples));
    for _ in 0..samples {
        preheat.push(preheat_probe(rt).await);
        raw.push(raw_probe(&mut pool).await);
    }
    pool.stop().await;
    let steady = Steady { preheat: Samples::new(preheat), raw: Samples::new(raw) };
    for (name, samples) in [("preheat", &steady.preheat), ("raw pool", &steady.raw)] {
        println!(
            "  {name:<12} p50 {:>6.3} µs   p99 {:>6.3} µs   (max {:.1})",
            samples.percentile(50.0),
            samples.percentile(99.0),
            samples.max()
        );
    }
    steady
}

/// The throughput of preheat with and without its OpenTelemetry layer, in one binary.
#[cfg(feature = "otel")]
mod otel_rounds {
    use opentelemetry_sdk::error::OTelSdkResult;
    use opentelemetry_sdk::trace::{Sampler, SpanData, SpanExporter};
    use preheat::Runtime;
    use preheat::otel::Tracing;
    use preheat_benches::runner::THREADS;
    use preheat_benches::samples::Samples;
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::{Settings, Submit, preheat_round};

    /// Tasks per second of each setting, one sample per round.
    pub(super) struct Traced {
        pub(super) baseline: Samples,
        pub(super) off: Samples,
        pub(super) sampled: Samples,
    }

    /// Drops every span: the cost measured is preheat's and the SDK's, not a network's.
    #[derive(Debug)]
    struct Discard;

    impl SpanExporter for Discard {
        async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
            drop(batch);
            Ok(())
        }
    }

    /// A runtime of [`THREADS`] threads whose every thread uses `dispatch` (a thread-local
    /// default: one process cannot switch its global subscriber between rounds), with a
    /// preheat runtime on it.
    fn runtime(dispatch: Option<tracing::Dispatch>) -> (tokio::runtime::Runtime, Runtime) {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(THREADS).enable_time();
        if let Some(dispatch) = dispatch.clone() {
            // Kept for the thread's life: the guard would restore the previous default.
            builder.on_thread_start(move || std::mem::forget(tracing::dispatcher::set_default(&dispatch)));
        }
        let tokio = builder.build().expect("the tokio runtime starts");
        let rt = tokio.block_on(async {
            tokio::spawn(async { Runtime::builder().start().await })
                .await
                .expect("the start does not panic")
                .unwrap_or_else(|error| panic!("cannot start preheat: {error}"))
        });
        (tokio, rt)
    }

    fn layered(sampler: Sampler) -> (Tracing, tracing::Dispatch) {
        let tracing = Tracing::builder().batch_exporter(Discard).sampler(sampler).build().expect("the provider builds");
        let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(tracing.layer()));
        (tracing, dispatch)
    }

    /// One detached round on `rt`, run from one of its worker threads.
    fn round(tokio: &tokio::runtime::Runtime, rt: &Runtime, tasks: u64) -> f64 {
        let rt = rt.clone();
        tokio.block_on(async move {
            tokio::spawn(async move { preheat_round(&rt, Submit::Detached, tasks).await })
                .await
                .expect("the round does not panic")
        })
    }

    pub(super) fn throughput(settings: Settings) -> Traced {
        let Settings { tasks, rounds: round_count, .. } = settings;
        println!("\ntraces (#16): detached throughput, no layer / layer with always_off / always_on, interleaved");
        let (off_tracing, off_dispatch) = layered(Sampler::AlwaysOff);
        let (on_tracing, on_dispatch) = layered(Sampler::AlwaysOn);
        let runtimes = [runtime(None), runtime(Some(off_dispatch)), runtime(Some(on_dispatch))];
        for (tokio, rt) in &runtimes {
            round(tokio, rt, tasks / 10);
        }
        let mut rounds: [Vec<f64>; 3] = Default::default();
        for _ in 0..round_count {
            for (samples, (tokio, rt)) in rounds.iter_mut().zip(&runtimes) {
                samples.push(round(tokio, rt, tasks));
            }
        }
        for (tokio, rt) in runtimes {
            tokio.block_on(async move { rt.shutdown().await }).expect("every benchmark task finishes");
        }
        drop((off_tracing, on_tracing));
        let [baseline, off, sampled] = rounds.map(Samples::new);
        for (name, samples) in [("no layer", &baseline), ("layer, always_off", &off), ("layer, always_on", &sampled)] {
            println!(
                "  {name:<26} median {:>6.2} M tasks/s   (min {:.2}, max {:.2})",
                samples.median() / 1e6,
                samples.min() / 1e6,
                samples.max() / 1e6
            );
        }
        Traced { baseline, off, sampled }
    }
}
