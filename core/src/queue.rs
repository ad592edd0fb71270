//! [`JobQueue`]: the queue between a task's submitters and its workers.
//!
//! Memory grows with the backlog, not with the bound: the jobs live in an unbounded lock-free
//! list of blocks (`concurrent-queue`'s unbounded flavour, which allocates a block of slots as
//! it fills and frees it once drained), and `queue.capacity` is a counter kept beside it. A
//! pool of 1,024 slots that never holds more than two jobs costs two jobs' memory.
//!
//! The PostgreSQL backend does not replace this queue: the table is where durable work waits,
//! and a claimed row passes through here to a pre-warmed worker like any other job. Waiting
//! (a worker for a job, a submitter for room) is a plain future on the waiter's stack: nothing
//! is allocated to wait.

use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst, fence};

use concurrent_queue::{ConcurrentQueue, PopError};
use tokio::sync::Notify;

use crate::job::Job;

/// Why [`JobQueue::try_push`] gave the job back.
#[derive(Debug)]
pub(crate) enum PushError {
    /// The queue is at capacity.
    Full(Job),
    /// The queue no longer accepts jobs (shutdown).
    Closed(Job),
}

/// A bounded queue of jobs for one task, shared by the task's submitters and workers.
///
/// A push wakes a worker only if one is parked, and a pop wakes a blocked submitter only if one
/// waits, so a busy pool moves jobs without wake-ups.
#[derive(Debug)]
pub(crate) struct JobQueue {
    jobs: ConcurrentQueue<Job>,
    /// Jobs pushed and not yet popped: the bound is checked against it, before the push, so
    /// concurrent submitters can never overfill the queue.
    len: AtomicUsize,
    capacity: usize,
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
            match attempt() {
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

impl JobQueue {
    /// A queue holding at most `capacity` jobs (at least one). Allocates nothing until used.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            jobs: ConcurrentQueue::unbounded(),
            len: AtomicUsize::new(0),
            capacity: capacity.max(1),
            job_ready: Waiters::default(),
            room_ready: Waiters::default(),
        }
    }

    /// Adds a job without waiting.
    pub(crate) fn try_push(&self, job: Job) -> Result<(), PushError> {
        if self.len.fetch_add(1, SeqCst) >= self.capacity {
            self.len.fetch_sub(1, SeqCst);
            // A closed queue says so even when full, so a refused job is never counted as
            // rejected during shutdown.
            return Err(if self.jobs.is_closed() { PushError::Closed(job) } else { PushError::Full(job) });
        }
        match self.jobs.push(job) {
            Ok(()) => {
                self.job_ready.wake_one();
                Ok(())
            }
            Err(error) => {
                self.len.fetch_sub(1, SeqCst);
                Err(PushError::Closed(error.into_inner()))
            }
        }
    }

    /// Adds a job, waiting for room; gives the job back if the queue is closed.
    pub(crate) async fn push(&self, job: Job) -> Result<(), Job> {
        let mut job = Some(job);
        self.room_ready
            .wait_until(|| match job.take().map(|job| self.try_push(job)) {
                Some(Ok(())) => {
                    // Woken submitters come in one at a time; pass the turn on while there is room.
                    if self.len() < self.capacity {
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
    }

    /// Takes a job if one is ready.
    pub(crate) fn try_pop(&self) -> Option<Job> {
        let job = self.jobs.pop().ok()?;
        self.popped();
        Some(job)
    }

    /// Waits for a job; `None` once the queue is closed and empty.
    pub(crate) async fn pop(&self) -> Option<Job> {
        self.job_ready
            .wait_until(|| match self.jobs.pop() {
                Ok(job) => {
                    self.popped();
                    Some(Some(job))
                }
                Err(PopError::Closed) => Some(None),
                Err(PopError::Empty) => None,
            })
            .await
    }

    fn popped(&self) {
        self.len.fetch_sub(1, SeqCst);
        self.room_ready.wake_one();
    }

    /// Jobs waiting.
    pub(crate) fn len(&self) -> usize {
        self.len.load(SeqCst).min(self.capacity)
    }

    /// Whether no job is waiting.
    pub(crate) fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }

    /// Stops intake; jobs already queued can still be popped.
    pub(crate) fn close(&self) {
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
    use crate::erased::{TaskVTable, unerase};
    use crate::job::End;

    fn job(input: u32) -> Job {
        Job::new(TaskVTable::WARMUP, Box::new(input), End::Detached)
    }

    fn input(job: Job) -> u32 {
        unerase(job.input)
    }

    fn peek(job: &Job) -> Option<u32> {
        job.input.downcast_ref().copied()
    }

    fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
        Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn a_cancelled_wait_leaves_no_waiter_behind() {
        let queue = JobQueue::new(1);
        assert!(queue.try_push(job(1)).is_ok());
        let mut blocked = Box::pin(queue.push(job(2)));
        assert!(poll_once(&mut blocked).is_pending());
        assert_eq!(queue.room_ready.count.load(SeqCst), 1);
        drop(blocked);
        assert_eq!(queue.room_ready.count.load(SeqCst), 0, "dropping the wait uncounts it");

        let empty = JobQueue::new(1);
        let mut waiting = Box::pin(empty.pop());
        assert!(poll_once(&mut waiting).is_pending());
        drop(waiting);
        assert_eq!(empty.job_ready.count.load(SeqCst), 0);
    }

    #[test]
    fn the_capacity_is_the_bound_and_memory_follows_the_backlog() {
        let queue = JobQueue::new(3);
        for n in 0..3 {
            assert!(queue.try_push(job(n)).is_ok());
        }
        assert!(matches!(queue.try_push(job(3)), Err(PushError::Full(back)) if peek(&back) == Some(3)));
        assert_eq!(queue.len(), 3);
        assert_eq!(queue.try_pop().map(input), Some(0));
        assert!(queue.try_push(job(4)).is_ok(), "a pop makes room for exactly one");
        assert!(matches!(queue.try_push(job(5)), Err(PushError::Full(_))));
    }

    #[test]
    fn every_pop_lets_a_blocked_submitter_in() {
        let queue = JobQueue::new(4);
        for n in 0..4 {
            assert!(queue.try_push(job(n)).is_ok());
        }
        let mut blocked = Box::pin(queue.push(job(99)));
        assert!(poll_once(&mut blocked).is_pending());
        // Without waiting for the queue to drain, one free slot is enough.
        assert_eq!(queue.try_pop().map(input), Some(0));
        assert!(matches!(poll_once(&mut blocked), Poll::Ready(Ok(()))));
        let inputs: Vec<u32> = std::iter::from_fn(|| queue.try_pop()).map(input).collect();
        assert_eq!(inputs, [1, 2, 3, 99]);
    }

    #[test]
    fn close_hands_blocked_jobs_back_and_lets_the_queue_drain() {
        let queue = JobQueue::new(1);
        assert!(queue.try_push(job(1)).is_ok());
        let mut blocked = Box::pin(queue.push(job(2)));
        assert!(poll_once(&mut blocked).is_pending());
        queue.close();
        assert!(matches!(poll_once(&mut blocked), Poll::Ready(Err(job)) if peek(&job) == Some(2)));
        assert!(matches!(queue.try_push(job(3)), Err(PushError::Closed(_))));
        assert_eq!(queue.try_pop().map(input), Some(1));
        assert!(matches!(poll_once(&mut Box::pin(queue.pop())), Poll::Ready(None)), "closed and empty");
    }
}
