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

pub(crate) mod stats;

use std::collections::HashMap;
use std::sync::PoisonError;
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};

use self::stats::{LOCK_WAITS, PollReport};
use crate::runtime::WeakRuntime;

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
