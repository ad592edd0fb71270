//! The baseline preheat is measured against: a fixed pool of tokio tasks, each with its own
//! unbounded mpsc channel, fed round-robin by the one producer.
//!
//! It has what a hand-written pool would have and nothing more: no shared queue, no bound, no
//! outcome channel, no timeout, retry or panic containment, no growth. The channels are unbounded
//! because that is the fast path of tokio's mpsc: its bounded flavour takes a mutex on every
//! receive to hand the slot back, and runs at a third to a half of the speed on the benchmark
//! machine, which would flatter preheat.

use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// A pool of workers that call the same `work` for every message.
#[derive(Debug)]
pub struct RawPool {
    senders: Vec<mpsc::UnboundedSender<()>>,
    next: usize,
    workers: JoinSet<()>,
}

impl RawPool {
    /// Spawns `workers` workers, each on its own channel, and returns once each is about to wait
    /// for its first message (as preheat's `start` does for its pools).
    pub async fn start<F>(workers: usize, work: F) -> Self
    where
        F: Fn() + Copy + Send + 'static,
    {
        let (ready, mut parked) = mpsc::unbounded_channel();
        let mut set = JoinSet::new();
        let mut senders = Vec::with_capacity(workers);
        for _ in 0..workers {
            let (sender, mut receiver) = mpsc::unbounded_channel::<()>();
            let ready = ready.clone();
            set.spawn(async move {
                let _ = ready.send(());
                while receiver.recv().await.is_some() {
                    work();
                }
            });
            senders.push(sender);
        }
        for _ in 0..workers {
            parked.recv().await.expect("a raw worker exited before its first message");
        }
        Self { senders, next: 0, workers: set }
    }

    /// Sends one message to the next worker in turn. (Not `async`: the channels never fill.)
    pub fn send(&mut self) {
        let sender = &self.senders[self.next];
        self.next = (self.next + 1) % self.senders.len();
        sender.send(()).expect("raw workers live as long as their senders");
    }

    /// Closes the channels and waits for the workers to finish what was sent.
    pub async fn stop(mut self) {
        self.senders.clear();
        while let Some(joined) = self.workers.join_next().await {
            joined.expect("a raw worker panicked");
        }
    }
}
