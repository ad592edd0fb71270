//! Which variant of a task a submit runs: [`Route`], and the per-runtime weights it is read
//! against.
//!
//! A task with `variants: { v1: 90, v2: 10 }` has one pool per variant. Each submit picks one:
//! a coloured submit takes the variant its colour names; otherwise its routing key (the key a
//! submit names, a delayed task's key, a flow's id, a durable row's key) picks the same variant
//! every time for the same weights; a submit with no key picks at random by weight. Tasks
//! without variants never get here: their submits read one `Option` and go on.

use std::future::Future;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

use preheat_meta::MAX_VARIANTS;

use crate::registry::VariantGroup;

/// How the submits made inside [`Route::scope`] pick a variant of tasks that have `variants`;
/// tasks without variants ignore it.
///
/// ```
/// # async fn demo(rt: preheat::Runtime) {
/// use preheat::Route;
/// // One order always takes the same variant of every task with variants it meets:
/// Route::new().key(42_u64).scope(async { /* rt.submit(reserve, input).await */ }).await;
/// // Coloured traffic (a canary tester, a header such as `x-variant: v2`) takes `v2`
/// // wherever a task has one:
/// Route::new().colour("v2").scope(async { /* ... */ }).await;
/// # }
/// ```
#[derive(Clone, Debug, Default)]
pub struct Route {
    key: Option<u64>,
    colour: Option<Arc<str>>,
}

tokio::task_local! {
    /// The route of the submits made in the current [`Route::scope`].
    static CURRENT: Route;
}

impl Route {
    /// No key and no colour: a submit picks at random, by weight.
    pub fn new() -> Self {
        Self::default()
    }

    /// Routes by `key` (an order id, a customer id): the same key takes the same variant for the
    /// same weights, in every process of the same build.
    pub fn key(mut self, key: impl Hash) -> Self {
        self.key = Some(stable_hash(&key));
        self
    }

    /// Sends the submits to the variant named `variant` wherever a task has one, whatever the
    /// weights (even 0). Tasks without a variant of that name route by key or weight.
    pub fn colour(mut self, variant: impl Into<Arc<str>>) -> Self {
        self.colour = Some(variant.into());
        self
    }

    /// Runs `work` with this route applied to every submit it makes, through any runtime.
    pub async fn scope<F: Future>(self, work: F) -> F::Output {
        CURRENT.scope(self, work).await
    }

    /// The route of the current scope, if any.
    pub(crate) fn current() -> Option<Route> {
        CURRENT.try_with(Route::clone).ok()
    }

    /// The route of the current scope, or no key and no colour outside any scope.
    pub(crate) fn from_scope() -> Route {
        Self::current().unwrap_or_default()
    }

    /// The colour, for a flow that keeps it for its downstream tasks.
    pub(crate) fn colour_name(&self) -> Option<&Arc<str>> {
        self.colour.as_ref()
    }

    /// This route, with `key` used when it names none of its own.
    pub(crate) fn or_key(mut self, key: Option<u64>) -> Self {
        self.key = self.key.or(key);
        self
    }
}

/// A key's hash, the same in every process of one build: FNV-1a over what `Hash` writes.
pub(crate) fn stable_hash(key: &(impl Hash + ?Sized)) -> u64 {
    struct Fnv(u64);
    impl Hasher for Fnv {
        fn finish(&self) -> u64 {
            self.0
        }
        fn write(&mut self, bytes: &[u8]) {
            for &byte in bytes {
                self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
    }
    let mut hasher = Fnv(0xcbf2_9ce4_8422_2325);
    key.hash(&mut hasher);
    hasher.finish()
}

/// One task's variants and their current weights, in one runtime.
#[derive(Debug)]
pub(crate) struct Router {
    pub(crate) group: &'static VariantGroup,
    weights: Box<[AtomicU32]>,
}

impl Router {
    pub(crate) fn new(group: &'static VariantGroup) -> Self {
        Self { group, weights: group.members.iter().map(|member| AtomicU32::new(member.weight)).collect() }
    }

    /// The function index of the variant `route` takes.
    pub(crate) fn pick(&self, route: &Route) -> usize {
        let members = &self.group.members;
        if let Some(colour) = &route.colour
            && let Some(member) = members.iter().find(|member| member.name == colour.as_ref())
        {
            return member.index;
        }
        // One load per weight, so that a concurrent change cannot make the sum disagree with
        // the weights it is the sum of.
        let mut weights = [0u32; MAX_VARIANTS];
        for (weight, current) in weights.iter_mut().zip(self.weights.iter()) {
            *weight = current.load(Relaxed);
        }
        let total: u64 = weights.iter().map(|&weight| u64::from(weight)).sum();
        let mut point = match route.key {
            Some(key) => key % total.max(1),
            None => fastrand::u64(..total.max(1)),
        };
        for (member, &weight) in members.iter().zip(&weights) {
            if point < u64::from(weight) {
                return member.index;
            }
            point -= u64::from(weight);
        }
        members[0].index
    }

    /// The current weights, in the document's order.
    pub(crate) fn weights(&self) -> Vec<(&'static str, u32)> {
        self.group
            .members
            .iter()
            .zip(self.weights.iter())
            .map(|(member, weight)| (member.name, weight.load(Relaxed)))
            .collect()
    }

    /// Sets the weights of the named variants; the others keep theirs.
    pub(crate) fn set(&self, task: &'static str, weights: &[(&str, u32)]) -> Result<(), WeightsError> {
        let mut next: Vec<u32> = self.weights.iter().map(|weight| weight.load(Relaxed)).collect();
        for &(name, weight) in weights {
            let Some(position) = self.group.members.iter().position(|member| member.name == name) else {
                let listed = self.group.members.iter().map(|member| format!("`{}`", member.name)).collect();
                return Err(WeightsError::UnknownVariant { task, variant: name.to_owned(), listed });
            };
            if weight > preheat_meta::MAX_WEIGHT {
                return Err(WeightsError::TooHeavy { task, variant: name.to_owned(), weight });
            }
            next[position] = weight;
        }
        if next.iter().all(|&weight| weight == 0) {
            return Err(WeightsError::NoTraffic { task });
        }
        for (weight, value) in self.weights.iter().zip(next) {
            weight.store(value, Relaxed);
        }
        Ok(())
    }
}

/// Why [`Runtime::set_weights`](crate::Runtime::set_weights) changed nothing.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WeightsError {
    /// No task has this id.
    #[error("no task `{task}` is registered")]
    UnknownTask {
        /// The id asked for.
        task: String,
    },
    /// The task has no `variants`.
    #[error("task `{task}` has no `variants`, so it has no weights to set")]
    NoVariants {
        /// The task.
        task: &'static str,
    },
    /// A weight names a variant the task does not have.
    #[error("task `{task}` has no variant `{variant}`; its variants are {}", listed.join(", "))]
    UnknownVariant {
        /// The task.
        task: &'static str,
        /// The name given.
        variant: String,
        /// The task's variants, quoted.
        listed: Vec<String>,
    },
    /// A weight above the most the YAML allows.
    #[error(
        "weight {weight} of variant `{variant}` of task `{task}` is above the most allowed, {}",
        preheat_meta::MAX_WEIGHT
    )]
    TooHeavy {
        /// The task.
        task: &'static str,
        /// The variant.
        variant: String,
        /// The weight given.
        weight: u32,
    },
    /// Every weight would be 0.
    #[error("every weight of task `{task}` would be 0, so only coloured traffic would reach it; give one a share")]
    NoTraffic {
        /// The task.
        task: &'static str,
    },
}
