//! The process's logs and traces: one `tracing` subscriber writing text or
//! JSON lines (one object per line) to stderr and, with
//! `BOTMEM_OTLP_ENDPOINT`, exporting spans over OTLP/HTTP (protobuf) to a
//! collector. Off by default: nothing is sent anywhere unless configured.
//!
//! Incoming W3C `traceparent` headers continue the caller's trace
//! ([`continue_trace`]), so a bot engine's trace shows botmem's spans.
use opentelemetry::{
    propagation::{Extractor, TextMapPropagator},
    trace::{TraceContextExt, TracerProvider as _},
};
use opentelemetry_sdk::{
    Resource,
    propagation::TraceContextPropagator,
    runtime,
    trace::{SdkTracerProvider, span_processor_with_async_runtime::BatchSpanProcessor},
};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::{EnvFilter, Layer, fmt, layer::SubscriberExt, util::SubscriberInitExt};

use crate::config::LogFormat;

/// Flushes exported spans when dropped with [`Tracing::shutdown`].
pub struct Tracing {
    provider: Option<SdkTracerProvider>,
}

/// Installs the subscriber. `otlp_endpoint` is the collector's base URL
/// (`http://collector:4318`); spans go to its `/v1/traces`.
pub fn init(format: LogFormat, otlp_endpoint: Option<&str>) -> Result<Tracing, String> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let lines = match format {
        LogFormat::Json => fmt::layer().json().with_writer(std::io::stderr).boxed(),
        LogFormat::Text => fmt::layer().with_writer(std::io::stderr).boxed(),
    };
    let provider = otlp_endpoint.map(exporting_provider).transpose()?;
    let export = provider
        .as_ref()
        .map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer("botmem")));
    tracing_subscriber::registry()
        .with(filter)
        .with(lines)
        .with(export)
        .try_init()
        .map_err(|e| format!("cannot install the log subscriber: {e}"))?;
    Ok(Tracing { provider })
}

fn exporting_provider(endpoint: &str) -> Result<SdkTracerProvider, String> {
    use opentelemetry_otlp::{SpanExporter, WithExportConfig};
    let url = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
    let exporter = SpanExporter::builder()
        .with_http()
        .with_endpoint(url)
        .build()
        .map_err(|e| format!("BOTMEM_OTLP_ENDPOINT: {e}"))?;
    // Exports from a tokio task: the process's runtime does the I/O.
    let batches = BatchSpanProcessor::builder(exporter, runtime::Tokio).build();
    Ok(SdkTracerProvider::builder()
        .with_span_processor(batches)
        .with_resource(Resource::builder().with_service_name("botmem").build())
        .build())
}

impl Tracing {
    /// Sends the spans still buffered (at exit).
    pub async fn shutdown(self) {
        if let Some(provider) = self.provider {
            let _ = tokio::task::spawn_blocking(move || provider.shutdown()).await;
        }
    }
}

/// Makes `span` a child of the caller's trace when the request carries a
/// valid `traceparent`, and returns the trace id to log (the caller's, or
/// the one the exporter gave the span; `None` without either).
pub fn continue_trace(span: &tracing::Span, headers: &axum::http::HeaderMap) -> Option<String> {
    let parent = TraceContextPropagator::new().extract(&Headers(headers));
    let caller = parent.span().span_context().clone();
    // Without an exporter, spans have no OpenTelemetry context: no-op.
    let _ = span.set_parent(parent);
    let own = span.context().span().span_context().clone();
    [own, caller]
        .into_iter()
        .find(|c| c.is_valid())
        .map(|c| c.trace_id().to_string())
}

struct Headers<'a>(&'a axum::http::HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}
