//! What a transaction wrote to the PostgreSQL task table: for testing code that submits with
//! [`submit_tx`](crate::postgres::submit_tx) beside its own writes.
//!
//! Read on the transaction itself, a query sees the rows it inserted before the commit; read on
//! another connection, only committed rows. So a test checks both sides of the commit:
//!
//! ```rust,standalone_crate,no_run
//! # use preheat::{task, testing::postgres::inserted};
//! # #[task("order.timeout_close")]
//! # async fn close_unpaid(_input: u64) -> Result<(), String> { Ok(()) }
//! # preheat::metadata!("meta");
//! # async fn test(pg: preheat::postgres::Postgres) -> Result<(), sqlx::Error> {
//! let mut tx = pg.pool().begin().await?;
//! preheat::postgres::submit_tx(&mut tx, close_unpaid, 42).await.expect("written");
//! assert_eq!(inserted::<close_unpaid>(&mut tx).await?[0].input, 42); // the transaction sees it
//! assert!(inserted::<close_unpaid>(&mut *pg.pool().acquire().await?).await?.is_empty()); // nobody else yet
//! tx.commit().await?;
//! assert_eq!(inserted::<close_unpaid>(&mut *pg.pool().acquire().await?).await?.len(), 1);
//! # Ok(()) }
//! # fn main() {}
//! ```

use std::time::SystemTime;

use sqlx::{PgConnection, Row};

use crate::task::Task;

/// A row of task `T` in the task table, its input read back typed.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Inserted<T: Task> {
    /// The row's id.
    pub id: i64,
    /// The input, from its stored JSON.
    pub input: T::Input,
    /// When it is due.
    pub run_at: SystemTime,
    /// Its idempotency key, if the submit named one.
    pub key: Option<String>,
    /// Its flow run, if it is part of one.
    pub flow: Option<i64>,
    /// `ready`, `running`, `completed` or `dead`.
    pub state: String,
}

/// Every row of task `T` that `connection` can see, oldest first.
///
/// # Errors
///
/// The query's error; an input that no longer parses as `T::Input` is a
/// [`sqlx::Error::Decode`] naming the task and the row.
pub async fn inserted<T: Task>(connection: &mut PgConnection) -> Result<Vec<Inserted<T>>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, input::text AS input, (extract(epoch FROM run_at) * 1000000)::bigint AS run_at_us, unique_key, \
         flow_id, state FROM preheat_tasks WHERE task = $1 ORDER BY id",
    )
    .bind(T::ID)
    .fetch_all(connection)
    .await?;
    rows.iter()
        .map(|row| {
            let id: i64 = row.try_get("id")?;
            let json: String = row.try_get("input")?;
            let input = serde_json::from_str(&json).map_err(|error| {
                sqlx::Error::Decode(
                    format!("the stored input of `{}` (row {id}) does not parse: {error}", T::ID).into(),
                )
            })?;
            let run_at_us: i64 = row.try_get("run_at_us")?;
            Ok(Inserted {
                id,
                input,
                run_at: SystemTime::UNIX_EPOCH + std::time::Duration::from_micros(run_at_us.max(0) as u64),
                key: row.try_get("unique_key")?,
                flow: row.try_get("flow_id")?,
                state: row.try_get("state")?,
            })
        })
        .collect()
}
