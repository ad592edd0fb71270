//! Writing tasks into the table: now, later, under a key, inside the application's transaction.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::PgConnection;

use super::{Error, Postgres};
use crate::registry::Registry;
use crate::task::Task;

/// What a submit did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Submitted {
    /// A new row.
    New {
        /// The row id.
        id: i64,
        /// The flow run it starts, when the task has downstream tasks.
        flow: Option<i64>,
    },
    /// A task with the same key exists already; nothing was written.
    Duplicate,
}

impl Submitted {
    /// The new row's id; `None` for a duplicate.
    pub fn id(&self) -> Option<i64> {
        match self {
            Submitted::New { id, .. } => Some(*id),
            Submitted::Duplicate => None,
        }
    }
}

/// When a new task is due.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Due {
    /// This long after the database's `now()`.
    After(Duration),
    /// At this wall-clock time.
    At(SystemTime),
}

/// A task about to be written, with its options.
#[derive(Debug)]
#[must_use = "a task is written by `.submit(&pg)` or `.submit_tx(&mut tx)`"]
pub struct NewTask<T: Task> {
    input: T::Input,
    due: Due,
    key: Option<String>,
}

impl<T: Task> NewTask<T> {
    /// Task `task` with `input`, due now.
    pub fn new(_task: T, input: T::Input) -> Self {
        Self { input, due: Due::After(Duration::ZERO), key: None }
    }

    /// Makes the submit idempotent: a task with this key already in the table (not yet
    /// deleted, see [`Postgres::keep_completed`]) makes this submit a
    /// [`Submitted::Duplicate`]. Keys are global, so put the task in them: `coupon:42:7`.
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Due this long after the database's clock at the submit.
    pub fn after(mut self, delay: Duration) -> Self {
        self.due = Due::After(delay);
        self
    }

    /// Due at this wall-clock time (now, if it has passed).
    pub fn at(mut self, at: SystemTime) -> Self {
        self.due = Due::At(at);
        self
    }

    /// Writes the task in its own statement.
    pub async fn submit(self, pg: &Postgres) -> Result<Submitted, Error> {
        let mut conn = pg.pool.acquire().await?;
        self.submit_tx(&mut conn).await
    }

    /// Writes the task inside the caller's transaction (pass `&mut tx`): it exists if and only
    /// if the transaction commits, and workers are told at the commit.
    pub async fn submit_tx(self, tx: &mut PgConnection) -> Result<Submitted, Error> {
        let registry = Registry::global().map_err(Error::Registry)?;
        let starts_flow = crate::task::index_of::<T>().is_some_and(|index| !registry.downstream(index).is_empty());
        let input = serde_json::to_string(&self.input).map_err(|source| Error::Input { task: T::ID, source })?;
        insert(tx, T::ID, &input, self.due, self.key.as_deref(), None, starts_flow, traceparent(T::ID).as_deref()).await
    }
}

/// Writes task `task` inside the caller's transaction: it exists if and only if the transaction
/// commits. The shorthand for `NewTask::new(task, input).submit_tx(tx)`.
pub async fn submit_tx<T: Task>(tx: &mut PgConnection, task: T, input: T::Input) -> Result<Submitted, Error> {
    NewTask::new(task, input).submit_tx(tx).await
}

/// Writes many tasks of one kind inside the caller's transaction, due now and without keys;
/// returns how many were written.
pub async fn submit_all_tx<T: Task>(
    tx: &mut PgConnection,
    _task: T,
    inputs: impl IntoIterator<Item = T::Input>,
) -> Result<u64, Error> {
    insert_all::<T>(tx, inputs).await
}

/// The `traceparent` of a submit of `task` from here: its producer span's, if traced.
pub(crate) fn traceparent(task: &'static str) -> Option<String> {
    #[cfg(feature = "otel")]
    return crate::trace::Carried::capture(task).map(|carried| carried.traceparent());
    #[cfg(not(feature = "otel"))]
    {
        let _ = task;
        None
    }
}

/// The one insert every single submit goes through.
#[allow(clippy::too_many_arguments)] // one per column, bound in order
pub(crate) async fn insert(
    conn: &mut PgConnection,
    task: &str,
    input: &str,
    due: Due,
    key: Option<&str>,
    flow: Option<i64>,
    starts_flow: bool,
    traceparent: Option<&str>,
) -> Result<Submitted, Error> {
    let (delay_us, at_us) = match due {
        Due::After(delay) => (i64::try_from(delay.as_micros()).unwrap_or(i64::MAX), None),
        Due::At(at) => (0, Some(at.duration_since(UNIX_EPOCH).map_or(0, |since| since.as_micros() as i64))),
    };
    let row: Option<(i64, Option<i64>)> = sqlx::query_as(
        "INSERT INTO preheat_tasks (task, input, run_at, unique_key, flow_id, traceparent)
         VALUES ($1, $2::jsonb,
                 CASE WHEN $4::bigint IS NULL THEN now() + $3 * interval '1 microsecond'
                      ELSE greatest(now(), to_timestamp($4::bigint / 1e6)) END,
                 $5,
                 coalesce($6, CASE WHEN $7 THEN nextval('preheat_flow_ids') END),
                 $8)
         ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL DO NOTHING
         RETURNING id, flow_id",
    )
    .bind(task)
    .bind(input)
    .bind(delay_us)
    .bind(at_us)
    .bind(key)
    .bind(flow)
    .bind(starts_flow)
    .bind(traceparent)
    .fetch_optional(conn)
    .await?;
    Ok(match row {
        Some((id, flow)) => Submitted::New { id, flow },
        None => Submitted::Duplicate,
    })
}

/// Writes many tasks of one kind in one statement, due now, without keys: a campaign's coupons,
/// a backfill. Returns how many rows were written.
pub(crate) async fn insert_all<T: Task>(
    conn: &mut PgConnection,
    inputs: impl IntoIterator<Item = T::Input>,
) -> Result<u64, Error> {
    let registry = Registry::global().map_err(Error::Registry)?;
    let starts_flow = crate::task::index_of::<T>().is_some_and(|index| !registry.downstream(index).is_empty());
    let inputs = inputs
        .into_iter()
        .map(|input| serde_json::to_string(&input))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| Error::Input { task: T::ID, source })?;
    // One producer span for the batch: its rows are one submit.
    let traceparents = vec![traceparent(T::ID); inputs.len()];
    let rows = Rows { tasks: vec![T::ID.to_owned(); inputs.len()], inputs, traceparents, ..Rows::default() };
    rows.insert(conn, starts_flow).await
}

/// Rows for one multi-row insert, column by column.
#[derive(Debug, Default)]
pub(crate) struct Rows {
    pub(crate) tasks: Vec<String>,
    pub(crate) inputs: Vec<String>,
    pub(crate) flows: Vec<Option<i64>>,
    pub(crate) keys: Vec<Option<String>>,
    pub(crate) traceparents: Vec<Option<String>>,
}

impl Rows {
    pub(crate) fn push(
        &mut self,
        task: &str,
        input: String,
        flow: Option<i64>,
        key: Option<String>,
        traceparent: Option<String>,
    ) {
        self.tasks.push(task.to_owned());
        self.inputs.push(input);
        self.flows.push(flow);
        self.keys.push(key);
        self.traceparents.push(traceparent);
    }

    /// Inserts the rows, skipping those whose key exists; `starts_flow` gives each row without a
    /// flow a new flow run.
    pub(crate) async fn insert(mut self, conn: &mut PgConnection, starts_flow: bool) -> Result<u64, Error> {
        if self.tasks.is_empty() {
            return Ok(0);
        }
        self.flows.resize(self.tasks.len(), None);
        self.keys.resize(self.tasks.len(), None);
        self.traceparents.resize(self.tasks.len(), None);
        let done = sqlx::query(
            "INSERT INTO preheat_tasks (task, input, flow_id, unique_key, traceparent)
             SELECT task, input::jsonb, coalesce(flow, CASE WHEN $5 THEN nextval('preheat_flow_ids') END), key,
                    traceparent
             FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $6::text[])
                  AS rows(task, input, flow, key, traceparent)
             ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL DO NOTHING",
        )
        .bind(&self.tasks)
        .bind(&self.inputs)
        .bind(&self.flows)
        .bind(&self.keys)
        .bind(starts_flow)
        .bind(&self.traceparents)
        .execute(conn)
        .await?;
        Ok(done.rows_affected())
    }
}
