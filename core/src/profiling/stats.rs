//! What the profiling feature measures as the engine runs: poll times per task and waits on
//! contended locks. Below everything else, so that the engine's own files can record into it.

use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use serde::Serialize;

/// How often a task's futures were polled and for how long.
#[derive(Debug, Default)]
pub(crate) struct PollStats {
    polls: AtomicU64,
    total_ns: AtomicU64,
    max_ns: AtomicU64,
}

/// A [`PollStats`] as `/debug/tasks` shows it.
#[derive(Clone, Copy, Debug, Serialize)]
pub(crate) struct PollReport {
    polls: u64,
    total_ms: f64,
    mean_us: f64,
    max_us: f64,
}

impl PollStats {
    fn record(&self, took: Duration) {
        let ns = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.polls.fetch_add(1, Relaxed);
        self.total_ns.fetch_add(ns, Relaxed);
        self.max_ns.fetch_max(ns, Relaxed);
    }

    pub(crate) fn report(&self) -> PollReport {
        let (polls, total, max) = (self.polls.load(Relaxed), self.total_ns.load(Relaxed), self.max_ns.load(Relaxed));
        PollReport {
            polls,
            total_ms: total as f64 / 1e6,
            mean_us: if polls == 0 { 0.0 } else { total as f64 / polls as f64 / 1e3 },
            max_us: max as f64 / 1e3,
        }
    }
}

/// Times every poll of `future` into `stats`, when there are stats to keep.
pub(crate) fn timed<'a, F: Future + 'a>(
    stats: Option<&'a PollStats>,
    future: F,
) -> impl Future<Output = F::Output> + 'a {
    let mut future = Box::pin(future);
    std::future::poll_fn(move |cx: &mut Context<'_>| {
        let began = Instant::now();
        let poll: Poll<F::Output> = Pin::as_mut(&mut future).poll(cx);
        if let Some(stats) = stats {
            stats.record(began.elapsed());
        }
        poll
    })
}

/// Waits on contended locks, by the call site that locked.
pub(crate) static LOCK_WAITS: Mutex<Vec<(&'static Location<'static>, LockWait)>> = Mutex::new(Vec::new());

/// Contended acquisitions of one lock site and the time spent waiting.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub(crate) struct LockWait {
    pub(crate) contended: u64,
    pub(crate) waited_ns: u64,
    pub(crate) max_wait_ns: u64,
}

/// Locks `mutex`; if another holder had it, records how long this caller waited.
#[track_caller]
pub(crate) fn lock_timed<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    match mutex.try_lock() {
        Ok(guard) => guard,
        Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
        Err(TryLockError::WouldBlock) => {
            let began = Instant::now();
            let guard = mutex.lock().unwrap_or_else(PoisonError::into_inner);
            record_wait(Location::caller(), began.elapsed());
            guard
        }
    }
}

fn record_wait(site: &'static Location<'static>, waited: Duration) {
    let ns = u64::try_from(waited.as_nanos()).unwrap_or(u64::MAX);
    let mut waits = LOCK_WAITS.lock().unwrap_or_else(PoisonError::into_inner);
    let index = match waits.iter().position(|(known, _)| *known == site) {
        Some(index) => index,
        None => {
            waits.push((site, LockWait::default()));
            waits.len() - 1
        }
    };
    let wait = &mut waits[index].1;
    wait.contended += 1;
    wait.waited_ns += ns;
    wait.max_wait_ns = wait.max_wait_ns.max(ns);
}
