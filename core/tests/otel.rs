//! Traces across tasks (#16), checked with the SDK's in-memory exporter: one trace from a submit
//! through a flow (fan-out, fan-in, a retry), a delay, a schedule's own traces, linked retries,
//! and nothing at all when unsampled.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use opentelemetry::trace::{SpanId, SpanKind, TraceId};
use opentelemetry_sdk::trace::{InMemorySpanExporter, Sampler, SpanData};
use preheat::otel::{Retries, Tracing};
use preheat::{Ctx, Runtime, task};
use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt as _;

preheat::metadata!("tests/meta/otel");

/// One run: its task, its attempt and the trace id its context carried.
type Run = (&'static str, u32, Option<String>);

/// Every run since the test's runtime started.
static SEEN: LazyLock<Mutex<Vec<Run>>> = LazyLock::new(Mutex::default);
/// Attempts of `otel.pay`: the first fails.
static PAY_ATTEMPTS: AtomicU32 = AtomicU32::new(0);

fn seen(ctx: &Ctx) {
    let trace = ctx.trace_id().map(|id| id.to_string());
    SEEN.lock().expect("no test panics holding it").push((ctx.task_id(), ctx.attempt(), trace));
}

#[task("otel.order", metadata = "tests/meta/otel")]
async fn order(ctx: Ctx, id: u32) -> Result<u32, String> {
    seen(&ctx);
    Ok(id)
}

#[task("otel.reserve", metadata = "tests/meta/otel")]
async fn reserve(ctx: Ctx, id: u32) -> Result<u32, String> {
    seen(&ctx);
    Ok(id)
}

#[task("otel.pay", metadata = "tests/meta/otel")]
async fn pay(ctx: Ctx, id: u32) -> Result<u32, String> {
    seen(&ctx);
    if PAY_ATTEMPTS.fetch_add(1, Ordering::SeqCst).is_multiple_of(2) { Err("card declined".into()) } else { Ok(id) }
}

#[task("otel.ship", metadata = "tests/meta/otel")]
async fn ship(ctx: Ctx, parts: (u32, u32)) -> Result<u32, String> {
    seen(&ctx);
    Ok(parts.0 + parts.1)
}

#[task("otel.remind", metadata = "tests/meta/otel")]
async fn remind(ctx: Ctx, _id: u32) -> Result<(), String> {
    seen(&ctx);
    Ok(())
}

#[task("otel.sweep", metadata = "tests/meta/otel")]
async fn sweep(ctx: Ctx) -> Result<(), String> {
    seen(&ctx);
    Ok(())
}

/// The tests share the task statics: one at a time.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// An in-memory exporter behind preheat's layer, installed for this thread (the tests run on
/// current-thread runtimes, so the workers see it too).
fn traced(sampler: Sampler, retries: Retries) -> (InMemorySpanExporter, tracing::subscriber::DefaultGuard) {
    let exporter = InMemorySpanExporter::default();
    let tracing = Tracing::builder()
        .simple_exporter(exporter.clone())
        .sampler(sampler)
        .retries(retries)
        .build()
        .expect("an in-memory provider builds");
    let subscriber = tracing_subscriber::registry().with(tracing.layer());
    (exporter, tracing::subscriber::set_default(subscriber))
}

fn spans(exporter: &InMemorySpanExporter) -> Vec<SpanData> {
    exporter.get_finished_spans().expect("the in-memory exporter answers")
}

fn named<'a>(spans: &'a [SpanData], name: &str) -> Vec<&'a SpanData> {
    spans.iter().filter(|span| span.name == name).collect()
}

fn attribute(span: &SpanData, key: &str) -> Option<String> {
    span.attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string())
}

async fn runtime() -> Runtime {
    SEEN.lock().expect("no test panics holding it").clear();
    Runtime::builder().shutdown_timeout(Duration::from_secs(1)).start().await.expect("the test registry is valid")
}

#[tokio::test(start_paused = true)]
async fn one_trace_from_the_submit_through_a_flow_and_its_retry() {
    let _one = ONE_AT_A_TIME.lock().await;
    let (exporter, _installed) = traced(Sampler::AlwaysOn, Retries::Children);
    let rt = runtime().await;
    let checkout = tracing::info_span!("checkout");
    let report =
        async { rt.submit_flow(order, 7).await.expect("submitted").outcome().await }.instrument(checkout.clone()).await;
    assert!(report.succeeded(), "{report:?}");
    rt.shutdown().await.expect("a clean shutdown");
    drop(checkout);

    let spans = spans(&exporter);
    let root = named(&spans, "checkout")[0];
    let trace = root.span_context.trace_id();
    for span in &spans {
        assert_eq!(span.span_context.trace_id(), trace, "{} is in another trace", span.name);
    }
    // One producer span per job, one consumer span per attempt: pay ran twice.
    let submits: Vec<_> = spans.iter().filter(|span| span.span_kind == SpanKind::Producer).collect();
    assert_eq!(submits.len(), 4, "{submits:#?}");
    let runs: Vec<_> = spans.iter().filter(|span| span.span_kind == SpanKind::Consumer).collect();
    assert_eq!(runs.len(), 5);
    let submit_ids: Vec<SpanId> = submits.iter().map(|span| span.span_context.span_id()).collect();
    for run in &runs {
        assert!(submit_ids.contains(&run.parent_span_id), "{} has no submit for a parent", run.name);
        assert_eq!(attribute(run, "preheat.task").as_deref(), Some(run.name.as_ref()));
        assert!(attribute(run, "flow_id").is_some_and(|flow| flow.starts_with("flow-")));
    }
    let pay_runs = named(&spans, "otel.pay");
    let outcomes: Vec<_> = pay_runs.iter().map(|span| attribute(span, "preheat.outcome")).collect();
    assert_eq!(outcomes, [Some("failed".to_owned()), Some("succeeded".to_owned())]);
    assert!(pay_runs[0].attributes.iter().any(|kv| kv.key.as_str() == "preheat.queue_wait_ms"));
    assert_eq!(attribute(pay_runs[1], "preheat.attempt").as_deref(), Some("2"));
    // The root submit hangs under the caller's span.
    let root_submit = submits.iter().find(|span| span.parent_span_id == root.span_context.span_id());
    assert!(root_submit.is_some(), "no submit under `checkout`");
    // And every task saw the trace in its context.
    let seen = SEEN.lock().expect("no test panics holding it").clone();
    assert_eq!(seen.len(), 5);
    for (task, _, id) in seen {
        assert_eq!(id, Some(trace.to_string()), "{task}");
    }
}

/// Runs the order flow once, untraced by the caller, on a runtime of its own.
async fn run_order(input: u32) {
    let rt = runtime().await;
    let report = rt.submit_flow(order, input).await.expect("submitted").outcome().await;
    assert!(report.succeeded(), "{report:?}");
    rt.shutdown().await.expect("a clean shutdown");
}

#[tokio::test(start_paused = true)]
async fn later_attempts_are_linked_roots_by_default() {
    let _one = ONE_AT_A_TIME.lock().await;
    let (exporter, _installed) = traced(Sampler::AlwaysOn, Retries::Linked);
    run_order(8).await;

    let spans = spans(&exporter);
    let pay_runs = named(&spans, "otel.pay");
    let (first, second) = (pay_runs[0], pay_runs[1]);
    assert_ne!(second.span_context.trace_id(), first.span_context.trace_id());
    assert_eq!(second.parent_span_id, SpanId::INVALID);
    let link = second.links.iter().next().expect("the retry links to its submit");
    assert_eq!(link.span_context.trace_id(), first.span_context.trace_id());
    assert_eq!(link.span_context.span_id(), first.parent_span_id);
    // The task sees the trace its attempt is in.
    let seen = SEEN.lock().expect("no test panics holding it").clone();
    let pays: Vec<_> = seen.iter().filter(|(task, ..)| *task == "otel.pay").map(|(_, _, id)| id.clone()).collect();
    assert_eq!(
        pays,
        [Some(first.span_context.trace_id().to_string()), Some(second.span_context.trace_id().to_string())]
    );
}

#[tokio::test(start_paused = true)]
async fn a_delay_continues_its_submit_and_each_tick_is_a_root() {
    let _one = ONE_AT_A_TIME.lock().await;
    let (exporter, _installed) = traced(Sampler::AlwaysOn, Retries::Linked);
    let rt = runtime().await;
    let span = tracing::info_span!("later");
    span.in_scope(|| rt.submit_after(remind, 1, Duration::from_millis(500))).expect("delayed");
    // The schedule ticks every 100 ms from 100 ms: five ticks and the reminder by 550 ms.
    tokio::time::sleep(Duration::from_millis(550)).await;
    rt.shutdown().await.expect("a clean shutdown");
    drop(span);

    let spans = spans(&exporter);
    let later = named(&spans, "later")[0].span_context.trace_id();
    let reminds = named(&spans, "otel.remind");
    assert_eq!(reminds.len(), 1);
    assert_eq!(reminds[0].span_context.trace_id(), later);
    let sweeps = named(&spans, "otel.sweep");
    assert!(sweeps.len() >= 2, "{} ticks", sweeps.len());
    let mut traces: Vec<TraceId> = sweeps.iter().map(|span| span.span_context.trace_id()).collect();
    traces.sort_by_key(|id| id.to_bytes());
    traces.dedup();
    assert_eq!(traces.len(), sweeps.len(), "each tick is a trace of its own");
    assert!(!traces.contains(&later));
}

#[tokio::test(start_paused = true)]
async fn nothing_is_traced_when_unsampled() {
    let _one = ONE_AT_A_TIME.lock().await;
    let (exporter, _installed) = traced(Sampler::AlwaysOff, Retries::Linked);
    run_order(9).await;
    assert!(
        spans(&exporter)
            .iter()
            .all(|span| span.span_kind != SpanKind::Producer && span.span_kind != SpanKind::Consumer)
    );
    let seen = SEEN.lock().expect("no test panics holding it").clone();
    assert!(seen.iter().all(|(_, _, id)| id.is_none()), "{seen:?}");
}
