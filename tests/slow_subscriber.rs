//! Back-pressure, with the real binary so its memory can be measured: a
//! subscriber that stops reading while ~90 MB of changes are written. The
//! writers must not wait for it, the server's memory must not grow with
//! what it cannot deliver, and the subscriber, when it reads again, must be
//! told that it lagged (`SUBSCRIPTION_LAGGED`) and its subscription ended.
mod common;

use std::time::{Duration, Instant};

use common::{process::*, ws::*, *};
use serde_json::{Value, json};

/// Writes and value sizes, ~40-90 MB in all: far more than the sockets'
/// buffers hold. On PostgreSQL values stay below 16 KB: sqlx 0.9.0 does not
/// set TCP_NODELAY, and each larger statement waits ~40 ms for a delayed
/// ACK (transact-rs/sqlx#4335), which would make this test take minutes.
fn shape() -> (usize, usize) {
    if using_postgres() {
        (6_000, 7_000)
    } else {
        (1_500, 60_000)
    }
}

async fn set(port: u16, token: &str, bot: &str, value: Value) {
    let body = post_gql(
        &reqwest::Client::new(),
        &format!("http://127.0.0.1:{port}"),
        token,
        "mutation($bot: UUID!, $v: JSON!) { setVariable(input: {
            ref: { scope: BOT, botId: $bot }, name: \"big\", value: $v }) { version } }",
        json!({ "bot": bot, "v": value }),
    )
    .await;
    assert!(body.get("errors").is_none(), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_does_not_read_lags_without_costing_memory() {
    let s = TestServer::start().await;
    let mut claims = s.claims("t1", &["admin"]);
    claims.exp = chrono::Utc::now().timestamp() + 3600;
    let token = s.sign(&claims);
    let bot = s.create_bot(&s.admin("t1"), "b").await;
    let port = free_port();
    let settings = [
        ("BOTMEM_EVENT_BUFFER", "64"),
        // Keep the connection: this test is about lagging, not dropping.
        ("BOTMEM_WS_SEND_TIMEOUT_SECS", "600"),
    ];
    let mut child = spawn_botmem(&s.config.database_url, port, &settings);
    wait_up(port).await;
    let base = format!("http://127.0.0.1:{port}");

    let mut ws = WsClient::connect(&base, Some(TRANSPORT)).await;
    ws.init(&token).await;
    ws.subscribe("m", MEMORY_CHANGED, json!({ "bot": bot }))
        .await;
    until_live(&mut ws, "m", "memoryChanged", |k| {
        let (token, bot) = (&token, &bot);
        async move {
            set(port, token, bot, json!(format!("probe-{k}"))).await;
            format!("probe-{k}")
        }
    })
    .await;

    // From here on the client reads nothing. Each value differs (an
    // unchanged value is no change and announces nothing).
    let (writes, value_bytes) = shape();
    let value = move |i: usize| json!(format!("{i:08}{}", "x".repeat(value_bytes - 8)));
    for i in 0..50 {
        set(port, &token, &bot, value(i)).await;
    }
    let before = rss_bytes(child.id());
    let started = Instant::now();
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (token, bot) = (token.clone(), bot.clone());
            tokio::spawn(async move {
                for i in 0..writes / 4 {
                    set(port, &token, &bot, value(100 + w * writes + i)).await;
                }
            })
        })
        .collect();
    // Had a write waited for the subscriber, which reads nothing, the
    // writers would never finish: the bound only catches that hang.
    let finished = tokio::time::timeout(Duration::from_secs(300), async {
        for writer in writers {
            writer.await.unwrap();
        }
    })
    .await;
    assert!(
        finished.is_ok(),
        "writers waited for a subscriber that reads nothing"
    );
    let elapsed = started.elapsed();
    let after = rss_bytes(child.id());
    let written = (writes * value_bytes) as u64;
    eprintln!(
        "{writes} writes of {value_bytes} bytes in {elapsed:?}; server RSS {} -> {} MiB",
        before >> 20,
        after >> 20
    );
    assert!(
        after.saturating_sub(before) < written / 2,
        "server memory grew by {} MiB while {} MiB were written to a stalled subscriber",
        after.saturating_sub(before) >> 20,
        written >> 20
    );

    // Reading again: what fit in the socket, then the lag, then the end.
    let mut delivered = 0;
    let lag = loop {
        let payload = ws.next_result("m").await;
        if payload.get("errors").is_some() {
            break payload;
        }
        delivered += 1;
    };
    assert_eq!(
        lag["errors"][0]["extensions"]["code"], "SUBSCRIPTION_LAGGED",
        "{lag}"
    );
    assert!(
        delivered < writes,
        "{delivered} events reached the stalled client"
    );
    assert_eq!(ws.recv_json().await, json!({"type": "complete", "id": "m"}));
    let _ = child.kill();
    let _ = child.wait();
}
