//! Schedules: tasks that run by themselves, armed during start-up.
//!
//! Each scheduled task gets one timer task. An `every` schedule fires on a fixed grid
//! (`start + initial_delay + k * every`): a late wake-up never shifts the grid, so drift cannot
//! accumulate. A `cron` schedule fires at the wall-clock times of its expression in its time
//! zone. A tick goes through the task's queue like any submit; [`Overlap`] decides what a tick
//! does while the previous run is still going, and [`Missed`] what happens to ticks missed
//! during a stall.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};
use preheat_meta::{Missed, Overlap, Schedule};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::job::{Ended, Watcher};
use crate::pools::Pools;
use crate::sync::lock;

/// What a schedule has done so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScheduleStats {
    /// Ticks that submitted a run.
    pub fired: u64,
    /// Ticks dropped: by `overlap: skip` (or a second queued tick), or missed during a stall.
    pub skipped: u64,
}

/// One scheduled task's timer and its runs in flight.
pub(crate) struct Ticker {
    task: usize,
    id: &'static str,
    pools: Weak<Pools>,
    /// Where ticks go on a durable runtime: the task table, not the local pool.
    #[cfg(feature = "postgres")]
    durable: Option<Arc<crate::postgres::Worker>>,
    schedule: &'static Schedule,
    runs: Mutex<Runs>,
    fired: AtomicU64,
    skipped: AtomicU64,
}

#[derive(Default)]
struct Runs {
    running: usize,
    /// `overlap: queue`: a tick that waits for the run in flight.
    queued: bool,
}

impl Ticker {
    pub(crate) fn new(
        task: usize,
        id: &'static str,
        pools: Weak<Pools>,
        #[cfg(feature = "postgres")] durable: Option<Arc<crate::postgres::Worker>>,
        schedule: &'static Schedule,
    ) -> Arc<Self> {
        Arc::new(Self {
            task,
            id,
            pools,
            #[cfg(feature = "postgres")]
            durable,
            schedule,
            runs: Mutex::default(),
            fired: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
        })
    }

    pub(crate) fn stats(&self) -> ScheduleStats {
        ScheduleStats { fired: self.fired.load(Ordering::Relaxed), skipped: self.skipped.load(Ordering::Relaxed) }
    }

    /// Runs the timer until the runtime stops it; `armed` is told once the first fire time is set.
    pub(crate) async fn run(self: Arc<Self>, armed: mpsc::UnboundedSender<()>) {
        match (self.schedule.every, self.schedule.cron_schedule()) {
            (Some(every), _) => self.run_every(every, armed).await,
            (None, Some(Ok((cron, tz)))) => self.run_cron(&cron, tz, armed).await,
            // The macro parsed the schedule at compile time, so this cannot happen.
            (None, cron) => {
                tracing::error!(task = self.id, error = ?cron.and_then(Result::err), "schedule cannot be armed");
            }
        }
    }

    async fn run_every(self: Arc<Self>, every: Duration, armed: mpsc::UnboundedSender<()>) {
        #[cfg(feature = "postgres")]
        if let Some(worker) = self.durable() {
            return self.run_every_durable(every, &worker, armed).await;
        }
        let grid = Grid { start: Instant::now() + self.schedule.initial_delay, every };
        let mut next = 0;
        let _ = armed.send(());
        loop {
            tokio::time::sleep_until(grid.at(next) + self.jitter()).await;
            let passed = grid.passed(next, Instant::now());
            self.fire(passed);
            next += passed;
        }
    }

    /// The worker on the task table, when ticks go there rather than to the local pool.
    #[cfg(feature = "postgres")]
    fn durable(&self) -> Option<Arc<crate::postgres::Worker>> {
        self.durable.clone()
    }

    /// On a durable runtime every process ticks, on a grid counted from the Unix epoch (offset
    /// by `initial_delay`) so that all agree on tick numbers, and the table keeps one run per
    /// tick. Missed ticks are not caught up: another process most likely fired them.
    #[cfg(feature = "postgres")]
    async fn run_every_durable(
        &self,
        every: Duration,
        worker: &Arc<crate::postgres::Worker>,
        armed: mpsc::UnboundedSender<()>,
    ) {
        let (grid, first) = epoch_grid(every, self.schedule.initial_delay, std::time::SystemTime::now());
        let mut next = 0;
        let _ = armed.send(());
        loop {
            tokio::time::sleep_until(grid.at(next) + self.jitter()).await;
            next += grid.passed(next, Instant::now());
            worker.submit_tick(self.task, first + next - 1);
            self.fired.fetch_add(1, Ordering::Relaxed);
        }
    }

    async fn run_cron(self: Arc<Self>, cron: &cron::Schedule, tz: chrono_tz::Tz, armed: mpsc::UnboundedSender<()>) {
        let Some(mut due) = cron.after(&Utc::now().with_timezone(&tz)).next() else { return };
        let _ = armed.send(());
        loop {
            let wait = (due.with_timezone(&Utc) - Utc::now()).to_std().unwrap_or_default();
            tokio::time::sleep(wait + self.jitter()).await;
            let now = Utc::now().with_timezone(&tz);
            #[cfg(feature = "postgres")]
            if let Some(worker) = self.durable() {
                // The due time names the tick alike in every process.
                worker.submit_tick(self.task, due.timestamp() as u64);
                self.fired.fetch_add(1, Ordering::Relaxed);
                let Some(next) = cron.after(&now).next() else { return };
                due = next;
                continue;
            }
            self.fire(ticks_between(cron, &due, &now));
            let Some(next) = cron.after(&now).next() else { return };
            due = next;
        }
    }

    fn jitter(&self) -> Duration {
        self.schedule.jitter.mul_f64(fastrand::f64())
    }

    /// Handles a wake-up that found `passed` ticks due (more than one after a stall).
    fn fire(self: &Arc<Self>, passed: u64) {
        let runs = match (passed, self.schedule.missed) {
            (1, _) => 1,
            (_, Missed::Skip) => 0,
            (_, Missed::CatchUp) => passed.min(u64::from(self.schedule.catch_up_max)),
        };
        if passed > runs {
            tracing::warn!(task = self.id, missed = passed - runs, "schedule missed ticks during a stall");
            self.skipped.fetch_add(passed - runs, Ordering::Relaxed);
        }
        for _ in 0..runs {
            self.tick();
        }
    }

    fn tick(self: &Arc<Self>) {
        {
            let mut runs = lock(&self.runs);
            match (self.schedule.overlap, runs.running) {
                (_, 0) | (Overlap::Allow, _) => runs.running += 1,
                (Overlap::Queue, _) if !runs.queued => {
                    runs.queued = true;
                    return;
                }
                (Overlap::Skip | Overlap::Queue, _) => {
                    self.skipped.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(task = self.id, "tick skipped: the previous run is still going");
                    return;
                }
            }
        }
        self.launch();
    }

    /// Submits one run; `runs.running` already counts it.
    fn launch(self: &Arc<Self>) {
        let submit = || match self.pools.upgrade() {
            Some(pools) => {
                crate::flow::submit_root(&pools, self.task, Box::new(()), Some(self.clone()), crate::route::Route::new)
            }
            None => Err(crate::task::RefusalReason::Closed),
        };
        // Each tick is the root of a trace of its own: it continues nothing.
        #[cfg(feature = "otel")]
        let submitted = crate::trace::scoped(crate::trace::Parent::Root, submit);
        #[cfg(not(feature = "otel"))]
        let submitted = submit();
        match submitted {
            Ok(()) => {
                self.fired.fetch_add(1, Ordering::Relaxed);
            }
            Err(reason) => {
                let reason = crate::flow::refusal_text(reason);
                lock(&self.runs).running -= 1;
                self.skipped.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(task = self.id, reason, "tick not submitted");
            }
        }
    }
}

impl Watcher for Ticker {
    fn finished(self: Arc<Self>, _task: usize, _ended: Ended) {
        let relaunch = {
            let mut runs = lock(&self.runs);
            runs.running -= 1;
            let relaunch = runs.queued && runs.running == 0;
            if relaunch {
                runs.queued = false;
                runs.running += 1;
            }
            relaunch
        };
        if relaunch {
            self.launch();
        }
    }
}

/// A schedule's fire times, for a test runtime that moves time itself: no timer task, no
/// jitter, and a cron schedule's wall clock moves with tokio's (paused) clock.
#[cfg(feature = "testing")]
pub(crate) struct Timetable {
    ticker: Arc<Ticker>,
    times: Times,
    next: Option<Instant>,
}

#[cfg(feature = "testing")]
enum Times {
    Every {
        grid: Grid,
        tick: u64,
    },
    /// Never fires: a schedule it cannot read (the macro refuses those at compile time).
    Never,
    Cron {
        cron: Box<cron::Schedule>,
        tz: chrono_tz::Tz,
        wall: DateTime<Utc>,
        at: Instant,
    },
}

#[cfg(feature = "testing")]
impl std::fmt::Debug for Timetable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Timetable").field("task", &self.ticker.id).field("next", &self.next).finish()
    }
}

#[cfg(feature = "testing")]
impl Timetable {
    /// The fire times of `ticker`'s schedule from now on; `wall` is the wall-clock time now.
    pub(crate) fn new(ticker: Arc<Ticker>, wall: DateTime<Utc>) -> Self {
        let now = Instant::now();
        let times = match (ticker.schedule.every, ticker.schedule.cron_schedule()) {
            (Some(every), _) => {
                Times::Every { grid: Grid { start: now + ticker.schedule.initial_delay, every }, tick: 0 }
            }
            (None, Some(Ok((cron, tz)))) => Times::Cron { cron: Box::new(cron), tz, wall, at: now },
            // The macro parsed the schedule at compile time: no other case reaches here.
            (None, _) => Times::Never,
        };
        let mut timetable = Self { ticker, times, next: None };
        timetable.next = timetable.after(now);
        timetable
    }

    /// When the schedule fires next.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.next
    }

    /// Fires the tick due now, as the timer would, and moves to the next one.
    pub(crate) fn fire(&mut self) {
        self.ticker.tick();
        let now = Instant::now();
        if let Times::Every { tick, .. } = &mut self.times {
            *tick += 1;
        }
        self.next = self.after(now);
    }

    fn after(&self, now: Instant) -> Option<Instant> {
        match &self.times {
            Times::Never => None,
            Times::Every { grid, tick } => Some(grid.at(*tick)),
            Times::Cron { cron, tz, wall, at } => {
                let wall_now = *wall + chrono::Duration::from_std(now - *at).ok()?;
                let due = cron.after(&wall_now.with_timezone(tz)).next()?;
                Some(*at + (due.with_timezone(&Utc) - *wall).to_std().ok()?)
            }
        }
    }
}

/// The fire times of an `every` schedule: `start + k * every`.
#[derive(Clone, Copy, Debug)]
struct Grid {
    start: Instant,
    every: Duration,
}

impl Grid {
    fn at(&self, tick: u64) -> Instant {
        // In nanoseconds so that a long run neither overflows `u32` ticks nor rounds.
        self.start + Duration::from_nanos((self.every.as_nanos() * u128::from(tick)) as u64)
    }

    /// How many ticks from `tick` on are due at `now` (at least one: `tick` itself).
    fn passed(&self, tick: u64, now: Instant) -> u64 {
        let late = now.saturating_duration_since(self.at(tick));
        1 + (late.as_nanos() / self.every.as_nanos()) as u64
    }
}

/// A grid whose tick `k` falls at Unix time `(first + k) * every + offset`, `first` being the
/// next such tick after `now`; `offset` is `initial_delay` within one period.
#[cfg(feature = "postgres")]
fn epoch_grid(every: Duration, initial_delay: Duration, now: std::time::SystemTime) -> (Grid, u64) {
    let every_ns = every.as_nanos().max(1);
    let offset = initial_delay.as_nanos() % every_ns;
    let since = now.duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
    let first = (since.saturating_sub(offset) / every_ns) + 1;
    let wait = (first * every_ns + offset).saturating_sub(since);
    (Grid { start: Instant::now() + Duration::from_nanos(wait as u64), every }, first as u64)
}

/// How many cron times from `due` up to `now` are due: `due` itself and any after it.
fn ticks_between(cron: &cron::Schedule, due: &DateTime<chrono_tz::Tz>, now: &DateTime<chrono_tz::Tz>) -> u64 {
    // Bounded: after a long suspension a per-second schedule could have a day of ticks.
    1 + cron.after(due).take_while(|time| time <= now).take(100_000).count() as u64
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use chrono::TimeZone;

    use super::*;

    #[test]
    fn the_grid_does_not_drift_and_counts_missed_ticks() {
        let start = Instant::now();
        let grid = Grid { start, every: Duration::from_millis(100) };
        assert_eq!(grid.at(1_000_000) - start, Duration::from_secs(100_000));
        assert_eq!(grid.passed(3, start + Duration::from_millis(300)), 1, "on time");
        assert_eq!(grid.passed(3, start + Duration::from_millis(399)), 1, "late, not a whole period");
        assert_eq!(grid.passed(3, start + Duration::from_millis(750)), 5, "ticks 3 to 7 are due");
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn the_epoch_grid_numbers_ticks_alike_in_every_process() {
        use std::time::UNIX_EPOCH;
        let every = Duration::from_secs(10);
        // 1,000,003 s after the epoch: tick 100,001 (at 1,000,010 s) is next, 7 s away.
        let (grid, first) = epoch_grid(every, Duration::ZERO, UNIX_EPOCH + Duration::from_secs(1_000_003));
        assert_eq!(first, 100_001);
        let wait = grid.at(0).saturating_duration_since(Instant::now());
        assert!(wait <= Duration::from_secs(7) && wait > Duration::from_secs(6), "{wait:?}");
        // An offset of 12 s is 2 s into each period.
        let (_, first) = epoch_grid(every, Duration::from_secs(12), UNIX_EPOCH + Duration::from_secs(1_000_003));
        assert_eq!(first, 100_001, "the next tick is at 1,000,012 s");
        let (_, first) = epoch_grid(every, Duration::from_secs(2), UNIX_EPOCH + Duration::from_secs(1_000_001));
        assert_eq!(first, 100_000, "the next tick is at 1,000,002 s");
    }

    #[test]
    fn cron_fires_at_its_next_time_in_its_time_zone() {
        let cron = cron::Schedule::from_str("0 0 10 * * *").unwrap();
        let tz: chrono_tz::Tz = "Asia/Shanghai".parse().unwrap();
        let at = |y, mo, d, h, mi| tz.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap();
        assert_eq!(cron.after(&at(2026, 11, 27, 9, 59)).next(), Some(at(2026, 11, 27, 10, 0)));
        assert_eq!(cron.after(&at(2026, 11, 27, 10, 0)).next(), Some(at(2026, 11, 28, 10, 0)));
        // 10:00 Shanghai is 02:00 UTC.
        assert_eq!(at(2026, 11, 28, 10, 0).with_timezone(&Utc).to_rfc3339(), "2026-11-28T02:00:00+00:00");
        assert_eq!(ticks_between(&cron, &at(2026, 11, 25, 10, 0), &at(2026, 11, 27, 12, 0)), 3);
    }
}
