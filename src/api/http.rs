//! GraphQL over HTTP (POST and GET `/graphql`, GraphiQL for browsers),
//! health and readiness. Follows the GraphQL-over-HTTP spec: the response
//! media type is negotiated from `Accept`; with
//! `application/graphql-response+json` a request that fails before
//! execution gets HTTP 400, with `application/json` it gets 200.
//! A missing or bad token is HTTP 401 with code `UNAUTHENTICATED`.
use std::sync::Arc;

use async_graphql::{BatchRequest, BatchResponse, Request, parser::types::OperationType};
use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, RawQuery, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};

use super::{BotmemSchema, errors, observe::RequestLog};
use crate::{
    auth::{Auth, Verifier},
    domain::App,
    error::Error,
};

#[derive(Clone)]
pub struct HttpState {
    pub schema: BotmemSchema,
    pub app: App,
    pub verifier: Arc<Verifier>,
    pub max_batch: usize,
    pub ws: Arc<super::ws::WsSettings>,
    /// WebSocket connections per tenant on this replica.
    pub connections: Arc<super::fair::TenantCounts>,
    pub limits: Arc<super::limits::DocumentLimits>,
    pub fair: Arc<super::fair::Fairness>,
    pub request_timeout: std::time::Duration,
    /// `/metrics` is served here too (no separate metrics listener).
    pub metrics_on_main: bool,
    /// Browser origins allowed (CORS and the WebSocket `Origin`); `None`:
    /// CORS off, empty: any origin.
    pub cors: Option<Arc<Vec<String>>>,
    /// Cancelled when shutdown begins: `/readyz` answers 503 from then on.
    pub draining: tokio_util::sync::CancellationToken,
    /// Cancelled when the server stops accepting: open WebSocket
    /// connections close (1001).
    pub cancel: tokio_util::sync::CancellationToken,
    /// Serve the web pages (`/inspector`, GraphiQL).
    pub web_pages: bool,
}

pub fn router(state: HttpState, max_body_bytes: usize) -> Router {
    let metrics = Router::new()
        .route("/metrics", get(super::observe::metrics))
        .with_state(state.app.clone());
    let mut graphql = Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .layer(axum::middleware::from_fn(super::observe::graphql_requests));
    if let Some(origins) = &state.cors {
        graphql = graphql.layer(cors(origins));
    }
    let mut routes = match state.metrics_on_main {
        true => graphql.merge(metrics),
        false => graphql,
    };
    if state.web_pages {
        routes = routes.merge(super::web::routes());
    }
    routes
        .route("/graphql/ws", get(super::ws::upgrade))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(state)
}

/// Preflight and CORS headers for dashboards on other origins. Tokens go
/// in `Authorization`, so credentials (cookies) are never allowed.
fn cors(origins: &[String]) -> tower_http::cors::CorsLayer {
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let allow = match origins.is_empty() {
        true => AllowOrigin::any(),
        false => AllowOrigin::list(
            origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok())
                .collect::<Vec<_>>(),
        ),
    };
    CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            axum::http::HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([axum::http::HeaderName::from_static("x-request-id")])
        .max_age(std::time::Duration::from_secs(600))
}

/// Whether a browser page from `origin` may open the WebSocket: any, unless
/// allowed origins are configured.
pub fn origin_allowed(state: &HttpState, headers: &HeaderMap) -> bool {
    let Some(origins) = state.cors.as_deref().filter(|o| !o.is_empty()) else {
        return true;
    };
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(origin) => origins.iter().any(|o| o.eq_ignore_ascii_case(origin)),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    GraphqlResponseJson,
    Json,
}

impl MediaType {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::GraphqlResponseJson => "application/graphql-response+json; charset=utf-8",
            MediaType::Json => "application/json; charset=utf-8",
        }
    }
}

/// `None`: the client accepts nothing we can send (406).
fn negotiate(headers: &HeaderMap) -> Option<MediaType> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Some(MediaType::GraphqlResponseJson);
    };
    let ranges: Vec<&str> = accept
        .split(',')
        .map(|r| r.split(';').next().unwrap_or("").trim())
        .collect();
    if ranges
        .iter()
        .any(|r| r.eq_ignore_ascii_case("application/graphql-response+json"))
    {
        Some(MediaType::GraphqlResponseJson)
    } else if ranges
        .iter()
        .any(|r| r.eq_ignore_ascii_case("application/json") || *r == "application/*" || *r == "*/*")
    {
        Some(MediaType::Json)
    } else if accept.trim().is_empty() {
        Some(MediaType::GraphqlResponseJson)
    } else {
        None
    }
}

fn json_response(status: StatusCode, media: MediaType, body: String) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media.as_str()),
    );
    response
}

/// Verifies the bearer token and makes sure its tenant exists.
pub async fn authenticate(
    verifier: &Verifier,
    app: &App,
    authorization: Option<&str>,
) -> Result<Auth, Error> {
    let token = authorization
        .and_then(|value| {
            let (scheme, token) = value.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .filter(|token| !token.is_empty())
        .ok_or_else(|| Error::Unauthenticated("missing bearer token".into()))?;
    let auth = verifier.verify(token).await?;
    app.admit(&auth).await?;
    Ok(auth)
}

async fn execute(
    state: &HttpState,
    headers: &HeaderMap,
    media: MediaType,
    method: Method,
    batch: BatchRequest,
) -> Response {
    let mut log = RequestLog::default();
    let mut response = match admit_and_execute(state, headers, media, method, batch, &mut log).await
    {
        Ok(response) => response,
        Err(error) => {
            log.codes.push(error.code().into());
            errors::refusal(&error, media)
        }
    };
    response.extensions_mut().insert(log);
    response
}

/// The root fields an operation selects (the operation a request names,
/// or its only one), for logs and metrics.
pub(super) fn root_fields(request: &mut Request, into: &mut Vec<String>) {
    let name = request.operation_name.clone();
    let Ok(document) = request.parsed_query() else {
        return;
    };
    let Some(operation) = super::order::selected_operation(document, name.as_deref()) else {
        return;
    };
    for selection in &operation.node.selection_set.node.items {
        let field = match &selection.node {
            async_graphql::parser::types::Selection::Field(f) => f.node.name.node.to_string(),
            _ => "fragment".to_owned(),
        };
        if !into.contains(&field) {
            into.push(field);
        }
    }
}

/// Everything a request passes before it runs, cheapest first: the token,
/// the batch's shape, the tenant's fair share, then the bounds on each
/// document; then it runs within the request timeout.
async fn admit_and_execute(
    state: &HttpState,
    headers: &HeaderMap,
    media: MediaType,
    method: Method,
    batch: BatchRequest,
    log: &mut RequestLog,
) -> Result<Response, Error> {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let auth = authenticate(&state.verifier, &state.app, authorization).await?;
    log.tenant = Some(auth.tenant.to_string());
    let batched = matches!(batch, BatchRequest::Batch(_));
    let mut requests: Vec<Request> = match batch {
        BatchRequest::Single(request) => vec![request],
        // A malformed batch is not a well-formed GraphQL request: 400 always.
        BatchRequest::Batch(requests) if requests.is_empty() => {
            return Err(Error::Malformed {
                field: "batch",
                message: "an empty batch has nothing to run".into(),
            });
        }
        BatchRequest::Batch(requests) if requests.len() > state.max_batch => {
            return Err(Error::Malformed {
                field: "batch",
                message: format!("at most {} operations in one batch", state.max_batch),
            });
        }
        BatchRequest::Batch(requests) => requests,
    };
    let _in_flight = state.fair.admit(&auth.tenant).await?;
    for request in &mut requests {
        // async-graphql reads a body without `query` as an empty one.
        if request.query.trim().is_empty() {
            return Err(Error::Malformed {
                field: "query",
                message: "the request has no query".into(),
            });
        }
        state.limits.check(request)?;
        let mut fields = vec![];
        root_fields(request, &mut fields);
        let operation = log.operation.get_or_insert_with(String::new);
        for field in fields {
            if !operation.is_empty() {
                operation.push(',');
            }
            operation.push_str(&field);
        }
        match operation_type(request) {
            Some(OperationType::Subscription) => {
                let message = "subscriptions are served over WebSocket at /graphql/ws";
                return Err(Error::bad_input("query", message));
            }
            Some(OperationType::Mutation) if method == Method::Get => {
                return Err(Error::MutationNotPost);
            }
            _ => {}
        }
    }
    let batch = if batched {
        BatchRequest::Batch(requests)
    } else {
        BatchRequest::Single(requests.remove(0))
    };
    let loaders = super::loaders::for_request(state.app.clone(), auth.clone());
    let run = state.schema.execute_batch(batch.data(auth).data(loaders));
    let response = tokio::time::timeout(state.request_timeout, run)
        .await
        .map_err(|_| {
            Error::Timeout(format!(
                "the request took longer than {} s and was abandoned",
                state.request_timeout.as_secs()
            ))
        })?;
    let status = if media == MediaType::GraphqlResponseJson && failed_before_execution(&response) {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let responses = match &response {
        BatchResponse::Single(r) => std::slice::from_ref(r),
        BatchResponse::Batch(rs) => rs.as_slice(),
    };
    for error in responses.iter().flat_map(|r| &r.errors) {
        let code = error.extensions.as_ref().and_then(|e| e.get("code"));
        if let Some(async_graphql::Value::String(code)) = code {
            log.codes.push(code.clone());
        }
    }
    let body = serde_json::to_string(&response).unwrap_or_else(|_| "{}".into());
    Ok(json_response(status, media, body))
}

/// A request error (parse, validation, bad variables) leaves no data and
/// errors that point at no field.
fn failed_before_execution(response: &BatchResponse) -> bool {
    let single = |r: &async_graphql::Response| {
        r.data == async_graphql::Value::Null
            && !r.errors.is_empty()
            && r.errors.iter().all(|e| e.path.is_empty())
    };
    match response {
        BatchResponse::Single(r) => single(r),
        BatchResponse::Batch(rs) => !rs.is_empty() && rs.iter().all(single),
    }
}

async fn graphql_post(State(state): State<HttpState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(media) = negotiate(&headers) else {
        return StatusCode::NOT_ACCEPTABLE.into_response();
    };
    let json_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json_body {
        let error = Error::Malformed {
            field: "content-type",
            message: "POST /graphql takes a JSON body: send Content-Type: application/json".into(),
        };
        return errors::refusal(&error, media);
    }
    // async-graphql reads `[]` as one empty request; it is an empty batch.
    if body.trim_ascii_start().starts_with(b"[")
        && serde_json::from_slice::<Vec<serde::de::IgnoredAny>>(&body).is_ok_and(|b| b.is_empty())
    {
        let error = Error::Malformed {
            field: "batch",
            message: "an empty batch has nothing to run".into(),
        };
        return errors::refusal(&error, media);
    }
    let batch: BatchRequest = match serde_json::from_slice(&body) {
        Ok(batch) => batch,
        Err(e) => {
            let error = Error::Malformed {
                field: "body",
                message: format!("the body is not a GraphQL request: {e}"),
            };
            return errors::refusal(&error, media);
        }
    };
    execute(&state, &headers, media, Method::Post, batch).await
}

async fn graphql_get(
    State(state): State<HttpState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    let query = query.unwrap_or_default();
    if state.web_pages && wants_html && !query.split('&').any(|kv| kv.starts_with("query=")) {
        return super::web::graphiql();
    }
    let Some(media) = negotiate(&headers) else {
        return StatusCode::NOT_ACCEPTABLE.into_response();
    };
    let request = match async_graphql::http::parse_query_string(&query) {
        Ok(request) => request,
        Err(e) => {
            let error = Error::Malformed {
                field: "query",
                message: format!("the query string is not a GraphQL request: {e}"),
            };
            return errors::refusal(&error, media);
        }
    };
    execute(
        &state,
        &headers,
        media,
        Method::Get,
        BatchRequest::Single(request),
    )
    .await
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Post,
}

/// The type of the operation the request would run (its document was
/// parsed and bounded by [`super::limits::DocumentLimits::check`]).
fn operation_type(request: &mut Request) -> Option<OperationType> {
    let operation_name = request.operation_name.clone();
    let document = request.parsed_query().ok()?;
    super::order::selected_operation(document, operation_name.as_deref()).map(|op| op.node.ty)
}

async fn readyz(State(state): State<HttpState>) -> Response {
    if state.draining.is_cancelled() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response();
    }
    match state.app.ready().await {
        Ok(true) => (StatusCode::OK, "ready").into_response(),
        Ok(false) => (StatusCode::SERVICE_UNAVAILABLE, "migrations pending").into_response(),
        Err(e) => {
            tracing::warn!(error = ?e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}
