//! [`FlowId`]: the id of one run of a flow.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// Identifies one run of a flow; it is in the context and in every log line of the run's tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FlowId(u64);

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl FlowId {
    /// A new id, unique in this process.
    pub(crate) fn next() -> Self {
        Self(NEXT_ID.fetch_add(1, Ordering::Relaxed))
    }

    /// The id of a flow run stored in the PostgreSQL task table.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) fn from_stored(id: i64) -> Self {
        Self(id as u64)
    }
}

impl fmt::Display for FlowId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "flow-{:x}", self.0)
    }
}
