//! Graceful shutdown: when `run`'s shutdown future resolves, the server
//! stops accepting, lets a request in flight finish whole, and closes
//! WebSockets with 1001.
mod common;

use std::time::{Duration, Instant};

use chrono::TimeDelta;
use common::{ws::*, *};
use serde_json::json;

#[tokio::test]
async fn a_request_in_flight_finishes_and_websockets_get_1001() {
    let w = World::new().await;
    let s = &w.s;
    // 8 memories of 1 000 variables that expire in a minute.
    for k in 0..8 {
        let c = s
            .start_conversation(&w.token, &w.bot, &format!("u{k}"))
            .await;
        let r = json!({ "scope": "CONVERSATION", "conversationId": c["id"] });
        let inputs: Vec<_> = (0..1000)
            .map(|i| json!({ "ref": r, "name": format!("v{i}"), "value": i, "expiresIn": "1m" }))
            .collect();
        s.ok(
            &w.token,
            "mutation($i: [SetVariableInput!]!) { setVariables(inputs: $i) { version } }",
            json!({ "i": inputs }),
        )
        .await;
    }
    s.clock.advance(TimeDelta::minutes(2));
    let mut ws = WsClient::connect(&s.base, Some(TRANSPORT)).await;
    ws.init(&w.token).await;

    let started = Instant::now();
    let sweep = {
        let (http, url, token) = (reqwest::Client::new(), s.url("/graphql"), w.token.clone());
        tokio::spawn(async move {
            http.post(url)
                .bearer_auth(token)
                .json(&json!({ "query": "mutation { runJanitor { variablesExpired } }" }))
                .send()
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(30)).await;
    s.shut_down();

    let answer = sweep
        .await
        .unwrap()
        .expect("the request in flight is answered");
    assert!(
        started.elapsed() > Duration::from_millis(30),
        "the sweep ended before shutdown began; nothing was in flight"
    );
    assert_eq!(answer.status(), 200);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(
        body["data"]["runJanitor"]["variablesExpired"], 8000,
        "{body}"
    );
    assert_eq!(ws.closed_with().await.0, 1001);
    // No new connection is accepted.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(reqwest::get(s.url("/healthz")).await.is_err());
}

/// Shutdown begins with `/readyz` unready while the server still serves,
/// for as long as the drain lasts.
#[tokio::test]
async fn readyz_turns_unready_first_while_requests_are_still_served() {
    let s = TestServer::start_with(|c| c.shutdown_drain_secs = 600).await;
    let ready = s.http().get(s.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    s.shut_down();
    let mut status = 200;
    for _ in 0..200 {
        let ready = s.http().get(s.url("/readyz")).send().await.unwrap();
        status = ready.status().as_u16();
        if status == 503 {
            assert_eq!(ready.text().await.unwrap(), "shutting down");
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(status, 503, "/readyz stays ready after shutdown began");
    // Still accepting and answering during the drain.
    let token = s.admin("t1");
    s.ok(&token, "{ viewer { subject } }", json!({})).await;
    let health = reqwest::get(s.url("/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
}

/// A request that does not finish within the grace period is cut off, so
/// the process can exit: here a client that never sends the rest of its
/// body.
#[tokio::test]
async fn requests_in_flight_past_the_grace_period_are_cut_off() {
    use tokio::io::AsyncWriteExt;
    let mut s = TestServer::start_with(|c| c.shutdown_grace_secs = 1).await;
    let address = s.base.trim_start_matches("http://").to_owned();
    let mut stuck = tokio::net::TcpStream::connect(&address).await.unwrap();
    stuck
        .write_all(
            b"POST /graphql HTTP/1.1\r\nHost: botmem\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{\"query\":",
        )
        .await
        .unwrap();
    stuck.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let began = Instant::now();
    s.shut_down();
    assert!(
        s.stopped_within(Duration::from_secs(15)).await,
        "the server waited for the stuck request past its grace period"
    );
    assert!(
        began.elapsed() >= Duration::from_millis(900),
        "the request in flight was not given its grace period: {:?}",
        began.elapsed()
    );
}
