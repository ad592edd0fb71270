//! How long each run of each task took, kept for the main job's report.
//!
//! A run is timed from the start of the task's body to its result, database work included: that
//! is where a cold connection or an unprepared statement shows, which is what the report compares
//! between a task's first run and its later ones.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Each run's start and duration, by task.
static RUNS: Mutex<BTreeMap<&'static str, Vec<(Instant, Duration)>>> = Mutex::new(BTreeMap::new());

/// Runs `body` and records how long it took under `task`.
pub(crate) async fn timed<T>(task: &'static str, body: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let result = body.await;
    let took = started.elapsed();
    RUNS.lock().unwrap_or_else(PoisonError::into_inner).entry(task).or_default().push((started, took));
    result
}

/// Each task's run times so far, by task id, in the order the runs *started*: a slow first run
/// finishes after faster later ones, and must still come first.
pub fn run_times() -> BTreeMap<&'static str, Vec<Duration>> {
    let runs = RUNS.lock().unwrap_or_else(PoisonError::into_inner).clone();
    runs.into_iter()
        .map(|(task, mut runs)| {
            runs.sort_by_key(|&(started, _)| started);
            (task, runs.into_iter().map(|(_, took)| took).collect())
        })
        .collect()
}
