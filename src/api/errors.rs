//! Every form a client sees of an [`Error`], decided here and nowhere else:
//! - the GraphQL error: the public message, `extensions.code`, and
//!   `extensions.field` for input errors (internal causes are logged here,
//!   never shown);
//! - the HTTP response of a request refused before it runs: status,
//!   `WWW-Authenticate`, `Retry-After`, `Allow`;
//! - the WebSocket forms: a subscription's `error` message, and the close
//!   code of a refused connection.
//!
//! Errors async-graphql raises itself before any resolver runs (syntax,
//! validation, coercion, depth and cost limits) have no code; [`ErrorCodes`]
//! gives them `BAD_USER_INPUT`, and names the limit when one was hit.
use std::sync::Arc;

use async_graphql::{
    ErrorExtensions, Response as GraphqlResponse,
    async_trait::async_trait,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextRequest, NextSubscribe},
    futures_util::stream::{BoxStream, StreamExt},
};
use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::http::MediaType;
use crate::error::Error;

/// The GraphQL error of `error`.
pub fn graphql(error: &Error) -> async_graphql::Error {
    if let Error::Internal(cause) = error {
        tracing::error!(error = %cause, "internal error");
    }
    async_graphql::Error::new(error.public_message()).extend_with(|_, ext| {
        ext.set("code", error.code());
        if let Some(field) = error.field() {
            ext.set("field", field);
        }
    })
}

impl From<Error> for async_graphql::Error {
    fn from(error: Error) -> Self {
        graphql(&error)
    }
}

/// The response to a request refused before execution. With
/// `application/json` a refusal the client can fix by changing its
/// variables is 200 (GraphQL-over-HTTP); with
/// `application/graphql-response+json` it is 400.
pub fn refusal(error: &Error, media: MediaType) -> Response {
    let status = match error {
        Error::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        Error::Timeout(_) => StatusCode::SERVICE_UNAVAILABLE,
        Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        Error::Malformed { .. } => StatusCode::BAD_REQUEST,
        Error::MutationNotPost => StatusCode::METHOD_NOT_ALLOWED,
        _ if media == MediaType::Json => StatusCode::OK,
        _ => StatusCode::BAD_REQUEST,
    };
    let graphql = graphql(error);
    let body =
        json!({ "errors": [{ "message": graphql.message, "extensions": graphql.extensions }] });
    let mut response = (status, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media.as_str()),
    );
    match error {
        Error::Unauthenticated(_) => {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        Error::RateLimited { retry_after, .. } => {
            let secs = retry_after.as_secs_f64().ceil().max(1.0) as u64;
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        Error::MutationNotPost => {
            headers.insert(header::ALLOW, HeaderValue::from_static("POST"));
        }
        _ => {}
    }
    response
}

/// The `error` message that ends subscription `id` before it started.
pub fn ws_error(id: &str, error: &Error) -> Value {
    let graphql = graphql(error);
    json!({
        "type": "error",
        "id": id,
        "payload": [{ "message": graphql.message, "extensions": graphql.extensions }],
    })
}

/// The close code and reason for a connection refused at
/// `connection_init`: 4403 for a refused token (as graphql-ws expects),
/// 1013 (try again later) for a tenant over its connection limit, 1011 for
/// an internal error.
pub fn ws_close(error: &Error) -> (u16, String) {
    match error {
        Error::Internal(_) => {
            let _ = graphql(error); // logs the cause
            (1011, "internal error".into())
        }
        Error::TooManyConnections(message) => (1013, message.clone()),
        refused => (4403, format!("Forbidden: {}", refused.public_message())),
    }
}

/// Codes a live stream ends with (a result, then `complete`), as opposed
/// to a refusal before it starts.
pub fn ends_stream(code: &str) -> bool {
    [
        Error::Unauthenticated(String::new()).code(),
        Error::Lagged(None).code(),
    ]
    .contains(&code)
}

/// Gives async-graphql's own errors `BAD_USER_INPUT`, on HTTP and WebSocket
/// alike, and says which configured limit a refused document went over.
pub struct ErrorCodes {
    max_depth: usize,
    max_cost: usize,
}

impl ErrorCodes {
    pub fn new(max_depth: usize, max_cost: usize) -> ErrorCodes {
        ErrorCodes {
            max_depth,
            max_cost,
        }
    }

    fn with_codes(&self, mut response: GraphqlResponse) -> GraphqlResponse {
        for error in &mut response.errors {
            let extensions = error.extensions.get_or_insert_with(Default::default);
            if extensions.get("code").is_some() {
                continue;
            }
            extensions.set("code", "BAD_USER_INPUT");
            match error.message.as_str() {
                "Query is too complex." => {
                    error.message = format!(
                        "Query is too complex: it costs more than max_query_cost ({}); each list costs its `first` times what it selects: ask for fewer items or fields",
                        self.max_cost
                    );
                    extensions.set("limit", "max_query_cost");
                }
                "Query is nested too deep." => {
                    error.message = format!(
                        "Query is nested too deep: more than max_query_depth ({}) levels",
                        self.max_depth
                    );
                    extensions.set("limit", "max_query_depth");
                }
                _ => {}
            }
        }
        response
    }
}

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodes::new(self.max_depth, self.max_cost))
    }
}

#[async_trait]
impl Extension for ErrorCodes {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> GraphqlResponse {
        self.with_codes(next.run(ctx).await)
    }

    /// Subscriptions (and anything sent over the WebSocket) pass here.
    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, GraphqlResponse>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, GraphqlResponse> {
        let codes = ErrorCodes::new(self.max_depth, self.max_cost);
        next.run(ctx, stream)
            .map(move |response| codes.with_codes(response))
            .boxed()
    }
}
