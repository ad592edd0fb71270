//! The schema, embedded in the binary and applied at connect.
//!
//! Its own version table rather than sqlx's `_sqlx_migrations`, which the application's own
//! migrations may already use with the same version numbers.

use sqlx::PgPool;

use super::Error;

/// Every migration, in order; the version is the position, from 1.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/0001_tasks.sql"),
    include_str!("../../migrations/0002_notify_per_table.sql"),
    include_str!("../../migrations/0003_partial_unique_key.sql"),
    include_str!("../../migrations/0004_no_lease_owner_index.sql"),
    include_str!("../../migrations/0005_traceparent.sql"),
];

/// Applies the migrations the database lacks, one process at a time.
pub(crate) async fn run(pool: &PgPool) -> Result<(), Error> {
    let mut tx = pool.begin().await?;
    // Held to the commit: processes starting together apply each migration once.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('preheat_schema'))").execute(&mut *tx).await?;
    sqlx::query("CREATE TABLE IF NOT EXISTS preheat_schema (version integer NOT NULL)").execute(&mut *tx).await?;
    let found: Option<i32> = sqlx::query_scalar("SELECT max(version) FROM preheat_schema").fetch_one(&mut *tx).await?;
    let found = found.unwrap_or(0);
    let known = MIGRATIONS.len() as i32;
    if found > known {
        return Err(Error::SchemaTooNew { found, known });
    }
    for (version, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        // Through `Executor` (simple query protocol: several statements): `raw_sql`'s future is
        // not `Send`, which kept `Postgres::connect` out of `tokio::spawn`.
        sqlx::Executor::execute(&mut *tx, *sql).await?;
        sqlx::query("INSERT INTO preheat_schema (version) VALUES ($1)")
            .bind(version as i32 + 1)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}
