//! Fan-out: N idle subscribers, each its own WebSocket connection with one
//! `memoryChanged` subscription, and one write; the time from sending the
//! write until each subscriber has the event (p50/p99/max over all of them
//! and all writes), and the server's RSS per idle subscriber.
//!
//! The server is the release `botmem` binary in a child process, so its
//! memory is its own. Baseline in the same run: a bare WebSocket broadcast
//! server (tokio-tungstenite, no GraphQL, auth, database or filtering), also
//! a child process (this program, re-run as the server), fed the same way
//! to the same number of clients. Read the ratios: these machines are
//! shared, and the clients share the two cores with the server.
//!
//! Run: `cargo bench --bench fanout`. Env: BENCH_DB=sqlite|postgres|both
//! (default sqlite), BENCH_SUBSCRIBERS (default 1000,10000), BENCH_WRITES
//! (default 5).
mod common;

use std::{
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use common::{databases, env_or};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::{
    connect_async,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

use common::SECRET;
const RAW_SERVER: &str = "BENCH_FANOUT_RAW_SERVER";

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if let Ok(port) = std::env::var(RAW_SERVER) {
        return runtime.block_on(raw_server(port.parse().unwrap()));
    }
    runtime.block_on(async {
        let counts: String = env_or("BENCH_SUBSCRIBERS", "1000,10000".to_string());
        let writes: usize = env_or("BENCH_WRITES", 5);
        let kinds = match std::env::var("BENCH_DB").as_deref() {
            Ok("both") => databases(),
            Ok("postgres") => vec!["postgres"],
            _ => vec!["sqlite"],
        };
        for n in counts
            .split(',')
            .filter_map(|n| n.trim().parse::<usize>().ok())
        {
            let raw = raw_fanout(n, writes).await;
            for kind in &kinds {
                botmem_fanout(kind, n, writes, &raw).await;
            }
        }
    });
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap();
    kib / 1024.0
}

struct Latencies {
    p50: Duration,
    p99: Duration,
    max: Duration,
}

fn summarize(mut all: Vec<Duration>) -> Latencies {
    all.sort();
    let at = |q: f64| all[((all.len() as f64 * q) as usize).min(all.len() - 1)];
    Latencies {
        p50: at(0.50),
        p99: at(0.99),
        max: *all.last().unwrap(),
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Opens `n` clients with `open`, each then reporting the instant it
/// receives a message (other than pings and acks) on `deliveries`.
async fn open_clients<F, Fut>(n: usize, open: F) -> mpsc::UnboundedReceiver<Instant>
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: Future<Output = common::WsStream> + Send,
{
    let (tx, rx) = mpsc::unbounded_channel();
    let opened = futures_util::stream::iter(0..n)
        .map(|_| {
            let open = open.clone();
            async move { open().await }
        })
        .buffer_unordered(64)
        .collect::<Vec<_>>()
        .await;
    for mut socket in opened {
        let tx = tx.clone();
        tokio::spawn(async move {
            while let Some(Ok(message)) = socket.next().await {
                if let Message::Text(text) = message {
                    if text.contains("\"ping\"") {
                        let _ = socket
                            .send(Message::Text(r#"{"type":"pong"}"#.into()))
                            .await;
                        continue;
                    }
                    if tx.send(Instant::now()).is_err() {
                        return;
                    }
                }
            }
        });
    }
    rx
}

/// Waits for `n` deliveries; their delays after `sent`.
async fn collect(
    deliveries: &mut mpsc::UnboundedReceiver<Instant>,
    n: usize,
    sent: Instant,
) -> Vec<Duration> {
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        match tokio::time::timeout(Duration::from_secs(60), deliveries.recv()).await {
            Ok(Some(at)) => out.push(at.saturating_duration_since(sent)),
            _ => panic!("only {} of {n} deliveries arrived", out.len()),
        }
    }
    out
}

async fn raw_server(port: u16) {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let (events, _) = tokio::sync::broadcast::channel::<Arc<str>>(64);
    loop {
        let (stream, _) = listener.accept().await.unwrap();
        let events = events.clone();
        tokio::spawn(async move {
            let Ok(socket) = tokio_tungstenite::accept_async(stream).await else {
                return;
            };
            let (mut sink, mut incoming) = socket.split();
            let mut rx = events.subscribe();
            loop {
                tokio::select! {
                    message = incoming.next() => match message {
                        Some(Ok(Message::Text(text))) => { let _ = events.send(text.as_str().into()); }
                        Some(Ok(_)) => {}
                        _ => return,
                    },
                    Ok(event) = rx.recv() => {
                        if sink.send(Message::Text(event.to_string().into())).await.is_err() {
                            return;
                        }
                    }
                }
            }
        });
    }
}

/// Same clients, same kind of payload, no botmem.
async fn raw_fanout(n: usize, writes: usize) -> Latencies {
    let port = free_port();
    let mut child = KillOnDrop(
        Command::new(std::env::current_exe().unwrap())
            .env(RAW_SERVER, port.to_string())
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let url = format!("ws://127.0.0.1:{port}");
    let mut control = loop {
        match connect_async(&url).await {
            Ok((socket, _)) => break socket,
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    };
    let open = {
        let url = url.clone();
        move || {
            let url = url.clone();
            async move { connect_async(&url).await.unwrap().0 }
        }
    };
    let mut deliveries = open_clients(n, open).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let payload = json!({"type": "next", "id": "m", "payload": {"data": {"memoryChanged": {
        "op": "SET", "botId": "0192a0c4-0000-7000-8000-000000000000", "scope": "BOT",
        "ownerId": "0192a0c4-0000-7000-8000-000000000000", "name": "greeting",
        "value": "hello", "version": 1, "memoryVersion": 1, "at": "2026-11-21T12:00:00Z"}}}})
    .to_string();
    let mut all = vec![];
    for _ in 0..writes {
        let sent = Instant::now();
        control
            .send(Message::Text(payload.clone().into()))
            .await
            .unwrap();
        // The control connection hears its own broadcast too.
        all.extend(collect(&mut deliveries, n, sent).await);
        let _ = control.next().await;
    }
    let raw = summarize(all);
    println!(
        "fanout {n:>6} subscribers  raw websocket broadcast      p50 {:>8.2} ms  p99 {:>8.2} ms  max {:>8.2} ms",
        ms(raw.p50),
        ms(raw.p99),
        ms(raw.max)
    );
    let _ = child.0.kill();
    raw
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn botmem_fanout(kind: &str, n: usize, writes: usize, raw: &Latencies) {
    let (database_url, cleanup) = common::bench_database(kind).await;
    let port = free_port();
    let child = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_botmem"))
            .arg("serve")
            .env("BOTMEM_DATABASE_URL", &database_url)
            .env("BOTMEM_JWT_SECRET", SECRET)
            .env("BOTMEM_LISTEN", format!("127.0.0.1:{port}"))
            .env("BOTMEM_JANITOR", "off")
            .env("BOTMEM_WS_MAX_CONNECTIONS_PER_TENANT", "1000000")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let token = botmem::auth::mint_hs256(
        SECRET,
        &botmem::auth::Claims {
            sub: "bench".into(),
            tenant: "bench".into(),
            roles: vec!["admin".into()],
            exp: chrono::Utc::now().timestamp() + 86_400,
            nbf: None,
            bots: None,
            iss: None,
            aud: None,
        },
    )
    .unwrap();
    let http = reqwest::Client::new();
    let gql = |query: &str, variables: Value| {
        let request = http
            .post(format!("{base}/graphql"))
            .bearer_auth(&token)
            .json(&json!({ "query": query, "variables": variables }));
        async move {
            loop {
                match request.try_clone().unwrap().send().await {
                    Ok(r) => {
                        let body: Value = r.json().await.unwrap();
                        assert!(body.get("errors").is_none(), "{body}");
                        return body;
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        }
    };
    let created = gql(
        "mutation { createBot(input: { name: \"fanout\" }) { id } }",
        json!({}),
    )
    .await;
    let bot = created["data"]["createBot"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_mib(child.0.id());

    let open = {
        let (url, token, bot) = (
            format!("ws://127.0.0.1:{port}/graphql/ws"),
            token.clone(),
            bot.clone(),
        );
        move || {
            let (url, token, bot) = (url.clone(), token.clone(), bot.clone());
            async move {
                let mut request = url.into_client_request().unwrap();
                request.headers_mut().insert(
                    "Sec-WebSocket-Protocol",
                    HeaderValue::from_static("graphql-transport-ws"),
                );
                let (mut socket, _) = connect_async(request).await.unwrap();
                let init = json!({"type": "connection_init", "payload": {"token": token}});
                socket
                    .send(Message::Text(init.to_string().into()))
                    .await
                    .unwrap();
                let _ack = socket.next().await;
                let subscribe = json!({"type": "subscribe", "id": "m", "payload": {
                    "query": "subscription($bot: UUID!) { memoryChanged(botId: $bot) { op botId scope ownerId name value version memoryVersion at } }",
                    "variables": {"bot": bot}}});
                socket
                    .send(Message::Text(subscribe.to_string().into()))
                    .await
                    .unwrap();
                socket
            }
        }
    };
    let connect_started = Instant::now();
    let mut deliveries = open_clients(n, open).await;
    let connected = connect_started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = rss_mib(child.0.id());

    let set = "mutation($bot: UUID!, $v: JSON!) { setVariable(input: {
        ref: { scope: BOT, botId: $bot }, name: \"greeting\", value: $v }) { version } }";
    // Warm-up write: every subscription must be live before timing.
    gql(set, json!({ "bot": bot, "v": "warm-up" })).await;
    collect(&mut deliveries, n, Instant::now()).await;
    let mut all = vec![];
    let mut write_latency = vec![];
    for w in 0..writes {
        let sent = Instant::now();
        gql(set, json!({ "bot": bot, "v": format!("hello {w}") })).await;
        write_latency.push(sent.elapsed());
        all.extend(collect(&mut deliveries, n, sent).await);
    }
    let figures = summarize(all);
    let write = summarize(write_latency);
    println!(
        "fanout {n:>6} subscribers  botmem {kind:<9}           p50 {:>8.2} ms  p99 {:>8.2} ms  max {:>8.2} ms | ratio p50 {:.1}x p99 {:.1}x raw | write p50 {:.2} ms | RSS {:.1} -> {:.1} MiB = {:.1} KiB per idle subscriber | {n} connected+subscribed in {:.1} s",
        ms(figures.p50),
        ms(figures.p99),
        ms(figures.max),
        ms(figures.p50) / ms(raw.p50).max(0.001),
        ms(figures.p99) / ms(raw.p99).max(0.001),
        ms(write.p50),
        before,
        idle,
        (idle - before) * 1024.0 / n as f64,
        connected.as_secs_f64(),
    );
    drop(child);
    cleanup.await;
}
