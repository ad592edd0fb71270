//! A worker process of `--database-url`: this binary again, running the shop's tasks from the
//! PostgreSQL task table, and the main process's handle on it.
//!
//! The two talk over the worker's stdin and stdout, a line at a time:
//!
//! - the worker prints `phase <ns> <name>` for each start-up phase of its runtime, `started <ns>`
//!   for the whole start, then `ready` once its pools are warm and it claims tasks;
//! - the main process closes the worker's stdin to stop it — as the main process's exit would,
//!   so a worker never outlives it; Ctrl-C and SIGTERM stop it too;
//! - the worker drains (its runtime's shutdown: what it claimed finishes and is stored, what it
//!   could not finish goes back to the table), prints `runs <task> <ns> <ns>...` with each of its
//!   runs of each task in the order they started, and exits.
//!
//! Its logs go to stderr, which it shares with the main process.

use std::collections::BTreeMap;
use std::error::Error;
use std::io::{self, Write};
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use preheat::Runtime;
use preheat::postgres::Postgres;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::oneshot;

use crate::options::Options;

/// How long a worker may take from its spawn to `ready`: connecting, migrating (a no-op by then)
/// and the runtime's start, whose `db` warmer alone may take three attempts of 10 s.
const READY_PATIENCE: Duration = Duration::from_secs(60);

/// Runs this process as a worker until told to stop; see the module's docs.
pub(crate) async fn serve(options: &Options) -> Result<(), Box<dyn Error>> {
    // clap refuses `--worker` without both; this is for a caller that did not go through it.
    let (Some(database), Some(url)) = (&options.database, &options.database_url) else {
        return Err("a worker needs `--database` and `--database-url`".into());
    };
    shop_tasks::use_database(database.clone())?;
    let pg = Postgres::connect_in_schema(url, &options.schema)
        .await
        .map_err(|error| format!("cannot reach the task table in schema `{}`: {error}", options.schema))?;
    let started = Instant::now();
    let rt = Runtime::builder().postgres(pg).start().await?;
    let startup = started.elapsed();
    let mut ready = String::new();
    for phase in rt.readiness().phases {
        ready += &format!("phase {} {}\n", phase.took.as_nanos(), phase.name);
    }
    ready += &format!("started {}\nready\n", startup.as_nanos());
    say(&ready)?;

    stop_requested().await?;
    rt.shutdown().await?;
    let mut runs = String::new();
    for (task, took) in shop_tasks::run_times() {
        let took: Vec<String> = took.iter().map(|run| run.as_nanos().to_string()).collect();
        runs += &format!("runs {task} {}\n", took.join(" "));
    }
    match say(&runs) {
        // The main process is gone (its exit is what stopped this worker): nobody to tell.
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        said => Ok(said?),
    }
}

/// Writes `lines` to the main process; unlike `print!`, an error is returned, not a panic.
fn say(lines: &str) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    stdout.write_all(lines.as_bytes())?;
    stdout.flush()
}

/// Resolves when stdin closes (the main process stopped this worker, or exited), or on Ctrl-C
/// or SIGTERM.
async fn stop_requested() -> io::Result<()> {
    let (closed, stdin_closed) = oneshot::channel();
    // A thread of its own rather than tokio's stdin: a blocking read cannot be cancelled, and
    // tokio's would keep the runtime from exiting after a SIGTERM with stdin still open.
    std::thread::Builder::new().name("stdin".into()).spawn(move || {
        let _ = io::copy(&mut io::stdin().lock(), &mut io::sink());
        let _ = closed.send(());
    })?;
    tokio::select! {
        _ = stdin_closed => Ok(()),
        result = crate::stopped() => result,
    }
}

/// A running worker process, seen from the main process.
#[derive(Debug)]
pub(crate) struct WorkerProcess {
    name: String,
    child: Child,
    /// Dropped to stop the worker.
    stdin: Option<ChildStdin>,
    stdout: Lines<BufReader<ChildStdout>>,
    spawned: Instant,
}

/// A worker's start, as it reported it.
#[derive(Debug)]
pub(crate) struct Ready {
    /// From the spawn to `ready`: the process's start, its connection to PostgreSQL and its
    /// runtime's start.
    pub(crate) after_spawn: Duration,
    /// Its runtime's start alone, measured by the worker.
    pub(crate) startup: Duration,
    pub(crate) phases: Vec<(String, Duration)>,
}

/// Each of a worker's runs of each task, in the order they started.
pub(crate) type RunTimes = BTreeMap<String, Vec<Duration>>;

impl WorkerProcess {
    /// Starts worker `number` (from 1) on the shop database `database` and the task table in
    /// `schema` of `url`. Killed if dropped before [`finish`](Self::finish).
    pub(crate) fn spawn(number: usize, database: &Path, url: &str, schema: &str) -> Result<Self, Box<dyn Error>> {
        let exe =
            std::env::current_exe().map_err(|error| format!("cannot find this program to start a worker: {error}"))?;
        let mut command = Command::new(exe);
        command
            .arg("--worker")
            .arg("--database")
            .arg(database)
            .args(["--database-url", url, "--schema", schema])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let spawned = Instant::now();
        let mut child = command.spawn().map_err(|error| format!("cannot start worker {number}: {error}"))?;
        let name = match child.id() {
            Some(pid) => format!("worker {number} (pid {pid})"),
            None => format!("worker {number}"),
        };
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            unreachable!("both were set to `Stdio::piped()`")
        };
        Ok(Self { name, child, stdin: Some(stdin), stdout: BufReader::new(stdout).lines(), spawned })
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Waits for the worker's `ready`, and returns how its start went.
    pub(crate) async fn ready(&mut self) -> Result<Ready, Box<dyn Error>> {
        let mut phases = Vec::new();
        let mut startup = None;
        let read = async {
            while let Some(line) = self.stdout.next_line().await? {
                if line == "ready" {
                    return Ok(true);
                } else if let Some(phase) = line.strip_prefix("phase ") {
                    let (nanos, name) = phase.split_once(' ').unwrap_or((phase, ""));
                    phases.push((name.to_owned(), nanos_in(&self.name, nanos)?));
                } else if let Some(nanos) = line.strip_prefix("started ") {
                    startup = Some(nanos_in(&self.name, nanos)?);
                } else {
                    eprintln!("{}: {line}", self.name);
                }
            }
            Ok::<_, Box<dyn Error>>(false)
        };
        let ready = tokio::time::timeout(READY_PATIENCE, read)
            .await
            .map_err(|_| format!("{} did not get ready within {READY_PATIENCE:?}", self.name))??;
        if !ready {
            let status = self.child.wait().await?;
            return Err(format!("{} exited before it was ready ({status}); its errors are above", self.name).into());
        }
        let startup = startup.ok_or_else(|| format!("{} said `ready` without its start-up time", self.name))?;
        Ok(Ready { after_spawn: self.spawned.elapsed(), startup, phases })
    }

    /// The worker's exit status if it has exited.
    pub(crate) fn exited(&mut self) -> io::Result<Option<ExitStatus>> {
        self.child.try_wait()
    }

    /// Tells the worker to stop: it drains, then reports and exits; see [`finish`](Self::finish).
    pub(crate) fn stop(&mut self) {
        self.stdin = None;
    }

    /// Stops the worker if [`stop`](Self::stop) did not, waits for it to drain and exit, and
    /// returns its run times.
    pub(crate) async fn finish(mut self) -> Result<RunTimes, Box<dyn Error>> {
        self.stop();
        let mut run_times = RunTimes::new();
        while let Some(line) = self.stdout.next_line().await? {
            let Some(runs) = line.strip_prefix("runs ") else {
                eprintln!("{}: {line}", self.name);
                continue;
            };
            let mut words = runs.split(' ');
            let task = words.next().unwrap_or_default().to_owned();
            let runs = words.map(|nanos| nanos_in(&self.name, nanos)).collect::<Result<Vec<_>, _>>()?;
            run_times.insert(task, runs);
        }
        let status = self.child.wait().await?;
        if !status.success() {
            return Err(format!("{} did not stop cleanly ({status}); its errors are above", self.name).into());
        }
        Ok(run_times)
    }
}

/// A duration a worker printed in nanoseconds.
fn nanos_in(worker: &str, nanos: &str) -> Result<Duration, String> {
    nanos.parse().map(Duration::from_nanos).map_err(|_| format!("{worker} printed `{nanos}` where nanoseconds go"))
}
