//! Cold start: from exec to the first task done, for preheat (eager and lazy) beside a bare tokio
//! runtime and a job runner written the common way; and in-memory throughput beside apalis. In
//! one run.
//!
//! Run with `cargo run --release -p preheat-benches --bin coldstart`.
//!
//! The tasks are the fixture crate `coldstart-fixture` (`benches/coldstart-fixture/`): 100 tasks,
//! each with a YAML document embedded by `metadata!`, every one `warmup: eager` with one or two
//! pre-warmed workers (150 in all). 99 do nothing; `order.reconcile` needs the `db` resource and
//! runs one tiny query (`SELECT count(*) FROM sqlite_master`) on a SQLite file that the fixture's
//! `#[warmup("db")]` opens (sqlx, a pool of one connection, in the temporary directory, named
//! after the process id, removed at the end). Only this binary links the fixture. The library of
//! this crate adds its two tasks (`bench.noop`, `bench.probe`, two workers each), so a preheat
//! runtime here has 102 tasks and 154 workers.
//!
//! # Cold start
//!
//! Every figure comes from a fresh child process (the binary runs itself, see
//! [`fresh_process`](preheat_benches::fresh_process)), all of the same executable, so loading it
//! costs every contender the same. Each child builds a tokio multi-thread runtime of
//! [`THREADS`] worker threads ([`in_runtime`]) and, on it:
//!
//! 1. **floor**: spawns one no-op tokio task and waits for it;
//! 2. **eager**: starts preheat (`Runtime::builder().start()`: registry, 102 pools with their
//!    workers parked, the `db` warmer), then submits `order.reconcile` and waits for its outcome;
//! 3. **lazy**: the same with `Runtime::builder().warmup(Warmup::Lazy)`: no pool is built at
//!    start (the `db` warmer still runs), `order.reconcile`'s pool is built by its submit;
//! 4. **naive**: a job runner written the common way ([`NaiveRunner`]): on its first job it reads
//!    the same 100 YAML documents from disk (the fixture's `meta/`, with `serde_yaml`), then
//!    spawns one tokio task per job under the job's `timeout`; the job opens the same database
//!    on first use ([`Database::open`], a `tokio::sync::OnceCell`) and runs the same query;
//! 5. **eager, no db**: eager with the warmer told to open nothing and a no-op task
//!    (`order.sync`) as the first task, to show what the database costs the eager start.
//!
//! **Exec to first task done.** The parent reads the realtime clock (`SystemTime`, which every
//! process reads alike) just before it spawns the child; the child reads it again the moment
//! the code that submitted its first task has the task's result, and prints that instant. The
//! difference is the figure: process creation, loading, runtime and framework start-up, and the
//! first task, but not the child's teardown, which the parent's wall time to exit would include
//! (and which differs between contenders: pools to stop, a database to close). The child also
//! prints when its `main` began, so the table shows how much of every figure is the exec itself.
//!
//! That exec is not a small one: this executable holds preheat with its HTTP endpoints, sqlx,
//! apalis and the fixtures, and reaching `main` takes it about a millisecond longer than a
//! binary with tokio alone (see `BENCHMARKS.md`; mostly the dynamic loader relocating it). Every
//! contender pays the same, so the ratios to the floor read lower than they would against a
//! minimal binary; the differences (`− floor`, the `*_over_floor_us` keys) do not depend on it.
//!
//! **First task and isolated tasks, in process.** Each child times its first task from just
//! before the submit (the spawn, for the floor and the baseline) to the result, then submits
//! [`ISOLATED`] more of the same, one at a time, each after an idle gap of [`IDLE_GAP`] (a tokio
//! sleep: the workload of a quiet service, in which the runtime's threads go to sleep), and
//! reports their p50. The gap between the first and the later ones is what was left for the
//! first task to do (`*_first_vs_isolated`).
//!
//! **Resident memory after start.** Just before its first task, when start-up is done (for the
//! floor: once its tokio runtime runs), each child reads its resident set size (`VmRSS` of
//! `/proc/self/status`, KiB). The read takes some microseconds; the child takes them off the
//! instant it reports for its first task, so that exec to first task done is what it was
//! without the read. `eager_rss_over_floor_kib` is the eager median less the floor's.
//!
//! [`FRESH_RUNS`] rounds, each running one child of every contender in turn (floor, eager, lazy,
//! naive, eager without db, floor, ...), so that noise on the machine hits them alike; medians
//! of every figure, and ratios of the medians to the floor's.
//!
//! # Throughput beside apalis
//!
//! On a runtime of [`THREADS`] threads with the measuring code as a task: one producer submits
//! [`TASKS`] no-op tasks in a loop, timed until the last one has *run* (each body ticks the
//! [`TALLY`], which wakes the producer at the last tick).
//!
//! - preheat: `submit_detached` of `bench.noop`, whose pool has 2 workers and the default queue of
//!   1024 that blocks when full (as in the `throughput` benchmark); the runtime is started lazily
//!   and without the database, so it holds that one pool.
//! - apalis 1.0 with its in-memory storage ([`MemoryStorage`], an unbounded channel), one worker
//!   with `.concurrency(2)`, in two set-ups: as is, where the worker's own task polls its two
//!   tasks (the faster here, and the one `vs_apalis` compares with), and with
//!   `.parallelize(tokio::spawn)` as its README shows, where each task is spawned and so runs on
//!   either thread. (With default features, `tracing` and the rest, apalis measured no faster;
//!   without a concurrency limit, no faster than with 2.)
//!
//! apalis' `push` needs `&mut` access to the storage, which the worker owns once it runs, so
//! the storage is built with [`MemoryStorage::new_with`] on a channel whose sender the producer
//! keeps, and the producer sends each task as `push` does (`TaskBuilder::new(args).build()`):
//! both frameworks take tasks while their workers run. The producer's sink has a mutex of its
//! own: apalis-core 1.0.0's `MemorySink::start_send` `try_lock`s the mutex it shares with the
//! storage's `Backend::poll_ready` and panics when the worker holds it (`memory.rs`, line 246).
//!
//! Each of [`THROUGHPUT_PROCESSES`] fresh processes runs one untimed round per contender, then
//! [`ROUNDS`] rounds interleaved, and reports each contender's median; the figures are the
//! medians of those. Several processes, because on the benchmark machine preheat's throughput
//! settles, per process, at either about 9 or about 3 M tasks/s (the `throughput` benchmark
//! shows the same), and one process would report whichever mode it happened to get.
//!
//! With `--quick` (`cargo run ... --bin coldstart -- --quick`) it measures the same figures from
//! fewer samples, in a few seconds: [`Settings::QUICK`]. CI prints them; read them as a smoke
//! test, not as figures to compare.
//!
//! The run ends with `key=value` lines (see [`Report`]).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use apalis::prelude::{
    BoxedReceiver, MemorySink, MemoryStorage, MemoryStorageError, ParallelizeExt, Task, TaskBuilder, WorkerBuilder,
    WorkerBuilderExt,
};
use coldstart_fixture::{Database, META_DIR, TASKS as FIXTURE_TASKS, database_path, order_sync, reconcile};
use futures_util::{SinkExt, StreamExt};
use preheat::meta::{TaskMeta, Warmup};
use preheat::{Runtime, RuntimeBuilder};
use preheat_benches::fresh_process::{child_role, run_child_numbers, run_child_numbers_since};
use preheat_benches::length::Length;
use preheat_benches::report::Report;
use preheat_benches::runner::{THREADS, in_runtime};
use preheat_benches::samples::Samples;
use preheat_benches::workload::{TALLY, noop};
use serde::Deserialize;
use tokio::task::JoinHandle;

/// Fresh processes per contender.
const FRESH_RUNS: usize = 31;
/// Isolated tasks after the first, in each child.
const ISOLATED: usize = 50;
/// Idle time before each isolated task.
const IDLE_GAP: Duration = Duration::from_millis(2);
/// Processes that measure throughput.
const THROUGHPUT_PROCESSES: usize = 7;
/// Tasks per throughput round.
const TASKS: u64 = 200_000;
/// Timed throughput rounds per contender, in each process.
const ROUNDS: usize = 5;
/// Workers of preheat's `bench.noop` pool and concurrency of the apalis workers.
const WORKERS: usize = THREADS;

/// How much one run measures.
#[derive(Clone, Copy, Debug)]
struct Settings {
    /// Fresh processes per contender.
    fresh_runs: usize,
    /// Isolated tasks after the first, in each child.
    isolated: usize,
    /// Processes that measure throughput.
    throughput_processes: usize,
    /// Tasks per throughput round.
    tasks: u64,
    /// Timed throughput rounds per contender, in each process.
    rounds: usize,
}

impl Settings {
    /// The full run, as the top comment describes it.
    const FULL: Self = Self {
        fresh_runs: FRESH_RUNS,
        isolated: ISOLATED,
        throughput_processes: THROUGHPUT_PROCESSES,
        tasks: TASKS,
        rounds: ROUNDS,
    };
    /// `--quick`: 7 processes per contender with 20 isolated tasks each; 2 throughput processes of
    /// 3 rounds of 100,000 tasks.
    const QUICK: Self = Self { fresh_runs: 7, isolated: 20, throughput_processes: 2, tasks: 100_000, rounds: 3 };
}

fn main() {
    // First thing: how long the exec and the loader took is this minus the parent's spawn time.
    let main_at = SystemTime::now();
    if let Some(role) = child_role() {
        let role: Vec<&str> = role.iter().map(String::as_str).collect();
        let count = |text: &str| -> usize { text.parse().unwrap_or_else(|_| panic!("expected a count, not `{text}`")) };
        match role.as_slice() {
            ["first", contender, rest @ ..] if rest.len() <= 1 => {
                let isolated = rest.first().map_or(ISOLATED, |text| count(text));
                let child = in_runtime(cold_start(Contender::parse(contender), isolated));
                coldstart_fixture::remove_database();
                println!("{} {}", unix_us(main_at), child.line());
            }
            ["throughput", rest @ ..] if rest.is_empty() || rest.len() == 2 => {
                let (tasks, rounds) = match rest {
                    [tasks, rounds] => (count(tasks) as u64, count(rounds)),
                    _ => (TASKS, ROUNDS),
                };
                let [preheat, apalis, parallel] = in_runtime(throughput_rounds(tasks, rounds));
                println!("{preheat} {apalis} {parallel}");
            }
            _ => panic!(
                "unknown child role {role:?}; expected `first <contender> [isolated]` or `throughput [tasks rounds]`"
            ),
        }
        return;
    }

    let settings = Length::from_args("coldstart").pick(Settings::FULL, Settings::QUICK);
    let Settings { fresh_runs, isolated, .. } = settings;

    // Children first, while this process has no runtime threads of its own.
    let mut children: Vec<Vec<ChildFigures>> = Contender::ALL.iter().map(|_| Vec::new()).collect();
    let isolated_arg = isolated.to_string();
    for _ in 0..fresh_runs {
        for (contender, figures) in Contender::ALL.iter().zip(&mut children) {
            let (spawned, numbers) = run_child_numbers_since(&["first", contender.name(), &isolated_arg]);
            figures.push(ChildFigures::new(spawned, numbers));
        }
    }
    let cold: Vec<ColdStart> = children.iter().map(|figures| ColdStart::of(figures)).collect();
    let floor = cold[0].exec_to_done;

    println!(
        "cold start ({fresh_runs} fresh processes per contender, interleaved; medians in µs; \
         {isolated} isolated tasks per child, {IDLE_GAP:?} idle before each)"
    );
    println!(
        "  {:<23} {:>9} {:>15} {:>8} {:>7} {:>10} {:>12} {:>7} {:>7} {:>7} {:>8}",
        "",
        "exec→main",
        "exec→first done",
        "− floor",
        "/ floor",
        "first task",
        "isolated p50",
        "start",
        "pools",
        "db",
        "RSS KiB"
    );
    for (contender, cold) in Contender::ALL.iter().zip(&cold) {
        let start = |value: f64| if contender.is_preheat() { format!("{value:.0}") } else { "-".to_owned() };
        println!(
            "  {:<23} {:>9.1} {:>15.1} {:>8.1} {:>7.3} {:>10.1} {:>12.1} {:>7} {:>7} {:>7} {:>8.0}",
            contender.label(),
            cold.exec_to_main,
            cold.exec_to_done,
            cold.exec_to_done - floor,
            cold.exec_to_done / floor,
            cold.first,
            cold.isolated_p50,
            start(cold.start),
            start(cold.pools),
            start(cold.db),
            cold.rss_kib,
        );
    }
    let rss_over_floor = cold[1].rss_kib - cold[0].rss_kib;
    if !rss_over_floor.is_finite() {
        println!("  (no resident memory: /proc/self/status cannot be read here)");
    }
    println!(
        "  (exec→first done: min–max {})",
        Contender::ALL
            .iter()
            .zip(&cold)
            .map(|(contender, cold)| format!("{} {:.0}–{:.0}", contender.name(), cold.min, cold.max))
            .collect::<Vec<_>>()
            .join(", ")
    );

    let throughput = throughput(settings);

    let mut report = Report::new();
    let [floor_cold, eager, lazy, naive, nodb] = [0, 1, 2, 3, 4].map(|i| &cold[i]);
    for (contender, cold) in Contender::ALL.iter().zip(&cold) {
        report.add(&format!("{}_us", contender.key()), format!("{:.1}", cold.exec_to_done));
    }
    report.add("eager_vs_floor", format!("{:.3}", eager.exec_to_done / floor));
    report.add("lazy_vs_floor", format!("{:.3}", lazy.exec_to_done / floor));
    report.add("naive_vs_floor", format!("{:.3}", naive.exec_to_done / floor));
    report.add("eager_nodb_vs_floor", format!("{:.3}", nodb.exec_to_done / floor));
    report.add("naive_vs_eager", format!("{:.3}", naive.exec_to_done / eager.exec_to_done));
    for (contender, cold) in Contender::ALL.iter().zip(&cold).skip(1) {
        report.add(&format!("{}_over_floor_us", contender.key()), format!("{:.1}", cold.exec_to_done - floor));
    }
    report.add("exec_to_main_us", format!("{:.1}", floor_cold.exec_to_main));
    for (contender, cold) in Contender::ALL.iter().zip(&cold) {
        let key = contender.key();
        report.add(&format!("{key}_first_us"), format!("{:.1}", cold.first));
        report.add(&format!("{key}_isolated_p50_us"), format!("{:.1}", cold.isolated_p50));
    }
    report.add("eager_first_vs_isolated", format!("{:.3}", eager.first / eager.isolated_p50));
    report.add("eager_nodb_first_vs_isolated", format!("{:.3}", nodb.first / nodb.isolated_p50));
    if rss_over_floor.is_finite() {
        report.add("eager_rss_over_floor_kib", format!("{rss_over_floor:.0}"));
    }
    for (contender, cold) in Contender::ALL.iter().zip(&cold).filter(|(contender, _)| contender.is_preheat()) {
        let key = contender.key();
        report.add(&format!("{key}_start_us"), format!("{:.1}", cold.start));
        report.add(&format!("{key}_start_pools_us"), format!("{:.1}", cold.pools));
        report.add(&format!("{key}_start_db_us"), format!("{:.1}", cold.db));
    }
    let preheat = throughput.preheat.median();
    report.add("preheat_per_s", format!("{preheat:.0}"));
    report.add("apalis_per_s", format!("{:.0}", throughput.apalis.median()));
    report.add("apalis_parallel_per_s", format!("{:.0}", throughput.apalis_parallel.median()));
    report.add("vs_apalis", format!("{:.2}", preheat / throughput.apalis.median()));
    report.add("vs_apalis_parallel", format!("{:.2}", preheat / throughput.apalis_parallel.median()));
    println!();
    report.print();
}

/// The contenders of the cold start, in the order every round runs them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Contender {
    Floor,
    Eager,
    Lazy,
    Naive,
    EagerNoDb,
}

impl Contender {
    const ALL: [Self; 5] = [Self::Floor, Self::Eager, Self::Lazy, Self::Naive, Self::EagerNoDb];

    fn parse(name: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|contender| contender.name() == name)
            .unwrap_or_else(|| panic!("unknown contender `{name}`; expected floor, eager, lazy, naive or eager-nodb"))
    }

    /// On the child's command line.
    fn name(self) -> &'static str {
        match self {
            Self::Floor => "floor",
            Self::Eager => "eager",
            Self::Lazy => "lazy",
            Self::Naive => "naive",
            Self::EagerNoDb => "eager-nodb",
        }
    }

    /// In the `key=value` lines.
    fn key(self) -> &'static str {
        match self {
            Self::EagerNoDb => "eager_nodb",
            other => other.name(),
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Floor => "floor (tokio, no-op)",
            Self::Eager => "preheat eager",
            Self::Lazy => "preheat lazy",
            Self::Naive => "naive (YAML, spawn, db)",
            Self::EagerNoDb => "preheat eager, no db",
        }
    }

    fn is_preheat(self) -> bool {
        matches!(self, Self::Eager | Self::Lazy | Self::EagerNoDb)
    }
}

/// What a child measured, in process; printed as one line after the instant its `main` began.
#[derive(Debug, Default)]
struct Child {
    /// Realtime-clock µs since the epoch when the first task's result was in.
    done_at: f64,
    /// Submit to result of the first task, µs.
    first: f64,
    /// p50 of the isolated tasks' submit to result, µs.
    isolated_p50: f64,
    /// preheat's `start`, and its `pools` and `warmup:db` phases, µs (0 for the others).
    start: f64,
    pools: f64,
    db: f64,
    /// Resident memory just before the first task, KiB ([`resident_kib`]).
    rss_kib: f64,
}

impl Child {
    fn line(&self) -> String {
        format!(
            "{} {} {} {} {} {} {}",
            self.done_at, self.first, self.isolated_p50, self.start, self.pools, self.db, self.rss_kib
        )
    }
}

/// One child's figures as the parent sees them, µs.
#[derive(Debug)]
struct ChildFigures {
    exec_to_main: f64,
    exec_to_done: f64,
    first: f64,
    isolated_p50: f64,
    start: f64,
    pools: f64,
    db: f64,
    /// KiB.
    rss_kib: f64,
}

impl ChildFigures {
    /// From the time the child was spawned and the numbers it printed: `main_at` then [`Child::line`].
    fn new(spawned: SystemTime, [main_at, done_at, first, isolated_p50, start, pools, db, rss_kib]: [f64; 8]) -> Self {
        let spawned = unix_us(spawned);
        Self {
            exec_to_main: main_at - spawned,
            exec_to_done: done_at - spawned,
            first,
            isolated_p50,
            start,
            pools,
            db,
            rss_kib,
        }
    }
}

/// One contender's medians over its children, µs.
#[derive(Debug)]
struct ColdStart {
    exec_to_main: f64,
    exec_to_done: f64,
    /// Fastest and slowest exec to first task done.
    min: f64,
    max: f64,
    first: f64,
    isolated_p50: f64,
    start: f64,
    pools: f64,
    db: f64,
    /// Resident memory after start, KiB (NaN where it cannot be read).
    rss_kib: f64,
}

impl ColdStart {
    fn of(children: &[ChildFigures]) -> Self {
        let samples = |figure: fn(&ChildFigures) -> f64| Samples::new(children.iter().map(figure).collect());
        let median = |figure: fn(&ChildFigures) -> f64| samples(figure).median();
        let done = samples(|child| child.exec_to_done);
        Self {
            exec_to_main: median(|child| child.exec_to_main),
            exec_to_done: done.median(),
            min: done.min(),
            max: done.max(),
            first: median(|child| child.first),
            isolated_p50: median(|child| child.isolated_p50),
            start: median(|child| child.start),
            pools: median(|child| child.pools),
            db: median(|child| child.db),
            rss_kib: median(|child| child.rss_kib),
        }
    }
}

/// Microseconds since the Unix epoch (an `f64` holds them to a quarter of a µs).
fn unix_us(at: SystemTime) -> f64 {
    at.duration_since(UNIX_EPOCH).expect("the clock is past 1970").as_secs_f64() * 1e6
}

/// In a child: runs `contender`'s first task and the `isolated` ones after it.
async fn cold_start(contender: Contender, isolated: usize) -> Child {
    match contender {
        Contender::Floor => {
            measure(isolated, || async { tokio::spawn(async {}).await.expect("a no-op task finishes") }).await
        }
        Contender::Eager => preheat_cold_start(Runtime::builder(), false, isolated).await,
        Contender::Lazy => preheat_cold_start(Runtime::builder().warmup(Warmup::Lazy), false, isolated).await,
        Contender::EagerNoDb => {
            coldstart_fixture::skip_database();
            preheat_cold_start(Runtime::builder(), true, isolated).await
        }
        Contender::Naive => {
            let runner = NaiveRunner::default();
            let runner = &runner;
            measure(isolated, || async move {
                let outcome = runner.spawn("order.reconcile", naive_reconcile()).await.expect("the job finishes");
                outcome.expect("the job finishes in time").expect("the query succeeds");
            })
            .await
        }
    }
}

/// Starts preheat as `builder` says, then measures `order.reconcile` (or, `without_db`, the no-op
/// `order.sync`) and `isolated` more, and adds the start-up figures.
async fn preheat_cold_start(builder: RuntimeBuilder, without_db: bool, isolated: usize) -> Child {
    let began = Instant::now();
    let rt = builder.start().await.unwrap_or_else(|error| panic!("cannot start preheat: {error}"));
    let start = began.elapsed();
    let rt = &rt;
    let mut child = if without_db {
        measure(isolated, || async move {
            let done = rt.submit(order_sync, ()).await.expect("the runtime accepts tasks");
            done.await.expect("the task succeeds");
        })
        .await
    } else {
        measure(isolated, || async move {
            let done = rt.submit(reconcile, ()).await.expect("the runtime accepts tasks");
            done.await.expect("the query succeeds");
        })
        .await
    };
    let phase = |name: &str| {
        let phases = rt.readiness().phases;
        phases.iter().find(|phase| phase.name == name).map_or(0.0, |phase| phase.took.as_secs_f64() * 1e6)
    };
    child.start = start.as_secs_f64() * 1e6;
    child.pools = phase("pools");
    child.db = phase("warmup:db");
    rt.shutdown().await.expect("every task finished");
    child
}

/// Runs `one` (a task, submitted and waited for) once and stamps when its result was in, then
/// `count` more times, each after [`IDLE_GAP`].
async fn measure<F: Future<Output = ()>>(count: usize, mut one: impl FnMut() -> F) -> Child {
    let read = Instant::now();
    let rss_kib = resident_kib();
    let read = read.elapsed();
    let began = Instant::now();
    one().await;
    let (done, done_at) = (Instant::now(), SystemTime::now() - read);
    let mut isolated = Vec::with_capacity(count);
    for _ in 0..count {
        tokio::time::sleep(IDLE_GAP).await;
        let began = Instant::now();
        one().await;
        isolated.push(began.elapsed().as_secs_f64() * 1e6);
    }
    Child {
        done_at: unix_us(done_at),
        first: (done - began).as_secs_f64() * 1e6,
        isolated_p50: Samples::new(isolated).percentile(50.0),
        rss_kib,
        ..Child::default()
    }
}

/// This process's resident set size, KiB: `VmRSS` in `/proc/self/status`; NaN where that
/// cannot be read (not Linux).
fn resident_kib() -> f64 {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else { return f64::NAN };
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().strip_suffix("kB"))
        .and_then(|kib| kib.trim().parse().ok())
        .unwrap_or(f64::NAN)
}

/// The baseline: a job runner written the common way. It reads its YAML configuration from disk
/// when the first job comes and spawns one tokio task per job, under the job's `timeout`.
#[derive(Debug, Default)]
struct NaiveRunner {
    config: OnceLock<HashMap<String, TaskMeta>>,
}

impl NaiveRunner {
    /// Spawns `job` as the task `id`.
    fn spawn<F>(&self, id: &str, job: F) -> JoinHandle<Result<F::Output, tokio::time::error::Elapsed>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let config = self.config.get_or_init(read_config);
        let meta = config.get(id).unwrap_or_else(|| panic!("no YAML document for `{id}` in {META_DIR}"));
        tokio::spawn(tokio::time::timeout(meta.timeout, job))
    }
}

/// Every document of every `.yaml` file of the fixture's `meta/`, read from disk and parsed with
/// `serde_yaml`, by id.
fn read_config() -> HashMap<String, TaskMeta> {
    let mut config = HashMap::new();
    let files = std::fs::read_dir(META_DIR).unwrap_or_else(|error| panic!("cannot list {META_DIR}: {error}"));
    for file in files {
        let path = file.expect("a directory entry is readable").path();
        if path.extension().is_none_or(|ext| ext != "yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("cannot read {path:?}: {error}"));
        for document in serde_yaml::Deserializer::from_str(&text) {
            let meta = TaskMeta::deserialize(document).unwrap_or_else(|error| panic!("{path:?}: {error}"));
            config.insert(meta.id.to_string(), meta);
        }
    }
    assert_eq!(config.len(), FIXTURE_TASKS, "documents in {META_DIR}");
    config
}

/// `order.reconcile` as the baseline runs it: the database is opened by the first job.
async fn naive_reconcile() -> Result<i64, String> {
    static DATABASE: tokio::sync::OnceCell<Database> = tokio::sync::OnceCell::const_new();
    let database = DATABASE
        .get_or_try_init(|| async { Database::open(&database_path()).await })
        .await
        .map_err(|error| error.to_string())?;
    database.count_tables().await.map_err(|error| error.to_string())
}

/// Tasks per second, one sample per process (the median of its rounds).
struct Throughput {
    preheat: Samples,
    /// `.concurrency(2)`.
    apalis: Samples,
    /// `.concurrency(2).parallelize(tokio::spawn)`.
    apalis_parallel: Samples,
}

/// Runs the throughput children and prints what they measured.
fn throughput(settings: Settings) -> Throughput {
    let Settings { throughput_processes, tasks, rounds, .. } = settings;
    println!(
        "\nthroughput beside apalis ({throughput_processes} processes, each {rounds} rounds interleaved of {tasks} \
         no-op tasks; {WORKERS} workers on {THREADS} threads; M tasks/s)"
    );
    println!("  {:<10} {:>9} {:>16} {:>23}", "", "preheat", "apalis conc(2)", "apalis + parallelize");
    let mut processes: [Vec<f64>; 3] = Default::default();
    let (tasks, rounds) = (tasks.to_string(), rounds.to_string());
    for process in 1..=throughput_processes {
        let medians: [f64; 3] = run_child_numbers(&["throughput", &tasks, &rounds]);
        println!(
            "  process {process:<2} {:>9.2} {:>16.2} {:>23.2}",
            medians[0] / 1e6,
            medians[1] / 1e6,
            medians[2] / 1e6
        );
        for (samples, median) in processes.iter_mut().zip(medians) {
            samples.push(median);
        }
    }
    let [preheat, apalis, apalis_parallel] = processes.map(Samples::new);
    let throughput = Throughput { preheat, apalis, apalis_parallel };
    println!(
        "  {:<10} {:>9.2} {:>16.2} {:>23.2}",
        "median",
        throughput.preheat.median() / 1e6,
        throughput.apalis.median() / 1e6,
        throughput.apalis_parallel.median() / 1e6
    );
    let preheat = throughput.preheat.median();
    println!(
        "  preheat / apalis: {:.2} (with parallelize: {:.2})",
        preheat / throughput.apalis.median(),
        preheat / throughput.apalis_parallel.median()
    );
    throughput
}

/// In a child: one untimed round per contender, then `rounds` interleaved of `tasks` each;
/// returns each contender's median in tasks per second.
async fn throughput_rounds(tasks: u64, rounds: usize) -> [f64; 3] {
    // Only `bench.noop`'s pool is built, by the untimed round, and no database is opened.
    coldstart_fixture::skip_database();
    let rt = Runtime::builder()
        .warmup(Warmup::Lazy)
        .start()
        .await
        .unwrap_or_else(|error| panic!("cannot start preheat: {error}"));
    let mut apalis = ApalisPeer::start(false);
    let mut parallel = ApalisPeer::start(true);
    // Untimed round: builds the pool, faults in the queues and the code.
    preheat_round(&rt, tasks / 10).await;
    apalis.round(tasks / 10).await;
    parallel.round(tasks / 10).await;
    let mut samples: [Vec<f64>; 3] = Default::default();
    for _ in 0..rounds {
        samples[0].push(preheat_round(&rt, tasks).await);
        samples[1].push(apalis.round(tasks).await);
        samples[2].push(parallel.round(tasks).await);
    }
    apalis.stop().await;
    parallel.stop().await;
    rt.shutdown().await.expect("every benchmark task finishes");
    samples.map(|samples| Samples::new(samples).median())
}

/// One timed round through preheat: returns tasks per second, counted until the last task has run.
async fn preheat_round(rt: &Runtime, tasks: u64) -> f64 {
    TALLY.expect(tasks);
    let began = Instant::now();
    for _ in 0..tasks {
        rt.submit_detached(noop, ()).await.expect("the runtime accepts tasks");
    }
    TALLY.reached().await;
    tasks as f64 / began.elapsed().as_secs_f64()
}

/// An apalis worker on its in-memory storage, and the sink that feeds it while it runs.
struct ApalisPeer {
    sink: MemorySink<()>,
    stop: tokio::sync::oneshot::Sender<()>,
    running: JoinHandle<Result<(), apalis::prelude::WorkerError>>,
}

impl ApalisPeer {
    /// Spawns a worker with `.concurrency(WORKERS)` and, if `parallel`, `.parallelize(tokio::spawn)`.
    fn start(parallel: bool) -> Self {
        let (sender, receiver) = futures_channel::mpsc::unbounded::<Task<()>>();
        // One sink for the producer, another for the storage, each with its own mutex.
        let sink = |sender: futures_channel::mpsc::UnboundedSender<Task<()>>| {
            let sender: Box<dyn futures_util::Sink<Task<()>, Error = MemoryStorageError> + Send + Sync + Unpin> =
                Box::new(sender.sink_map_err(MemoryStorageError::from));
            MemorySink::new(Arc::new(futures_util::lock::Mutex::new(sender)))
        };
        let receiver: BoxedReceiver<()> = receiver.boxed();
        let storage = MemoryStorage::new_with(sink(sender.clone()), receiver);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let stopped = async move {
            let _ = stopped.await;
            Ok::<(), std::io::Error>(())
        };
        let worker = WorkerBuilder::new("bench-noop").backend(storage).concurrency(WORKERS);
        let running = if parallel {
            tokio::spawn(worker.parallelize(tokio::spawn).build(apalis_noop).run_until(stopped))
        } else {
            tokio::spawn(worker.build(apalis_noop).run_until(stopped))
        };
        Self { sink: sink(sender), stop, running }
    }

    /// Stops the worker and waits for it.
    async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.running.await;
    }

    /// One timed round: returns tasks per second, counted until the last task has run.
    async fn round(&mut self, tasks: u64) -> f64 {
        TALLY.expect(tasks);
        let began = Instant::now();
        for _ in 0..tasks {
            // What `TaskSink::push` does with the storage.
            self.sink.send(TaskBuilder::new(()).build()).await.expect("the in-memory storage accepts tasks");
        }
        TALLY.reached().await;
        tasks as f64 / began.elapsed().as_secs_f64()
    }
}

/// The apalis task: the same body as `bench.noop`.
async fn apalis_noop(_: ()) {
    TALLY.tick();
}
