//! The main job's command line.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

/// A shop's background work on preheat: seeds a SQLite shop, starts the runtime, sends orders for
/// a while, then reports start-up, per-task latency, throughput and the shop's invariants.
#[derive(Debug, Parser)]
#[command(name = "shop")]
pub(crate) struct Options {
    /// The database file; created and migrated if missing, and if it exists, its orders are
    /// kept and new ones numbered after them. Default: a file in a temporary directory, removed
    /// at exit.
    #[arg(long, value_name = "PATH")]
    pub(crate) database: Option<PathBuf>,
    /// Orders per second, above 0 and at most 100,000.
    #[arg(long, default_value_t = 200.0, value_parser = rate)]
    pub(crate) rate: f64,
    /// How long orders come in, e.g. `10s` or `1m`; at most a day.
    #[arg(long, default_value = "10s", value_parser = duration_up_to_a_day)]
    pub(crate) duration: Duration,
    /// How long a buyer has to pay before `order.close_unpaid` closes the order.
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    pub(crate) pay_within: Duration,
    /// Share of orders never paid, in percent.
    #[arg(long, default_value_t = 20.0, value_parser = percent)]
    pub(crate) unpaid_percent: f64,
    /// Users who get the coupon campaign's coupon.
    #[arg(long, default_value_t = 20_000)]
    pub(crate) campaign_users: u64,
    /// Seed of the simulated buyers' choices.
    #[arg(long, default_value_t = 7)]
    pub(crate) seed: u64,
    /// After the report, keep serving the HTTP endpoints until Ctrl-C or SIGTERM, then drain.
    #[arg(long)]
    pub(crate) serve: bool,
    /// Run the tasks on PostgreSQL, e.g. `postgres://postgres@127.0.0.1:5432/test`: two worker
    /// processes (this binary again) claim them from preheat's task table, while this process
    /// places the orders, submits their flows to the table and audits the shop. The SQLite
    /// database stays the shop's, shared by all three processes. Drops the schema `--schema`
    /// first: see there.
    #[arg(long, value_name = "URL", conflicts_with = "serve")]
    pub(crate) database_url: Option<String>,
    /// With `--database-url`: the schema of preheat's tables. It is DROPPED, with everything in
    /// it, and created again at start, so that a run never sees an earlier run's tasks; give
    /// each concurrent run (a test, the main job) its own.
    #[arg(long, value_name = "NAME", default_value = "shop", value_parser = schema, requires = "database_url")]
    pub(crate) schema: String,
    /// Internal: run as one of the worker processes of `--database-url`, on the `--database`
    /// the main process seeded, until stdin closes or Ctrl-C or SIGTERM.
    #[arg(long, hide = true, requires_all = ["database", "database_url"])]
    pub(crate) worker: bool,
}

/// The rate's bounds keep the tick period between 10 µs and a day, and the orders countable.
fn rate(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(number) if (1.0 / 86_400.0..=100_000.0).contains(&number) => Ok(number),
        _ => Err(format!("expected orders per second above 0 (at least one a day) and at most 100000, got `{value}`")),
    }
}

fn percent(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(number) if (0.0..=100.0).contains(&number) => Ok(number),
        _ => Err(format!("expected a percentage from 0 to 100, got `{value}`")),
    }
}

fn duration_up_to_a_day(value: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(value).map_err(|error| format!("`{value}`: {error}"))?;
    if duration > Duration::from_secs(86_400) {
        return Err(format!("at most a day, got `{value}`"));
    }
    Ok(duration)
}

/// A schema this job may drop: a plain lowercase identifier (nothing to quote), and none that
/// holds other things — `public` holds the application's own tables.
fn schema(value: &str) -> Result<String, String> {
    let plain = value.len() <= 63
        && value.starts_with(|first: char| first.is_ascii_lowercase() || first == '_')
        && value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !plain {
        return Err(format!(
            "expected a schema name of lowercase letters, digits and `_`, not starting with a digit, at most 63 \
             characters; got `{value}`"
        ));
    }
    if value == "public" || value == "information_schema" || value.starts_with("pg_") {
        return Err(format!("`{value}` is not this job's to drop; name a schema of its own, e.g. `shop`"));
    }
    Ok(value.to_owned())
}
