//! The OTLP/HTTP export (#16): spans of a submitted task reach a local collector at
//! `OTEL_EXPORTER_OTLP_ENDPOINT` and decode as an `ExportTraceServiceRequest`. Its own test
//! binary with one test: it sets the process's environment.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use preheat::otel::Tracing;
use preheat::{Ctx, Runtime, task};
use prost::Message as _;
use tokio::sync::mpsc;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

preheat::metadata!("tests/meta/otel_otlp");

#[task("otlp.ping", metadata = "tests/meta/otel_otlp")]
async fn ping(ctx: Ctx, _n: u32) -> Result<Option<String>, String> {
    Ok(ctx.trace_id().map(|id| id.to_string()))
}

/// The collector: each request body, decoded, down the channel.
async fn collect(State(sink): State<mpsc::UnboundedSender<ExportTraceServiceRequest>>, body: Bytes) {
    if let Ok(request) = ExportTraceServiceRequest::decode(body) {
        let _ = sink.send(request);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_reach_an_otlp_collector() {
    let (sink, mut requests) = mpsc::unbounded_channel();
    let app = axum::Router::new().route("/v1/traces", axum::routing::post(collect)).with_state(sink);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a local port");
    let address = listener.local_addr().expect("its address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    // The only test of this binary, before anything reads the environment: no other thread
    // reads or writes it meanwhile, which is what `set_var` asks of its caller.
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{address}"));
        std::env::set_var("OTEL_TRACES_SAMPLER", "always_on");
    }
    let tracing = Tracing::from_env().expect("an OTLP exporter");
    tracing_subscriber::registry().with(tracing.layer()).init();

    let rt = Runtime::builder().start().await.expect("a runtime");
    let trace = rt.submit(ping, 1).await.expect("submitted").await.expect("ran").expect("traced");
    rt.shutdown().await.expect("a clean shutdown");
    tracing.shutdown().await.expect("the spans are sent");

    let mut names = Vec::new();
    while names.len() < 2 {
        let request = tokio::time::timeout(Duration::from_secs(10), requests.recv())
            .await
            .expect("an export in time")
            .expect("the collector runs");
        for span in request.resource_spans.iter().flat_map(|r| &r.scope_spans).flat_map(|s| &s.spans) {
            let id: String = span.trace_id.iter().map(|byte| format!("{byte:02x}")).collect();
            assert_eq!(id, trace, "{} is in another trace", span.name);
            names.push(span.name.clone());
        }
    }
    names.sort();
    assert_eq!(names, ["otlp.ping", "submit otlp.ping"]);
}
