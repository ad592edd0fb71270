//! Profiling (feature `profiling`, off by default): CPU flamegraphs over HTTP, and per-task
//! poll-time and lock-wait statistics.
//!
//! - `GET /debug/pprof/profile?seconds=10` samples the whole process at 99 Hz for that long
//!   (1 to 60 s, default 10) and answers an SVG flamegraph.
//! - `GET /debug/tasks` answers, for each task, how often its jobs' futures were polled and how
//!   long the polls took (a long poll blocks a runtime thread), and, for each lock site of the
//!   runtime, how often it was contended and how long callers waited.
//!
//! Without the feature none of this is compiled: the pool's poll timer and the lock timer are
//! `cfg`-gated at their single call sites, as tokio gates its optional modules.

use std::collections::HashMap;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};

use crate::runtime::WeakRuntime;

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

/// Times every poll of `future` into `stats`.
pub(crate) fn timed<'a, F: Future + 'a>(stats: &'a PollStats, future: F) -> impl Future<Output = F::Output> + 'a {
    let mut future = Box::pin(future);
    std::future::poll_fn(move |cx: &mut Context<'_>| {
        let began = Instant::now();
        let poll: Poll<F::Output> = Pin::as_mut(&mut future).poll(cx);
        stats.record(began.elapsed());
        poll
    })
}

/// Waits on contended locks, by the call site that locked.
static LOCK_WAITS: Mutex<Vec<(&'static Location<'static>, LockWait)>> = Mutex::new(Vec::new());

/// Contended acquisitions of one lock site and the time spent waiting.
#[derive(Clone, Copy, Debug, Default, Serialize)]
struct LockWait {
    contended: u64,
    waited_ns: u64,
    max_wait_ns: u64,
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

/// Adds the profiling routes to the HTTP endpoints.
pub(crate) fn routes(router: Router<WeakRuntime>) -> Router<WeakRuntime> {
    router.route("/debug/pprof/profile", get(profile)).route("/debug/tasks", get(debug_tasks))
}

#[derive(Deserialize)]
struct ProfileQuery {
    seconds: Option<u64>,
}

/// Only one CPU profile can run at a time in a process.
static PROFILING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn profile(Query(query): Query<ProfileQuery>) -> Response {
    let seconds = query.seconds.unwrap_or(10);
    if !(1..=60).contains(&seconds) {
        return (StatusCode::BAD_REQUEST, "`seconds` is from 1 to 60\n").into_response();
    }
    let Ok(_running) = PROFILING.try_lock() else {
        return (StatusCode::CONFLICT, "a profile is already running; try again when it is done\n").into_response();
    };
    let guard = match pprof::ProfilerGuardBuilder::default().frequency(99).build() {
        Ok(guard) => guard,
        Err(error) => {
            return (StatusCode::INTERNAL_SERVER_ERROR, format!("cannot start the profiler: {error}\n"))
                .into_response();
        }
    };
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let mut svg = Vec::new();
    match guard.report().build().map(|report| report.flamegraph(&mut svg)) {
        Ok(Ok(())) => ([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response(),
        Ok(Err(error)) | Err(error) => {
            (StatusCode::INTERNAL_SERVER_ERROR, format!("cannot build the flamegraph: {error}\n")).into_response()
        }
    }
}

async fn debug_tasks(State(runtime): State<WeakRuntime>) -> Response {
    #[derive(Serialize)]
    struct Body {
        tasks: HashMap<&'static str, PollReport>,
        locks: Vec<Lock>,
    }
    #[derive(Serialize)]
    struct Lock {
        site: String,
        contended: u64,
        waited_ms: f64,
        max_wait_us: f64,
    }
    let Some(runtime) = runtime.upgrade() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "the runtime is gone\n").into_response();
    };
    let locks = LOCK_WAITS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .map(|(site, wait)| Lock {
            site: site.to_string(),
            contended: wait.contended,
            waited_ms: wait.waited_ns as f64 / 1e6,
            max_wait_us: wait.max_wait_ns as f64 / 1e3,
        })
        .collect();
    axum::Json(Body { tasks: runtime.poll_reports(), locks }).into_response()
}
