//! The work every contender runs per task, and how the measuring side learns that it ran.
//!
//! preheat, the raw pool and `tokio::spawn` all run the same two bodies: [`Tally::tick`] for the
//! throughput rounds and [`StartStamp::mark`] for the latency probes. Task functions cannot
//! capture state, so both signals are statics.

use std::convert::Infallible;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use tokio::sync::Notify;

/// Counts finished tasks and wakes the waiter when the expected number has run.
#[derive(Debug)]
pub struct Tally {
    ran: AtomicU64,
    target: AtomicU64,
    reached: Notify,
}

/// The tally of [`noop`].
pub static TALLY: Tally = Tally { ran: AtomicU64::new(0), target: AtomicU64::new(0), reached: Notify::const_new() };

impl Tally {
    /// Starts a round of `tasks` tasks. Call it before the first task of the round is submitted.
    pub fn expect(&self, tasks: u64) {
        self.ran.store(0, Ordering::Relaxed);
        self.target.store(tasks, Ordering::Relaxed);
    }

    /// Counts one task. (The submission's channel orders this after [`expect`](Self::expect).)
    pub fn tick(&self) {
        if self.ran.fetch_add(1, Ordering::Relaxed) + 1 == self.target.load(Ordering::Relaxed) {
            // Stores a permit if the waiter is not parked yet, so the wake-up is never lost.
            self.reached.notify_one();
        }
    }

    /// Waits until every task of the round has run.
    pub async fn reached(&self) {
        self.reached.notified().await;
    }
}

/// Records when a probe's body started and hands that instant to the waiter.
#[derive(Debug)]
pub struct StartStamp {
    /// Nanoseconds since [`now_ns`]'s epoch.
    at: AtomicU64,
    marked: Notify,
}

/// The stamp of [`probe`].
pub static PROBE: StartStamp = StartStamp { at: AtomicU64::new(0), marked: Notify::const_new() };

static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);

/// Nanoseconds since the first call in this process: an `Instant` that fits an atomic.
pub fn now_ns() -> u64 {
    // u64 nanoseconds last 584 years.
    EPOCH.elapsed().as_nanos() as u64
}

impl StartStamp {
    /// Stamps now and wakes the waiter. The first thing a probe body does.
    pub fn mark(&self) {
        self.at.store(now_ns(), Ordering::Release);
        self.marked.notify_one();
    }

    /// Waits for the next [`mark`](Self::mark) and returns its [`now_ns`] time. Probes must run
    /// one at a time.
    pub async fn wait(&self) -> u64 {
        self.marked.notified().await;
        self.at.load(Ordering::Acquire)
    }
}

/// Does nothing but count itself: one unit of the throughput rounds.
#[preheat::task("bench.noop")]
pub async fn noop() -> Result<(), Infallible> {
    TALLY.tick();
    Ok(())
}

/// Stamps the instant its body starts: one submit-to-start latency sample.
#[preheat::task("bench.probe")]
pub async fn probe() -> Result<(), Infallible> {
    PROBE.mark();
    Ok(())
}
