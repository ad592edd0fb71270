//! One worker process of the fault tests: a preheat runtime on a PostgreSQL task table, running
//! the tasks of `preheat_faults` until it is killed.
//!
//! ```text
//! fault-worker --schema NAME [--database URL] [--exit-with-stdin]
//! ```
//!
//! The database comes from `--database` or `PREHEAT_DATABASE_URL`. On stdout it prints `ready`
//! once its runtime has started (its pools warm, claiming from the table), then `working` once
//! one of its tasks has written its effect. SIGTERM or Ctrl-C shut it down gracefully, giving
//! back what it holds; SIGKILL is what the tests use. With `--exit-with-stdin` it also stops
//! when its stdin closes, which happens when the test that started it dies, even by SIGKILL:
//! no worker outlives its test.

use std::error::Error;
use std::process::ExitCode;

use preheat::Runtime;
use preheat::postgres::Postgres;
use preheat_faults::{CLAIM_BATCH, LEASE, MAX_IN_FLIGHT};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::oneshot;
use tracing_subscriber::EnvFilter;

struct Args {
    database: String,
    schema: String,
    exit_with_stdin: bool,
}

const USAGE: &str = "usage: fault-worker --schema NAME [--database URL] [--exit-with-stdin]";

fn args() -> Result<Args, String> {
    let mut database = std::env::var("PREHEAT_DATABASE_URL").ok();
    let (mut schema, mut exit_with_stdin) = (None, false);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--database" => database = Some(args.next().ok_or("--database needs a URL")?),
            "--schema" => schema = Some(args.next().ok_or("--schema needs a name")?),
            "--exit-with-stdin" => exit_with_stdin = true,
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    Ok(Args {
        database: database
            .ok_or_else(|| format!("no database: pass --database or set PREHEAT_DATABASE_URL\n{USAGE}"))?,
        schema: schema.ok_or_else(|| format!("no schema: pass --schema\n{USAGE}"))?,
        exit_with_stdin,
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("fault-worker: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn Error>> {
    let args = args()?;
    // Warnings only by default: the tests inherit this stderr, and a healthy worker is quiet.
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")))
        .with_writer(std::io::stderr)
        .init();

    let pg = Postgres::connect_in_schema(&args.database, &args.schema)
        .await?
        .lease(LEASE)
        .max_in_flight(MAX_IN_FLIGHT)
        .claim_batch(CLAIM_BATCH);
    preheat_faults::use_pool(pg.pool().clone());
    let runtime = Runtime::builder().postgres(pg).start().await?;
    // Line-buffered even into a pipe: the test sees each line as it is printed.
    println!("ready");
    tokio::spawn(async {
        preheat_faults::first_run().await;
        println!("working");
    });

    let mut terminate = signal(SignalKind::terminate())?;
    let stdin_closed = stdin_closed(args.exit_with_stdin);
    tokio::select! {
        _ = terminate.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
        _ = stdin_closed => {}
    }
    runtime.shutdown().await?;
    Ok(())
}

/// Resolves when stdin reaches its end, if asked to watch it; never otherwise.
async fn stdin_closed(watch: bool) {
    if !watch {
        return std::future::pending().await;
    }
    let (closed, on_close) = oneshot::channel();
    // A plain thread: blocking reads of stdin have no place on the runtime.
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        let _ = closed.send(());
    });
    let _ = on_close.await;
}
