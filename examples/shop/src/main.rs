//! The main job: a shop's burst of background work on preheat.
//!
//! Seeds a shop, starts the runtime (pools pre-warmed), submits a burst of stock reservations,
//! overdue-order closes and coupon batches, waits for every outcome, drains, and prints what
//! happened with the shop's invariants checked at the end.
//!
//! ```text
//! cargo run --release -p shop -- [--orders N] [--seed N] [--serve]
//! ```
//!
//! With `--serve` (and the default `http` feature) the runtime also serves `/livez`, `/readyz`,
//! `/metrics` and `/tasks` on `PREHEAT_HTTP_ADDR` (default 127.0.0.1:9464), and after the job
//! keeps serving until Ctrl-C or SIGTERM, then drains.

use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use preheat::Runtime;
use shop_tasks::{
    CloseOrder, Closed, IssueBatch, Reservation, Reserve, Shop, close_unpaid, issue_batch, reserve_stock,
};

const SKUS: u32 = 50;
const ITEMS_PER_SKU: u32 = 40;
const COUPON_BATCH: u64 = 100;

struct Options {
    orders: u64,
    seed: u64,
    serve: bool,
}

fn options() -> Result<Options, String> {
    let mut options = Options { orders: 2000, seed: 7, serve: false };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let slot = match flag.as_str() {
            "--orders" => &mut options.orders,
            "--seed" => &mut options.seed,
            "--serve" if cfg!(feature = "http") => {
                options.serve = true;
                continue;
            }
            "--serve" => return Err("`--serve` needs the `http` feature, which this build left out".into()),
            other => return Err(format!("unknown argument `{other}`; expected --orders N, --seed N or --serve")),
        };
        let value = args.next().ok_or_else(|| format!("`{flag}` needs a number"))?;
        *slot = value.parse().map_err(|_| format!("`{flag}` needs a number, got `{value}`"))?;
    }
    Ok(options)
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".parse().expect("valid")),
        )
        .init();
    match run().await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(2),
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the job; `Ok(false)` if an invariant was broken.
async fn run() -> Result<bool, Box<dyn std::error::Error>> {
    let options = options()?;
    let shop = Shop::global();
    seed(shop, &options);

    let started = Instant::now();
    let rt = builder(&options)?.start().await?;
    let startup = started.elapsed();
    println!("runtime: {} tasks registered, eager pools warm in {startup:.2?}", rt.registry().tasks().len());

    // The very first task after start-up: this is the latency preheat exists to keep low.
    let first = Instant::now();
    rt.submit(reserve_stock, Reserve { order_id: 0 }).await?.await?;
    println!("first task: inventory.reserve submit to outcome in {:.2?}", first.elapsed());

    let burst = Instant::now();
    let mut reservations = Vec::new();
    for order_id in 1..options.orders {
        reservations.push(rt.submit(reserve_stock, Reserve { order_id }).await?);
    }
    let (mut reserved, mut out_of_stock) = (1, 0);
    for completion in reservations {
        match completion.await? {
            Reservation::Reserved { .. } => reserved += 1,
            Reservation::OutOfStock { .. } => out_of_stock += 1,
        }
    }

    // Every odd order was paid; the even ones are past their deadline.
    for order_id in (0..options.orders).filter(|id| id % 2 == 1) {
        shop.pay(order_id);
    }
    let mut closes = Vec::new();
    for order_id in 0..options.orders {
        closes.push(rt.submit(close_unpaid, CloseOrder { order_id }).await?);
    }
    let mut coupons = Vec::new();
    for first_user in (0..options.orders).step_by(COUPON_BATCH as usize) {
        let users = (first_user..first_user + COUPON_BATCH).collect();
        coupons.push(rt.submit(issue_batch, IssueBatch { campaign: "black-friday".into(), users }).await?);
    }
    let (mut closed, mut released, mut paid) = (0, 0, 0);
    for completion in closes {
        match completion.await? {
            Closed::Closed { released: items } => {
                closed += 1;
                released += items;
            }
            Closed::AlreadyPaid => paid += 1,
            Closed::AlreadyClosed | Closed::NotDue => {}
        }
    }
    let mut issued = 0;
    for completion in coupons {
        issued += completion.await?.issued;
    }
    let elapsed = burst.elapsed();
    let tasks = options.orders * 2 + options.orders.div_ceil(COUPON_BATCH);
    println!(
        "burst: {tasks} tasks in {elapsed:.2?} ({:.0} tasks/s)",
        tasks as f64 / elapsed.as_secs_f64().max(f64::EPSILON)
    );
    println!("  inventory.reserve    reserved {reserved}, out of stock {out_of_stock}");
    println!("  order.timeout_close  closed {closed} (released {released} items), paid in time {paid}");
    println!("  coupon.issue_batch   issued {issued} coupons");
    println!("dead letters: {}", rt.dead_letters().len());

    if options.serve {
        println!("serving until Ctrl-C or SIGTERM");
        stopped().await?;
    }
    rt.shutdown().await?;
    println!("shutdown: drained, nothing left behind");

    let audit = shop.audit();
    println!("oversold={}", audit.oversold);
    println!("overdue_open={}", audit.overdue_open);
    println!("duplicate_coupons={}", audit.duplicate_coupons);
    println!("tasks_run={}", tasks + 1);
    Ok(audit.oversold == 0 && audit.overdue_open == 0 && audit.duplicate_coupons == 0)
}

#[cfg(feature = "http")]
fn builder(options: &Options) -> Result<preheat::RuntimeBuilder, String> {
    let builder = Runtime::builder();
    if options.serve { builder.serve_http() } else { Ok(builder) }
}

#[cfg(not(feature = "http"))]
fn builder(_: &Options) -> Result<preheat::RuntimeBuilder, String> {
    Ok(Runtime::builder())
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM (what an orchestrator sends before killing).
async fn stopped() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result,
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await
}

/// Stocks the shelves and places the orders, all unpaid and all past a deadline that passed.
fn seed(shop: &Shop, options: &Options) {
    let mut rng = fastrand::Rng::with_seed(options.seed);
    for sku in 0..SKUS {
        shop.stock_sku(sku, ITEMS_PER_SKU);
    }
    let deadline_passed = SystemTime::now() - Duration::from_secs(30 * 60);
    for order_id in 0..options.orders {
        shop.place_order(order_id, rng.u32(0..SKUS), rng.u32(1..=3), deadline_passed);
    }
}
