//! One trace across processes (#16): a submit, a local flow of three tasks with a retry, and a
//! hop through the PostgreSQL task table to a second runtime, checked with the SDK's in-memory
//! exporter. Needs `PREHEAT_DATABASE_URL` (CI sets it); without it the test says it skipped.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use opentelemetry::trace::SpanKind;
use opentelemetry_sdk::trace::{InMemorySpanExporter, Sampler};
use preheat::otel::{Retries, Tracing};
use preheat::postgres::Postgres;
use preheat::{Ctx, Runtime, task};
use tokio::sync::mpsc;
use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt as _;

preheat::metadata!("tests/meta/otel_postgres");

mod pg_support;

/// The table the flow's last task writes to.
static PG: OnceLock<Postgres> = OnceLock::new();
/// Where `otelpg.ship` reports the trace id its context carried.
static SHIPPED: OnceLock<mpsc::UnboundedSender<Option<String>>> = OnceLock::new();
static PAY_ATTEMPTS: AtomicU32 = AtomicU32::new(0);

#[task("otelpg.order", metadata = "tests/meta/otel_postgres")]
async fn order(id: u32) -> Result<u32, String> {
    Ok(id)
}

#[task("otelpg.pay", metadata = "tests/meta/otel_postgres")]
async fn pay(id: u32) -> Result<u32, String> {
    if PAY_ATTEMPTS.fetch_add(1, Ordering::SeqCst) == 0 { Err("card declined".into()) } else { Ok(id) }
}

#[task("otelpg.hand_over", metadata = "tests/meta/otel_postgres")]
async fn hand_over(id: u32) -> Result<(), String> {
    let pg = PG.get().ok_or("no table")?;
    pg.submit(ship, id).await.map_err(|error| error.to_string())?;
    Ok(())
}

#[task("otelpg.ship", metadata = "tests/meta/otel_postgres")]
async fn ship(ctx: Ctx, _id: u32) -> Result<(), String> {
    if let Some(shipped) = SHIPPED.get() {
        let _ = shipped.send(ctx.trace_id().map(|id| id.to_string()));
    }
    Ok(())
}

#[tokio::test]
async fn one_trace_through_a_flow_a_retry_and_postgres() {
    let Some(pg) = pg_support::database("otel_hop").await else { return };
    let _ = PG.set(pg.clone());
    let (shipped, mut shipments) = mpsc::unbounded_channel();
    let _ = SHIPPED.set(shipped);
    let exporter = InMemorySpanExporter::default();
    let tracing = Tracing::builder()
        .simple_exporter(exporter.clone())
        .sampler(Sampler::AlwaysOn)
        .retries(Retries::Children)
        .build()
        .expect("an in-memory provider builds");
    // For this thread, which runs both runtimes' workers (a current-thread test runtime).
    let _installed = tracing::subscriber::set_default(tracing_subscriber::registry().with(tracing.layer()));

    // The shop's process, without the table, and the worker's, on it.
    let shop = Runtime::builder().shutdown_timeout(Duration::from_secs(1)).start().await.expect("a runtime");
    let worker = pg_support::worker(&pg).await;
    let checkout = tracing::info_span!("checkout");
    let report = async { shop.submit_flow(order, 42).await.expect("submitted").outcome().await }
        .instrument(checkout.clone())
        .await;
    assert!(report.succeeded(), "{report:?}");
    let seen = tokio::time::timeout(Duration::from_secs(20), shipments.recv()).await.expect("shipped in time");
    shop.shutdown().await.expect("a clean shutdown");
    worker.shutdown().await.expect("a clean shutdown");
    drop(checkout);

    let spans = exporter.get_finished_spans().expect("the in-memory exporter answers");
    let trace = spans.iter().find(|span| span.name == "checkout").expect("the caller's span").span_context.trace_id();
    assert_eq!(seen, Some(Some(trace.to_string())), "the task run from the table saw another trace");
    let runs: Vec<_> = spans.iter().filter(|span| span.span_kind == SpanKind::Consumer).collect();
    let names: Vec<_> = runs.iter().map(|span| span.name.as_ref()).collect();
    assert_eq!(names.iter().filter(|name| **name == "otelpg.pay").count(), 2, "{names:?}");
    assert!(names.contains(&"otelpg.ship"), "{names:?}");
    for span in &spans {
        assert_eq!(span.span_context.trace_id(), trace, "{} is in another trace", span.name);
    }
    // The row's run continues the producer span of the submit that wrote it.
    let ship_run = runs.iter().find(|span| span.name == "otelpg.ship").expect("shipped");
    let parent = spans.iter().find(|span| span.span_context.span_id() == ship_run.parent_span_id);
    assert_eq!(parent.map(|span| span.span_kind.clone()), Some(SpanKind::Producer));
}
