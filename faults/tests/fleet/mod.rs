//! Worker processes for the fault tests, and the database they share.
//!
//! Each test works in a schema of its own, dropped at the start. A [`WorkerProcess`] is a
//! `fault-worker` child; dropping it kills it, so a failing test leaves no worker behind (and a
//! test process that dies closes their stdin, which stops them too).

// Each test file uses a part of this module.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use preheat::postgres::{Counts, Postgres};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// How long a worker may take to start: a debug build on a loaded machine is slow.
const START: Duration = Duration::from_secs(60);

/// A fresh schema with preheat's tables and the tasks' own.
pub(crate) struct Database {
    pub(crate) url: String,
    pub(crate) schema: String,
    pub(crate) pg: Postgres,
}

impl Database {
    /// `preheat_faults_<test>`, dropped and created again; `None` (after saying so) without
    /// `PREHEAT_DATABASE_URL`. With it, the database must answer.
    pub(crate) async fn fresh(test: &str) -> Option<Self> {
        let Ok(url) = std::env::var("PREHEAT_DATABASE_URL") else {
            // Straight to stderr: the test harness captures `eprintln!` of passing tests.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: PREHEAT_DATABASE_URL is not set (CI sets it; see .ci/run)"
            );
            return None;
        };
        let schema = format!("preheat_faults_{test}");
        let admin =
            sqlx::PgPool::connect(&url).await.expect("PREHEAT_DATABASE_URL is set, so the database must answer");
        sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .execute(&admin)
            .await
            .expect("the test's schema dropped");
        admin.close().await;
        let pg = Postgres::connect_in_schema(&url, &schema).await.expect("preheat's tables in the test's schema");
        preheat_faults::create_tables(pg.pool()).await.expect("the tasks' tables");
        Some(Self { url, schema, pg })
    }

    /// Starts a worker process on this schema; see [`WorkerProcess::ready`].
    pub(crate) fn worker(&self) -> WorkerProcess {
        WorkerProcess::spawn(&self.url, &self.schema)
    }

    /// Waits until the counts satisfy `done`, polling; fails after `within` with the counts.
    pub(crate) async fn until(&self, what: &str, within: Duration, done: impl Fn(&Counts) -> bool) -> Counts {
        let deadline = Instant::now() + within;
        loop {
            let counts = self.pg.counts().await.expect("the task table's counts");
            if done(&counts) {
                return counts;
            }
            assert!(Instant::now() < deadline, "{what}: not within {within:?}; counts stuck at {counts:?}");
            // Not faster: each poll counts the whole table, CPU the workers need more.
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// One number from the database.
    pub(crate) async fn scalar(&self, sql: &str) -> i64 {
        sqlx::query_scalar::<_, Option<i64>>(sql)
            .fetch_one(self.pg.pool())
            .await
            .unwrap_or_else(|error| panic!("`{sql}` failed: {error}"))
            .unwrap_or(0)
    }
}

/// A `fault-worker` child process, killed with SIGKILL when dropped.
pub(crate) struct WorkerProcess {
    child: Child,
    /// Its stdout, line by line.
    lines: mpsc::UnboundedReceiver<String>,
}

impl WorkerProcess {
    fn spawn(url: &str, schema: &str) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_fault-worker"))
            .args(["--database", url, "--schema", schema, "--exit-with-stdin"])
            // Held open by `child` until it is dropped, or until this process dies.
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the fault-worker binary starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (sender, lines) = mpsc::unbounded_channel();
        // A thread per worker: it only waits on the pipe, and ends when the worker dies.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Self { child, lines }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for its `ready` line: its runtime has started and it claims from the table.
    pub(crate) async fn ready(&mut self) {
        self.expect_line("ready", START).await;
    }

    /// Waits for its `working` line: one of its tasks has written its effect, so it holds leased
    /// work. `false` if none did within `within`.
    pub(crate) async fn working(&mut self, within: Duration) -> bool {
        matches!(tokio::time::timeout(within, self.lines.recv()).await, Ok(Some(line)) if line == "working")
    }

    async fn expect_line(&mut self, expected: &str, within: Duration) {
        let pid = self.pid();
        match tokio::time::timeout(within, self.lines.recv()).await {
            Ok(Some(line)) if line == expected => {}
            Ok(Some(line)) => panic!("worker {pid} printed `{line}`, expected `{expected}`"),
            Ok(None) => panic!("worker {pid} exited before printing `{expected}` (its stderr says why)"),
            Err(_) => panic!("worker {pid} did not print `{expected}` within {within:?}"),
        }
    }

    /// SIGKILL, and waits until it is gone: whatever it held is then left as it was.
    pub(crate) fn kill(mut self) {
        self.kill_now();
    }

    fn kill_now(&mut self) {
        // `Child::kill` is SIGKILL on Unix; an error means it has exited already.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        self.kill_now();
    }
}
