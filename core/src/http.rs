//! The runtime's HTTP endpoints (feature `http`): `/livez`, `/readyz`, `/metrics`, `/tasks`, and
//! `/variants` (`GET` the comparison report, `PUT /variants/{task}` new weights).
//!
//! Started by [`RuntimeBuilder::http_addr`](crate::RuntimeBuilder::http_addr) or
//! [`serve_http`](crate::RuntimeBuilder::serve_http), before the warm-up so that a readiness
//! probe gets an answer (503) while resources warm, and stopped at shutdown.

use std::net::SocketAddr;

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use serde::Serialize;

use crate::error::StartError;
use crate::runtime::{Runtime, RuntimeBuilder};

/// Where the endpoints listen when neither the builder nor `PREHEAT_HTTP_ADDR` says otherwise:
/// loopback only, on the port Prometheus' registry lists for preheat-like exporters.
pub const DEFAULT_HTTP_ADDR: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 9464);

/// The variable that overrides [`DEFAULT_HTTP_ADDR`].
pub const HTTP_ADDR_VAR: &str = "PREHEAT_HTTP_ADDR";

/// `PREHEAT_HTTP_ADDR`, or the default.
pub(crate) fn addr_from_env() -> Result<SocketAddr, String> {
    match std::env::var(HTTP_ADDR_VAR) {
        Ok(value) => value
            .parse()
            .map_err(|error| format!("{HTTP_ADDR_VAR}=`{value}` is not an address such as `0.0.0.0:9464`: {error}")),
        Err(_) => Ok(DEFAULT_HTTP_ADDR),
    }
}

/// The HTTP endpoints as a builder sets them up.
impl RuntimeBuilder {
    /// Serves `/livez`, `/readyz`, `/metrics`, `/tasks` and `/variants` over HTTP on `addr` (port 0 picks a
    /// free port; see [`Runtime::http_addr`]). The server starts before the warm-up, so that
    /// readiness probes see it, and stops at shutdown.
    pub fn http_addr(mut self, addr: std::net::SocketAddr) -> Self {
        self.http = Some((addr, |runtime, addr| Box::pin(serve(runtime, addr))));
        self
    }

    /// Serves the HTTP endpoints on `PREHEAT_HTTP_ADDR`, or on
    /// [`DEFAULT_HTTP_ADDR`](DEFAULT_HTTP_ADDR) (127.0.0.1:9464) if it is unset.
    ///
    /// # Errors
    ///
    /// If `PREHEAT_HTTP_ADDR` is set but is not an address such as `0.0.0.0:9464`; the message
    /// names the variable and the value.
    pub fn serve_http(self) -> Result<Self, String> {
        Ok(self.http_addr(addr_from_env()?))
    }
}

/// Binds `addr`, records the bound address, and serves until the runtime stops.
pub(crate) async fn serve(runtime: &Runtime, addr: SocketAddr) -> Result<(), StartError> {
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|error| StartError::Http { addr, error })?;
    let bound = listener.local_addr().map_err(|error| StartError::Http { addr, error })?;
    let app = routes().with_state(runtime.downgrade());
    let mut stopped = runtime.lifecycle_watch();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        // Through draining, so that probes see it; closed once stopped.
        let _ = stopped.wait_for(|state| *state == crate::Lifecycle::Stopped).await;
    });
    runtime.spawn_service(async move {
        if let Err(error) = server.await {
            tracing::error!(%error, "the HTTP endpoints stopped");
        }
    });
    tracing::info!(addr = %bound, "serving /livez, /readyz, /metrics, /tasks and /variants");
    runtime.set_http_addr(bound);
    Ok(())
}

fn routes() -> Router<crate::runtime::WeakRuntime> {
    let router = Router::new()
        .route("/livez", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/tasks", get(tasks))
        .route("/variants", get(variants))
        .route("/variants/{task}", put(set_weights));
    #[cfg(feature = "profiling")]
    let router = crate::profiling::routes(router);
    router
}

/// Runs `handler` with the runtime, or answers 503 if it is gone.
fn with_runtime(runtime: &crate::runtime::WeakRuntime, handler: impl FnOnce(&Runtime) -> Response) -> Response {
    match runtime.upgrade() {
        Some(runtime) => handler(&runtime),
        None => (StatusCode::SERVICE_UNAVAILABLE, "the runtime is gone\n").into_response(),
    }
}

/// 200 with the readiness report once ready; 503 with the reason and the same report before.
async fn readyz(State(runtime): State<crate::runtime::WeakRuntime>) -> Response {
    #[derive(Serialize)]
    struct Body {
        ready: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        #[serde(flatten)]
        readiness: crate::Readiness,
    }
    with_runtime(&runtime, |runtime| {
        let readiness = runtime.readiness();
        let status = if readiness.is_ready() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
        (status, Json(Body { ready: readiness.is_ready(), reason: readiness.reason(), readiness })).into_response()
    })
}

async fn metrics(State(runtime): State<crate::runtime::WeakRuntime>) -> Response {
    with_runtime(&runtime, |runtime| match runtime.render_metrics() {
        Ok(text) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response(),
        Err(error) => {
            (StatusCode::INTERNAL_SERVER_ERROR, format!("cannot encode the metrics: {error}\n")).into_response()
        }
    })
}

/// The registry: each task's id, metadata, and its pool right now.
async fn tasks(State(runtime): State<crate::runtime::WeakRuntime>) -> Response {
    #[derive(Serialize)]
    struct Task {
        id: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        variant: Option<&'static str>,
        metadata_file: &'static str,
        defined_at: String,
        meta: &'static crate::meta::TaskMeta,
        pool: Option<crate::PoolStats>,
    }
    with_runtime(&runtime, |runtime| {
        let tasks: Vec<Task> = runtime
            .registry()
            .tasks()
            .iter()
            .enumerate()
            .map(|(index, task)| Task {
                id: task.id(),
                variant: task.variant(),
                metadata_file: task.metadata_file(),
                defined_at: task.defined_at(),
                meta: task.meta(),
                pool: Some(runtime.stats_at(index)),
            })
            .collect();
        Json(tasks).into_response()
    })
}

/// The variants report (see [`Runtime::variants`]) as JSON.
async fn variants(State(runtime): State<crate::runtime::WeakRuntime>) -> Response {
    with_runtime(&runtime, |runtime| Json(runtime.variants()).into_response())
}

/// Sets a task's weights from a JSON object such as `{"v1": 50, "v2": 50}` (variants not named
/// keep theirs) and answers with the weights now; 404 for an unknown task, 422 for weights it
/// refuses, each with the reason.
async fn set_weights(
    State(runtime): State<crate::runtime::WeakRuntime>,
    Path(task): Path<String>,
    Json(weights): Json<std::collections::BTreeMap<String, u32>>,
) -> Response {
    #[derive(Serialize)]
    struct Weight {
        variant: &'static str,
        weight: u32,
    }
    with_runtime(&runtime, |runtime| {
        let weights: Vec<(&str, u32)> = weights.iter().map(|(variant, &weight)| (variant.as_str(), weight)).collect();
        match runtime.set_weights(&task, &weights).and_then(|()| runtime.weights(&task)) {
            Ok(now) => {
                tracing::info!(task, weights = ?now, "variant weights changed over HTTP");
                let now: Vec<Weight> = now.into_iter().map(|(variant, weight)| Weight { variant, weight }).collect();
                Json(now).into_response()
            }
            Err(error) => {
                let status = match error {
                    crate::WeightsError::UnknownTask { .. } => StatusCode::NOT_FOUND,
                    _ => StatusCode::UNPROCESSABLE_ENTITY,
                };
                (status, format!("{error}\n")).into_response()
            }
        }
    })
}
