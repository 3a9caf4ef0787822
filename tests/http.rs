//! GraphQL over HTTP as the spec and browsers expect it, plus health probes.
mod common;

use common::*;
use serde_json::{Value, json};

#[tokio::test]
async fn media_type_follows_accept_and_request_errors_are_400_with_graphql_response_json() {
    let s = TestServer::start().await;
    let token = s.admin("t1");
    let post = |accept: Option<&'static str>, query: &'static str| {
        let mut r = s
            .http()
            .post(s.url("/graphql"))
            .bearer_auth(&token)
            .json(&json!({ "query": query }));
        if let Some(accept) = accept {
            r = r.header("accept", accept);
        }
        r.send()
    };
    let r = post(
        Some("application/graphql-response+json"),
        "{ bots { totalCount } }",
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/graphql-response+json")
    );

    let r = post(Some("application/graphql-response+json"), "{ bots { ")
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "a syntax error never starts execution");
    let body: Value = r.json().await.unwrap();
    assert_code(&body, "BAD_USER_INPUT");

    let r = post(Some("application/json"), "{ bots { ").await.unwrap();
    assert_eq!(
        r.status(),
        200,
        "legacy application/json always answers 200"
    );
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );

    // No Accept header at all (reqwest always sends one, so speak raw HTTP).
    let raw = raw_post_without_accept(&s, &token, r#"{"query":"{ bots { totalCount } }"}"#).await;
    assert!(raw.starts_with("HTTP/1.1 200"), "{raw}");
    assert!(
        raw.to_lowercase()
            .contains("content-type: application/graphql-response+json"),
        "{raw}"
    );
    let r = post(Some("*/*"), "{ bots { totalCount } }").await.unwrap();
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );

    let r = post(Some("text/plain"), "{ bots { totalCount } }")
        .await
        .unwrap();
    assert_eq!(r.status(), 406);
}

async fn raw_post_without_accept(s: &TestServer, token: &str, body: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = s.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!(
        "POST /graphql HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

#[tokio::test]
async fn get_serves_queries_refuses_mutations_and_shows_graphiql_to_browsers() {
    let s = TestServer::start().await;
    let token = s.admin("t1");
    let r = s
        .http()
        .get(s.url("/graphql"))
        .query(&[("query", "{ bots { totalCount } }")])
        .bearer_auth(&token)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["data"]["bots"]["totalCount"], 0);

    // Unnamed, and named but sent without operationName (it is the
    // document's only operation, so it would run).
    for mutation in [
        "mutation { createBot(input: { name: \"x\" }) { id } }",
        "mutation Named { createBot(input: { name: \"x\" }) { id } }",
    ] {
        let r = s
            .http()
            .get(s.url("/graphql"))
            .query(&[("query", mutation)])
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 405, "{mutation}");
        assert_eq!(r.headers()["allow"], "POST");
    }
    let data = s.ok(&token, "{ bots { totalCount } }", json!({})).await;
    assert_eq!(
        data["bots"]["totalCount"], 0,
        "the GET mutation did not run"
    );

    let r = s
        .http()
        .get(s.url("/graphql"))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().to_lowercase().contains("graphiql"));
}

#[tokio::test]
async fn batches_are_capped_and_bad_bodies_are_400() {
    let s = TestServer::start_with(|c| c.max_batch = 2).await;
    let token = s.admin("t1");
    let one = json!({ "query": "{ bots { totalCount } }" });
    let send = |body: Value| {
        s.http()
            .post(s.url("/graphql"))
            .bearer_auth(&token)
            .header("accept", "application/json")
            .json(&body)
            .send()
    };
    let r = send(json!([one, one])).await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body.as_array().unwrap().len(), 2);

    let r = send(json!([one, one, one])).await.unwrap();
    assert_eq!(r.status(), 400);
    assert_code(&r.json().await.unwrap(), "BAD_USER_INPUT");

    let r = s
        .http()
        .post(s.url("/graphql"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_code(&r.json().await.unwrap(), "BAD_USER_INPUT");
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let s = TestServer::start_with(|c| c.max_body_bytes = 1024).await;
    let big = "x".repeat(4096);
    let r = s
        .http()
        .post(s.url("/graphql"))
        .bearer_auth(s.admin("t1"))
        .json(&json!({ "query": format!("{{ bots {{ totalCount }} }} # {big}") }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
}

#[tokio::test]
async fn health_and_readiness() {
    let s = TestServer::start().await;
    let r = s.http().get(s.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = s.http().get(s.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "ready");
}

#[tokio::test]
async fn readiness_reports_pending_migrations() {
    let s = TestServer::start_with(|c| c.migrate = false).await;
    let r = s.http().get(s.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.text().await.unwrap(), "migrations pending");
}

#[tokio::test]
async fn subscriptions_over_http_are_refused_with_a_pointer_to_the_socket() {
    let s = TestServer::start().await;
    let admin = s.admin("t1");
    let bot = s.create_bot(&admin, "b").await;
    let body = s
        .gql(
            &admin,
            "subscription($bot: UUID!) { memoryChanged(botId: $bot) { op } }",
            json!({ "bot": bot }),
        )
        .await;
    assert_code(&body, "BAD_USER_INPUT");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("/graphql/ws"), "{message}");
}
