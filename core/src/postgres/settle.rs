//! Storing results: completed, due again after a backoff, dead, or given back; and for flows,
//! the downstream tasks, in the same transaction.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::PgConnection;
use tokio::sync::{Notify, mpsc};

use super::held::Held;
use super::submit::Rows;
use super::{Error, Postgres};
use crate::lease::AttemptResult;
use crate::registry::Registry;
use crate::retry::backoff;
use crate::sync::lock;

/// Results stored per transaction, at most.
const BATCH: usize = 1024;

/// One leased attempt's result, on its way to the database.
#[derive(Debug)]
pub(crate) struct Settled {
    pub(crate) id: i64,
    pub(crate) task: usize,
    pub(crate) attempt: u32,
    pub(crate) flow: Option<i64>,
    /// The row's trace, which the flow's next tasks continue.
    pub(crate) traceparent: Option<String>,
    pub(crate) result: AttemptResult,
}

/// Writes results in batches, one transaction each.
pub(crate) struct Settler {
    pub(crate) pg: Postgres,
    pub(crate) worker: i64,
    pub(crate) registry: &'static Registry,
    pub(crate) room: Arc<Notify>,
    /// The rows this worker holds, which its heartbeat renews; a stored result lets one go.
    pub(crate) held: Arc<Mutex<Held>>,
}

impl Settler {
    /// Runs until every sender (the claimer and each lease) is gone.
    pub(crate) async fn run(self, mut results: mpsc::UnboundedReceiver<Settled>) {
        let mut batch = Vec::with_capacity(BATCH);
        while results.recv_many(&mut batch, BATCH).await > 0 {
            let mut pause = Duration::from_millis(50);
            // A result is never dropped while the database is away: its lease would run out
            // and the task run again. Keep trying; the leases are renewed meanwhile.
            while let Err(error) = self.store(&batch).await {
                if refused(&error) {
                    // Not the database being away but a result it will never take (a NUL byte
                    // in an output): find it, or the same batch would be refused forever.
                    self.store_one_by_one(&mut batch).await;
                    continue;
                }
                tracing::warn!(%error, results = batch.len(), "postgres: results not stored; trying again");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(2));
            }
            {
                let mut held = lock(&self.held);
                for settled in &batch {
                    held.release(settled.id);
                }
            }
            self.room.notify_one();
            batch.clear();
        }
    }

    /// Stores each result alone; one the database refuses becomes a failure for good, with the
    /// reason. Storing twice is harmless: a row already settled no longer matches its guard.
    async fn store_one_by_one(&self, batch: &mut [Settled]) {
        for settled in batch {
            if let Err(error) = self.store(std::slice::from_ref(settled)).await
                && refused(&error)
            {
                let task = self.registry.tasks()[settled.task].id();
                tracing::error!(task, %error, "postgres: a task's result cannot be stored; failing it for good");
                settled.result = AttemptResult::Failed {
                    error: format!("its result could not be stored: {error}"),
                    retryable: false,
                };
            }
        }
    }

    async fn store(&self, batch: &[Settled]) -> Result<(), Error> {
        let mut updates = Updates::default();
        for settled in batch {
            let task = &self.registry.tasks()[settled.task];
            match &settled.result {
                AttemptResult::Succeeded(_) => updates.push(settled, "completed", 0, None, 0),
                AttemptResult::Failed { error, retryable }
                    if *retryable && settled.attempt < task.meta().retry.max_attempts =>
                {
                    let delay = backoff(&task.meta().retry, settled.attempt);
                    tracing::warn!(task = task.id(), attempt = settled.attempt, ?delay, %error, "task attempt failed; retrying");
                    updates.push(settled, "ready", delay.as_millis() as i64, Some(error), 0);
                }
                AttemptResult::Failed { error, .. } => {
                    tracing::error!(task = task.id(), attempts = settled.attempt, %error, "task failed for good; dead");
                    updates.push(settled, "dead", 0, Some(error), 0);
                }
                // Never started: the attempt is undone.
                AttemptResult::NotRun => updates.push(settled, "ready", 0, None, 1),
                AttemptResult::Interrupted => updates.push(settled, "ready", 0, None, 0),
            }
        }
        let mut tx = self.pg.worker_pool().begin().await?;
        // The planner takes the batch for a handful of rows, and a nested loop then re-reads the
        // whole batch for every row it finds: 74 ms for 1,024 results (BENCHMARKS.md,
        // postgres). A hash join over the batch is what it should be; this transaction only.
        sqlx::query("SET LOCAL enable_nestloop = off").execute(&mut *tx).await?;
        let completed = updates.apply(&mut *tx, self.worker).await?;
        self.start_downstream(&mut tx, batch, &completed).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Writes the tasks that follow the completed ones. Each is keyed by its flow run, so an
    /// upstream task that ran twice starts it once.
    async fn start_downstream(
        &self,
        tx: &mut PgConnection,
        batch: &[Settled],
        completed: &HashSet<(i64, i32)>,
    ) -> Result<(), Error> {
        let mut rows = Rows::default();
        for settled in batch {
            let (AttemptResult::Succeeded(Some(output)), Some(flow)) = (&settled.result, settled.flow) else {
                continue;
            };
            if !completed.contains(&(settled.id, settled.attempt as i32)) {
                continue;
            }
            let tasks = self.registry.tasks();
            for &next in self.registry.downstream(settled.task) {
                let upstream = self.registry.upstream(next);
                let input = if upstream.len() == 1 {
                    Some(output.clone())
                } else {
                    fan_in(tx, flow, tasks[next].id(), tasks[settled.task].id(), output, upstream, self.registry)
                        .await?
                };
                if let Some(input) = input {
                    let id = tasks[next].id();
                    rows.push(id, input, Some(flow), Some(format!("flow:{flow}:{id}")), settled.traceparent.clone());
                }
            }
        }
        rows.insert(tx, false).await?;
        Ok(())
    }
}

/// The new state of each settled row, column by column for one `UPDATE ... FROM unnest(...)`.
#[derive(Debug, Default)]
struct Updates {
    ids: Vec<i64>,
    /// The attempt each result is of: a result of an earlier claim of the same row (its lease
    /// ran out and this very worker claimed it again) must not settle the later claim.
    attempts: Vec<i32>,
    states: Vec<&'static str>,
    /// For a row due again: after how long.
    delays_ms: Vec<i64>,
    errors: Vec<Option<String>>,
    /// 1 to take back the claim's attempt (the job never started).
    undo: Vec<i32>,
}

impl Updates {
    fn push(&mut self, settled: &Settled, state: &'static str, delay_ms: i64, error: Option<&String>, undo: i32) {
        self.ids.push(settled.id);
        self.attempts.push(i32::try_from(settled.attempt).unwrap_or(i32::MAX));
        self.states.push(state);
        self.delays_ms.push(delay_ms);
        // PostgreSQL's text cannot hold NUL; an error message may.
        self.errors.push(error.map(|error| error.replace('\0', "\u{fffd}")));
        self.undo.push(undo);
    }

    /// `t.id = ANY($1)`, redundant with the join, hands the planner the primary key to find the
    /// rows by (see migration 0004 for what it did otherwise).
    ///
    /// Writes every row whose claim is still this worker's and still the one the result is of
    /// (if its lease ran out and another claim took the row, that claim's result counts);
    /// returns the completed rows, with their attempts.
    async fn apply<'c>(&self, conn: impl sqlx::PgExecutor<'c>, worker: i64) -> Result<HashSet<(i64, i32)>, Error> {
        let rows: Vec<(i64, i32, String)> = sqlx::query_as(
            "UPDATE preheat_tasks t SET
                 state = r.state,
                 run_at = CASE WHEN r.state = 'ready' THEN now() + r.ms * interval '1 millisecond' ELSE t.run_at END,
                 finished_at = CASE WHEN r.state IN ('completed', 'dead') THEN now() END,
                 last_error = coalesce(r.error, t.last_error),
                 attempt = t.attempt - r.undo,
                 lease_owner = NULL
             FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::int[], $7::int[])
                 AS r(id, state, ms, error, undo, attempt)
             WHERE t.id = ANY($1) AND t.id = r.id AND t.attempt = r.attempt AND t.lease_owner = $6
                 AND t.state = 'running'
             RETURNING t.id, t.attempt, t.state",
        )
        .bind(&self.ids)
        .bind(&self.states)
        .bind(&self.delays_ms)
        .bind(&self.errors)
        .bind(&self.undo)
        .bind(worker)
        .bind(&self.attempts)
        .fetch_all(conn)
        .await?;
        Ok(rows
            .into_iter()
            .filter(|(_, _, state)| state == "completed")
            .map(|(id, attempt, _)| (id, attempt))
            .collect())
    }
}

/// Whether the database refused the data itself (SQLSTATE classes 22, data exception, and 23,
/// integrity violation), which no retry changes.
fn refused(error: &Error) -> bool {
    let Error::Database(sqlx::Error::Database(error)) = error else { return false };
    error.code().is_some_and(|code| code.starts_with("22") || code.starts_with("23"))
}

/// Adds one upstream output to a fan-in task's parts; once all are in, returns its input, the
/// outputs as a JSON array in `upstream` order (how a tuple serializes).
async fn fan_in(
    tx: &mut PgConnection,
    flow: i64,
    task: &str,
    from: &str,
    output: &str,
    upstream: &[usize],
    registry: &Registry,
) -> Result<Option<String>, Error> {
    // The row lock makes sibling upstream tasks finishing at once see each other's parts.
    let parts: String = sqlx::query_scalar(
        "INSERT INTO preheat_flow_parts (flow_id, task, parts) VALUES ($1, $2, jsonb_build_object($3::text, $4::jsonb))
         ON CONFLICT (flow_id, task) DO UPDATE SET parts = preheat_flow_parts.parts || excluded.parts
         RETURNING parts::text",
    )
    .bind(flow)
    .bind(task)
    .bind(from)
    .bind(output)
    .fetch_one(&mut *tx)
    .await?;
    let mut parts: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&parts).unwrap_or_default();
    let inputs: Option<Vec<serde_json::Value>> =
        upstream.iter().map(|&up| parts.remove(registry.tasks()[up].id())).collect();
    let Some(inputs) = inputs else { return Ok(None) };
    // The parts are in the input now; the task's key keeps a late duplicate from starting it again.
    sqlx::query("DELETE FROM preheat_flow_parts WHERE flow_id = $1 AND task = $2")
        .bind(flow)
        .bind(task)
        .execute(&mut *tx)
        .await?;
    Ok(Some(serde_json::Value::Array(inputs).to_string()))
}
