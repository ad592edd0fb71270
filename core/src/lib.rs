// The README is the tutorial; including it here runs its examples as doctests.
#![doc = include_str!("../../README.md")]
#![warn(missing_docs, unreachable_pub, rust_2018_idioms)]
// The tutorial shows a `build.rs`, whose `fn main` is the point of the example.
#![allow(clippy::needless_doctest_main)]

// The layers, bottom to top, are drawn in the README's architecture section.
mod completion;
mod crate_checks;
mod deadline;
mod delay;
mod durations;
mod entry;
mod erased;
mod error;
mod fan_in;
mod flow;
mod flow_id;
#[cfg(feature = "testing")]
mod harness;
#[cfg(feature = "http")]
pub mod http;
mod job;
mod lease;
#[cfg(feature = "http")]
mod metrics;
#[cfg(feature = "otel")]
pub mod otel;
#[cfg(feature = "otel")]
mod otel_settings;
mod outcome;
mod pool;
mod pools;
#[cfg(feature = "postgres")]
pub mod postgres;
mod problem;
#[cfg(feature = "profiling")]
mod profiling;
mod queue;
mod readiness;
mod record;
mod registry;
mod retry;
mod route;
mod runtime;
mod schedule;
mod sync;
mod tally;
mod task;
#[cfg(feature = "testing")]
pub mod testing;
mod trace;
mod trace_id;
pub mod variants;
mod warmup;

pub use completion::Completion;
pub use delay::DelayedKey;
pub use error::{StartError, SubmitError};
pub use fan_in::FanIn;
pub use flow::{Flow, FlowId, FlowReport, TaskStatus};
pub use outcome::{Outcome, TaskError};
pub use pool::PoolStats;
pub use preheat_macros::{metadata, task, warmup};
pub use preheat_meta as meta;
pub use problem::{Problem, RegistryError};
pub use readiness::{Lifecycle, Phase, Readiness, ResourceState};
pub use record::ShutdownError;
pub use record::TaskRecord;
pub use registry::{RegisteredTask, Registry};
pub use route::{Route, WeightsError};
pub use runtime::{Delay, Runtime, RuntimeBuilder};
pub use schedule::ScheduleStats;
pub use task::{Ctx, Task};
pub use trace_id::TraceId;
pub use warmup::WarmState;

/// Items the macros expand to. Not a public API: it may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use include_dir;
    pub use linkme;

    pub use crate::crate_checks::{
        InputFromUpstream, SameAsNextVariant, TaskIdHash, UniqueTaskId, VariantOf, at_crate_root, input_from_upstream,
        same_as_next_variant,
    };
    pub use crate::entry::{METADATA, MetadataDir, MetadataDocument, TASKS, TaskEntry};
    pub use crate::task::TaskSlot;
    pub use crate::warmup::{WARMERS, WarmFuture, WarmerEntry, warm_result};

    /// Splits a task function's return type into output and error.
    #[diagnostic::on_unimplemented(
        message = "a `#[task]` function must return `Result<T, E>`, not `{Self}`",
        label = "expected `Result<YourOutput, YourError>`"
    )]
    pub trait TaskResult {
        /// The success type.
        type Ok;
        /// The error type.
        type Err;
        /// Converts into the `Result` (the identity).
        fn into_result(self) -> Result<Self::Ok, Self::Err>;
    }

    impl<T, E> TaskResult for Result<T, E> {
        type Ok = T;
        type Err = E;
        fn into_result(self) -> Self {
            self
        }
    }
}
