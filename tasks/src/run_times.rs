//! How long each run of each task took, kept for the main job's report.
//!
//! A run is timed from the start of the task's body to its result, database work included: that
//! is where a cold connection or an unprepared statement shows, which is what the report compares
//! between a task's first run and its later ones.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

static RUNS: Mutex<BTreeMap<&'static str, Vec<Duration>>> = Mutex::new(BTreeMap::new());

/// Runs `body` and records how long it took under `task`.
pub(crate) async fn timed<T>(task: &'static str, body: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let result = body.await;
    let took = started.elapsed();
    RUNS.lock().unwrap_or_else(PoisonError::into_inner).entry(task).or_default().push(took);
    result
}

/// Each task's run times so far, in the order the runs finished, by task id.
pub fn run_times() -> BTreeMap<&'static str, Vec<Duration>> {
    RUNS.lock().unwrap_or_else(PoisonError::into_inner).clone()
}
