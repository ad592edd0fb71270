//! Traces across tasks, exported with OpenTelemetry (feature `otel`, issue #16).
//!
//! [`Tracing::from_env`] builds a tracer provider that sends spans by OTLP over HTTP to
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (`/v1/traces` is appended), sampled as `OTEL_TRACES_SAMPLER`
//! and `OTEL_TRACES_SAMPLER_ARG` say; [`Tracing::layer`] is the `tracing` layer to install.
//! With the layer installed, every submit opens a producer span under the caller's current span
//! and every attempt a consumer span that continues it, through flows, delays, retries and the
//! PostgreSQL backend; a schedule's tick starts a new trace. Without the layer, a submit pays
//! one check and opens no span.
//!
//! ```no_run
//! use tracing_subscriber::layer::SubscriberExt as _;
//! use tracing_subscriber::util::SubscriberInitExt as _;
//!
//! # async fn start() -> Result<(), Box<dyn std::error::Error>> {
//! let tracing = preheat::otel::Tracing::from_env()?;
//! tracing_subscriber::registry().with(tracing.layer()).init();
//! // ... build the runtime, submit tasks ...
//! tracing.shutdown().await?; // sends the spans still buffered
//! # Ok(()) }
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::OTelSdkError;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider, SpanExporter};
use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::registry::LookupSpan;

pub use crate::otel_settings::Retries;
use crate::otel_settings::{Settings, SettingsLayer};

/// Why tracing could not be set up or flushed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The OTLP exporter could not be built (a malformed endpoint, say).
    #[error("the OTLP exporter cannot be built: {0}")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
    /// The exporter sends through the tokio runtime it was built in: there was none.
    #[error("the OTLP exporter needs a tokio runtime; build it inside one")]
    NoRuntime,
    /// Flushing or shutting down the provider failed.
    #[error("the tracer provider failed: {0}")]
    Provider(#[from] OTelSdkError),
}

/// What to export to, and how to sample; [`Tracing::from_env`] is the usual way in.
#[derive(Debug)]
#[must_use = "a builder does nothing until `.build()`"]
pub struct Builder {
    exporter: Option<Exporter>,
    sampler: Option<Sampler>,
    retries: Retries,
}

/// An exporter chosen instead of the OTLP one.
enum Exporter {
    /// Each span exported as it ends, in the thread that ends it: for tests.
    Simple(
        Box<
            dyn FnOnce(
                opentelemetry_sdk::trace::TracerProviderBuilder,
            ) -> opentelemetry_sdk::trace::TracerProviderBuilder,
        >,
    ),
    /// Spans buffered and exported in batches on the SDK's own thread.
    Batch(
        Box<
            dyn FnOnce(
                opentelemetry_sdk::trace::TracerProviderBuilder,
            ) -> opentelemetry_sdk::trace::TracerProviderBuilder,
        >,
    ),
}

impl fmt::Debug for Exporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Exporter::Simple(_) => "Simple",
            Exporter::Batch(_) => "Batch",
        })
    }
}

impl Builder {
    /// OTLP over HTTP, sampled as the environment says, retries linked.
    pub fn new() -> Self {
        Self { exporter: None, sampler: None, retries: Retries::default() }
    }

    /// How retries appear (default: [`Retries::Linked`]).
    pub fn retries(mut self, retries: Retries) -> Self {
        self.retries = retries;
        self
    }

    /// Samples with `sampler` instead of `OTEL_TRACES_SAMPLER`.
    pub fn sampler(mut self, sampler: Sampler) -> Self {
        self.sampler = Some(sampler);
        self
    }

    /// Exports each span as it ends, in the thread that ends it, to `exporter` (the SDK's
    /// `InMemorySpanExporter` in a test) instead of OTLP.
    pub fn simple_exporter<E: SpanExporter + 'static>(mut self, exporter: E) -> Self {
        self.exporter = Some(Exporter::Simple(Box::new(move |builder| builder.with_simple_exporter(exporter))));
        self
    }

    /// Exports in batches, from the SDK's own thread, to `exporter` instead of OTLP.
    pub fn batch_exporter<E: SpanExporter + 'static>(mut self, exporter: E) -> Self {
        self.exporter = Some(Exporter::Batch(Box::new(move |builder| builder.with_batch_exporter(exporter))));
        self
    }

    /// Builds the provider. The OTLP exporter sends through the current tokio runtime, so this
    /// runs inside one.
    pub fn build(self) -> Result<Tracing, Error> {
        let mut builder = SdkTracerProvider::builder();
        builder = match self.exporter {
            Some(Exporter::Simple(with) | Exporter::Batch(with)) => with(builder),
            None => builder.with_batch_exporter(otlp_exporter()?),
        };
        let roots_dropped = match &self.sampler {
            Some(sampler) => matches!(sampler, Sampler::AlwaysOff),
            None => env_drops_roots(std::env::var("OTEL_TRACES_SAMPLER").ok().as_deref()),
        };
        // Without `with_sampler`, the SDK reads `OTEL_TRACES_SAMPLER(_ARG)` itself.
        if let Some(sampler) = self.sampler {
            builder = builder.with_sampler(sampler);
        }
        Ok(Tracing { provider: builder.build(), settings: Settings { roots_dropped, retries: self.retries } })
    }
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether the sampler `OTEL_TRACES_SAMPLER` names drops every root span, so that a submit
/// outside a sampled span need not open one to learn it.
fn env_drops_roots(sampler: Option<&str>) -> bool {
    matches!(sampler.map(str::trim), Some("always_off" | "parentbased_always_off"))
}

/// The OTLP/HTTP exporter, configured by the standard `OTEL_EXPORTER_OTLP_*` variables.
fn otlp_exporter() -> Result<opentelemetry_otlp::SpanExporter, Error> {
    use opentelemetry_otlp::{WithExportConfig as _, WithHttpConfig as _};
    let handle = tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime)?;
    let client = http::HyperClient::new(handle);
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
        .with_http_client(client)
        .build()?;
    Ok(exporter)
}

/// A tracer provider and the layer that feeds it; flush with [`shutdown`](Self::shutdown).
#[derive(Debug)]
pub struct Tracing {
    provider: SdkTracerProvider,
    settings: Settings,
}

impl Tracing {
    /// OTLP over HTTP to `OTEL_EXPORTER_OTLP_ENDPOINT`, sampled as `OTEL_TRACES_SAMPLER` says.
    pub fn from_env() -> Result<Self, Error> {
        Builder::new().build()
    }

    /// A builder, to choose the exporter, the sampler or how retries appear.
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// The `tracing` layer: OpenTelemetry's, plus what tells preheat's submits to trace.
    pub fn layer<S>(&self) -> impl Layer<S> + Send + Sync + 'static
    where
        S: Subscriber + for<'span> LookupSpan<'span> + Send + Sync,
    {
        let tracer = self.provider.tracer("preheat");
        tracing_opentelemetry::layer().with_tracer(tracer).and_then(SettingsLayer::new(self.settings))
    }

    /// The provider, for a tracer of the application's own.
    pub fn provider(&self) -> &SdkTracerProvider {
        &self.provider
    }

    /// Sends the spans still buffered. The export runs on the runtime this was built in; the
    /// wait for it runs on a blocking thread, so a current-thread runtime is not stalled.
    pub fn force_flush(&self) -> impl Future<Output = Result<(), Error>> + Send + 'static {
        let provider = self.provider.clone();
        blocking(move || provider.force_flush())
    }

    /// Sends the spans still buffered and stops the exporter.
    pub fn shutdown(self) -> impl Future<Output = Result<(), Error>> + Send + 'static {
        let provider = self.provider;
        blocking(move || provider.shutdown())
    }
}

/// Runs a provider call that waits for the exporter, off the runtime's threads.
async fn blocking(call: impl FnOnce() -> Result<(), OTelSdkError> + Send + 'static) -> Result<(), Error> {
    match tokio::task::spawn_blocking(call).await {
        Ok(done) => Ok(done?),
        Err(error) => Err(Error::Provider(OTelSdkError::InternalFailure(error.to_string()))),
    }
}

/// The exporter's HTTP client.
mod http {
    use super::*;
    use bytes::Bytes;
    use http_body_util::{BodyExt as _, Full};
    use hyper_util::client::legacy::Client;
    use hyper_util::client::legacy::connect::HttpConnector;
    use hyper_util::rt::TokioExecutor;
    use opentelemetry_http::{HttpClient, HttpError, Request, Response};

    /// How long one export may take, response body included.
    const TIMEOUT: Duration = Duration::from_secs(10);

    /// An OTLP/HTTP client over hyper's HTTP/1 client. The SDK's batch processor calls it from
    /// a thread of its own, outside any runtime: each request is spawned on the runtime the
    /// exporter was built in. (The clients opentelemetry-http has either pull in a second
    /// reqwest or need a runtime on the calling thread.)
    #[derive(Debug)]
    pub(super) struct HyperClient {
        client: Client<HttpConnector, Full<Bytes>>,
        handle: tokio::runtime::Handle,
    }

    impl HyperClient {
        pub(super) fn new(handle: tokio::runtime::Handle) -> Self {
            Self { client: Client::builder(TokioExecutor::new()).build_http(), handle }
        }
    }

    impl HttpClient for HyperClient {
        // `HttpClient` is an `#[async_trait]`; this is the signature that macro writes.
        fn send_bytes<'life0, 'async_trait>(
            &'life0 self,
            request: Request<Bytes>,
        ) -> Pin<Box<dyn Future<Output = Result<Response<Bytes>, HttpError>> + Send + 'async_trait>>
        where
            'life0: 'async_trait,
            Self: 'async_trait,
        {
            let client = self.client.clone();
            let sent = self.handle.spawn(async move {
                let exchange = async {
                    let response = client.request(request.map(Full::new)).await?;
                    let (parts, body) = response.into_parts();
                    let body = body.collect().await?.to_bytes();
                    Ok::<_, HttpError>(Response::from_parts(parts, body))
                };
                tokio::time::timeout(TIMEOUT, exchange).await?
            });
            Box::pin(async move { sent.await? })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::env_drops_roots;

    #[test]
    fn only_samplers_that_drop_roots_skip_the_span() {
        assert!(env_drops_roots(Some("always_off")));
        assert!(env_drops_roots(Some("parentbased_always_off")));
        for sampler in [None, Some("always_on"), Some("traceidratio"), Some("parentbased_traceidratio")] {
            assert!(!env_drops_roots(sampler), "{sampler:?}");
        }
    }
}
