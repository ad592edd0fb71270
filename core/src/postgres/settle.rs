//! Storing results: completed, due again after a backoff, dead, or given back; and for flows,
//! the downstream tasks, in the same transaction.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use sqlx::PgConnection;
use tokio::sync::{Notify, mpsc};

use super::submit::Rows;
use super::{Error, Postgres};
use crate::lease::AttemptResult;
use crate::registry::Registry;
use crate::retry::backoff;

/// Results stored per transaction, at most.
const BATCH: usize = 1024;

/// One leased attempt's result, on its way to the database.
#[derive(Debug)]
pub(crate) struct Settled {
    pub(crate) id: i64,
    pub(crate) task: usize,
    pub(crate) attempt: u32,
    pub(crate) flow: Option<i64>,
    pub(crate) result: AttemptResult,
}

/// Writes results in batches, one transaction each.
pub(crate) struct Settler {
    pub(crate) pg: Postgres,
    pub(crate) worker: i64,
    pub(crate) registry: &'static Registry,
    pub(crate) in_flight: Arc<AtomicUsize>,
    pub(crate) room: Arc<Notify>,
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
                tracing::warn!(%error, results = batch.len(), "postgres: results not stored; trying again");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(2));
            }
            self.in_flight.fetch_sub(batch.len(), SeqCst);
            self.room.notify_one();
            batch.clear();
        }
    }

    async fn store(&self, batch: &[Settled]) -> Result<(), Error> {
        let mut updates = Updates::default();
        for settled in batch {
            let task = &self.registry.tasks()[settled.task];
            match &settled.result {
                AttemptResult::Succeeded(_) => updates.push(settled.id, "completed", 0, None, 0),
                AttemptResult::Failed { error, retryable }
                    if *retryable && settled.attempt < task.meta().retry.max_attempts =>
                {
                    let delay = backoff(&task.meta().retry, settled.attempt);
                    tracing::warn!(task = task.id(), attempt = settled.attempt, ?delay, %error, "task attempt failed; retrying");
                    updates.push(settled.id, "ready", delay.as_millis() as i64, Some(error), 0);
                }
                AttemptResult::Failed { error, .. } => {
                    tracing::error!(task = task.id(), attempts = settled.attempt, %error, "task failed for good; dead");
                    updates.push(settled.id, "dead", 0, Some(error), 0);
                }
                // Never started: the attempt is undone.
                AttemptResult::NotRun => updates.push(settled.id, "ready", 0, None, 1),
                AttemptResult::Interrupted => updates.push(settled.id, "ready", 0, None, 0),
            }
        }
        let starts_downstream = batch
            .iter()
            .any(|settled| matches!(settled.result, AttemptResult::Succeeded(Some(_))) && settled.flow.is_some());
        if !starts_downstream {
            // One statement is atomic by itself: no transaction's two extra round trips.
            updates.apply(self.pg.worker_pool(), self.worker).await?;
            return Ok(());
        }
        let mut tx = self.pg.worker_pool().begin().await?;
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
        completed: &HashSet<i64>,
    ) -> Result<(), Error> {
        let mut rows = Rows::default();
        for settled in batch {
            let (AttemptResult::Succeeded(Some(output)), Some(flow)) = (&settled.result, settled.flow) else {
                continue;
            };
            if !completed.contains(&settled.id) {
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
                    rows.push(id, input, Some(flow), Some(format!("flow:{flow}:{id}")));
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
    states: Vec<&'static str>,
    /// For a row due again: after how long.
    delays_ms: Vec<i64>,
    errors: Vec<Option<String>>,
    /// 1 to take back the claim's attempt (the job never started).
    undo: Vec<i32>,
}

impl Updates {
    fn push(&mut self, id: i64, state: &'static str, delay_ms: i64, error: Option<&String>, undo: i32) {
        self.ids.push(id);
        self.states.push(state);
        self.delays_ms.push(delay_ms);
        self.errors.push(error.cloned());
        self.undo.push(undo);
    }

    /// Writes every row whose lease is still this worker's (if it ran out and another worker
    /// took the row, that worker's result counts); returns the ids now completed.
    async fn apply<'c>(&self, conn: impl sqlx::PgExecutor<'c>, worker: i64) -> Result<HashSet<i64>, Error> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "UPDATE preheat_tasks t SET
                 state = r.state,
                 run_at = CASE WHEN r.state = 'ready' THEN now() + r.ms * interval '1 millisecond' ELSE t.run_at END,
                 finished_at = CASE WHEN r.state IN ('completed', 'dead') THEN now() END,
                 last_error = coalesce(r.error, t.last_error),
                 attempt = t.attempt - r.undo,
                 lease_owner = NULL
             FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::int[]) AS r(id, state, ms, error, undo)
             WHERE t.id = r.id AND t.lease_owner = $6 AND t.state = 'running'
             RETURNING t.id, t.state",
        )
        .bind(&self.ids)
        .bind(&self.states)
        .bind(&self.delays_ms)
        .bind(&self.errors)
        .bind(&self.undo)
        .bind(worker)
        .fetch_all(conn)
        .await?;
        Ok(rows.into_iter().filter(|(_, state)| state == "completed").map(|(id, _)| id).collect())
    }
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
