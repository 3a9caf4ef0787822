//! One log line, one span and the request metrics for every GraphQL
//! request over HTTP, and the `/metrics` page. The handlers leave what they
//! learned (tenant, root fields, error codes) in the response's extensions;
//! this layer reads it back, so early refusals are counted too.
use std::time::Instant;

use axum::{
    extract::{Request, State},
    http::{HeaderValue, header::HeaderName},
    middleware::Next,
    response::{IntoResponse, Response},
};
use tracing::Instrument;

use crate::domain::App;

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// What a handler learned about a request, for its log line and metrics.
#[derive(Clone, Debug, Default)]
pub struct RequestLog {
    pub tenant: Option<String>,
    /// Root fields of the operation(s), comma-separated: bounded by the
    /// schema, unlike client-chosen operation names.
    pub operation: Option<String>,
    /// `extensions.code` of every error in the response.
    pub codes: Vec<String>,
}

/// An incoming `x-request-id` if it is short and plain, else a new one;
/// echoed in the response.
fn request_id(request: &Request) -> String {
    request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|id| {
            !id.is_empty()
                && id.len() <= 128
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c))
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

pub async fn graphql_requests(request: Request, next: Next) -> Response {
    crate::heap::note_request();
    let started = Instant::now();
    let id = request_id(&request);
    let method = request.method().clone();
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        %method,
        trace_id = tracing::field::Empty,
        tenant = tracing::field::Empty,
        operation = tracing::field::Empty,
        outcome = tracing::field::Empty,
    );
    if let Some(trace_id) = crate::traces::continue_trace(&span, request.headers()) {
        span.record("trace_id", trace_id);
    }
    let mut response = next.run(request).instrument(span.clone()).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID.clone(), value);
    }
    let log = response
        .extensions_mut()
        .remove::<RequestLog>()
        .unwrap_or_default();
    let took = started.elapsed();
    let status = response.status().as_u16();
    let outcome = match (status, log.codes.is_empty()) {
        (200, true) => "ok",
        (200, false) => "error",
        _ => "refused",
    };
    let operation = log.operation.as_deref().unwrap_or("none");
    crate::telemetry::request(operation, log.tenant.as_deref(), outcome, took, &log.codes);
    let tenant = log.tenant.as_deref().unwrap_or("-");
    span.record("tenant", tenant)
        .record("operation", operation)
        .record("outcome", outcome);
    let _entered = span.enter();
    tracing::info!(
        status,
        outcome,
        codes = %log.codes.join(","),
        duration_ms = took.as_secs_f64() * 1000.0,
        "graphql request"
    );
    response
}

/// Prometheus text format (see `crate::telemetry` for the families).
pub async fn metrics(State(app): State<App>) -> Response {
    let (in_use, idle) = app.pool_stats();
    crate::telemetry::db_pool(in_use, idle);
    let body = crate::telemetry::exporter().render();
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// `/metrics` alone on its own address, until `cancel`.
pub async fn serve_metrics(
    address: std::net::SocketAddr,
    app: App,
    cancel: tokio_util::sync::CancellationToken,
) -> crate::error::Result<tokio::task::JoinHandle<()>> {
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(crate::error::Error::internal)?;
    let routes = axum::Router::new()
        .route("/metrics", axum::routing::get(metrics))
        .with_state(app);
    tracing::info!(%address, "metrics are served on their own address");
    Ok(tokio::spawn(async move {
        let _ = axum::serve(listener, routes)
            .with_graceful_shutdown(cancel.cancelled_owned())
            .await;
    }))
}
