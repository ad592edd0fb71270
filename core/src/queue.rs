//! The backend seam: the queue a task's pool takes jobs from.
//!
//! A pool talks to its queue only through [`JobQueue`]. The PostgreSQL backend does not replace
//! it: the table is where durable work waits, and a claimed row passes through this queue to a
//! pre-warmed worker like any other job. The synchronous
//! `try_` methods are the hot path; the boxed async ones are only used when a caller must wait.

use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst, fence};

use concurrent_queue::{ConcurrentQueue, PopError};
use futures_util::future::BoxFuture;
use tokio::sync::{Notify, oneshot};

use crate::flow::Watch;
use crate::lease::Lease;
use crate::outcome::Outcome;
use crate::task::Task;

/// One submitted task waiting for, or held by, a worker.
pub struct Job<T: Task> {
    pub(crate) input: T::Input,
    /// Where the outcome goes; `None` for a detached submit, which saves the channel.
    pub(crate) reply: Option<oneshot::Sender<Outcome<T>>>,
    /// Who else wants to know how it ended: the job's flow run, or its schedule.
    pub(crate) watch: Option<Watch>,
    /// Set when a durable backend owns the job's attempts (see [`Lease`]). Boxed: every queue
    /// slot has room for a job, and in-memory jobs never carry one.
    pub(crate) lease: Option<Box<Lease>>,
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

/// The in-process queue: a lock-free bounded ring. Nothing is serialized.
///
/// A push wakes a worker only if one is parked, and a pop wakes a blocked submitter only if one
/// waits, so a busy pool moves jobs without wake-ups.
#[derive(Debug)]
pub struct MemoryQueue<T: Task> {
    jobs: ConcurrentQueue<Job<T>>,
    job_ready: Waiters,
    room_ready: Waiters,
}

/// Tasks parked until the queue changes, and how many there are.
#[derive(Debug, Default)]
struct Waiters {
    count: AtomicUsize,
    notify: Notify,
}

impl Waiters {
    /// Wakes one waiter, if any. Call after the change it waits for is visible.
    fn wake_one(&self) {
        // Pairs with the fence in `Counted::enter`: either this load sees the waiter, or the
        // waiter's re-check sees the change.
        fence(SeqCst);
        if self.count.load(SeqCst) > 0 {
            self.notify.notify_one();
        }
    }

    /// Waits until `attempt` returns `Some`, re-trying it after each wake-up.
    async fn wait_until<R>(&self, mut attempt: impl FnMut() -> Option<R>) -> R {
        loop {
            if let Some(done) = attempt() {
                return done;
            }
            let notified = self.notify.notified();
            let mut notified = pin!(notified);
            // Registered before the re-check, so a wake-up between the two is not lost.
            notified.as_mut().enable();
            let _counted = Counted::enter(&self.count);
            let done = attempt();
            match done {
                Some(done) => return done,
                None => notified.await,
            }
        }
    }
}

/// One waiter in [`Waiters::count`], for as long as it lives: a wait cancelled by dropping its
/// future (an idle timeout, a caller's `timeout`) leaves the count right.
struct Counted<'a>(&'a AtomicUsize);

impl<'a> Counted<'a> {
    fn enter(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, SeqCst);
        // Pairs with the fence in `wake_one`: either the waker sees this count, or the
        // waiter's re-check, which follows, sees the waker's change.
        fence(SeqCst);
        Self(count)
    }
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, SeqCst);
    }
}

impl<T: Task> MemoryQueue<T> {
    /// A queue holding at most `capacity` jobs (at least one).
    pub fn new(capacity: usize) -> Self {
        Self {
            jobs: ConcurrentQueue::bounded(capacity.max(1)),
            job_ready: Waiters::default(),
            room_ready: Waiters::default(),
        }
    }
}

impl<T: Task> JobQueue<T> for MemoryQueue<T> {
    fn try_push(&self, job: Job<T>) -> Result<(), PushError<Job<T>>> {
        match self.jobs.push(job) {
            Ok(()) => {
                self.job_ready.wake_one();
                Ok(())
            }
            Err(concurrent_queue::PushError::Full(job)) => Err(PushError::Full(job)),
            Err(concurrent_queue::PushError::Closed(job)) => Err(PushError::Closed(job)),
        }
    }

    fn push(&self, job: Job<T>) -> BoxFuture<'_, Result<(), Job<T>>> {
        Box::pin(async move {
            let mut job = Some(job);
            self.room_ready
                .wait_until(|| match job.take().map(|job| self.try_push(job)) {
                    Some(Ok(())) => {
                        // Woken submitters come in one at a time; pass the turn on while
                        // there is room.
                        if !self.jobs.is_full() {
                            self.room_ready.wake_one();
                        }
                        Some(Ok(()))
                    }
                    Some(Err(PushError::Closed(back))) => Some(Err(back)),
                    Some(Err(PushError::Full(back))) => {
                        job = Some(back);
                        None
                    }
                    None => unreachable!("the job is put back whenever the attempt did not finish"),
                })
                .await
        })
    }

    fn try_pop(&self) -> Option<Job<T>> {
        let job = self.jobs.pop().ok()?;
        self.room_ready.wake_one();
        Some(job)
    }

    fn pop(&self) -> BoxFuture<'_, Option<Job<T>>> {
        Box::pin(self.job_ready.wait_until(|| match self.jobs.pop() {
            Ok(job) => {
                self.room_ready.wake_one();
                Some(Some(job))
            }
            Err(PopError::Closed) => Some(None),
            Err(PopError::Empty) => None,
        }))
    }

    fn len(&self) -> usize {
        self.jobs.len()
    }

    fn close(&self) {
        self.jobs.close();
        self.job_ready.notify.notify_waiters();
        self.room_ready.notify.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll, Waker};

    use super::*;
    use crate::task::Ctx;

    #[derive(Clone, Copy)]
    struct Noop;

    impl Task for Noop {
        const ID: &'static str = "test.noop";
        type Input = u32;
        type Output = ();
        type Error = String;

        async fn run(_: Ctx, _: u32) -> Result<(), String> {
            Ok(())
        }
    }

    fn job(input: u32) -> Job<Noop> {
        Job { input, reply: None, watch: None, lease: None }
    }

    fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
        Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn a_cancelled_wait_leaves_no_waiter_behind() {
        let queue = MemoryQueue::<Noop>::new(1);
        assert!(queue.try_push(job(1)).is_ok());
        let mut blocked = queue.push(job(2));
        assert!(poll_once(&mut blocked).is_pending());
        assert_eq!(queue.room_ready.count.load(SeqCst), 1);
        drop(blocked);
        assert_eq!(queue.room_ready.count.load(SeqCst), 0, "dropping the wait uncounts it");

        let empty = MemoryQueue::<Noop>::new(1);
        let mut waiting = empty.pop();
        assert!(poll_once(&mut waiting).is_pending());
        drop(waiting);
        assert_eq!(empty.job_ready.count.load(SeqCst), 0);
    }

    #[test]
    fn every_pop_lets_a_blocked_submitter_in() {
        let queue = MemoryQueue::<Noop>::new(4);
        for n in 0..4 {
            assert!(queue.try_push(job(n)).is_ok());
        }
        let mut blocked = queue.push(job(99));
        assert!(poll_once(&mut blocked).is_pending());
        // Without waiting for the queue to drain, one free slot is enough.
        assert_eq!(queue.try_pop().map(|job| job.input), Some(0));
        assert!(matches!(poll_once(&mut blocked), Poll::Ready(Ok(()))));
        let inputs: Vec<u32> = std::iter::from_fn(|| queue.try_pop()).map(|job| job.input).collect();
        assert_eq!(inputs, [1, 2, 3, 99]);
    }

    #[test]
    fn close_hands_blocked_jobs_back_and_lets_the_queue_drain() {
        let queue = MemoryQueue::<Noop>::new(1);
        assert!(queue.try_push(job(1)).is_ok());
        let mut blocked = queue.push(job(2));
        assert!(poll_once(&mut blocked).is_pending());
        queue.close();
        assert!(matches!(poll_once(&mut blocked), Poll::Ready(Err(job)) if job.input == 2));
        assert!(matches!(queue.try_push(job(3)), Err(PushError::Closed(_))));
        assert_eq!(queue.try_pop().map(|job| job.input), Some(1));
        assert!(matches!(poll_once(&mut queue.pop()), Poll::Ready(None)), "closed and empty");
    }
}
