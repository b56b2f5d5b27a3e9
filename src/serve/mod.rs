//! `miracle serve`: the HTTP service for reference desks (docs/SERVE.md). The model, the
//! literature index and the workflows load once at start and are shared by every request.
//!
//! - [`config`]: the YAML config. [`auth`]: API keys and rate limits.
//! - [`agents`]: the model threads and their queue. [`api`]: the JSON endpoints.
//! - [`openai`]: `/v1/chat/completions`. [`metrics`]: `/metrics`.

mod agents;
mod api;
mod auth;
pub mod config;
pub(crate) mod listen;
mod memory;
mod metrics;
mod openai;

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use axum::error_handling::HandleErrorLayer;
use axum::extract::DefaultBodyLimit;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{BoxError, Router};
use clap::Args;
use miracle_experts::search::{LiteratureIndex, default_index};
use serde_json::json;
use tower::ServiceBuilder;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::timeout::TimeoutLayer;

use self::agents::Agents;
use self::api::ApiError;
use self::auth::{Caller, Keys, Refusal};
use self::config::ServeConfig;
use self::metrics::Metrics;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The service's config (YAML; see docs/SERVE.md); defaults without one: 127.0.0.1:8080,
    /// no keys, the embedded model and the shipped literature.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Listen here instead (e.g. 127.0.0.1:0 for any free port; the log says which).
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
}

/// What every request shares.
pub struct Service {
    agents: Agents,
    index: Arc<LiteratureIndex>,
    keys: Keys,
    metrics: Metrics,
    /// The largest request body accepted.
    body_bytes: usize,
    /// The steps behind recent answers, restored when a caller sends them back as history.
    recent: memory::Recent,
}

impl ServeArgs {
    pub fn run(self, _out: &mut dyn Write) -> anyhow::Result<()> {
        let mut config = match &self.config {
            Some(path) => ServeConfig::read(path)?,
            None => ServeConfig::default(),
        };
        if let Some(listen) = self.listen {
            config.listen = listen;
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            // Searches run on the blocking pool. tokio's default of up to 512 threads would
            // start one per concurrent search under load, each with its own allocator
            // arena, for no gain on a few cores: memory then grows with the load's peak.
            .max_blocking_threads(blocking_threads())
            .enable_all()
            .build()
            .context("cannot start the service's runtime")?;
        runtime.block_on(serve(config))
    }
}

/// Threads for blocking work (searches): two per core.
fn blocking_threads() -> usize {
    std::thread::available_parallelism().map_or(4, |n| 2 * n.get())
}

async fn serve(config: ServeConfig) -> anyhow::Result<()> {
    let started = Instant::now();
    let limits = config.limits.clone();
    let keys = Keys::new(config.api_keys.clone());
    let index = Arc::new(match &config.index {
        Some(dir) => LiteratureIndex::open(dir)
            .with_context(|| format!("index: cannot open {}", dir.display()))?,
        None => default_index::open().context("cannot open the shipped literature index")?,
    });
    let agent = miracle_router::setup::AgentOn {
        plugins: config.experts.clone(),
        markup: config.markup,
        ..miracle_router::setup::AgentOn::new(config.model.clone())
    };
    let agents = Agents::start(
        &agent,
        config.workflows.as_deref(),
        limits.workers,
        limits.queue,
        limits.timeout,
    )?;
    if !keys.required() {
        log(
            json!({"event": "warning", "message": "no API keys are configured: anyone who can reach the service may use it"}),
        );
    }
    let workflows: Vec<String> = agents.workflows.keys().cloned().collect();
    let service = Arc::new(Service {
        agents,
        index,
        keys,
        metrics: Metrics::default(),
        body_bytes: limits.body_bytes,
        recent: memory::Recent::default(),
    });
    let app = router(service, &limits, config.cors.as_ref());
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let stop = shutdown()?;
    log(json!({
        "event": "listening",
        "addr": addr.to_string(),
        "workflows": workflows,
        "workers": limits.workers,
        "startup_ms": started.elapsed().as_secs_f64() * 1e3,
    }));
    listen::serve(listener, app, limits.header_timeout, stop).await;
    log(json!({"event": "stopped"}));
    Ok(())
}

fn router(service: Arc<Service>, limits: &config::Limits, cors: Option<&config::Cors>) -> Router {
    let v1 = Router::new()
        .route("/v1/ask", post(api::ask))
        .route("/v1/search", post(api::search))
        .route("/v1/workflows/{name}/run", post(api::run_workflow))
        .route("/v1/chat/completions", post(openai::chat))
        .route("/v1/models", get(openai::models))
        .route("/v1/models/{id}", get(openai::model))
        .route_layer(middleware::from_fn_with_state(service.clone(), authorize));
    let guard = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(|e: BoxError| async move {
            overloaded(&e)
        }))
        .load_shed()
        .concurrency_limit(limits.concurrency)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.timeout,
        ))
        .layer(DefaultBodyLimit::max(limits.body_bytes));
    let mut app = Router::new()
        .merge(v1)
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(api::metrics))
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "no such endpoint; see docs/SERVE.md")
        })
        .layer(guard)
        .layer(middleware::from_fn_with_state(
            service.clone(),
            refuse_oversized,
        ));
    // Outside the keys and the limits: a browser's preflight carries no key, and is answered
    // here; every answer, refusals included, carries the allowed origin so the page can
    // read it.
    if let Some(cors) = cors {
        app = app.layer(cors_layer(cors));
    }
    app.layer(middleware::from_fn_with_state(service.clone(), observe))
        .with_state(service)
}

fn cors_layer(cors: &config::Cors) -> CorsLayer {
    let origins = if cors.any() {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            cors.origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok()),
        )
    };
    CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .expose_headers([header::RETRY_AFTER])
        .max_age(cors.max_age)
}

fn overloaded(e: &BoxError) -> Response {
    if e.is::<tower::load_shed::error::Overloaded>() {
        return ApiError {
            retry_after: Some(1),
            ..ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the service is at capacity; retry shortly",
            )
        }
        .into_response();
    }
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("unexpected: {e}"),
    )
    .into_response()
}

/// API keys and rate limits for /v1/*.
async fn authorize(
    State(service): State<Arc<Service>>,
    mut request: Request,
    next: Next,
) -> Response {
    let header = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match service.keys.admit(header) {
        Ok(caller) => {
            request.extensions_mut().insert(caller.clone());
            let mut response = next.run(request).await;
            // For the access log, which sees only the response.
            response.extensions_mut().insert(caller);
            response
        }
        Err(Refusal::Unauthorized) => {
            service.metrics.unauthorized.fetch_add(1, Ordering::Relaxed);
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "a valid API key is required: Authorization: Bearer <key>",
            )
            .into_response()
        }
        Err(Refusal::RateLimited(wait)) => {
            service.metrics.rate_limited.fetch_add(1, Ordering::Relaxed);
            ApiError {
                retry_after: Some(wait.as_secs_f64().ceil() as u64),
                ..ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "over this key's request rate; retry after the Retry-After seconds",
                )
            }
            .into_response()
        }
    }
}

/// A body declared larger than the limit is refused at once, before it is read or holds a
/// concurrency slot; inside the CORS layer, so a page of an allowed origin can read why.
/// Every 413, this one or the JSON extractor's for a body that outgrows the limit as it
/// streams, closes its connection.
async fn refuse_oversized(
    State(service): State<Arc<Service>>,
    request: Request,
    next: Next,
) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let mut response = match declared {
        Some(length) if length > service.body_bytes as u64 => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the body is {length} bytes, larger than the {} accepted",
                service.body_bytes
            ),
        )
        .into_response(),
        _ => next.run(request).await,
    };
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
        // The rest of the body is still on the wire, unread, so the connection ends with
        // this reply; saying so keeps a pooled client from sending its next request down
        // it (which failed with "incomplete message").
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Metrics and one JSON log line per request. Refusals that come without a body (tower-http's
/// 408, axum's 405 and some 400s) get the same JSON error body as every other.
async fn observe(State(service): State<Arc<Service>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let path = request.uri().path().to_string();
    let route = route_of(&path);
    service.metrics.in_flight.fetch_add(1, Ordering::Relaxed);
    let mut response = next.run(request).await;
    service.metrics.in_flight.fetch_sub(1, Ordering::Relaxed);
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !is_json && (status.is_client_error() || status.is_server_error()) {
        response = with_json_body(response, route).await;
    }
    let took = started.elapsed();
    // Shed at the door (concurrency limit) or at the model threads' full queue.
    if status == StatusCode::SERVICE_UNAVAILABLE {
        service.metrics.shed.fetch_add(1, Ordering::Relaxed);
    }
    service.metrics.record(route, status.as_u16(), took);
    let caller = response.extensions().get::<Caller>().map(|c| c.0.clone());
    log(json!({
        "event": "request",
        "method": method,
        "path": path,
        "status": status.as_u16(),
        "ms": (took.as_secs_f64() * 1e4).round() / 10.0,
        "caller": caller,
    }));
    response
}

/// A bodiless refusal with the JSON error body, keeping the headers that tell the client
/// what to do (Allow, Retry-After).
async fn with_json_body(response: Response, route: &str) -> Response {
    let (parts, body) = response.into_parts();
    let status = parts.status;
    // What the refusal said as text, if anything (axum's rejections do).
    let said = axum::body::to_bytes(body, 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let message = match status {
        _ if !said.is_empty() => said,
        StatusCode::REQUEST_TIMEOUT => {
            "the request took longer than the service allows (body included)".to_string()
        }
        // axum adds `Allow` outside every layer, so the route says which method it takes.
        StatusCode::METHOD_NOT_ALLOWED => {
            format!(
                "this endpoint takes {}; see docs/SERVE.md",
                method_of(route)
            )
        }
        other => format!(
            "refused: {}",
            other
                .canonical_reason()
                .unwrap_or("the request is not accepted")
        ),
    };
    let mut json = ApiError::new(status, message).into_response();
    // Every header but the body's own: Allow and Retry-After tell the client what to do,
    // the CORS headers let a page read the refusal.
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            json.headers_mut().insert(name, value.clone());
        }
    }
    json
}

/// The method a route takes, for the 405's message.
fn method_of(route: &str) -> &'static str {
    match route {
        "/healthz" | "/metrics" | "/v1/models" | "/v1/models/{id}" => "GET",
        "other" => "another method",
        _ => "POST",
    }
}

/// The route a path belongs to, for metrics (a fixed set, whatever paths clients send).
fn route_of(path: &str) -> &'static str {
    match path {
        "/v1/ask" => "/v1/ask",
        "/v1/search" => "/v1/search",
        "/v1/chat/completions" => "/v1/chat/completions",
        "/v1/models" => "/v1/models",
        p if p.starts_with("/v1/models/") => "/v1/models/{id}",
        "/healthz" => "/healthz",
        "/metrics" => "/metrics",
        p if p.starts_with("/v1/workflows/") && p.ends_with("/run") => "/v1/workflows/{name}/run",
        _ => "other",
    }
}

/// One JSON line on stderr, with the time.
fn log(mut event: serde_json::Value) {
    let ts = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    event["ts"] = json!((ts * 1e3).round() / 1e3);
    eprintln!("{event}");
}

/// Ctrl-C or SIGTERM: stop accepting, finish what is in progress. The handlers are
/// installed here, before the service says it listens, so no signal falls between.
pub(crate) fn shutdown() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let (mut interrupt, mut terminate) = {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
        let terminate = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
        (interrupt, terminate)
    };
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        log(json!({"event": "shutting down", "message": "finishing requests in progress"}));
    })
}
