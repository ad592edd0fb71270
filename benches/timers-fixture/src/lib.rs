//! The tasks of the timers benchmark (`benches/src/bin/timers.rs`) and what they record.
//!
//! `bench.tick` has a schedule, so it fires in every process that links it: this crate is
//! separate from `preheat-benches`' library so that only the timers binary links it, and the
//! other benchmarks keep a registry without timers.
#![warn(missing_docs, unreachable_pub, rust_2018_idioms)]

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

preheat::metadata!("meta");

static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);

/// Nanoseconds since the first call in this process: an instant that fits a task input.
pub fn now_ns() -> u64 {
    // u64 nanoseconds last 584 years.
    EPOCH.elapsed().as_nanos() as u64
}

/// The instant [`now_ns`] calls `ns`.
pub fn instant_at(ns: u64) -> Instant {
    *EPOCH + Duration::from_nanos(ns)
}

/// Collects one number per run and wakes the waiter once the expected count has arrived.
#[derive(Debug)]
pub struct Recorder {
    values: Mutex<Vec<u64>>,
    expected: AtomicUsize,
    reached: Notify,
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder {
    /// A recorder that expects nothing until [`expect`](Self::expect).
    pub const fn new() -> Self {
        Self { values: Mutex::new(Vec::new()), expected: AtomicUsize::new(usize::MAX), reached: Notify::const_new() }
    }

    /// Clears the values and waits for `count` of them from now on. Call it before the first
    /// run that should count.
    pub fn expect(&self, count: usize) {
        let mut values = self.values.lock().unwrap_or_else(PoisonError::into_inner);
        values.clear();
        values.reserve(count);
        self.expected.store(count, Ordering::Relaxed);
    }

    /// Adds a value; the one that completes the expected count wakes the waiter.
    pub fn record(&self, value: u64) {
        let mut values = self.values.lock().unwrap_or_else(PoisonError::into_inner);
        values.push(value);
        if values.len() == self.expected.load(Ordering::Relaxed) {
            // Stores a permit if the waiter is not parked yet, so the wake-up is never lost.
            self.reached.notify_one();
        }
    }

    /// Waits for the expected count and returns the values, in the order they were recorded.
    pub async fn reached(&self) -> Vec<u64> {
        self.reached.notified().await;
        std::mem::take(&mut *self.values.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// Lateness of each delayed run, in nanoseconds past its due time.
pub static LATENESS: Recorder = Recorder::new();

/// The [`now_ns`] time of each tick of `bench.tick`.
pub static TICKS: Recorder = Recorder::new();

/// Records how late it started: its input is the [`now_ns`] time it was due.
#[preheat::task("bench.delayed")]
pub async fn delayed(due_ns: u64) -> Result<(), Infallible> {
    LATENESS.record(now_ns().saturating_sub(due_ns));
    Ok(())
}

/// Records when it fired; scheduled every 100 ms.
#[preheat::task("bench.tick")]
pub async fn tick() -> Result<(), Infallible> {
    TICKS.record(now_ns());
    Ok(())
}
