//! The delay before a retry.

use std::time::Duration;

use preheat_meta::Retry;

/// Delay after the `failed_attempt`-th attempt (1-based): `base * 2^(failed_attempt - 1)`, capped
/// at `max`, then with jitter scaled into `[delay / 2, delay]`.
pub(crate) fn backoff(retry: &Retry, failed_attempt: u32) -> Duration {
    let doublings = failed_attempt.saturating_sub(1).min(31);
    let delay = retry.backoff.base.saturating_mul(1 << doublings).min(retry.backoff.max);
    if retry.jitter { delay.mul_f64(0.5 + fastrand::f64() * 0.5) } else { delay }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(jitter: bool) -> Retry {
        let mut retry = Retry::default();
        retry.backoff.base = Duration::from_millis(100);
        retry.backoff.max = Duration::from_millis(1000);
        retry.jitter = jitter;
        retry
    }

    #[test]
    fn doubles_up_to_the_cap() {
        let delays: Vec<_> = (1..=6).map(|n| backoff(&policy(false), n).as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(backoff(&policy(false), u32::MAX).as_millis(), 1000);
    }

    #[test]
    fn jitter_stays_within_half_and_whole() {
        for n in 1..=5 {
            let whole = backoff(&policy(false), n);
            for _ in 0..100 {
                let jittered = backoff(&policy(true), n);
                assert!(
                    jittered >= whole / 2 && jittered <= whole,
                    "{jittered:?} outside [{:?}, {whole:?}]",
                    whole / 2
                );
            }
        }
    }
}
