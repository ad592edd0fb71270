//! The main job's command line.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

/// A shop's background work on preheat: seeds a SQLite shop, starts the runtime, sends orders for
/// a while, then reports start-up, per-task latency, throughput and the shop's invariants.
#[derive(Debug, Parser)]
#[command(name = "shop")]
pub(crate) struct Options {
    /// The database file; created and migrated if missing. Default: a file in a temporary
    /// directory, removed at exit.
    #[arg(long, value_name = "PATH")]
    pub(crate) database: Option<PathBuf>,
    /// Orders per second.
    #[arg(long, default_value_t = 200.0, value_parser = positive)]
    pub(crate) rate: f64,
    /// How long orders come in, e.g. `10s` or `1m`.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub(crate) duration: Duration,
    /// How long a buyer has to pay before `order.timeout_close` closes the order.
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
}

fn positive(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(number) if number > 0.0 && number.is_finite() => Ok(number),
        _ => Err(format!("expected a number above 0, got `{value}`")),
    }
}

fn percent(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(number) if (0.0..=100.0).contains(&number) => Ok(number),
        _ => Err(format!("expected a percentage from 0 to 100, got `{value}`")),
    }
}
