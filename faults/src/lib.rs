//! Fault tests of preheat's PostgreSQL backend: the tasks, their tables, and the worker settings.
//!
//! The `fault-worker` binary is one worker process running these tasks from a task table. The
//! tests in `tests/` start several, kill them with SIGKILL while they work, start them again,
//! and then check in the database what the tasks did. For that each task writes its effect in
//! its own statement, counting its runs: a task lost with its worker shows as a missing row, a
//! task run twice as `runs = 2`.
#![warn(missing_docs, unreachable_pub, rust_2018_idioms)]

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

use preheat::task;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use tokio::sync::Notify;

preheat::metadata!("meta");

/// The lease of every worker: short, so that a killed worker's tasks run elsewhere soon and a
/// test of many kills ends in seconds.
pub const LEASE: Duration = Duration::from_secs(2);

/// Tasks a worker holds at once. A worker killed holds at most this many, so each kill can
/// cause at most this many runs twice: the tests check duplicates against it.
pub const MAX_IN_FLIGHT: usize = 256;

/// Rows a worker claims per query: a quarter of what it may hold, so that several workers
/// share a backlog rather than the first one taking it all.
pub const CLAIM_BATCH: u32 = 64;

/// The application's pool the tasks write with: the worker's, set before its runtime starts.
static DB: OnceLock<PgPool> = OnceLock::new();

/// Set once a task of this process has written its effect.
static RAN: AtomicBool = AtomicBool::new(false);
static FIRST_RUN: Notify = Notify::const_new();

/// Gives the tasks their pool; the worker calls it before it starts its runtime.
pub fn use_pool(pool: PgPool) {
    // A second call keeps the first pool: one process, one database.
    let _ = DB.set(pool);
}

/// Resolves once a task of this process has written its effect: from then on the process holds
/// leased work, which is what a kill must interrupt to test anything.
pub async fn first_run() {
    FIRST_RUN.notified().await;
}

fn ran() {
    if !RAN.swap(true, Relaxed) {
        // Stores a permit if nobody waits yet, so `first_run` called later still resolves.
        FIRST_RUN.notify_one();
    }
}

fn db() -> Result<&'static PgPool, EffectError> {
    DB.get().ok_or(EffectError::NoPool)
}

/// Why a task did not write its effect.
#[derive(Debug, thiserror::Error)]
pub enum EffectError {
    /// The worker started its runtime before calling [`use_pool`].
    #[error("no database: the worker calls `use_pool` before it starts its runtime")]
    NoPool,
    /// The statement failed; the attempt fails and is retried.
    #[error("the effect was not written: {0}")]
    Database(#[from] sqlx::Error),
}

/// The tables the tasks write, in the test's schema next to preheat's own.
///
/// `effects` has one row per task id, counting its runs, with the time of its first run;
/// `coupons` one row per coupon, by its primary key, with whom the first run issued it to and
/// how many runs tried.
///
/// Both are `UNLOGGED`: the tests kill workers, never the database, and a commit that wrote no
/// WAL does not wait for its flush. With logged tables the tasks' 100,000 single-row commits
/// queued on the flush (`WALWrite` waits in `pg_stat_activity`), not on anything under test.
pub const TABLES: &str = "
    CREATE UNLOGGED TABLE effects (
        task_id  bigint      PRIMARY KEY,
        runs     integer     NOT NULL,
        first_at timestamptz NOT NULL DEFAULT clock_timestamp()
    );
    CREATE UNLOGGED TABLE coupons (
        coupon bigint  PRIMARY KEY,
        holder text    NOT NULL,
        runs   integer NOT NULL
    );";

/// Creates [`TABLES`] (on a fresh schema).
pub async fn create_tables(pool: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(TABLES).execute(pool).await?;
    Ok(())
}

/// Counts one run of task `task_id`.
#[task("fault.effect")]
pub async fn record_effect(task_id: i64) -> Result<(), EffectError> {
    // One statement, so a kill leaves either the whole run counted or none of it.
    sqlx::query(
        "INSERT INTO effects (task_id, runs) VALUES ($1, 1)
         ON CONFLICT (task_id) DO UPDATE SET runs = effects.runs + 1",
    )
    .bind(task_id)
    .execute(db()?)
    .await?;
    ran();
    Ok(())
}

/// A coupon to issue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coupon {
    /// Its number, the primary key of `coupons`.
    pub coupon: i64,
    /// Whom it goes to.
    pub holder: String,
}

/// Issues a coupon: the first run inserts it, a later run of the same coupon only counts.
#[task("fault.coupon")]
pub async fn issue_coupon(input: Coupon) -> Result<(), EffectError> {
    sqlx::query(
        "INSERT INTO coupons (coupon, holder, runs) VALUES ($1, $2, 1)
         ON CONFLICT (coupon) DO UPDATE SET runs = coupons.runs + 1",
    )
    .bind(input.coupon)
    .bind(&input.holder)
    .execute(db()?)
    .await?;
    ran();
    Ok(())
}
