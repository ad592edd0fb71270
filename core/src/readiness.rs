//! The runtime's lifecycle and its readiness report: what `/readyz` answers.

use std::fmt;
use std::time::Duration;

use serde::{Serialize, Serializer};

use crate::warmup::WarmState;

/// Where a runtime is in its life. It only moves forward, in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Lifecycle {
    /// Building the registry, the eager pools and the timers.
    Starting,
    /// Pools and timers are up; resources are warming (or one failed: see [`Readiness`]).
    Warming,
    /// Everything is warm: tasks run at full speed.
    Ready,
    /// Shutdown has begun: no new work, the queued work finishes.
    Draining,
    /// Shut down.
    Stopped,
}

impl fmt::Display for Lifecycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Starting => "starting",
            Self::Warming => "warming",
            Self::Ready => "ready",
            Self::Draining => "draining",
            Self::Stopped => "stopped",
        })
    }
}

/// One timed step of start-up: `registry`, `pools`, `timers`, or `warmup:<resource>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Phase {
    /// The step.
    pub name: String,
    /// How long it took.
    #[serde(rename = "ms", serialize_with = "millis")]
    pub took: Duration,
}

/// Whether a runtime is ready, how its start-up went, and why it is not ready if it is not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Readiness {
    /// Where the runtime is in its life.
    pub state: Lifecycle,
    /// Each start-up step finished so far, with its duration.
    pub phases: Vec<Phase>,
    /// Each resource and its warm-up state.
    pub resources: Vec<ResourceState>,
}

/// A resource in a [`Readiness`] report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ResourceState {
    /// The resource, as named by `#[warmup("...")]`.
    pub name: &'static str,
    /// How far its warm-up has come.
    #[serde(flatten)]
    pub state: WarmState,
}

impl Readiness {
    /// Whether the runtime is ready: [`Lifecycle::Ready`].
    pub fn is_ready(&self) -> bool {
        self.state == Lifecycle::Ready
    }

    /// Why the runtime is not ready, for people: `None` when it is.
    pub fn reason(&self) -> Option<String> {
        if self.is_ready() {
            return None;
        }
        let failed: Vec<String> = self
            .resources
            .iter()
            .filter_map(|resource| match &resource.state {
                WarmState::Failed { attempts, error } => {
                    Some(format!("resource `{}` failed to warm after {attempts} attempt(s): {error}", resource.name))
                }
                _ => None,
            })
            .collect();
        if !failed.is_empty() {
            return Some(failed.join("; "));
        }
        let cold: Vec<&str> = self
            .resources
            .iter()
            .filter(|resource| !matches!(resource.state, WarmState::Warm { .. }))
            .map(|resource| resource.name)
            .collect();
        Some(match self.state {
            Lifecycle::Warming if !cold.is_empty() => format!("warming: {}", cold.join(", ")),
            state => format!("the runtime is {state}"),
        })
    }
}

/// Writes a duration as fractional milliseconds, the unit people read start-up in.
pub(crate) fn millis<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(duration.as_secs_f64() * 1e3)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(state: Lifecycle, resources: Vec<(&'static str, WarmState)>) -> Readiness {
        let resources = resources.into_iter().map(|(name, state)| ResourceState { name, state }).collect();
        Readiness { state, phases: Vec::new(), resources }
    }

    #[test]
    fn the_reason_names_what_is_not_warm() {
        let warm = WarmState::Warm { took: Duration::from_millis(5), attempts: 1 };
        assert_eq!(report(Lifecycle::Ready, vec![("db", warm.clone())]).reason(), None);
        let warming = report(Lifecycle::Warming, vec![("db", warm), ("http", WarmState::Warming { attempt: 2 })]);
        assert_eq!(warming.reason().as_deref(), Some("warming: http"));
        let failed = WarmState::Failed { attempts: 3, error: "connection refused".into() };
        assert_eq!(
            report(Lifecycle::Warming, vec![("db", failed)]).reason().as_deref(),
            Some("resource `db` failed to warm after 3 attempt(s): connection refused")
        );
        assert_eq!(report(Lifecycle::Draining, vec![]).reason().as_deref(), Some("the runtime is draining"));
    }

    #[test]
    fn the_report_serializes_as_json_in_milliseconds() {
        let mut readiness =
            report(Lifecycle::Ready, vec![("db", WarmState::Warm { took: Duration::from_micros(1500), attempts: 1 })]);
        readiness.phases.push(Phase { name: "pools".into(), took: Duration::from_micros(250) });
        assert_eq!(
            serde_json::to_string(&readiness).unwrap(),
            r#"{"state":"ready","phases":[{"name":"pools","ms":0.25}],"resources":[{"name":"db","state":"warm","took_ms":1.5,"attempts":1}]}"#
        );
    }
}
