//! The main job: a shop's background work on preheat and an embedded SQLite database.
//!
//! Creates and seeds a shop (a database file in a temporary directory unless `--database` says
//! where), starts the runtime — pools pre-warmed, schedules armed, the database opened and warmed
//! by the `db` warmer — then sends orders for a while (`--rate`, `--duration`), each running the
//! order flow `order.created` → `inventory.reserve` + `payment.notify` → `logistics.sync` →
//! `points.award`, while `order.close_unpaid` closes each order left unpaid at its deadline
//! (`order.timeout_close` sweeps up any it missed), `price.sync` reprices, and a coupon
//! campaign is issued in two runs. It ends with a report: start-up phases, each task's
//! first run beside its steady p50/p99, throughput, and the shop's invariants checked against
//! the database, as `key=value` lines last. The exit code is 2 if an invariant is broken.
//!
//! ```text
//! cargo run --release -p shop -- [--rate 200] [--duration 10s] [--database PATH] [--serve]
//!                                 [--database-url URL [--schema NAME]]
//! ```
//!
//! With `--serve` (and the default `http` feature) the runtime also serves `/livez`, `/readyz`,
//! `/metrics` and `/tasks` on `PREHEAT_HTTP_ADDR` (default 127.0.0.1:9464), and after the report
//! keeps serving until Ctrl-C or SIGTERM, then drains.
//!
//! With `--database-url URL` the tasks run on PostgreSQL instead, in two worker processes, and
//! this process only sends the traffic and audits; see `durable.rs`.

mod durable;
mod options;
mod report;
mod traffic;
mod worker;

use std::error::Error;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use preheat::Runtime;
use shop_tasks::Shop;

use crate::options::Options;
use crate::report::{Latency, Process, Report, Work};

/// How long after the last payment deadline the job waits for the closes (`order.close_unpaid` at
/// each deadline, the sweep every second) before reporting what is still open.
const CLOSING_PATIENCE: Duration = Duration::from_secs(5);

#[tokio::main]
async fn main() -> ExitCode {
    let options = Options::parse();
    // PostgreSQL's notices ("schema ... already exists, skipping") are not news; warnings are.
    let logs = tracing_subscriber::fmt().with_env_filter(
        tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| "info,sqlx::postgres::notice=warn".parse().expect("valid")),
    );
    if options.worker {
        // A worker's stdout is how it talks to the main process (see `worker.rs`).
        logs.with_writer(std::io::stderr).init();
        return match worker::serve(&options).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: {error}");
                ExitCode::FAILURE
            }
        };
    }
    logs.init();
    match run(options).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(2),
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the job; `Ok(false)` if an invariant was broken.
async fn run(options: Options) -> Result<bool, Box<dyn Error>> {
    // The temporary directory, if any, lives until the job ends, then goes with its database.
    let (_temporary, database) = match &options.database {
        Some(path) => (None, path.clone()),
        None => {
            let directory = tempfile::Builder::new().prefix("preheat-shop-").tempdir()?;
            let path = directory.path().join("shop.db");
            (Some(directory), path)
        }
    };
    // Creating and seeding the shop is a deploy step of its own, with its own connections.
    let creating = Shop::create(&database).await?;
    traffic::seed(&creating, &options).await?;
    if let Some(url) = &options.database_url {
        // No runtime here: the workers run the tasks, and these connections are the storefront's.
        return durable::run(url, &options, creating, &database).await;
    }
    creating.close().await;
    shop_tasks::use_database(database.clone())?;

    let started = Instant::now();
    let rt = builder(&options)?.start().await?;
    let startup = started.elapsed();
    // The storefront shares the tasks' database handle, as a web app and its background tasks
    // in one process would: one writing connection for both.
    let storefront = shop_tasks::shop()?;

    let traffic = traffic::run(&rt, storefront, &options).await?;
    // Jobs taken by a worker, over every task: flows, schedules and the campaign's runs.
    let tasks_run = rt
        .registry()
        .tasks()
        .iter()
        .filter_map(|task| rt.stats(task.id()))
        .map(|stats| stats.submitted - stats.queued as u64)
        .sum();
    let closing_wait = traffic::overdue_closed(&rt, storefront, traffic.last_deadline, CLOSING_PATIENCE).await?;
    let audit = storefront.audit(shop_tasks::clock::now()).await?;
    let this_process = Process {
        name: None,
        startup,
        after_spawn: None,
        phases: rt.readiness().phases.into_iter().map(|phase| (phase.name, phase.took)).collect(),
        latencies: Latency::of(shop_tasks::run_times()),
    };
    Report {
        database: &database_shown(&options, &database),
        task_table: None,
        processes: vec![this_process],
        work: Work::InProcess(&traffic),
        tasks_run,
        closing_wait,
        dead_letters: rt.dead_letters().len(),
        audit,
        variants: rt.variants(),
    }
    .print();

    if options.serve {
        println!("serving until Ctrl-C or SIGTERM");
        stopped().await?;
    }
    rt.shutdown().await?;
    storefront.close().await;
    println!("shutdown: drained, nothing left behind");
    Ok(audit.holds())
}

fn database_shown(options: &Options, database: &std::path::Path) -> PathBuf {
    if options.database.is_some() { database.to_owned() } else { database.with_extension("db (temporary)") }
}

#[cfg(feature = "http")]
fn builder(options: &Options) -> Result<preheat::RuntimeBuilder, String> {
    let builder = Runtime::builder();
    if options.serve { builder.serve_http() } else { Ok(builder) }
}

#[cfg(not(feature = "http"))]
fn builder(options: &Options) -> Result<preheat::RuntimeBuilder, String> {
    if options.serve {
        return Err("`--serve` needs the `http` feature, which this build left out".into());
    }
    Ok(Runtime::builder())
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM (what an orchestrator sends before killing).
async fn stopped() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result,
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await
}
