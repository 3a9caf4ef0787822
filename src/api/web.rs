//! The built-in web pages: the memory inspector (`/inspector`) and
//! GraphiQL (`/graphiql`, and `GET /graphql` from a browser). Their assets
//! are built from `web/src` (see `web/README.md`) into `web/dist`, which is
//! committed and embedded in the binary, so the pages work offline, behind
//! egress rules, and under a strict Content-Security-Policy: nothing is
//! fetched from a CDN and no script is inline.
//!
//! The pages speak only the public GraphQL API with the token the user
//! pastes, so they can do exactly what that token can do. The token lives
//! in the browser's `sessionStorage`; the development start hands it over
//! in a URL fragment, which browsers never send to the server.
use axum::{
    Router,
    extract::Path,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};

/// No inline script, no other origin: the API (HTTP and WebSocket) is
/// `'self'`. Styles may be set inline because GraphiQL's editor sets them;
/// GraphiQL's fonts are data URLs. No workers: GraphiQL 3 (CodeMirror 5)
/// runs none.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
     connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $type:literal) => {
        Asset {
            name: $name,
            content_type: $type,
            body: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/web/dist/", $name)),
        }
    };
}

static ASSETS: &[Asset] = &[
    asset!("inspector.html", "text/html; charset=utf-8"),
    asset!("inspector.js", "text/javascript; charset=utf-8"),
    asset!("inspector.css", "text/css; charset=utf-8"),
    asset!("graphiql.html", "text/html; charset=utf-8"),
    asset!("graphiql.js", "text/javascript; charset=utf-8"),
    asset!("graphiql.css", "text/css; charset=utf-8"),
];

/// `/inspector`, `/graphiql` and their assets under `/ui/`.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/inspector", get(|| async { page("inspector.html") }))
        .route("/inspector/", get(|| async { page("inspector.html") }))
        .route("/graphiql", get(|| async { page("graphiql.html") }))
        .route(
            "/ui/{name}",
            get(|Path(name): Path<String>| async move { file(&name) }),
        )
}

/// GraphiQL's page, for a browser that opens `/graphql`.
pub fn graphiql() -> Response {
    page("graphiql.html")
}

fn page(name: &str) -> Response {
    let mut response = file(name);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

fn file(name: &str) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.name == name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            // Same binary, same bytes: revalidate, but cheaply.
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        asset.body,
    )
        .into_response()
}
