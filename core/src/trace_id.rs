//! [`TraceId`]: the trace a task's run belongs to, in every build (see `Ctx::trace_id`).

use std::fmt;

/// The id of the trace a task's run belongs to: 16 bytes, shown as 32 lowercase hex digits as in
/// a W3C `traceparent`. See [`Ctx::trace_id`](crate::Ctx::trace_id).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TraceId([u8; 16]);

impl TraceId {
    /// The id of these bytes, as OpenTelemetry's `TraceId::to_bytes` gives them.
    #[cfg(feature = "otel")]
    pub(crate) fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The id's bytes, as OpenTelemetry's `TraceId::from_bytes` takes them.
    pub fn to_bytes(self) -> [u8; 16] {
        self.0
    }
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}
