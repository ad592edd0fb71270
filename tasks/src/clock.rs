//! The shop's wall clock: deadlines are wall-clock times (they are stored in the database), but
//! they must follow tokio's clock so that a test that moves time with `tokio::time::advance`
//! moves them too, and so that a delayed close fires exactly at its order's deadline.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

/// The wall-clock time and tokio's instant at the first reading, in this process.
static ANCHOR: OnceLock<(SystemTime, Instant)> = OnceLock::new();

fn anchor() -> (SystemTime, Instant) {
    *ANCHOR.get_or_init(|| (SystemTime::now(), Instant::now()))
}

/// Now, as the shop sees it: the system time at the first reading plus tokio's elapsed time
/// since. In production tokio's clock is the monotonic clock, so this is the system time less
/// any step of the system clock since start-up (and less the time the machine was suspended,
/// which the monotonic clock does not count); under `tokio::time::pause` it moves only when the
/// test moves time.
///
/// The anchor is one per process, while each tokio runtime has its own clock: a test that
/// advances a paused runtime and then starts another finds this clock where the first left
/// it until real time catches up. Tests that move time keep to one runtime at a time.
pub fn now() -> SystemTime {
    at(Instant::now())
}

/// The wall-clock time of a tokio instant.
pub fn at(instant: Instant) -> SystemTime {
    let (wall, start) = anchor();
    wall + instant.saturating_duration_since(start)
}

/// The tokio instant of a wall-clock time (the anchor itself for a time before it): when a
/// delayed task must run to run at `time`. A time too far ahead for the clock is about thirty
/// years from now, as far as tokio's own "never" goes.
pub fn instant_of(time: SystemTime) -> Instant {
    let (wall, start) = anchor();
    let ahead = time.duration_since(wall).unwrap_or(Duration::ZERO);
    start.checked_add(ahead).unwrap_or_else(|| Instant::now() + FAR_AHEAD)
}

/// About thirty years.
const FAR_AHEAD: Duration = Duration::from_secs(86_400 * 365 * 30);

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn follows_tokios_clock_both_ways() {
        let before = now();
        tokio::time::advance(Duration::from_secs(1800)).await;
        assert_eq!(now().duration_since(before).unwrap(), Duration::from_secs(1800));
        let deadline = now() + Duration::from_secs(60);
        assert_eq!(instant_of(deadline), Instant::now() + Duration::from_secs(60));
        assert_eq!(at(instant_of(deadline)), deadline);
        let never = instant_of(SystemTime::UNIX_EPOCH + Duration::from_secs(u64::MAX / 4));
        assert!(never > Instant::now() + Duration::from_secs(86_400 * 365 * 29), "no overflow, far ahead");
    }
}
