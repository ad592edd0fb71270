//! The backend seam: the queue a task's pool takes jobs from.
//!
//! A pool talks to its queue only through [`JobQueue`], so a durable backend (PostgreSQL, in a
//! later release) can replace [`MemoryQueue`] without touching the task API. The synchronous
//! `try_` methods are the hot path; the boxed async ones are only used when a caller must wait.

use futures_util::future::BoxFuture;
use tokio::sync::oneshot;

use crate::outcome::Outcome;
use crate::task::Task;

/// One submitted task waiting for, or held by, a worker.
pub struct Job<T: Task> {
    pub(crate) input: T::Input,
    pub(crate) reply: oneshot::Sender<Outcome<T>>,
}

impl<T: Task> std::fmt::Debug for Job<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").field("task", &T::ID).finish_non_exhaustive()
    }
}

/// Why [`JobQueue::try_push`] gave the job back.
#[derive(Debug)]
pub enum PushError<J> {
    /// The queue is at capacity.
    Full(J),
    /// The queue no longer accepts jobs (shutdown).
    Closed(J),
}

/// A bounded queue of jobs for one task, shared by the task's submitters and workers.
pub trait JobQueue<T: Task>: Send + Sync + 'static {
    /// Adds a job without waiting.
    fn try_push(&self, job: Job<T>) -> Result<(), PushError<Job<T>>>;
    /// Adds a job, waiting for room; gives the job back if the queue is closed.
    fn push(&self, job: Job<T>) -> BoxFuture<'_, Result<(), Job<T>>>;
    /// Takes a job if one is ready.
    fn try_pop(&self) -> Option<Job<T>>;
    /// Waits for a job; `None` once the queue is closed and empty.
    fn pop(&self) -> BoxFuture<'_, Option<Job<T>>>;
    /// Jobs waiting.
    fn len(&self) -> usize;
    /// Whether no job is waiting.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Stops intake; jobs already queued can still be popped.
    fn close(&self);
}

/// The in-process queue: a bounded MPMC channel. Nothing is serialized.
#[derive(Debug)]
pub struct MemoryQueue<T: Task> {
    sender: async_channel::Sender<Job<T>>,
    receiver: async_channel::Receiver<Job<T>>,
}

impl<T: Task> MemoryQueue<T> {
    /// A queue holding at most `capacity` jobs.
    pub fn new(capacity: usize) -> Self {
        let (sender, receiver) = async_channel::bounded(capacity);
        Self { sender, receiver }
    }
}

impl<T: Task> JobQueue<T> for MemoryQueue<T> {
    fn try_push(&self, job: Job<T>) -> Result<(), PushError<Job<T>>> {
        self.sender.try_send(job).map_err(|error| match error {
            async_channel::TrySendError::Full(job) => PushError::Full(job),
            async_channel::TrySendError::Closed(job) => PushError::Closed(job),
        })
    }

    fn push(&self, job: Job<T>) -> BoxFuture<'_, Result<(), Job<T>>> {
        Box::pin(async move { self.sender.send(job).await.map_err(|error| error.0) })
    }

    fn try_pop(&self) -> Option<Job<T>> {
        self.receiver.try_recv().ok()
    }

    fn pop(&self) -> BoxFuture<'_, Option<Job<T>>> {
        Box::pin(async move { self.receiver.recv().await.ok() })
    }

    fn len(&self) -> usize {
        self.receiver.len()
    }

    fn close(&self) {
        self.sender.close();
    }
}
