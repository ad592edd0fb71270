//! The PostgreSQL backend: tasks per second with two worker processes beside a hand-written
//! `SKIP LOCKED` loop, submit-to-start latency and delayed-task lateness, in one run.
//!
//! Run with `cargo run --release -p preheat-benches --bin postgres`, with `PREHEAT_DATABASE_URL`
//! set (for example `postgres://postgres@127.0.0.1:5432/test`).
//!
//! Everything lives in schema [`SCHEMA`], dropped and created again at the start. The workers are
//! this binary run again as `--worker preheat` or `--worker raw`: each connects, prints `ready`
//! once it takes work, runs until its stdin is closed, then prints its latency samples and exits.
//! [`WORKERS`] processes of one contender run at a time, started afresh for every round, and the
//! parent kills them if it fails ([`Workers`]).
//!
//! 1. **Throughput.** [`TASKS`] no-op tasks inserted in one transaction ([`CHUNK`] rows per
//!    multi-row insert: `submit_all_tx` for preheat) while the workers wait, idle and ready; the
//!    clock starts as the `COMMIT` is sent and stops when the parent sees no row left ready or
//!    running (it looks every [`POLL`]). So this is how fast two processes drain a backlog, not how
//!    fast one producer inserts. preheat: `Runtime::builder().postgres(pg)` running `bench.pg_noop`
//!    (claims of up to `claim_batch` rows, results stored in batches). Baseline:
//!    [`raw_worker`], a loop that claims up to as many rows of its own table with one
//!    `UPDATE ... FOR UPDATE SKIP LOCKED ... RETURNING`, parses each input and marks them completed
//!    in one `UPDATE`: no lease, retry, heartbeat or pool. One untimed round each, then [`ROUNDS`]
//!    rounds each, interleaved; medians, and `ratio_to_raw_sql` = preheat / baseline.
//! 2. **Pickup.** Two preheat workers, warmed by an untimed batch, idle. [`PROBES`] tasks, each its
//!    own `pg.submit`, one every [`PROBE_GAP`]; each carries the wall-clock time read just before
//!    its submit, and its body subtracts that from its own start. So the figure includes the
//!    submit (its commit; its duration is reported too, `submit_p50_ms`), the `NOTIFY`, the claim
//!    and the trip through the pool.
//! 3. **Delayed.** [`DELAYED`] tasks submitted one after another with `NewTask::after(d)`, `d`
//!    spread evenly over [`DELAY_MIN`] to [`DELAY_MIN`] + [`DELAY_SPREAD`]; each body subtracts its
//!    due time, taken as the wall-clock time just before the submit plus `d`. `after` counts from
//!    the database's clock during the insert, which is a little later, so the lateness is
//!    overstated by up to the submit's duration.
//!
//! Every preheat round ends with the states of its rows: `lost` = submitted − completed, and
//! `dead`, summed over the rounds. `PREHEAT_BENCH_CLAIM_BATCH` (default 256, also the baseline's
//! batch) and `PREHEAT_BENCH_MAX_IN_FLIGHT` (default 1024) change the workers' settings, for
//! profiling. The run ends with `key=value` lines (see [`Report`]).

use std::convert::Infallible;
use std::process::Stdio;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use preheat::postgres::{NewTask, Postgres, submit_all_tx};
use preheat::{Runtime, task};
use preheat_benches::report::Report;
use preheat_benches::runner::THREADS;
use preheat_benches::samples::Samples;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

preheat::metadata!("postgres-meta");

/// The schema of every table of this benchmark, dropped at the start.
const SCHEMA: &str = "preheat_bench";
/// The hidden first argument of a worker process.
const WORKER_FLAG: &str = "--worker";
/// Worker processes per contender.
const WORKERS: usize = 2;
/// Tasks per throughput round.
const TASKS: u64 = 100_000;
/// Rows per insert statement.
const CHUNK: u64 = 1_000;
/// Timed throughput rounds per contender.
const ROUNDS: usize = 3;
/// Pickup-latency probes.
const PROBES: usize = 2_000;
/// Time between two probes: 500 a second.
const PROBE_GAP: Duration = Duration::from_millis(2);
/// Delayed tasks.
const DELAYED: u32 = 2_000;
/// The shortest delay.
const DELAY_MIN: Duration = Duration::from_secs(1);
/// Delays are spread evenly over this much after [`DELAY_MIN`].
const DELAY_SPREAD: Duration = Duration::from_secs(2);
/// How often the parent looks whether a round's rows are all done.
const POLL: Duration = Duration::from_millis(10);
/// A round still unfinished after this long is over: what is left counts as lost.
const ROUND_DEADLINE: Duration = Duration::from_secs(300);
/// How long the baseline worker sleeps after a claim that found nothing.
const RAW_IDLE_POLL: Duration = Duration::from_millis(5);

/// The baseline's table: what a minimal hand-written queue keeps, with an index on the rows still
/// to do, like preheat's `preheat_tasks_due`.
const RAW_TABLE: &str = "CREATE TABLE raw_tasks (
        id bigserial PRIMARY KEY,
        input jsonb NOT NULL,
        state text NOT NULL DEFAULT 'ready',
        finished_at timestamptz
    );
    CREATE INDEX raw_tasks_pending ON raw_tasks (id) WHERE state IN ('ready', 'running')";

/// Does nothing: the unit of the throughput rounds. The input is the task's number.
#[task("bench.pg_noop", metadata = "postgres-meta")]
async fn pg_noop(_number: u64) -> Result<(), Infallible> {
    Ok(())
}

/// Records how long after `submitted_us` (wall clock) its body started.
#[task("bench.pg_pickup", metadata = "postgres-meta")]
async fn pg_pickup(submitted_us: i64) -> Result<(), Infallible> {
    record("pickup", submitted_us);
    Ok(())
}

/// Records how long after `due_us` (wall clock) its body started.
#[task("bench.pg_delayed", metadata = "postgres-meta")]
async fn pg_delayed(due_us: i64) -> Result<(), Infallible> {
    record("delayed", due_us);
    Ok(())
}

/// This worker process's latency samples, `kind µs` lines, printed when it exits.
static SAMPLES: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Stores one sample: now minus `since_us`, both on the wall clock every process reads alike.
fn record(kind: &str, since_us: i64) {
    let line = format!("{kind} {}", now_us() - since_us);
    SAMPLES.lock().expect("no task panics holding the samples").push(line);
}

/// Microseconds since the Unix epoch.
fn now_us() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("the clock is after 1970").as_micros() as i64
}

fn main() {
    let url = std::env::var("PREHEAT_DATABASE_URL").unwrap_or_else(|_| {
        fail(&format!(
            "PREHEAT_DATABASE_URL is not set; set it to a PostgreSQL database this benchmark may create \
             schema `{SCHEMA}` in, e.g. postgres://postgres@127.0.0.1:5432/test"
        ))
    });
    let settings = Settings::from_env();
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() == Some(WORKER_FLAG) {
        match args.next().as_deref() {
            Some("preheat") => on_runtime(preheat_worker(url, settings)),
            Some("raw") => on_runtime(raw_worker(url, settings)),
            other => fail(&format!("unknown worker {other:?}; expected `{WORKER_FLAG} preheat|raw`")),
        }
        return;
    }
    let report = on_runtime(run(url, settings));
    println!();
    report.print();
}

/// Runs `work` on a tokio multi-thread runtime of [`THREADS`] threads, as every benchmark does,
/// but with I/O enabled (sqlx and the worker processes need it; `runner::in_runtime` has timers
/// only) and on this thread, not spawned: the future of `Postgres::connect_in_schema` is not
/// `Send`, because of sqlx's `raw_sql` in preheat's migration (launchbadge/sqlx#3150).
fn on_runtime<F: Future>(work: F) -> F::Output {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(THREADS)
        .enable_all()
        .build()
        .expect("the tokio runtime starts");
    runtime.block_on(work)
}

/// Says what is wrong with the user's input and exits. Only before any worker runs.
fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(2)
}

/// The workers' settings, from the environment.
#[derive(Clone, Copy, Debug)]
struct Settings {
    claim_batch: u32,
    max_in_flight: usize,
}

impl Settings {
    /// `PREHEAT_BENCH_CLAIM_BATCH` and `PREHEAT_BENCH_MAX_IN_FLIGHT`, or preheat's defaults.
    fn from_env() -> Self {
        Self {
            claim_batch: env_number("PREHEAT_BENCH_CLAIM_BATCH", 256),
            max_in_flight: env_number("PREHEAT_BENCH_MAX_IN_FLIGHT", 1024),
        }
    }
}

/// The number in environment variable `name`, or `default` if it is unset.
fn env_number<T: FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Err(_) => default,
        Ok(text) => text.parse().unwrap_or_else(|_| fail(&format!("{name}={text:?} is not a positive number"))),
    }
}

/// What a round runs on.
#[derive(Clone, Copy, Debug)]
enum Contender {
    Preheat,
    Raw,
}

impl Contender {
    /// Its worker argument, and its name in the output.
    fn name(self) -> &'static str {
        match self {
            Self::Preheat => "preheat",
            Self::Raw => "raw",
        }
    }

    /// Its task table.
    fn table(self) -> &'static str {
        match self {
            Self::Preheat => "preheat_tasks",
            Self::Raw => "raw_tasks",
        }
    }
}

/// The parent: every round, then the report.
async fn run(url: String, settings: Settings) -> Report {
    let pg = fresh_schema(&url).await;
    println!(
        "throughput ({TASKS} no-op tasks per round, {WORKERS} worker processes, claim batch {}, \
         max in flight {}; {ROUNDS} rounds interleaved after an untimed one)",
        settings.claim_batch, settings.max_in_flight
    );
    let mut rows = Rows::default();
    throughput_round(&pg, Contender::Preheat, TASKS / 10, &mut rows).await;
    throughput_round(&pg, Contender::Raw, TASKS / 10, &mut rows).await;
    let (mut preheat, mut raw) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        preheat.push(throughput_round(&pg, Contender::Preheat, TASKS, &mut rows).await);
        raw.push(throughput_round(&pg, Contender::Raw, TASKS, &mut rows).await);
    }
    let (preheat, raw) = (Samples::new(preheat), Samples::new(raw));
    let ratio = preheat.median() / raw.median();
    for (name, samples) in [("preheat", &preheat), ("raw SQL loop", &raw)] {
        println!(
            "  {name:<13} median {:>7.0} tasks/s   (min {:.0}, max {:.0})",
            samples.median(),
            samples.min(),
            samples.max()
        );
    }
    println!("  preheat / raw SQL loop: {ratio:.3}");

    let latency = latency(&pg, &mut rows).await;

    let ms = |value: f64| format!("{value:.2}");
    let mut report = Report::new();
    report.add("claim_batch", settings.claim_batch);
    report.add("max_in_flight", settings.max_in_flight);
    report.add("tasks_per_s", format!("{:.0}", preheat.median()));
    report.add("raw_tasks_per_s", format!("{:.0}", raw.median()));
    report.add("ratio_to_raw_sql", format!("{ratio:.3}"));
    report.add("pickup_p50_ms", ms(latency.pickup.percentile(50.0)));
    report.add("pickup_p99_ms", ms(latency.pickup.percentile(99.0)));
    report.add("submit_p50_ms", ms(latency.submit.percentile(50.0)));
    report.add("submit_p99_ms", ms(latency.submit.percentile(99.0)));
    report.add("delayed_p50_ms", ms(latency.delayed.percentile(50.0)));
    report.add("delayed_p99_ms", ms(latency.delayed.percentile(99.0)));
    report.add("lost", rows.lost);
    report.add("dead", rows.dead);
    report
}

/// Drops and creates [`SCHEMA`]: preheat's tables (through `connect_in_schema`) and the
/// baseline's. Returns the parent's connection, which submits and never claims.
async fn fresh_schema(url: &str) -> Postgres {
    let admin = PgPool::connect(url)
        .await
        .unwrap_or_else(|error| fail(&format!("cannot connect to PREHEAT_DATABASE_URL: {error}")));
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        .execute(&admin)
        .await
        .unwrap_or_else(|error| fail(&format!("cannot drop schema `{SCHEMA}`: {error}")));
    admin.close().await;
    let pg = Postgres::connect_in_schema(url, SCHEMA)
        .await
        .unwrap_or_else(|error| fail(&format!("cannot create preheat's tables in schema `{SCHEMA}`: {error}")));
    sqlx::raw_sql(RAW_TABLE).execute(pg.pool()).await.expect("the baseline's table is created");
    pg
}

/// Empties every table, between rounds (no worker runs then).
async fn truncate(pg: &Postgres) {
    sqlx::query("TRUNCATE preheat_tasks, preheat_flow_parts, raw_tasks")
        .execute(pg.pool())
        .await
        .expect("the tables are emptied");
}

/// What became of preheat's rows, summed over the rounds.
#[derive(Debug, Default)]
struct Rows {
    /// Submitted and not completed.
    lost: i64,
    /// Failed for good.
    dead: i64,
}

impl Rows {
    /// Adds a round of `submitted` rows from the table's counts.
    async fn check(&mut self, pg: &Postgres, submitted: u64) -> (i64, i64) {
        let counts = pg.counts().await.expect("the rows are counted");
        let lost = submitted as i64 - counts.completed;
        self.lost += lost;
        self.dead += counts.dead;
        (lost, counts.dead)
    }
}

/// One throughput round of `tasks` tasks on fresh workers; returns tasks per second.
async fn throughput_round(pg: &Postgres, contender: Contender, tasks: u64, rows: &mut Rows) -> f64 {
    truncate(pg).await;
    let workers = Workers::start(contender).await;
    let mut tx = pg.pool().begin().await.expect("a transaction begins");
    for first in (0..tasks).step_by(CHUNK as usize) {
        let numbers = first..(first + CHUNK).min(tasks);
        match contender {
            Contender::Preheat => {
                submit_all_tx(&mut tx, pg_noop, numbers).await.expect("the tasks are inserted");
            }
            Contender::Raw => {
                sqlx::query("INSERT INTO raw_tasks (input) SELECT to_jsonb(n) FROM generate_series($1, $2) AS n")
                    .bind(numbers.start as i64)
                    .bind(numbers.end as i64 - 1)
                    .execute(&mut *tx)
                    .await
                    .expect("the tasks are inserted");
            }
        }
    }
    let began = Instant::now();
    tx.commit().await.expect("the tasks are committed");
    let took = drained(pg.pool(), contender.table(), began).await;
    workers.stop().await;
    let per_s = tasks as f64 / took.as_secs_f64();
    let what = match contender {
        Contender::Preheat => {
            let (lost, dead) = rows.check(pg, tasks).await;
            format!("lost {lost}, dead {dead}")
        }
        Contender::Raw => {
            let completed: i64 = sqlx::query_scalar("SELECT count(*) FROM raw_tasks WHERE state = 'completed'")
                .fetch_one(pg.pool())
                .await
                .expect("the rows are counted");
            assert_eq!(completed, tasks as i64, "the baseline lost tasks");
            "all completed".to_owned()
        }
    };
    println!(
        "    {:<7} {tasks:>6} tasks in {:>6.3} s: {per_s:>6.0} tasks/s ({what})",
        contender.name(),
        took.as_secs_f64()
    );
    per_s
}

/// Waits until `table` has no row ready or running (or [`ROUND_DEADLINE`] has passed) and
/// returns the time since `began`.
async fn drained(pool: &PgPool, table: &str, began: Instant) -> Duration {
    let pending = format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE state IN ('ready', 'running'))");
    loop {
        let any: bool = sqlx::query_scalar(&pending).fetch_one(pool).await.expect("the rows are looked at");
        if !any || began.elapsed() > ROUND_DEADLINE {
            return began.elapsed();
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Latency samples, in ms.
#[derive(Debug)]
struct Latency {
    pickup: Samples,
    submit: Samples,
    delayed: Samples,
}

/// The pickup and delayed rounds, on one pair of preheat workers.
async fn latency(pg: &Postgres, rows: &mut Rows) -> Latency {
    truncate(pg).await;
    let workers = Workers::start(Contender::Preheat).await;
    // Untimed: every worker opens its connections and runs its claim and settle queries once.
    let warm = TASKS / 10;
    pg.submit_all(pg_noop, 0..warm).await.expect("the warm-up tasks are inserted");
    drained(pg.pool(), "preheat_tasks", Instant::now()).await;

    println!(
        "\npickup ({PROBES} tasks, one `submit` every {PROBE_GAP:?}; from just before the submit to the task's start)"
    );
    let mut submit = Vec::with_capacity(PROBES);
    let mut gap = tokio::time::interval(PROBE_GAP);
    gap.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for _ in 0..PROBES {
        gap.tick().await;
        let (submitted_us, began) = (now_us(), Instant::now());
        pg.submit(pg_pickup, submitted_us).await.expect("the probe is submitted");
        submit.push(began.elapsed().as_secs_f64() * 1e3);
    }
    drained(pg.pool(), "preheat_tasks", Instant::now()).await;

    println!(
        "delayed ({DELAYED} tasks, `after` {DELAY_MIN:?} to {:?}; from the due time to the task's start)",
        DELAY_MIN + DELAY_SPREAD
    );
    for number in 0..DELAYED {
        let delay = DELAY_MIN + DELAY_SPREAD * number / DELAYED;
        let due_us = now_us() + delay.as_micros() as i64;
        NewTask::new(pg_delayed, due_us).after(delay).submit(pg).await.expect("the delayed task is submitted");
    }
    drained(pg.pool(), "preheat_tasks", Instant::now()).await;
    let (lost, dead) = rows.check(pg, warm + PROBES as u64 + u64::from(DELAYED)).await;

    let (mut pickup, mut delayed) = (Vec::new(), Vec::new());
    for line in workers.stop().await {
        let sample = |us: &str| us.parse::<f64>().expect("a worker prints its samples in µs") / 1e3;
        match line.split_once(' ') {
            Some(("pickup", us)) => pickup.push(sample(us)),
            Some(("delayed", us)) => delayed.push(sample(us)),
            _ => panic!("a worker printed {line:?}; expected `pickup|delayed <µs>`"),
        }
    }
    println!("  samples: {} pickup, {} delayed (lost {lost}, dead {dead})", pickup.len(), delayed.len());
    let latency =
        Latency { pickup: Samples::new(pickup), submit: Samples::new(submit), delayed: Samples::new(delayed) };
    for (name, samples) in [("pickup", &latency.pickup), ("submit", &latency.submit), ("delayed", &latency.delayed)] {
        println!(
            "  {name:<8} p50 {:>6.2} ms   p99 {:>6.2} ms   (max {:.2})",
            samples.percentile(50.0),
            samples.percentile(99.0),
            samples.max()
        );
    }
    latency
}

/// The running worker processes of one contender. Dropped, it kills them, so that a panic in
/// the parent leaves no worker behind; [`stop`](Self::stop) ends them in order.
#[derive(Debug)]
struct Workers {
    running: Vec<Worker>,
}

/// One worker process and the lines it prints.
#[derive(Debug)]
struct Worker {
    process: Child,
    stdout: Lines<BufReader<ChildStdout>>,
}

impl Workers {
    /// Starts [`WORKERS`] processes and returns once each has said it is ready.
    async fn start(contender: Contender) -> Self {
        let exe = std::env::current_exe().expect("the path of the running benchmark is readable");
        let mut workers = Self { running: Vec::with_capacity(WORKERS) };
        for _ in 0..WORKERS {
            let mut process = Command::new(&exe)
                .args([WORKER_FLAG, contender.name()])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap_or_else(|error| panic!("cannot start `{} {WORKER_FLAG}`: {error}", exe.display()));
            let stdout = BufReader::new(process.stdout.take().expect("stdout is piped")).lines();
            workers.running.push(Worker { process, stdout });
        }
        for worker in &mut workers.running {
            let said = worker.stdout.next_line().await;
            let Ok(Some(line)) = &said else {
                panic!("a {} worker exited before it was ready (see its stderr)", contender.name())
            };
            assert_eq!(line, "ready", "a {} worker said {line:?} instead of `ready`", contender.name());
        }
        workers
    }

    /// Closes every worker's stdin, which tells it to finish; waits for them to exit and returns
    /// the lines they printed.
    async fn stop(mut self) -> Vec<String> {
        let mut running = std::mem::take(&mut self.running);
        for worker in &mut running {
            drop(worker.process.stdin.take());
        }
        let mut lines = Vec::new();
        for mut worker in running {
            while let Some(line) = worker.stdout.next_line().await.expect("a worker's stdout is readable") {
                lines.push(line);
            }
            let status = worker.process.wait().await.expect("a worker is waited for");
            assert!(status.success(), "a worker failed ({status}); see its stderr");
        }
        lines
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        for worker in &mut self.running {
            // Already gone is fine; tokio reaps the process in the background.
            let _ = worker.process.start_kill();
        }
    }
}

/// Returns when this process's stdin is closed: the parent's signal to finish.
async fn stdin_closed() {
    let read = tokio::task::spawn_blocking(|| std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink()));
    // An error reading stdin ends the worker as the end of it does.
    let _ = read.await.expect("reading stdin does not panic");
}

/// A preheat worker process: a runtime on the task table until stdin closes, then its samples.
async fn preheat_worker(url: String, settings: Settings) {
    let pg = Postgres::connect_in_schema(&url, SCHEMA)
        .await
        .unwrap_or_else(|error| panic!("worker cannot connect: {error}"))
        .claim_batch(settings.claim_batch)
        .max_in_flight(settings.max_in_flight);
    let runtime =
        Runtime::builder().postgres(pg).start().await.unwrap_or_else(|error| panic!("cannot start preheat: {error}"));
    println!("ready");
    stdin_closed().await;
    runtime.shutdown().await.expect("every claimed task finishes");
    for line in SAMPLES.lock().expect("no task panicked holding the samples").iter() {
        println!("{line}");
    }
}

/// A baseline worker process: [`raw_loop`] until stdin closes.
async fn raw_worker(url: String, settings: Settings) {
    let options: PgConnectOptions = url.parse().unwrap_or_else(|error| panic!("PREHEAT_DATABASE_URL: {error}"));
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options.options([("search_path", SCHEMA)]))
        .await
        .unwrap_or_else(|error| panic!("worker cannot connect: {error}"));
    println!("ready");
    tokio::select! {
        () = stdin_closed() => {}
        never = raw_loop(&pool, settings.claim_batch) => match never {},
    }
}

/// The hand-written worker: claim a batch with `SKIP LOCKED`, run it, mark it completed, repeat.
async fn raw_loop(pool: &PgPool, batch: u32) -> Infallible {
    loop {
        let claimed: Vec<(i64, String)> = sqlx::query_as(
            "UPDATE raw_tasks SET state = 'running'
             WHERE id IN (SELECT id FROM raw_tasks WHERE state = 'ready' ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
             RETURNING id, input::text",
        )
        .bind(i64::from(batch))
        .fetch_all(pool)
        .await
        .expect("the baseline claims");
        if claimed.is_empty() {
            tokio::time::sleep(RAW_IDLE_POLL).await;
            continue;
        }
        let ids: Vec<i64> = claimed
            .into_iter()
            .map(|(id, input)| {
                let _number: u64 = serde_json::from_str(&input).expect("the baseline's inputs are numbers");
                id
            })
            .collect();
        sqlx::query("UPDATE raw_tasks SET state = 'completed', finished_at = now() WHERE id = ANY($1)")
            .bind(&ids)
            .execute(pool)
            .await
            .expect("the baseline stores results");
    }
}
