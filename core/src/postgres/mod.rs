//! The PostgreSQL backend: durable tasks shared by every process of a deployment.
//!
//! The same `#[task]` functions and the same YAML run here as in memory; what changes is where
//! a submitted task waits. A task submitted through [`Postgres`] is a row in `preheat_tasks`:
//! it survives restarts, and any process whose runtime was started with
//! [`RuntimeBuilder::postgres`](crate::RuntimeBuilder::postgres) may run it.
//!
//! ```rust,standalone_crate,no_run
//! use preheat::postgres::Postgres;
//! use preheat::{Runtime, task};
//! # preheat::metadata!("meta");
//! # #[derive(Clone, serde::Serialize, serde::Deserialize)] struct CloseInput { order_id: u64 }
//! # #[task("order.timeout_close")]
//! # async fn close_unpaid(input: CloseInput) -> Result<(), std::io::Error> { Ok(()) }
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! // Connects and brings the schema up to date (idempotent; safe from many processes at once).
//! let pg = Postgres::connect("postgres://postgres@127.0.0.1/test").await?;
//! // A worker process: pre-warmed pools as usual, fed from the table.
//! let runtime = Runtime::builder().postgres(pg.clone()).start().await?;
//!
//! // Anywhere, even a process that runs no tasks: the order and its close, atomically.
//! let mut tx = pg.pool().begin().await?;
//! sqlx::query("INSERT INTO orders (id) VALUES (42)").execute(&mut *tx).await?;
//! preheat::postgres::NewTask::new(close_unpaid, CloseInput { order_id: 42 })
//!     .after(std::time::Duration::from_secs(30 * 60))
//!     .key("close:42")
//!     .submit_tx(&mut tx)
//!     .await?;
//! tx.commit().await?;
//! # Ok(()) }
//! # fn main() {}
//! ```
//!
//! # Guarantees
//!
//! **At least once.** A worker claims a batch of due rows (`FOR UPDATE SKIP LOCKED`), holds a
//! lease on each, and renews it with a heartbeat. If the process dies (SIGKILL, a lost network),
//! its leases run out and another worker takes the rows again, after [`Postgres::lease`]
//! (30 s by default), not an hour later. A task whose worker died after it ran but before its
//! result was stored **runs again**: write tasks to be idempotent (a conditional update, a
//! unique key). An attempt lost with its worker counts as an attempt, so a task that kills its
//! process cannot loop forever: after `retry.max_attempts` it is dead. Attempts are counted
//! per claim, not per start: the rows claimed in the same batch as a task that crashes its
//! process are charged the lost attempt too, though they may not have started; a poison task
//! that crashes its process `retry.max_attempts` times can take rows claimed with it along.
//! Keep `retry.max_attempts` above 1 for tasks on this backend, and `claim_batch` modest if
//! tasks may crash the process.
//!
//! - Retries, backoff and the dead-letter state are rows: a failed attempt is due again after
//!   its backoff (`state = 'ready'`, `run_at` later); one that used up its attempts is
//!   `'dead'`, with its input and last error kept (see [`Postgres::dead_letters`]).
//! - Delayed tasks are rows with a later `run_at`: an order's close at +30 min survives every
//!   restart.
//! - [`NewTask::submit_tx`] writes the task inside the application's own transaction: it
//!   exists if and only if that transaction commits.
//! - [`NewTask::key`] makes a submit idempotent: a second submit with the same key (while the
//!   first row is kept, see [`Postgres::keep_completed`]) does nothing.
//! - A schedule fires once per tick across all processes: each process's timer submits the tick
//!   under the key `schedule:<task>@<tick>`, and only the first submit counts. `every`
//!   schedules tick on a grid counted from the Unix epoch, so that all processes agree on it.
//!   `overlap` and `missed` do not apply: a tick's run is a row like any other, and a tick
//!   one process missed another most likely fired.
//! - Flows are rows too: when a task with downstream tasks succeeds, its downstream tasks are
//!   written in the same transaction that marks it completed, keyed per flow run, so a flow
//!   survives the death of the process that started it and a task run twice starts its
//!   downstream tasks once.
//!
//! Workers wake on `LISTEN/NOTIFY` and poll as a fallback; behind a pooler that breaks
//! `LISTEN` (transaction pooling), choose [`Wake::Poll`].
//!
//! In a worker process, [`Runtime::submit`](crate::Runtime::submit), its delays and
//! [`Ctx::submit`](crate::Ctx::submit) still run in memory, in that process: durable work is
//! submitted through [`Postgres`] (or written by a flow).

mod held;
mod migrate;
mod settle;
mod submit;
mod worker;

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

pub use submit::{NewTask, Submitted, submit_all_tx, submit_tx};
pub(crate) use worker::Worker;

/// A connection to the task table, and how workers use it. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Postgres {
    pool: PgPool,
    /// The worker's own connections (claims, results, heartbeat, `LISTEN`), apart from the
    /// application's: tasks holding every connection of `pool` must not stall the heartbeat,
    /// or live workers' leases would run out. Opened on first use, so a process that only
    /// submits never opens it.
    worker_pool: PgPool,
    settings: Arc<Settings>,
}

/// Connections of the worker's own pool: `LISTEN`, claims, results and the heartbeat, each
/// holding at most one at a time, and a spare for schedule ticks and pruning.
const WORKER_CONNECTIONS: u32 = 5;

#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub(crate) lease: Duration,
    pub(crate) wake: Wake,
    pub(crate) claim_batch: u32,
    pub(crate) max_in_flight: usize,
    pub(crate) keep_completed: Duration,
}

/// How an idle worker learns of new tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Wake {
    /// `LISTEN` for inserts, and poll at this interval as a fallback (missed notifications,
    /// retries and delays due in other processes). The default, with 1 s.
    Listen {
        /// How often to look anyway.
        poll: Duration,
    },
    /// Poll only, at this interval: for poolers that do not pass `LISTEN` through.
    Poll(Duration),
}

impl Wake {
    pub(crate) fn poll_interval(self) -> Duration {
        match self {
            Wake::Listen { poll } | Wake::Poll(poll) => poll,
        }
    }
}

/// What went wrong talking to the task table.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database refused or the connection failed.
    #[error("postgres: {0}")]
    Database(#[from] sqlx::Error),
    /// The input of a task did not serialize to JSON; nothing was written.
    #[error("the input of task `{task}` does not serialize to JSON: {source}")]
    Input {
        /// The task id.
        task: &'static str,
        /// Why.
        source: serde_json::Error,
    },
    /// The tasks linked into this binary do not match their metadata.
    #[error(transparent)]
    Registry(&'static crate::RegistryError),
    /// A schema name [`Postgres::connect_in_schema`] does not take.
    #[error(
        "schema name `{name}` is not plain: use letters, digits and `_`, not starting with a digit, at most 63 bytes"
    )]
    Schema {
        /// The name given.
        name: String,
    },
    /// The schema in the database is newer than this binary knows.
    #[error("the preheat schema in the database is at version {found}, newer than this binary's {known}")]
    SchemaTooNew {
        /// The database's version.
        found: i32,
        /// The newest this binary knows.
        known: i32,
    },
}

/// How many rows are in each state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Due now or later, not claimed.
    pub ready: i64,
    /// Claimed by a worker (its lease running, or run out and not yet taken again).
    pub running: i64,
    /// Succeeded (kept for [`Postgres::keep_completed`]).
    pub completed: i64,
    /// Failed for good.
    pub dead: i64,
}

/// A task that failed for good, as stored.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct DeadLetter {
    /// The row id.
    pub id: i64,
    /// The task id.
    pub task: String,
    /// The input, as JSON.
    pub input: serde_json::Value,
    /// Attempts claimed, the last included.
    pub attempts: i32,
    /// The last error.
    pub error: Option<String>,
}

impl Postgres {
    /// Connects with a pool of up to 8 connections and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        let pool = PgPoolOptions::new().max_connections(8).connect(url).await?;
        Self::from_pool(pool).await
    }

    /// Connects like [`connect`](Self::connect) with preheat's tables in schema `schema`
    /// (created if missing; `public` stays on the search path for the application's tables):
    /// for several deployments, or test runs, sharing one database.
    ///
    /// The name is letters, digits and `_`, not starting with a digit, at most 63 bytes: it
    /// goes into every connection's start-up options, which split on spaces.
    pub async fn connect_in_schema(url: &str, schema: &str) -> Result<Self, Error> {
        let plain = schema.len() <= 63
            && schema.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && schema.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !plain {
            return Err(Error::Schema { name: schema.to_owned() });
        }
        let pool = PgPoolOptions::new().max_connections(1).connect(url).await?;
        let mut tx = pool.begin().await?;
        // `IF NOT EXISTS` is not safe against a concurrent CREATE: processes starting together
        // take turns (the lock the migrations take too).
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('preheat_schema'))").execute(&mut *tx).await?;
        sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\"")).execute(&mut *tx).await?;
        tx.commit().await?;
        pool.close().await;
        let options: sqlx::postgres::PgConnectOptions = url.parse()?;
        let options = options.options([("search_path", format!("\"{schema}\",public"))]);
        let pool = PgPoolOptions::new().max_connections(8).connect_with(options).await?;
        Self::from_pool(pool).await
    }

    /// Uses the application's pool and brings the schema up to date. The worker's own
    /// connections copy the pool's connect options (not its `after_connect` hook: set the
    /// `search_path` in the options, as [`connect_in_schema`](Self::connect_in_schema) does).
    pub async fn from_pool(pool: PgPool) -> Result<Self, Error> {
        migrate::run(&pool).await?;
        // The worker's queries never need a sort; forbidding it keeps the planner on the due
        // index for claims even on a table it has no statistics for yet (a new deployment,
        // a fresh backlog), where it chose to read and sort every due row instead: a claim of
        // 256 took 32-38 ms against 2 ms with 100,000 rows due (BENCHMARKS.md, postgres).
        let options = (*pool.connect_options()).clone().options([("enable_sort", "off")]);
        let worker_pool = PgPoolOptions::new().max_connections(WORKER_CONNECTIONS).connect_lazy_with(options);
        let settings = Settings {
            lease: Duration::from_secs(30),
            wake: Wake::Listen { poll: Duration::from_secs(1) },
            claim_batch: 256,
            max_in_flight: 1024,
            keep_completed: Duration::from_secs(3600),
        };
        Ok(Self { pool, worker_pool, settings: Arc::new(settings) })
    }

    fn with(mut self, change: impl FnOnce(&mut Settings)) -> Self {
        change(Arc::make_mut(&mut self.settings));
        self
    }

    /// How long a claimed task stays with its worker without a heartbeat; the heartbeat renews
    /// it every third of this. A dead worker's tasks are taken again once this has passed,
    /// when another worker next looks (its poll interval at the latest). Default: 30 s.
    pub fn lease(self, lease: Duration) -> Self {
        self.with(|settings| settings.lease = lease.max(Duration::from_millis(300)))
    }

    /// How idle workers learn of new tasks. Default: [`Wake::Listen`] with a 1 s poll.
    pub fn wake(self, wake: Wake) -> Self {
        self.with(|settings| settings.wake = wake)
    }

    /// Rows claimed per query, at most. Default: 256.
    pub fn claim_batch(self, rows: u32) -> Self {
        self.with(|settings| settings.claim_batch = rows.max(1))
    }

    /// Tasks a process holds at once, queued in its pools or running. Default: 1024.
    pub fn max_in_flight(self, tasks: usize) -> Self {
        self.with(|settings| settings.max_in_flight = tasks.max(1))
    }

    /// How long completed rows (and their unique keys) are kept before workers delete them.
    /// Idempotency lasts as long: a key submitted again after its row was deleted runs again.
    /// Schedules rely on it too (each tick is a keyed row), so keep it well above the longest
    /// delay between processes firing the same tick. Default: 1 hour.
    pub fn keep_completed(self, keep: Duration) -> Self {
        self.with(|settings| settings.keep_completed = keep)
    }

    /// The connection pool, for the application's own queries and transactions (and for
    /// tasks). The worker's claims, results and heartbeat use connections of their own.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub(crate) fn worker_pool(&self) -> &PgPool {
        &self.worker_pool
    }

    /// Submits a task now, outside any transaction. See [`NewTask`] for keys and delays.
    pub async fn submit<T: crate::Task>(&self, task: T, input: T::Input) -> Result<Submitted, Error> {
        NewTask::new(task, input).submit(self).await
    }

    /// Submits many tasks of one kind in one statement, due now and without keys (a campaign's
    /// coupons, a backfill); returns how many were written. Inside a transaction: [`submit_all_tx`].
    pub async fn submit_all<T: crate::Task>(
        &self,
        _task: T,
        inputs: impl IntoIterator<Item = T::Input>,
    ) -> Result<u64, Error> {
        let mut conn = self.pool.acquire().await?;
        submit::insert_all::<T>(&mut conn, inputs).await
    }

    /// How many rows are in each state.
    pub async fn counts(&self) -> Result<Counts, Error> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT state, count(*) FROM preheat_tasks GROUP BY state").fetch_all(&self.pool).await?;
        let mut counts = Counts::default();
        for (state, count) in rows {
            match state.as_str() {
                "ready" => counts.ready = count,
                "running" => counts.running = count,
                "completed" => counts.completed = count,
                _ => counts.dead += count,
            }
        }
        Ok(counts)
    }

    /// Makes a dead task due again with a fresh set of attempts (after fixing what killed it);
    /// `false` if no dead task has this id.
    pub async fn retry_dead(&self, id: i64) -> Result<bool, Error> {
        let done = sqlx::query(
            "UPDATE preheat_tasks SET state = 'ready', attempt = 0, run_at = now(), finished_at = NULL
             WHERE id = $1 AND state = 'dead'",
        )
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The tasks that failed for good, oldest first.
    pub async fn dead_letters(&self) -> Result<Vec<DeadLetter>, Error> {
        let rows: Vec<(i64, String, String, i32, Option<String>)> = sqlx::query_as(
            "SELECT id, task, input::text, attempt, last_error FROM preheat_tasks WHERE state = 'dead' ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, task, input, attempts, error)| DeadLetter {
                id,
                task,
                // Stored from `serde_json` text, so it parses; `Null` if someone edited the row.
                input: serde_json::from_str(&input).unwrap_or_default(),
                attempts,
                error,
            })
            .collect())
    }
}
