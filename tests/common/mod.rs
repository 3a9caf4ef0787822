//! Black-box harness: each test starts the real server (`botmem::run`) on
//! 127.0.0.1:0 with its own database, and talks GraphQL over HTTP.
//!
//! `BOTMEM_TEST_DATABASE=sqlite` (default) gives each test a fresh SQLite
//! file; `=postgres` a fresh PostgreSQL database on
//! `BOTMEM_TEST_POSTGRES_URL` (default postgres://postgres@127.0.0.1:5432),
//! dropped when the test ends; `=none` (the run of database-free tests in
//! `scripts/test`) fails any test that asks for a database. Any other value
//! fails every test: a typo must not quietly test SQLite.
//!
//! On PostgreSQL the server connects as [`SERVICE_ROLE`], a login role
//! without SUPERUSER or BYPASSRLS that owns each test database: row-level
//! security holds it as it holds a production install. Tests that inspect
//! or tamper with rows directly use [`TestServer::superuser_url`].
//!
//! Tests that only mean something on PostgreSQL (several replicas, the
//! relay) live in a module named `postgres_only`: `scripts/test` leaves
//! them out of the SQLite run, and [`require_postgres`] fails them anywhere
//! else, so none passes by skipping.
#![allow(dead_code)]

pub mod process;
mod world;
pub mod ws;

#[allow(unused_imports)]
pub use world::World;

use std::future::IntoFuture;

use botmem::{Config, auth::Claims, clock::Clock};
use chrono::{TimeZone, Utc};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

pub const SECRET: &str = "test-secret-that-is-long-enough-0123456789";

enum TestDb {
    Sqlite(tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

pub struct TestServer {
    pub base: String,
    pub clock: Clock,
    pub config: Config,
    http: reqwest::Client,
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<()>,
    db: Option<TestDb>,
}

/// The role the server connects as on PostgreSQL (see the module's doc).
pub const SERVICE_ROLE: &str = "botmem_service";

/// `base` (`postgres://user@host:port`) with another user.
pub fn as_role(base: &str, role: &str) -> String {
    let (scheme, rest) = base.split_once("://").expect("a postgres:// URL");
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    format!("{scheme}://{role}@{host}")
}

/// Creates [`SERVICE_ROLE`] unless it exists; tests race to do it.
async fn ensure_service_role(admin: &sea_orm::DatabaseConnection) {
    let sql = format!(
        "DO $$ BEGIN CREATE ROLE {SERVICE_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS; \
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
    );
    for _ in 0..5 {
        if sea_orm::ConnectionTrait::execute_unprepared(admin, &sql)
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("cannot create the role {SERVICE_ROLE}");
}

pub fn postgres_base() -> String {
    std::env::var("BOTMEM_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
    None,
}

pub fn backend() -> Backend {
    match std::env::var("BOTMEM_TEST_DATABASE").as_deref() {
        Err(_) | Ok("sqlite") => Backend::Sqlite,
        Ok("postgres") => Backend::Postgres,
        Ok("none") => Backend::None,
        Ok(other) => panic!("BOTMEM_TEST_DATABASE={other:?}: use sqlite, postgres or none"),
    }
}

pub fn using_postgres() -> bool {
    backend() == Backend::Postgres
}

/// For tests in a `postgres_only` module: run on SQLite, they fail.
pub fn require_postgres() {
    assert!(
        using_postgres(),
        "a postgres_only test ran with BOTMEM_TEST_DATABASE={:?}; scripts/test runs it on PostgreSQL only",
        std::env::var("BOTMEM_TEST_DATABASE")
    );
}

async fn create_database() -> (TestDb, String) {
    assert!(
        backend() != Backend::None,
        "this test needs a database, but BOTMEM_TEST_DATABASE=none: move it out of the database-free set in scripts/test"
    );
    if using_postgres() {
        let base = postgres_base();
        let admin_url = format!("{base}/postgres");
        let name = format!("botmem_t_{}", uuid::Uuid::new_v4().simple());
        let admin = sea_orm::Database::connect(&admin_url)
            .await
            .expect("PostgreSQL reachable for tests");
        ensure_service_role(&admin).await;
        let sql = format!("CREATE DATABASE {name} OWNER {SERVICE_ROLE}");
        sea_orm::ConnectionTrait::execute_unprepared(&admin, &sql)
            .await
            .expect("create test database");
        admin.close().await.ok();
        let url = format!("{}/{name}", as_role(&base, SERVICE_ROLE));
        (TestDb::Postgres { admin_url, name }, url)
    } else {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("botmem.db").display()
        );
        (TestDb::Sqlite(dir), url)
    }
}

/// Starts `botmem::run` on a free port; cancelling the token stops it.
async fn spawn(config: &Config) -> (String, CancellationToken, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let cancel = CancellationToken::new();
    let server = botmem::run(config.clone(), listener, cancel.clone().cancelled_owned());
    let task = tokio::spawn(async move {
        if let Err(e) = server.into_future().await {
            panic!("server failed: {e:?}");
        }
    });
    (base, cancel, task)
}

/// A fixed start so expiry arithmetic in tests is exact.
pub fn start_time() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, 15, 12, 0, 0).unwrap()
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> TestServer {
        // Server logs go to the test's output, which nextest shows on failure.
        let _ = tracing_subscriber::fmt()
            .with_env_filter("botmem=debug,warn")
            .with_test_writer()
            .try_init();
        let (db, url) = create_database().await;
        let clock = Clock::manual(start_time());
        let mut config = Config {
            database_url: url,
            jwt_secret: Some(SECRET.into()),
            clock: clock.clone(),
            db_max_connections: Some(5),
            // Off unless a test is about the janitor: rules such as "expired
            // means absent" must hold with no sweep at all.
            janitor: botmem::config::Switch::Off,
            ..Config::default()
        };
        adjust(&mut config);
        let (base, cancel, task) = spawn(&config).await;
        let server = TestServer {
            base,
            clock,
            config,
            http: reqwest::Client::new(),
            cancel,
            task,
            db: Some(db),
        };
        server.wait_ready().await;
        server
    }

    /// Resolves the server's shutdown future, as SIGTERM does for `botmem serve`.
    /// The test's database as a superuser, whom row-level security lets
    /// through: for tests that count, inspect or lock rows directly. On
    /// SQLite, the server's own URL.
    pub fn superuser_url(&self) -> String {
        match &self.db {
            Some(TestDb::Postgres { name, .. }) => format!("{}/{name}", postgres_base()),
            _ => self.config.database_url.clone(),
        }
    }

    pub fn shut_down(&self) {
        self.cancel.cancel();
    }

    /// Whether `run` returned within `limit` (after [`Self::shut_down`]).
    pub async fn stopped_within(&mut self, limit: std::time::Duration) -> bool {
        tokio::time::timeout(limit, &mut self.task).await.is_ok()
    }

    /// Waits for `/readyz`, or for `/healthz` when migrations are off (such
    /// a server is up but never ready).
    /// Another server on this server's database, as a second replica:
    /// its own clock (set to the same time) and its own process state.
    pub async fn replica(&self, adjust: impl FnOnce(&mut Config)) -> TestServer {
        let clock = Clock::manual(self.clock.now());
        let mut config = Config {
            clock: clock.clone(),
            ..self.config.clone()
        };
        adjust(&mut config);
        let (base, cancel, task) = spawn(&config).await;
        let replica = TestServer {
            base,
            clock,
            config,
            http: reqwest::Client::new(),
            cancel,
            task,
            db: None,
        };
        replica.wait_ready().await;
        replica
    }

    async fn wait_ready(&self) {
        let probe = if self.config.migrate {
            "readyz"
        } else {
            "healthz"
        };
        for _ in 0..200 {
            if let Ok(r) = self.http.get(format!("{}/{probe}", self.base)).send().await
                && r.status().is_success()
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("server did not become ready");
    }

    pub fn claims(&self, tenant: &str, roles: &[&str]) -> Claims {
        Claims {
            sub: "tester".into(),
            tenant: tenant.into(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            exp: self.clock.now().timestamp() + 3600,
            nbf: None,
            bots: None,
            iss: None,
            aud: None,
        }
    }

    pub fn sign(&self, claims: &Claims) -> String {
        botmem::auth::mint_hs256(SECRET, claims).unwrap()
    }

    pub fn token(&self, tenant: &str, role: &str) -> String {
        self.sign(&self.claims(tenant, &[role]))
    }

    pub fn admin(&self, tenant: &str) -> String {
        self.token(tenant, "admin")
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// POSTs `body` (a request, a batch, anything) to `/graphql` as JSON.
    pub async fn post(&self, token: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(self.url("/graphql"))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    /// POSTs a GraphQL request and returns the whole response body.
    pub async fn gql(&self, token: &str, query: &str, variables: Value) -> Value {
        post_gql(&self.http, &self.base, token, query, variables).await
    }

    /// Like [`TestServer::gql`] but panics on errors and returns `data`.
    pub async fn ok(&self, token: &str, query: &str, variables: Value) -> Value {
        let body = self.gql(token, query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
        body["data"].clone()
    }

    pub async fn create_bot(&self, token: &str, name: &str) -> String {
        let data = self
            .ok(
                token,
                "mutation($name: String!) { createBot(input: { name: $name }) { id } }",
                json!({ "name": name }),
            )
            .await;
        data["createBot"]["id"].as_str().unwrap().to_owned()
    }

    /// Starts a conversation with user `external_id` on channel `web`.
    pub async fn start_conversation(&self, token: &str, bot: &str, external_id: &str) -> Value {
        let data = self
            .ok(
                token,
                "mutation($bot: UUID!, $ext: String!) {
                   startConversation(input: { botId: $bot, channel: \"web\", externalId: $ext }) {
                     id status expiresAt user { id } } }",
                json!({ "bot": bot, "ext": external_id }),
            )
            .await;
        data["startConversation"].clone()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.cancel.cancel();
        if let Some(TestDb::Postgres { admin_url, name }) = self.db.take() {
            // The test's runtime may be gone: drop the database from a thread
            // of its own. FORCE closes the server's remaining connections.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    if let Ok(admin) = sea_orm::Database::connect(&admin_url).await {
                        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                        let _ = sea_orm::ConnectionTrait::execute_unprepared(&admin, &sql).await;
                        admin.close().await.ok();
                    }
                });
            })
            .join();
        }
    }
}

/// POSTs a GraphQL request to the server at `base` (a replica, a child
/// process) and returns the whole response body.
pub async fn post_gql(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    query: &str,
    variables: Value,
) -> Value {
    let response = http
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .header("accept", "application/json")
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("request sent");
    response.json().await.expect("JSON body")
}

/// The `extensions.code` of the first error, or "" when there is none.
pub fn code(body: &Value) -> String {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

pub fn assert_code(body: &Value, expected: &str) {
    assert_eq!(code(body), expected, "expected {expected}, got {body:#}");
}

/// Runs `node SCRIPT ARGS…` in `tests/js` (installed by `npm ci` in
/// `scripts/test`) off the async runtime; its output.
pub async fn node(script: &str, args: Vec<String>) -> std::process::Output {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/js");
    assert!(
        std::path::Path::new(dir).join("node_modules").exists(),
        "tests/js is not installed: run `npm ci` there (scripts/test does)"
    );
    let script = script.to_owned();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .current_dir(dir)
            .arg(script)
            .args(args)
            .output()
            .expect("node runs")
    })
    .await
    .unwrap()
}
