//! Trace context carried with a job, from its submit to each of its attempts (#16).
//!
//! A submit opens a short producer span as a child of the caller's current span and keeps that
//! span's context in the [`Job`](crate::job::Job); each attempt's consumer span continues it.
//! Flows, delays and the PostgreSQL backend hand the context on, so one trace follows a piece of
//! work through every hop. Without the `otel` feature this module is empty: the hot path of
//! such a build has no trace code at all (only [`TraceId`](crate::TraceId) exists).

#[cfg(feature = "otel")]
pub(crate) use carried::{Carried, Parent, consumer_span, record_failure, scoped};

#[cfg(feature = "otel")]
mod carried {
    use std::cell::Cell;
    use std::time::Instant;

    use opentelemetry::Context;
    use opentelemetry::trace::{SpanContext, TraceContextExt, TraceFlags, TraceState};
    use tracing_opentelemetry::OpenTelemetrySpanExt;

    use crate::TraceId;
    use crate::flow_id::FlowId;
    use crate::otel_settings::{Retries, Settings};

    /// A job's trace context: its producer span's, and when it was submitted (for the queue wait).
    #[derive(Clone, Debug)]
    pub(crate) struct Carried {
        pub(crate) context: SpanContext,
        pub(crate) submitted: Option<Instant>,
        pub(crate) retries: Retries,
    }

    /// Where the producer spans of the submits [`scoped`] runs hang, instead of under the
    /// caller's current span.
    #[derive(Clone, Copy, Debug)]
    pub(crate) enum Parent<'a> {
        /// Under a context kept from an earlier submit: a delay's, a flow run's root's.
        Kept(Option<&'a Carried>),
        /// A new trace: a schedule's tick continues nothing.
        Root,
    }

    /// What [`scoped`] set for the submits it runs.
    #[derive(Clone, Debug)]
    enum Scope {
        Kept(SpanContext),
        Root,
        /// The work is not traced (its flow's root was not sampled): no span.
        Off,
    }

    thread_local! {
        /// Set by [`scoped`] for submits whose caller is not the one who asked for the work.
        static PARENT: Cell<Option<Scope>> = const { Cell::new(None) };
    }

    /// Runs `submit` with its jobs' producer spans under `parent`. Submits are synchronous where
    /// this is used (a flow's next task, a delay come due, a tick), so a thread-local is enough.
    pub(crate) fn scoped<R>(parent: Parent<'_>, submit: impl FnOnce() -> R) -> R {
        let scope = match parent {
            Parent::Kept(Some(carried)) => Scope::Kept(carried.context.clone()),
            Parent::Kept(None) => Scope::Off,
            Parent::Root => Scope::Root,
        };
        let before = PARENT.replace(Some(scope));
        // Restored even if `submit` panics, so a later submit on this thread is not misparented.
        struct Restore(Option<Scope>);
        impl Drop for Restore {
            fn drop(&mut self) {
                PARENT.set(self.0.take());
            }
        }
        let _restore = Restore(before);
        submit()
    }

    impl Carried {
        /// Opens the producer span of a submit of `task` and keeps its context; `None` when no
        /// preheat layer is installed or the span is not sampled, which costs one check.
        pub(crate) fn capture(task: &'static str) -> Option<Box<Self>> {
            let (settings, in_span) = Settings::current()?;
            let kept = PARENT.take();
            PARENT.set(kept.clone());
            let parent = match kept {
                Some(Scope::Kept(context)) => Some(Context::new().with_remote_span_context(context)),
                Some(Scope::Root) => None,
                Some(Scope::Off) => return None,
                None if in_span => Some(tracing::Span::current().context()),
                // The cheap case: the benchmark's and many shops' submits come from no span.
                None => None,
            };
            let parent_sampled = parent.as_ref().is_some_and(|cx| cx.span().span_context().is_sampled());
            if settings.roots_dropped && !parent_sampled {
                return None;
            }
            let span = tracing::info_span!(
                parent: None,
                "preheat.submit",
                otel.name = format!("submit {task}"),
                otel.kind = "producer",
                preheat.task = task,
            );
            // Before the span is first entered or asked for its context: after, it is too late.
            let _ = span.set_parent(parent.unwrap_or_default());
            let context = span.context().span().span_context().clone();
            context
                .is_sampled()
                .then(|| Box::new(Self { context, submitted: Some(Instant::now()), retries: settings.retries }))
        }

        /// The context stored with a PostgreSQL row, as a W3C `traceparent`.
        #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
        pub(crate) fn traceparent(&self) -> String {
            let context = &self.context;
            format!("00-{}-{}-{:02x}", context.trace_id(), context.span_id(), context.trace_flags().to_u8())
        }

        /// A context read back from a `traceparent`, submitted in another process; `None` if it
        /// does not parse or is not sampled.
        #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
        pub(crate) fn from_traceparent(traceparent: &str) -> Option<Box<Self>> {
            let (settings, _) = Settings::current()?;
            let mut parts = traceparent.trim().split('-');
            let (Some("00"), Some(trace), Some(span), Some(flags), None) =
                (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return None;
            };
            let trace = opentelemetry::trace::TraceId::from_hex(trace).ok()?;
            let span = opentelemetry::trace::SpanId::from_hex(span).ok()?;
            let flags = TraceFlags::new(u8::from_str_radix(flags, 16).ok()?);
            let context = SpanContext::new(trace, span, flags, true, TraceState::NONE);
            (context.is_valid() && context.is_sampled())
                .then(|| Box::new(Self { context, submitted: None, retries: settings.retries }))
        }
    }

    /// The span of one attempt of a job that carries a trace, and the trace id the task sees.
    /// The first attempt (or every one, with [`Retries::Children`]) is a child of the submit;
    /// a later one is a root linked to it, so a long retry does not stretch the submit's trace.
    pub(crate) fn consumer_span(
        carried: &Carried,
        task: &'static str,
        variant: Option<&'static str>,
        attempt: u32,
        flow: Option<FlowId>,
    ) -> (tracing::Span, Option<TraceId>) {
        let queue_wait_ms = match (attempt, carried.submitted) {
            (1, Some(submitted)) => Some(submitted.elapsed().as_secs_f64() * 1e3),
            _ => None,
        };
        let span = tracing::info_span!(
            parent: None,
            "preheat.run",
            otel.name = task,
            otel.kind = "consumer",
            otel.status_code = tracing::field::Empty,
            preheat.task = task,
            preheat.attempt = attempt,
            preheat.variant = variant,
            preheat.queue_wait_ms = queue_wait_ms,
            preheat.outcome = tracing::field::Empty,
            trace_id = tracing::field::Empty,
            flow_id = flow.map(tracing::field::display),
        );
        if attempt == 1 || carried.retries == Retries::Children {
            let _ = span.set_parent(Context::new().with_remote_span_context(carried.context.clone()));
        } else {
            span.add_link(carried.context.clone());
        }
        let context = span.context();
        let span_ref = context.span();
        let ids = span_ref.span_context();
        let trace = ids.is_valid().then(|| TraceId::from_bytes(ids.trace_id().to_bytes()));
        if let Some(trace) = trace {
            span.record("trace_id", tracing::field::display(trace));
        }
        (span, trace)
    }

    /// Records how a failed attempt ended on its span.
    pub(crate) fn record_failure<E>(span: &tracing::Span, error: &crate::outcome::TaskError<E>) {
        use crate::outcome::TaskError;
        let outcome = match error {
            TaskError::Failed(_) => "failed",
            TaskError::Panicked(_) => "panicked",
            TaskError::TimedOut(_) => "timed_out",
            _ => "error",
        };
        span.record("preheat.outcome", outcome);
        span.record("otel.status_code", "error");
    }
}
