//! [`Job`]: one submitted task on its way through the engine, and [`End`], where its outcome goes.

use std::any::Any;
use std::sync::Arc;

use tokio::sync::oneshot;

use crate::erased::{ErasedInput, ErasedOutcome, TaskVTable};
use crate::flow_id::FlowId;
use crate::lease::{AttemptResult, Lease};
use crate::record::TaskRecord;

/// One submitted task waiting for, or held by, a worker. The same type for every task: the
/// engine sees the task only through its table.
pub(crate) struct Job {
    pub(crate) task: &'static TaskVTable,
    pub(crate) input: ErasedInput,
    pub(crate) end: End,
    /// When the job was queued, for a task with `variants` whose queue wait is compared. Eight
    /// bytes, not an `Instant`'s sixteen: a job fills one cache line of its queue's slots.
    pub(crate) queued_at: Option<crate::variants::Stamp>,
    /// The submit's trace context; `None` (one word, no span) when it is not traced.
    #[cfg(feature = "otel")]
    pub(crate) trace: Option<Box<crate::trace::Carried>>,
}

/// Where a job's outcome goes: exactly one place, decided at submit.
pub(crate) enum End {
    /// Nowhere: a detached submit, whose failure still reaches the logs and the dead letters.
    Detached,
    /// To the submitter's [`Completion`](crate::Completion).
    Reply(oneshot::Sender<ErasedOutcome>),
    /// To a watcher (the job's flow run, or its schedule), told the job's task index. The two
    /// fields sit in the variant itself, not in a [`Watch`]: so the tag shares the index's word,
    /// an `End` is 24 bytes and a `Job` 56, which with its slot's state fills one cache line of
    /// the queue.
    Watch { watcher: Arc<dyn Watcher>, task: u32 },
    /// To both: a flow's root submitted by a caller who awaits the root's outcome. Boxed: it is
    /// rare, and every queue slot has room for an `End`.
    WatchAndReply(Box<(Watch, oneshot::Sender<ErasedOutcome>)>),
    /// To a durable backend, which owns the job's attempts (see [`Lease`]).
    Lease(Box<Lease>),
    /// The runtime's own no-op job that warms the job path at start-up: told when it is done.
    Warmup(oneshot::Sender<()>),
}

impl End {
    /// To `watch`'s watcher.
    pub(crate) fn watch(watch: Watch) -> Self {
        // A registry's indices are far below `u32::MAX`: each is a function linked into the binary.
        Self::Watch { watcher: watch.watcher, task: watch.task as u32 }
    }
}

impl Job {
    /// A job submitted now: with the `otel` feature, its producer span opens here, under the
    /// caller's span (or the parent [`scoped`](crate::trace::scoped) set).
    pub(crate) fn new(task: &'static TaskVTable, input: ErasedInput, end: End) -> Self {
        #[cfg(feature = "otel")]
        let trace = if crate::otel_settings::Settings::layer_built() { Self::capture(task, &end) } else { None };
        Self {
            task,
            input,
            end,
            queued_at: None,
            #[cfg(feature = "otel")]
            trace,
        }
    }

    /// The trace a new job continues, told to the flow run it starts. Out of line: a program
    /// that never sets tracing up does not call it, and `Job::new` stays small enough to inline.
    #[cfg(feature = "otel")]
    #[inline(never)]
    fn capture(task: &'static TaskVTable, end: &End) -> Option<Box<crate::trace::Carried>> {
        use crate::trace::Carried;
        let trace = match end {
            End::Warmup(_) => return None,
            // Submitted in another process: the trace goes on from the row's.
            End::Lease(lease) => lease.traceparent.as_deref().and_then(Carried::from_traceparent),
            _ => Carried::capture(task.id),
        };
        let watcher = match end {
            End::Watch { watcher, .. } => Some(watcher),
            End::WatchAndReply(both) => Some(&both.0.watcher),
            _ => None,
        };
        if let (Some(watcher), Some(trace)) = (watcher, &trace) {
            watcher.keep_trace(trace);
        }
        trace
    }

    /// Whether the job's output is wanted by anyone; if not, the attempt drops it at once.
    pub(crate) fn wants_output(&self) -> bool {
        match &self.end {
            End::Detached | End::Warmup(_) => false,
            End::Reply(_) | End::Watch { .. } | End::WatchAndReply(_) => true,
            End::Lease(lease) => lease.wants_output,
        }
    }

    /// A job that will not run to its end (never started, or stopped at the shutdown deadline):
    /// a leased one goes back to its backend as `leased`, the warm-up job is dropped, and a local
    /// one becomes a record of what did not finish, after `attempts` attempts.
    pub(crate) fn give_back(self, leased: AttemptResult, attempts: u32) -> Option<TaskRecord> {
        match self.end {
            End::Lease(lease) => {
                lease.settle(leased);
                None
            }
            End::Warmup(_) => None,
            _ => Some(TaskRecord::new(self.task, self.input, attempts, None)),
        }
    }

    /// The flow run the job belongs to, for its context and its log lines.
    pub(crate) fn flow(&self) -> Option<FlowId> {
        match &self.end {
            End::Watch { watcher, .. } => watcher.flow_id(),
            End::WatchAndReply(both) => both.0.watcher.flow_id(),
            End::Lease(lease) => lease.flow.map(FlowId::from_stored),
            End::Detached | End::Reply(_) | End::Warmup(_) => None,
        }
    }

    /// The job's lease, when a durable backend owns its attempts.
    pub(crate) fn lease(&self) -> Option<&Lease> {
        match &self.end {
            End::Lease(lease) => Some(lease),
            _ => None,
        }
    }
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").field("task", &self.task.id).finish_non_exhaustive()
    }
}

/// A task's end as a watcher sees it: the output, type-erased and shared, or the error's text.
pub(crate) type Ended = Result<Arc<dyn Any + Send + Sync>, String>;

/// Told when a job ends. A flow run watches its tasks; a schedule watches its ticks.
pub(crate) trait Watcher: Send + Sync {
    fn finished(self: Arc<Self>, task: usize, ended: Ended);

    fn flow_id(&self) -> Option<FlowId> {
        None
    }

    /// Told the trace of each job that ends here; a flow run keeps its root's.
    #[cfg(feature = "otel")]
    fn keep_trace(&self, _trace: &crate::trace::Carried) {}
}

/// A job's watcher, with the job's task index.
#[derive(Clone)]
pub(crate) struct Watch {
    pub(crate) watcher: Arc<dyn Watcher>,
    pub(crate) task: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A queue slot is a job and one word of state: at 56 bytes a job keeps it to one cache line.
    /// (The `otel` feature's trace context adds a word.)
    #[test]
    fn a_job_fits_a_cache_line_with_its_slot_state() {
        assert_eq!(size_of::<End>(), 24);
        let trace = if cfg!(feature = "otel") { 8 } else { 0 };
        assert_eq!(size_of::<Job>(), 56 + trace);
    }
}
