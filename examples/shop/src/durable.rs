//! `--database-url`: the shop's tasks on PostgreSQL, run by two worker processes.
//!
//! This process seeds the shop (the SQLite file all three processes share), empties its schema
//! of the task table, starts the workers and waits for each to say it is ready, then sends the
//! same traffic as the in-process mode, each order's flow and the campaign's runs submitted as
//! rows. The workers claim the rows and run them in their pre-warmed pools; the schedules fire
//! in both and run once per tick. Once no task of the flows or the campaign is left in the
//! table and the sweep has closed the overdue orders, the workers are stopped (they drain and
//! report their run times), and the shop is audited as in the in-process mode.
//!
//! What the report can measure differs: a row keeps no output, so the traffic's outcome is
//! counted in the shop's database; each worker's tasks have their own first run, so run times
//! are per worker; `tasks_run` is the rows completed in the table.

use std::error::Error;
use std::path::Path;
use std::time::{Duration, Instant};

use preheat::Registry;
use preheat::postgres::Postgres;
use shop_tasks::{Campaign, OrderTally, Shop};
use sqlx::{Connection, PgConnection};

use crate::options::Options;
use crate::report::{Latency, Process, Report, Work};
use crate::traffic::{self, CAMPAIGN};
use crate::worker::WorkerProcess;
use crate::{CLOSING_PATIENCE, database_shown};

/// Worker processes.
const WORKERS: usize = 2;
/// How often the table is looked at while waiting for the flows to finish: the resolution of
/// the traffic's elapsed time in this mode.
const POLL: Duration = Duration::from_millis(10);
/// How long the flows may make no progress (no task of theirs leaving the table) before the
/// job gives up; longer than a lease (30 s), after which a task whose worker lost it runs again.
const STALL_PATIENCE: Duration = Duration::from_secs(60);

/// What the traffic did on PostgreSQL, as the databases tell it afterwards.
#[derive(Debug)]
pub(crate) struct DurableTraffic {
    pub(crate) orders: u64,
    /// From the first order until no task of the flows or the campaign was left in the table.
    pub(crate) elapsed: Duration,
    /// What became of this run's orders, in the shop's database.
    pub(crate) tally: OrderTally,
    /// Flows with a task that failed for good (its downstream tasks are never written).
    pub(crate) failed_flows: u64,
    /// Runs of `coupon.batch_issue` completed.
    pub(crate) campaign_runs: u64,
    pub(crate) campaign: Campaign,
}

/// Runs the job on PostgreSQL at `url`, on the seeded shop `storefront` at `database`; `Ok(false)`
/// if an invariant was broken.
pub(crate) async fn run(
    url: &str,
    options: &Options,
    storefront: Shop,
    database: &Path,
) -> Result<bool, Box<dyn Error>> {
    let pg = fresh_task_table(url, &options.schema).await?;
    // Both start at once; each is then waited for in turn.
    let mut workers = (1..=WORKERS)
        .map(|number| WorkerProcess::spawn(number, database, url, &options.schema))
        .collect::<Result<Vec<_>, _>>()?;
    let mut starts = Vec::with_capacity(WORKERS);
    for worker in &mut workers {
        starts.push(worker.ready().await?);
    }

    let sent = traffic::send(&pg, &storefront, options).await?;
    let elapsed = flows_finished(&pg, &mut workers, sent.started).await?;
    // Rows completed so far, over every task: flows, schedule ticks and the campaign's runs.
    let tasks_run = pg.counts().await?.completed as u64;
    // The sweep runs in the workers: they keep running until it has closed what it must.
    let closing_wait = traffic::overdue_closed(&pg, &storefront, sent.last_deadline, CLOSING_PATIENCE).await?;

    for worker in &mut workers {
        worker.stop();
    }
    let mut processes = Vec::with_capacity(WORKERS);
    for (worker, start) in workers.into_iter().zip(starts) {
        let name = worker.name().to_owned();
        let run_times = worker.finish().await?;
        processes.push(Process {
            name: Some(name),
            startup: start.startup,
            after_spawn: Some(start.after_spawn),
            phases: start.phases,
            latencies: Latency::of(run_times),
        });
    }

    let traffic = DurableTraffic {
        orders: sent.orders,
        elapsed,
        tally: storefront.order_tally(sent.first_id).await?,
        failed_flows: failed_flows(&pg).await?,
        campaign_runs: completed(&pg, "coupon.batch_issue").await?,
        campaign: storefront.campaign(CAMPAIGN).await?,
    };
    let dead_letters = pg.dead_letters().await?.len();
    let audit = storefront.audit(shop_tasks::clock::now()).await?;
    Report {
        database: &database_shown(options, database),
        task_table: Some(format!(
            "on PostgreSQL, in schema `{}`, run by {WORKERS} worker processes (this program with `--worker`)",
            options.schema
        )),
        processes,
        work: Work::Durable(&traffic),
        tasks_run,
        closing_wait,
        dead_letters,
        audit,
        // The worker processes ran the jobs; their runtimes are not this one.
        // The jobs ran in the worker processes, whose runtimes recorded them.
        variants: preheat::variants::VariantsReport::default(),
    }
    .print();

    let left = pg.counts().await?;
    storefront.close().await;
    pg.pool().close().await;
    match (left.ready, left.running) {
        (0, 0) => println!("shutdown: both workers drained and exited, nothing left in the table"),
        // Ticks a worker's timer wrote after the other worker stopped claiming.
        (ready, running) => {
            println!("shutdown: both workers drained and exited; left in the table: {ready} ready, {running} running")
        }
    }
    Ok(audit.holds())
}

/// Drops the schema with an earlier run's rows, then connects, creating it and the task table.
async fn fresh_task_table(url: &str, schema: &str) -> Result<Postgres, Box<dyn Error>> {
    // One connection, not a pool: a pool retries a refused connection until its timeout and
    // then says only that it timed out.
    let mut admin = PgConnection::connect(url)
        .await
        .map_err(|error| format!("cannot connect to the PostgreSQL database of `--database-url`: {error}"))?;
    // `options::schema` let through only plain lowercase names, and never `public`.
    let dropped = sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE")).execute(&mut admin).await;
    let _ = admin.close().await;
    dropped.map_err(|error| format!("cannot drop schema `{schema}` for a fresh task table: {error}"))?;
    Ok(Postgres::connect_in_schema(url, schema).await?)
}

/// Waits until no task of the orders' flows or the campaign is ready or running in the table:
/// each has completed, or failed for good (what would follow it is then never written). The
/// schedules' ticks keep coming and are left out. Returns the time since `started`.
async fn flows_finished(
    pg: &Postgres,
    workers: &mut [WorkerProcess],
    started: Instant,
) -> Result<Duration, Box<dyn Error>> {
    let scheduled: Vec<&str> = Registry::global()?
        .tasks()
        .iter()
        .filter(|task| task.meta().schedule.is_some())
        .map(|task| task.id())
        .collect();
    let mut finished_before = -1;
    let mut stalled_since = Instant::now();
    loop {
        // The table's columns are documented by its migration (core/migrations); `counts()`
        // would count the ticks too.
        let (left, finished): (i64, i64) = sqlx::query_as(
            "SELECT count(*) FILTER (WHERE state IN ('ready', 'running')),
                    count(*) FILTER (WHERE state IN ('completed', 'dead'))
             FROM preheat_tasks WHERE task <> ALL($1)",
        )
        .bind(&scheduled)
        .fetch_one(pg.pool())
        .await?;
        if left == 0 {
            return Ok(started.elapsed());
        }
        for worker in workers.iter_mut() {
            if let Some(status) = worker.exited()? {
                return Err(
                    format!("{} exited ({status}) with {left} tasks left; its log is above", worker.name()).into()
                );
            }
        }
        if finished > finished_before {
            finished_before = finished;
            stalled_since = Instant::now();
        } else if stalled_since.elapsed() >= STALL_PATIENCE {
            return Err(
                format!("{left} tasks of the flows and the campaign made no progress for {STALL_PATIENCE:?}").into()
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Flow runs with a task that failed for good.
async fn failed_flows(pg: &Postgres) -> Result<u64, sqlx::Error> {
    let failed: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT flow_id) FROM preheat_tasks WHERE state = 'dead' AND flow_id IS NOT NULL",
    )
    .fetch_one(pg.pool())
    .await?;
    Ok(failed as u64)
}

/// Rows of `task` completed.
async fn completed(pg: &Postgres, task: &str) -> Result<u64, sqlx::Error> {
    let completed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM preheat_tasks WHERE state = 'completed' AND task = $1")
            .bind(task)
            .fetch_one(pg.pool())
            .await?;
    Ok(completed as u64)
}
