//! Shutdown: stop intake, drain what is queued and running until the deadline, stop the rest,
//! and list every task that did not finish.

use super::Inner;
use crate::pool::Shared;
use crate::readiness::Lifecycle;
use crate::record::ShutdownError;
use crate::sync::lock;

impl Inner {
    pub(super) async fn drain(&self) -> Result<(), ShutdownError> {
        self.lifecycle.send_replace(Lifecycle::Draining);
        let result = self.stop().await;
        self.lifecycle.send_replace(Lifecycle::Stopped);
        #[cfg(feature = "http")]
        self.stop_services().await;
        result
    }

    /// Lets the services (the HTTP endpoints) see `Stopped` and close, or stops them after a
    /// second: a client holding a connection open must not hold up the shutdown.
    #[cfg(feature = "http")]
    async fn stop_services(&self) {
        let mut services = std::mem::take(&mut *lock(&self.services));
        let closed = tokio::time::timeout(std::time::Duration::from_secs(1), async {
            while services.join_next().await.is_some() {}
        });
        if closed.await.is_err() {
            services.abort_all();
            while services.join_next().await.is_some() {}
        }
    }

    async fn stop(&self) -> Result<(), ShutdownError> {
        #[cfg(feature = "postgres")]
        if let Some(worker) = &self.postgres {
            worker.stop_claiming(self.shutdown_timeout).await;
        }
        // No more ticks or due delays; delays still waiting are listed as unfinished.
        let mut timers = std::mem::take(&mut *lock(&self.timers));
        timers.abort_all();
        while timers.join_next().await.is_some() {}
        let delayed = self.delays.close();
        let mut workers = self.pools.close();
        let deadline = tokio::time::Instant::now() + self.shutdown_timeout;
        let drained = tokio::time::timeout_at(deadline, async {
            for set in &mut workers {
                while set.join_next().await.is_some() {}
            }
        })
        .await
        .is_ok();
        if !drained {
            for set in &mut workers {
                // Stopped workers record the job they held as unfinished (see `InFlight`).
                set.abort_all();
                while set.join_next().await.is_some() {}
            }
        }
        let mut unfinished = delayed;
        unfinished.extend(Shared::take(&self.pools.shared.unfinished));
        for (_, pool) in self.pools.all_built() {
            unfinished.extend(pool.drain_queue());
        }
        // Every leased job has now settled or given itself back: store that.
        #[cfg(feature = "postgres")]
        if let Some(worker) = &self.postgres {
            worker.finish(deadline.max(tokio::time::Instant::now() + std::time::Duration::from_secs(5))).await;
        }
        if unfinished.is_empty() {
            tracing::info!("preheat runtime drained and stopped");
            Ok(())
        } else {
            tracing::warn!(unfinished = unfinished.len(), "preheat runtime stopped with tasks unfinished");
            Err(ShutdownError { unfinished })
        }
    }
}
