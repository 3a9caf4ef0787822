//! Memory throughput and latency over HTTP, against a raw-database baseline
//! measured in the same run (the machines are shared and noisy: read the
//! ratios). Run: `cargo bench --bench memory`.
//!
//! Env: BENCH_DB=sqlite|postgres|both (default both), BENCH_REQUESTS
//! (default 3000 per phase), BENCH_CONCURRENCY (default 16),
//! BOTMEM_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432).
use std::{
    future::Future,
    time::{Duration, Instant},
};

use botmem::{Config, auth::Claims, clock::Clock};
use entity::variable;
use futures_util::{StreamExt, stream};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, Database, EntityTrait, QueryFilter,
    sea_query::OnConflict,
};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const SECRET: &str = "bench-secret-bench-secret-bench-secret-01";

fn env_or<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Figures {
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

/// Runs `requests` calls of `call(i)` with `concurrency` in flight.
async fn measure<F, Fut, T>(requests: usize, concurrency: usize, call: F) -> Figures
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = T>,
{
    let started = Instant::now();
    let mut latencies: Vec<Duration> = stream::iter(0..requests)
        .map(|i| {
            let fut = call(i);
            async move {
                let t = Instant::now();
                fut.await;
                t.elapsed()
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let elapsed = started.elapsed();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    Figures {
        per_second: requests as f64 / elapsed.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
    }
}

fn row(op: &str, db: &str, botmem: &Figures, raw: &Figures) {
    println!(
        "{op:<12} {db:<9} {:>9.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms | raw {:>9.0} /s  p50 {:>6.2} ms  p99 {:>6.2} ms | throughput ratio botmem/raw {:.2}",
        botmem.per_second,
        botmem.p50.as_secs_f64() * 1e3,
        botmem.p99.as_secs_f64() * 1e3,
        raw.per_second,
        raw.p50.as_secs_f64() * 1e3,
        raw.p99.as_secs_f64() * 1e3,
        botmem.per_second / raw.per_second,
    );
}

async fn database(kind: &str) -> (String, Option<(String, String)>, Option<tempfile::TempDir>) {
    if kind == "postgres" {
        let base = std::env::var("BOTMEM_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
        let name = format!("botmem_bench_{}", uuid::Uuid::new_v4().simple());
        let admin = Database::connect(format!("{base}/postgres"))
            .await
            .expect("PostgreSQL");
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        (
            format!("{base}/{name}"),
            Some((format!("{base}/postgres"), name)),
            None,
        )
    } else {
        let dir = tempfile::tempdir().unwrap();
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("bench.db").display()
        );
        (url, None, Some(dir))
    }
}

async fn bench(kind: &str, requests: usize, concurrency: usize) {
    let (url, drop_after, _dir) = database(kind).await;
    let config = Config {
        database_url: url.clone(),
        jwt_secret: Some(SECRET.into()),
        clock: Clock::system(),
        ..Config::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/graphql", listener.local_addr().unwrap());
    let stop = CancellationToken::new();
    tokio::spawn(botmem::run(
        config,
        listener,
        stop.clone().cancelled_owned(),
    ));
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    let token = botmem::auth::mint_hs256(
        SECRET,
        &Claims {
            sub: "bench".into(),
            tenant: "bench".into(),
            roles: vec!["admin".into()],
            exp: chrono::Utc::now().timestamp() + 3600,
            nbf: None,
            bots: None,
            iss: None,
            aud: None,
        },
    )
    .unwrap();
    let gql = |query: &'static str, variables: Value| {
        let (http, base, token) = (http.clone(), base.clone(), token.clone());
        async move {
            let body: Value = loop {
                match http
                    .post(&base)
                    .bearer_auth(&token)
                    .json(&json!({ "query": query, "variables": variables }))
                    .send()
                    .await
                {
                    Ok(r) => break r.json().await.unwrap(),
                    Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            };
            assert!(body.get("errors").is_none(), "{body}");
            body
        }
    };
    let bot = gql(
        "mutation { createBot(input: { name: \"bench\" }) { id } }",
        json!({}),
    )
    .await["data"]["createBot"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let user = gql(
        "mutation($b: UUID!) { upsertUser(input: { botId: $b, channel: \"web\", externalId: \"u\" }) { id } }",
        json!({ "b": bot }),
    )
    .await["data"]["upsertUser"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let user_ref = json!({ "scope": "USER", "userId": user });

    // Each writer updates one of 100 variables of one user: writers of the
    // same memory queue on its lock, as in real use.
    let set = measure(requests, concurrency, |i| {
        gql(
            "mutation($i: SetVariableInput!) { setVariable(input: $i) { version } }",
            json!({ "i": { "ref": user_ref, "name": format!("k{}", i % 100), "value": { "n": i, "text": "hello" } } }),
        )
    })
    .await;
    // The same writes spread over 16 users: memories do not contend.
    let mut users = vec![];
    for n in 0..16 {
        let data = gql(
            "mutation($b: UUID!, $e: String!) { upsertUser(input: { botId: $b, channel: \"web\", externalId: $e }) { id } }",
            json!({ "b": bot, "e": format!("spread{n}") }),
        )
        .await;
        users.push(
            data["data"]["upsertUser"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let spread = measure(requests, concurrency, |i| {
        gql(
            "mutation($i: SetVariableInput!) { setVariable(input: $i) { version } }",
            json!({ "i": { "ref": { "scope": "USER", "userId": users[i % users.len()] }, "name": format!("k{}", i % 100), "value": { "n": i, "text": "hello" } } }),
        )
    })
    .await;
    let read = measure(requests, concurrency, |_| {
        gql(
            "query($r: MemoryRef!) { memory(ref: $r) { version json } }",
            json!({ "r": user_ref }),
        )
    })
    .await;

    // Baseline: the same rows written and read with single SQL statements,
    // no HTTP, no GraphQL, no auth, no transaction, no lock.
    let raw_db = Database::connect(&url).await.unwrap();
    let owner: uuid::Uuid = user.parse().unwrap();
    let bot_id: uuid::Uuid = bot.parse().unwrap();
    let raw_set = measure(requests, concurrency, |i| {
        let db = raw_db.clone();
        async move {
            let now = chrono::Utc::now();
            let row = variable::ActiveModel {
                tenant_id: Set("bench".into()),
                scope: Set("user".into()),
                owner_id: Set(owner),
                name: Set(format!("r{}", i % 100)),
                bot_id: Set(bot_id),
                value: Set(json!({ "n": i, "text": "hello" })),
                version: Set(1),
                expires_at: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            };
            variable::Entity::insert(row)
                .on_conflict(
                    OnConflict::columns([
                        variable::Column::TenantId,
                        variable::Column::Scope,
                        variable::Column::OwnerId,
                        variable::Column::Name,
                    ])
                    .update_columns([variable::Column::Value, variable::Column::UpdatedAt])
                    .to_owned(),
                )
                .exec(&db)
                .await
                .unwrap();
        }
    })
    .await;
    let raw_read = measure(requests, concurrency, |_| {
        let db = raw_db.clone();
        async move {
            variable::Entity::find()
                .filter(variable::Column::TenantId.eq("bench"))
                .filter(variable::Column::Scope.eq("user"))
                .filter(variable::Column::OwnerId.eq(owner))
                .all(&db)
                .await
                .unwrap();
        }
    })
    .await;
    row("set 1 user", kind, &set, &raw_set);
    row("set 16 users", kind, &spread, &raw_set);
    row("memory read", kind, &read, &raw_read);

    stop.cancel();
    raw_db.close().await.ok();
    if let Some((admin_url, name)) = drop_after {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let admin = Database::connect(admin_url).await.unwrap();
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await
            .ok();
    }
}

#[tokio::main]
async fn main() {
    let which: String = env_or("BENCH_DB", "both".to_string());
    let requests: usize = env_or("BENCH_REQUESTS", 3000);
    let concurrency: usize = env_or("BENCH_CONCURRENCY", 16);
    println!(
        "botmem memory benchmark: {requests} requests per phase, {concurrency} in flight, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    for kind in ["sqlite", "postgres"] {
        if which == "both" || which == kind {
            bench(kind, requests, concurrency).await;
        }
    }
}
