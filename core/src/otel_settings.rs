//! What preheat's `tracing` layer tells each submit: how to trace it, and whether to at all
//! (feature `otel`). Apart from [`otel`](crate::otel) so that the job path (`trace.rs`) and the
//! set-up code each depend on it, not on each other.

use std::any::TypeId;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::{Acquire, Release};

use tracing::Subscriber;
use tracing_subscriber::Layer;

/// How the attempts after the first of a retried task appear in traces.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Retries {
    /// Each later attempt is the root of a trace of its own, linked to the submit: a retry an
    /// hour later does not stretch the submit's trace to an hour.
    #[default]
    Linked,
    /// Every attempt is a child of the submit, in the submit's trace.
    Children,
}

/// What the preheat layer (see [`crate::otel`]) tells a submit, found through the current
/// dispatcher: without the layer, nothing is traced.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Settings {
    /// Whether the sampler drops every root span (`always_off`, `parentbased_always_off`):
    /// then a submit outside any sampled span opens no span at all.
    pub(crate) roots_dropped: bool,
    pub(crate) retries: Retries,
}

impl Settings {
    /// Whether a preheat layer exists at all: if not, nothing is traced.
    #[inline]
    pub(crate) fn layer_built() -> bool {
        LAYER_BUILT.load(Acquire)
    }

    /// The settings of the preheat layer of the current dispatcher, if it has one, and
    /// whether a span is current on this thread. Asked of the dispatcher rather than through
    /// `Span::current()`, which clones the dispatcher's `Arc`: two atomic writes to a line
    /// every worker thread shares, on every submit. Only called once
    /// [`layer_built`](Self::layer_built) said yes (see `Job::new`), so not checked again here.
    pub(crate) fn current() -> Option<(Self, bool)> {
        tracing::dispatcher::get_default(|dispatch| {
            let layer = dispatch.downcast_ref::<SettingsLayer>()?;
            Some((layer.settings, dispatch.current_span().is_known()))
        })
    }
}

/// Whether a [`SettingsLayer`] was ever built in this process. A build with the `otel` feature
/// whose program never sets tracing up asks nothing else on a submit: looking up the current
/// dispatcher (a thread-local, a virtual downcast) measured 4 % of the job path.
static LAYER_BUILT: AtomicBool = AtomicBool::new(false);

/// Marks the dispatcher as preheat's: a submit finds the settings here by downcasting.
#[derive(Debug)]
pub(crate) struct SettingsLayer {
    settings: Settings,
}

impl SettingsLayer {
    pub(crate) fn new(settings: Settings) -> Self {
        LAYER_BUILT.store(true, Release);
        Self { settings }
    }
}

impl<S: Subscriber> Layer<S> for SettingsLayer {
    // `downcast_raw` is how `tracing` finds a layer inside a subscriber; it is an `unsafe fn`
    // to implement. This one returns a pointer to `self` for `Self`'s type id only, as
    // `Layer`'s documentation requires.
    #[allow(unsafe_code)]
    unsafe fn downcast_raw(&self, id: TypeId) -> Option<*const ()> {
        (id == TypeId::of::<Self>()).then_some(self as *const Self as *const ())
    }
}
