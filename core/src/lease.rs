// Only the PostgreSQL backend leases jobs; without it the pool merely checks for none.
#![cfg_attr(not(feature = "postgres"), allow(dead_code))]
//! Jobs whose attempts a durable backend owns: the pool runs one attempt and reports back.
//!
//! A job taken from PostgreSQL carries a [`Lease`]. Its pool runs exactly the attempt the
//! database numbered, then hands the result to the lease; the backend decides retry, backoff
//! and the dead-letter state, and persists them. No local dead-letter list, no local retry.

/// How one leased attempt ended.
#[derive(Debug)]
pub(crate) enum AttemptResult {
    /// The task succeeded; its output as JSON when downstream tasks need it.
    Succeeded(Option<String>),
    /// The task failed; `retryable` is false when retrying cannot help (a failed resource).
    Failed { error: String, retryable: bool },
    /// The job never started (a queue drained at shutdown, a closed queue, no pool): give it
    /// back, attempt undone. Only said where that is known.
    NotRun,
    /// The run was stopped part-way (the shutdown deadline): give it back; the attempt counts,
    /// since its effects may have happened.
    Interrupted,
}

/// A leased job's attempt number and where its result goes.
pub(crate) struct Lease {
    pub(crate) attempt: u32,
    /// The flow run the job belongs to, for its context and log lines.
    pub(crate) flow: Option<i64>,
    /// Whether the output is serialized for downstream tasks.
    pub(crate) wants_output: bool,
    /// The W3C `traceparent` stored with the row, which the attempt's span continues.
    pub(crate) traceparent: Option<String>,
    settle: Option<Box<dyn FnOnce(AttemptResult) + Send>>,
}

impl Lease {
    pub(crate) fn new(
        attempt: u32,
        flow: Option<i64>,
        wants_output: bool,
        settle: impl FnOnce(AttemptResult) + Send + 'static,
    ) -> Self {
        Self { attempt, flow, wants_output, traceparent: None, settle: Some(Box::new(settle)) }
    }

    /// Reports the attempt's result.
    pub(crate) fn settle(mut self, result: AttemptResult) {
        if let Some(settle) = self.settle.take() {
            settle(result);
        }
    }
}

impl Drop for Lease {
    /// A lease dropped unsettled (a panic on the way, say) gives its job back now rather than
    /// after the lease expires, as interrupted: the attempt may have run, so it counts, and a
    /// job that always ends this way still reaches `retry.max_attempts`.
    fn drop(&mut self) {
        if let Some(settle) = self.settle.take() {
            settle(AttemptResult::Interrupted);
        }
    }
}

impl std::fmt::Debug for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lease").field("attempt", &self.attempt).finish_non_exhaustive()
    }
}
