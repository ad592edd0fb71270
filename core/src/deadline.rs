//! A per-attempt timeout that costs nothing for attempts that finish on their first poll.

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

/// The attempt ran past its limit.
#[derive(Debug)]
pub(crate) struct Elapsed;

/// Runs `future` for at most `limit`.
///
/// Most shop tasks either finish without waiting or wait on I/O. Reading the clock and arming a
/// timer for each attempt showed up as a tenth of the per-task cost, so the timer is armed only
/// when the first poll leaves the future pending. The limit therefore counts from the attempt's
/// first suspension; the first poll itself could not have been interrupted by a timer anyway.
pub(crate) async fn within<F: Future>(limit: Duration, future: F) -> Result<F::Output, Elapsed> {
    let mut future = pin!(future);
    if let Poll::Ready(output) = poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx))).await {
        return Ok(output);
    }
    tokio::time::timeout(limit, future).await.map_err(|_| Elapsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_ready_future_needs_no_timer() {
        assert!(within(Duration::ZERO, async { 7 }).await.is_ok_and(|v| v == 7));
    }

    #[tokio::test(start_paused = true)]
    async fn a_pending_future_is_cut_at_the_limit() {
        let began = tokio::time::Instant::now();
        let slow = tokio::time::sleep(Duration::from_secs(60));
        assert!(within(Duration::from_millis(250), slow).await.is_err());
        assert_eq!(began.elapsed(), Duration::from_millis(250));
    }

    #[tokio::test(start_paused = true)]
    async fn a_pending_future_that_finishes_in_time_is_kept() {
        let quick = async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            "done"
        };
        assert!(within(Duration::from_secs(1), quick).await.is_ok_and(|v| v == "done"));
    }
}
