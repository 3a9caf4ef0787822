//! Shared by the benchmarks: a server started in-process on a fresh
//! database, a GraphQL client, and latency measurement.
#![allow(dead_code)]

use std::{future::Future, time::Duration};

use botmem::{Config, auth::Claims, clock::Clock};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

pub const SECRET: &str = "bench-secret-bench-secret-bench-secret-01";

pub fn env_or<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub fn databases() -> Vec<&'static str> {
    let which: String = env_or("BENCH_DB", "both".to_string());
    ["sqlite", "postgres"]
        .into_iter()
        .filter(|kind| which == "both" || which == *kind)
        .collect()
}

/// A WebSocket client connection.
pub type WsStream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A fresh benchmark database and what removes it afterwards.
pub struct FreshDatabase {
    drop_after: Option<(String, String)>,
    dir: Option<tempfile::TempDir>,
}

/// A fresh database of `kind` (`sqlite` or `postgres`): its URL.
pub async fn fresh_database(kind: &str) -> (String, FreshDatabase) {
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
        let drop_after = Some((format!("{base}/postgres"), name.clone()));
        (
            format!("{base}/{name}"),
            FreshDatabase {
                drop_after,
                dir: None,
            },
        )
    } else {
        let dir = tempfile::tempdir().unwrap();
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("bench.db").display()
        );
        (
            url,
            FreshDatabase {
                drop_after: None,
                dir: Some(dir),
            },
        )
    }
}

/// For a server in another process: the URL, and a future that removes the
/// database once that process is gone.
pub async fn bench_database(kind: &str) -> (String, impl Future<Output = ()>) {
    let (url, database) = fresh_database(kind).await;
    let cleanup = async move {
        if let Some((admin_url, name)) = &database.drop_after {
            drop_database(admin_url, name).await;
        }
        drop(database.dir);
    };
    (url, cleanup)
}

async fn drop_database(admin_url: &str, name: &str) {
    tokio::time::sleep(Duration::from_millis(200)).await;
    let admin = Database::connect(admin_url).await.unwrap();
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .ok();
}

/// A running server on a fresh database of `kind`, dropped afterwards.
pub struct Bench {
    pub url: String,
    pub graphql: String,
    pub clock: Clock,
    pub token: String,
    http: reqwest::Client,
    stop: CancellationToken,
    drop_after: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl Bench {
    pub async fn start(kind: &str, clock: Clock, adjust: impl FnOnce(&mut Config)) -> Bench {
        let (url, database) = fresh_database(kind).await;
        let (drop_after, dir) = (database.drop_after, database.dir);
        let mut config = Config {
            database_url: url.clone(),
            jwt_secret: Some(SECRET.into()),
            clock: clock.clone(),
            // The benches measure the engine: one tenant's load, unbounded
            // by the per-tenant fair share and the request timeout.
            request_timeout_secs: 3600,
            tenant_requests_per_sec: 1_000_000,
            tenant_burst: 1_000_000,
            tenant_max_concurrent: 100_000,
            ..Config::default()
        };
        adjust(&mut config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let graphql = format!("http://{}/graphql", listener.local_addr().unwrap());
        let stop = CancellationToken::new();
        tokio::spawn(botmem::run(
            config,
            listener,
            stop.clone().cancelled_owned(),
        ));
        let token = botmem::auth::mint_hs256(
            SECRET,
            &Claims {
                sub: "bench".into(),
                tenant: "bench".into(),
                roles: vec!["admin".into()],
                exp: clock.now().timestamp() + 86_400,
                nbf: None,
                bots: None,
                iss: None,
                aud: None,
            },
        )
        .unwrap();
        Bench {
            url,
            graphql,
            clock,
            token,
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(64)
                .build()
                .unwrap(),
            stop,
            drop_after,
            _dir: dir,
        }
    }

    /// Sends one operation (retrying until the server listens) and panics on errors.
    pub fn gql(
        &self,
        query: &'static str,
        variables: Value,
    ) -> impl Future<Output = Value> + 'static {
        let (http, url, token) = (self.http.clone(), self.graphql.clone(), self.token.clone());
        async move {
            let body: Value = loop {
                let sent = http
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({ "query": query, "variables": variables }))
                    .send()
                    .await;
                match sent {
                    Ok(r) => break r.json().await.unwrap(),
                    Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            };
            assert!(body.get("errors").is_none(), "{body}");
            body
        }
    }

    /// Creates the bot the benchmark writes to; returns its id.
    pub async fn create_bot(&self) -> String {
        let data = self
            .gql(
                "mutation { createBot(input: { name: \"bench\" }) { id } }",
                json!({}),
            )
            .await;
        data["data"]["createBot"]["id"].as_str().unwrap().to_owned()
    }

    pub async fn stop(self) {
        self.stop.cancel();
        if let Some((admin_url, name)) = &self.drop_after {
            drop_database(admin_url, name).await;
        }
    }
}
