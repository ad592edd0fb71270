//! Resource warm-up: the `#[warmup("db")]` functions, run concurrently at start-up, each with a
//! deadline and retries, and the state each resource is in, which tasks that need it wait on.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use linkme::distributed_slice;
use preheat_meta::Retry;
use serde::Serialize;
use tokio::sync::watch;

use crate::error::StartError;
use crate::retry::backoff;

/// Every `#[warmup]` function linked into the binary.
#[doc(hidden)]
#[distributed_slice]
pub static WARMERS: [WarmerEntry];

/// A warm-up future, boxed so that every warmer has one type.
#[doc(hidden)]
pub type WarmFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// What `#[warmup]` registers: the function and its deadline and retry policy.
#[doc(hidden)]
#[derive(Debug)]
pub struct WarmerEntry {
    pub(crate) resource: &'static str,
    pub(crate) crate_name: &'static str,
    pub(crate) file: &'static str,
    pub(crate) line: u32,
    pub(crate) timeout: Duration,
    pub(crate) retry: Retry,
    pub(crate) warm: fn() -> WarmFuture,
}

impl WarmerEntry {
    /// The entry of the warmer of `resource`, defined at `file:line` of `crate_name`. Each
    /// attempt may take `timeout`; a failed one is retried up to `max_attempts` in all, after
    /// 100 ms, doubling up to 5 s, with jitter.
    pub const fn new(
        resource: &'static str,
        crate_name: &'static str,
        file: &'static str,
        line: u32,
        timeout: Duration,
        max_attempts: u32,
        warm: fn() -> WarmFuture,
    ) -> Self {
        let retry = Retry::__const(max_attempts, Duration::from_millis(100), Duration::from_secs(5), true);
        Self { resource, crate_name, file, line, timeout, retry, warm }
    }

    /// Where the `#[warmup]` function is, as `file:line`.
    pub(crate) fn defined_at(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }
}

/// Turns a warmer's result into the form the runtime records. Not a public API.
#[doc(hidden)]
pub fn warm_result<T, E: std::fmt::Display>(result: Result<T, E>) -> Result<(), String> {
    result.map(drop).map_err(|error| error.to_string())
}

/// How far a resource's warm-up has come.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
#[non_exhaustive]
pub enum WarmState {
    /// Not started yet.
    Cold,
    /// An attempt is running (1-based).
    Warming {
        /// The attempt running.
        attempt: u32,
    },
    /// Warm: the tasks that need it run.
    Warm {
        /// From the start of the first attempt to the end of the one that succeeded.
        #[serde(rename = "took_ms", serialize_with = "crate::readiness::millis")]
        took: Duration,
        /// Attempts it took.
        attempts: u32,
    },
    /// Every attempt failed: the runtime stays not ready, and tasks that need the resource fail.
    Failed {
        /// Attempts made.
        attempts: u32,
        /// The last attempt's error.
        error: String,
    },
}

/// The resources of one runtime, each with its warmer and its state.
#[derive(Debug)]
pub(crate) struct Resources {
    resources: Vec<(&'static WarmerEntry, watch::Sender<WarmState>)>,
}

impl Resources {
    pub(crate) fn new(warmers: &[&'static WarmerEntry]) -> Self {
        Self { resources: warmers.iter().map(|&warmer| (warmer, watch::Sender::new(WarmState::Cold))).collect() }
    }

    /// Runs every warmer at once and returns when all have finished, warm or failed. A resource
    /// already warm (one a test supplied) is left as it is.
    pub(crate) async fn warm_all(&self) {
        let cold = self.resources.iter().filter(|(_, state)| !matches!(*state.borrow(), WarmState::Warm { .. }));
        futures_util::future::join_all(cold.map(|(warmer, state)| warm(warmer, state))).await;
    }

    /// Marks `resource` warm without running its warmer: a test supplies it.
    #[cfg(feature = "testing")]
    pub(crate) fn supplied(&self, resource: &str) {
        for (warmer, state) in &self.resources {
            if warmer.resource == resource {
                state.send_replace(WarmState::Warm { took: Duration::ZERO, attempts: 0 });
            }
        }
    }

    /// Each resource's name and state, by name.
    pub(crate) fn states(&self) -> Vec<(&'static str, WarmState)> {
        self.resources.iter().map(|(warmer, state)| (warmer.resource, state.borrow().clone())).collect()
    }

    /// Waits for each resource in turn until it is warm; the first, by name, that failed for
    /// good is the error.
    pub(crate) async fn ready(&self) -> Result<(), StartError> {
        for (warmer, state) in &self.resources {
            let mut wait = ResourceWait { resource: warmer.resource, state: state.subscribe() };
            wait.warm().await.map_err(|Failure { attempts, error }| StartError::Warmup {
                resource: warmer.resource,
                attempts,
                error,
            })?;
        }
        Ok(())
    }

    /// Waits until every warmer has finished, warm or failed for good.
    pub(crate) async fn settled(&self) {
        for (warmer, state) in &self.resources {
            let _ = ResourceWait { resource: warmer.resource, state: state.subscribe() }.warm().await;
        }
    }

    /// Whether every resource is warm.
    pub(crate) fn all_warm(&self) -> bool {
        self.resources.iter().all(|(_, state)| matches!(*state.borrow(), WarmState::Warm { .. }))
    }

    /// What a task that needs `names` waits on. The registry checked that each name exists.
    pub(crate) fn needed(&self, names: &[std::borrow::Cow<'static, str>]) -> Vec<ResourceWait> {
        names
            .iter()
            .filter_map(|name| self.resources.iter().find(|(warmer, _)| warmer.resource == name.as_ref()))
            .map(|(warmer, state)| ResourceWait { resource: warmer.resource, state: state.subscribe() })
            .collect()
    }
}

/// Runs one warmer to its end: attempts with a deadline each, retries with backoff.
async fn warm(warmer: &WarmerEntry, state: &watch::Sender<WarmState>) {
    let began = Instant::now();
    let mut attempt = 0;
    loop {
        attempt += 1;
        state.send_replace(WarmState::Warming { attempt });
        let error = match tokio::time::timeout(warmer.timeout, (warmer.warm)()).await {
            Ok(Ok(())) => {
                let took = began.elapsed();
                tracing::info!(resource = warmer.resource, attempt, ?took, "resource warm");
                state.send_replace(WarmState::Warm { took, attempts: attempt });
                return;
            }
            Ok(Err(error)) => error,
            Err(_) => format!("timed out after {:?}", warmer.timeout),
        };
        if attempt >= warmer.retry.max_attempts {
            tracing::error!(resource = warmer.resource, attempt, %error, "resource warm-up failed for good");
            state.send_replace(WarmState::Failed { attempts: attempt, error });
            return;
        }
        let delay = backoff(&warmer.retry, attempt);
        tracing::warn!(resource = warmer.resource, attempt, ?delay, %error, "resource warm-up failed; retrying");
        tokio::time::sleep(delay).await;
    }
}

/// A resource a task needs, watched by the task's pool.
#[derive(Clone, Debug)]
pub(crate) struct ResourceWait {
    pub(crate) resource: &'static str,
    state: watch::Receiver<WarmState>,
}

impl ResourceWait {
    /// Waits until the resource is warm; how its warm-up failed if it failed for good.
    pub(crate) async fn warm(&mut self) -> Result<(), Failure> {
        let settled = self.state.wait_for(|state| matches!(state, WarmState::Warm { .. } | WarmState::Failed { .. }));
        match settled.await.as_deref() {
            Ok(WarmState::Failed { attempts, error }) => Err(Failure { attempts: *attempts, error: error.clone() }),
            Ok(_) => Ok(()),
            Err(_) => Err(Failure { attempts: 0, error: "the runtime is gone".to_owned() }),
        }
    }
}

/// A resource's warm-up that failed for good.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) attempts: u32,
    pub(crate) error: String,
}
