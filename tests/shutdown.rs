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
