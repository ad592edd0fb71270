//! The fields of a task's YAML document and their defaults.

use std::borrow::Cow;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::Variant;

/// Everything the runtime needs to know about one task, as written in its YAML document.
///
/// Only `id` is required; every other field has the default documented on it. The strings are
/// `Cow`s so that `metadata!` can emit a parsed document as a `static`: the runtime then reads
/// metadata without parsing any YAML.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TaskMeta {
    /// The task id, `domain.action` (for example `order.timeout_close`); matches `#[task("...")]`.
    pub id: Cow<'static, str>,
    /// What the task does, for people reading `/tasks` or the logs. Default: empty.
    #[serde(default)]
    pub description: Cow<'static, str>,
    /// How long one attempt may run before it is cancelled and counted as failed. Default: `30s`.
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// How often, and how patiently, a failed task is tried again.
    #[serde(default)]
    pub retry: Retry,
    /// The size of the task's worker pool.
    #[serde(default)]
    pub workers: Workers,
    /// The task's bounded queue.
    #[serde(default)]
    pub queue: Queue,
    /// When the pool is built. Default: `eager`.
    #[serde(default)]
    pub warmup: Warmup,
    /// Ids of the tasks this one follows. Default: none.
    #[serde(default)]
    pub upstream: Cow<'static, [Cow<'static, str>]>,
    /// When the task runs by itself. Default: never (it runs when submitted).
    #[serde(default)]
    pub schedule: Option<Schedule>,
    /// Names of the resources the task needs warm (`[db, payments_api]`), each warmed by a
    /// `#[warmup("name")]` function. Until a resource is warm the task's jobs wait for it; if
    /// its warm-up failed for good, they fail. Default: none.
    #[serde(default)]
    pub resources: Cow<'static, [Cow<'static, str>]>,
    /// Several functions of this task and their shares of the traffic, in order:
    /// `variants: { v1: 90, v2: 10 }` (see [`Variant`]). Default: none, one function.
    #[serde(default, deserialize_with = "crate::variants::deserialize", serialize_with = "crate::variants::serialize")]
    pub variants: Cow<'static, [Variant]>,
}

/// When a task runs by itself: `schedule: { every: 2s }` or
/// `schedule: { cron: "0 0 10 * * *", tz: Asia/Shanghai }`. Exactly one of `every` and `cron`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Schedule {
    /// Run on a fixed grid: at start-up plus `initial_delay`, then every `every`. The grid does
    /// not drift: a late tick does not push the next one back.
    #[serde(default, with = "humantime_serde")]
    pub every: Option<Duration>,
    /// Run at the times of a cron expression with seconds: `sec min hour day month weekday`
    /// (`0 0 10 * * *` is 10:00:00 every day). The standard 5-field form `min hour day month
    /// weekday` is accepted too and runs at second 0, with weekdays as names (`Mon-Fri`).
    #[serde(default)]
    pub cron: Option<Cow<'static, str>>,
    /// The IANA time zone of `cron` (`Asia/Shanghai`). Default: `UTC`.
    #[serde(default)]
    pub tz: Option<Cow<'static, str>>,
    /// With `every`: wait this long after start-up before the first tick. Default: `0s`.
    #[serde(default, with = "humantime_serde")]
    pub initial_delay: Duration,
    /// Delay each tick by a random amount up to this, so that many processes do not all fire
    /// at once. Default: `0s`.
    #[serde(default, with = "humantime_serde")]
    pub jitter: Duration,
    /// What a tick does while the previous run is still going. Default: `skip`.
    #[serde(default)]
    pub overlap: Overlap,
    /// What happens to ticks missed during a stall (a suspended process, a blocked runtime).
    /// Default: `skip`.
    #[serde(default)]
    pub missed: Missed,
    /// With `missed: catch_up`, at most this many missed ticks are run. Default: `10`.
    #[serde(default = "default_catch_up_max")]
    pub catch_up_max: u32,
}

/// What a tick does while the previous run of the same schedule is still going.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Overlap {
    /// Drop the tick.
    #[default]
    Skip,
    /// Run it once the previous run has finished (one tick waits at most; more are dropped).
    Queue,
    /// Run it at once, beside the previous run.
    Allow,
}

/// What happens to ticks missed during a stall.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Missed {
    /// Run the latest missed tick once, then continue on the grid.
    #[default]
    Skip,
    /// Run every missed tick, up to `catch_up_max`, then continue on the grid.
    CatchUp,
}

/// Retry policy: `retry: { max_attempts: 3, backoff: { base: 100ms, max: 10s }, jitter: true }`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Retry {
    /// Attempts in all, the first included; `1` means never retry. Default: `3`.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// Delay before each retry.
    #[serde(default)]
    pub backoff: Backoff,
    /// Randomise each delay between half and all of its value, so that tasks that failed together
    /// do not retry together. Default: `true`.
    #[serde(default = "default_true")]
    pub jitter: bool,
}

/// Exponential backoff: the n-th retry waits `base * 2^(n-1)`, never more than `max`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Backoff {
    /// Delay before the first retry. Default: `100ms`.
    #[serde(default = "default_backoff_base", with = "humantime_serde")]
    pub base: Duration,
    /// Upper bound of any delay. Default: `10s`.
    #[serde(default = "default_backoff_max", with = "humantime_serde")]
    pub max: Duration,
}

/// Worker pool size: `workers: { min: 4, max: 16, idle: 60s }`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Workers {
    /// Workers spawned when the pool is built and kept for its whole life (the pre-warmed ones).
    /// Default: `1`.
    #[serde(default = "default_min_workers")]
    pub min: u32,
    /// The pool grows toward this many workers while tasks wait in the queue. Default: `4`, or
    /// `min` when `min` is larger.
    #[serde(default)]
    pub max: Option<u32>,
    /// A worker above `min` that found no work for this long exits. Default: `60s`.
    #[serde(default = "default_idle", with = "humantime_serde")]
    pub idle: Duration,
}

/// Bounded queue: `queue: { capacity: 1024, on_full: block }`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Queue {
    /// Tasks that may wait for a worker. Default: `1024`.
    #[serde(default = "default_capacity")]
    pub capacity: u32,
    /// What `submit` does when the queue is full. Default: `block`.
    #[serde(default)]
    pub on_full: OnFull,
}

/// What `submit` does when a task's queue is full.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnFull {
    /// Wait for room (back-pressure on the caller).
    #[default]
    Block,
    /// Fail at once with an error that names the task and gives the input back.
    Reject,
}

/// When a task's worker pool is built.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Warmup {
    /// During start-up, before the runtime reports ready.
    #[default]
    Eager,
    /// On the first submit, for rarely used tasks that should not hold workers.
    Lazy,
}

impl Workers {
    /// The largest pool size, with its default applied.
    pub fn max(&self) -> u32 {
        self.max.unwrap_or(DEFAULT_MAX_WORKERS.max(self.min))
    }
}

impl Default for Retry {
    fn default() -> Self {
        Self { max_attempts: default_max_attempts(), backoff: Backoff::default(), jitter: true }
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Self { base: default_backoff_base(), max: default_backoff_max() }
    }
}

impl Default for Workers {
    fn default() -> Self {
        Self { min: default_min_workers(), max: None, idle: default_idle() }
    }
}

impl Default for Queue {
    fn default() -> Self {
        Self { capacity: default_capacity(), on_full: OnFull::default() }
    }
}

impl TaskMeta {
    /// Metadata with every default, for the task `id`.
    pub fn new(id: impl Into<Cow<'static, str>>) -> Self {
        Self {
            id: id.into(),
            description: Cow::Borrowed(""),
            timeout: default_timeout(),
            retry: Retry::default(),
            workers: Workers::default(),
            queue: Queue::default(),
            warmup: Warmup::default(),
            upstream: Cow::Borrowed(&[]),
            schedule: None,
            resources: Cow::Borrowed(&[]),
            variants: Cow::Borrowed(&[]),
        }
    }

    /// The variant a `#[task]` function without `variant = ...` implements: the first listed.
    pub fn first_variant(&self) -> Option<&str> {
        self.variants.first().map(|variant| variant.name.as_ref())
    }
}

impl Schedule {
    /// The parsed cron expression and its time zone; `None` for an `every` schedule.
    pub fn cron_schedule(&self) -> Option<Result<(cron::Schedule, chrono_tz::Tz), String>> {
        let expression = self.cron.as_deref()?;
        Some(parse_cron(expression, self.tz.as_deref()))
    }
}

fn parse_cron(expression: &str, tz: Option<&str>) -> Result<(cron::Schedule, chrono_tz::Tz), String> {
    let fields: Vec<&str> = expression.split_whitespace().collect();
    // The standard 5-field form (`min hour day month weekday`) runs at second 0. Its numeric
    // weekdays count from Sunday = 0, the 6-field form's from Sunday = 1: refuse them rather than
    // run a day off.
    let with_seconds;
    let expression = match fields.as_slice() {
        [.., weekday] if fields.len() == 5 && weekday.contains(|c: char| c.is_ascii_digit()) => {
            return Err(format!(
                "`{expression}` is a 5-field cron expression with a numeric weekday `{weekday}`, which standard \
                 cron counts from Sunday = 0 and the 6-field form (`sec min hour day month weekday`) from \
                 Sunday = 1; write the weekdays as names (`Mon-Fri`) or use the 6-field form"
            ));
        }
        _ if fields.len() == 5 => {
            with_seconds = format!("0 {expression}");
            with_seconds.as_str()
        }
        _ => expression,
    };
    let schedule = std::str::FromStr::from_str(expression).map_err(|error: cron::error::Error| {
        // The crate's message spans lines with a caret; one line reads better in a diagnostic.
        let reason = error.to_string();
        let reason = reason.lines().last().unwrap_or_default().trim().to_owned();
        // The crate's bounds read off by one ("Hours must be less than 23" for 25); the ranges
        // after it say what is allowed.
        format!(
            "`{expression}` is not a cron expression `sec min hour day month weekday` (the first of the 6 \
             fields is seconds; the standard 5-field form without them is accepted too; seconds and minutes \
             0-59, hours 0-23, days 1-31, months 1-12 or Jan-Dec, weekdays 1-7 or Sun-Sat): {reason}"
        )
    })?;
    let tz = match tz {
        None => chrono_tz::UTC,
        Some(name) => name.parse().map_err(|_| {
            let names = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name());
            let hint =
                crate::closest(name, names).map(|close| format!("; did you mean `{close}`?")).unwrap_or_default();
            format!("unknown time zone `{name}`; use an IANA name such as `Asia/Shanghai` or `UTC`{hint}")
        })?,
    };
    Ok((schedule, tz))
}

/// Constructors for the `static` data that `metadata!` emits. Not a public API.
#[doc(hidden)]
impl TaskMeta {
    #[allow(clippy::too_many_arguments)]
    pub const fn __const(
        id: &'static str,
        description: &'static str,
        timeout: Duration,
        retry: Retry,
        workers: Workers,
        queue: Queue,
        warmup: Warmup,
        upstream: &'static [Cow<'static, str>],
        schedule: Option<Schedule>,
        resources: &'static [Cow<'static, str>],
        variants: &'static [Variant],
    ) -> Self {
        Self {
            id: Cow::Borrowed(id),
            description: Cow::Borrowed(description),
            timeout,
            retry,
            workers,
            queue,
            warmup,
            upstream: Cow::Borrowed(upstream),
            schedule,
            resources: Cow::Borrowed(resources),
            variants: Cow::Borrowed(variants),
        }
    }
}

#[doc(hidden)]
impl Schedule {
    #[allow(clippy::too_many_arguments)]
    pub const fn __const(
        every: Option<Duration>,
        cron: Option<&'static str>,
        tz: Option<&'static str>,
        initial_delay: Duration,
        jitter: Duration,
        overlap: Overlap,
        missed: Missed,
        catch_up_max: u32,
    ) -> Self {
        let cron = match cron {
            Some(cron) => Some(Cow::Borrowed(cron)),
            None => None,
        };
        let tz = match tz {
            Some(tz) => Some(Cow::Borrowed(tz)),
            None => None,
        };
        Self { every, cron, tz, initial_delay, jitter, overlap, missed, catch_up_max }
    }
}

#[doc(hidden)]
impl Retry {
    pub const fn __const(max_attempts: u32, base: Duration, max: Duration, jitter: bool) -> Self {
        Self { max_attempts, backoff: Backoff { base, max }, jitter }
    }
}

#[doc(hidden)]
impl Workers {
    pub const fn __const(min: u32, max: Option<u32>, idle: Duration) -> Self {
        Self { min, max, idle }
    }
}

#[doc(hidden)]
impl Queue {
    pub const fn __const(capacity: u32, on_full: OnFull) -> Self {
        Self { capacity, on_full }
    }
}

const DEFAULT_MAX_WORKERS: u32 = 4;

fn default_timeout() -> Duration {
    Duration::from_secs(30)
}
fn default_max_attempts() -> u32 {
    3
}
fn default_true() -> bool {
    true
}
fn default_backoff_base() -> Duration {
    Duration::from_millis(100)
}
fn default_backoff_max() -> Duration {
    Duration::from_secs(10)
}
fn default_min_workers() -> u32 {
    1
}
fn default_idle() -> Duration {
    Duration::from_secs(60)
}
fn default_catch_up_max() -> u32 {
    10
}
fn default_capacity() -> u32 {
    1024
}
