//! Configuration: defaults, then an optional TOML file, then `BOTMEM_*`
//! environment variables. Checked once at start ([`Config::validate`]) so a
//! bad value stops the process with a message naming the setting.
use std::{net::SocketAddr, path::PathBuf};

use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use serde::{Deserialize, Serialize};

use crate::clock::Clock;

/// Used when no key is configured, so `botmem serve` works out of the box.
/// The server logs a warning whenever it is in use.
pub const DEVELOPMENT_SECRET: &str = "botmem-development-secret-not-for-production";

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `sqlite://FILE?mode=rwc` or `postgres://USER@HOST/DB`.
    pub database_url: String,
    pub listen: SocketAddr,
    /// HS256 shared secret.
    pub jwt_secret: Option<String>,
    /// RS256/ES256 public key, PEM.
    pub jwt_public_key_file: Option<PathBuf>,
    /// RS256/ES256 public keys, a JWKS document (`{"keys": [...]}`).
    pub jwt_jwks_file: Option<PathBuf>,
    /// An identity provider's JWKS URL (Auth0, Keycloak, Entra ID,
    /// Cognito), fetched and kept fresh (`auth::jwks`).
    pub jwt_jwks_url: Option<String>,
    /// The fetched keys are refreshed when this old and a token arrives.
    pub jwt_jwks_refresh_secs: u64,
    /// Least time between two fetches caused by tokens naming an unknown
    /// `kid`: anyone can send one.
    pub jwt_jwks_cooldown_secs: u64,
    pub jwt_issuer: Option<String>,
    pub jwt_audience: Option<String>,
    /// Seconds of clock skew tolerated on `exp`/`nbf`.
    pub jwt_leeway_secs: u64,
    /// The claim that names the tenant: `tenant`, or an identity
    /// provider's own (`org_id`, or a namespaced
    /// `https://botmem.example.com/tenant`), so its tokens work as issued.
    pub jwt_tenant_claim: String,
    /// The claim that lists the roles (an array of strings).
    pub jwt_roles_claim: String,
    pub log_format: LogFormat,
    /// An OpenTelemetry collector's OTLP/HTTP base URL
    /// (`http://collector:4318`): spans are exported to its `/v1/traces`.
    pub otlp_endpoint: Option<String>,
    /// Run migrations when `serve` starts.
    pub migrate: bool,
    /// The pool's size; unset, 16 on PostgreSQL and 4 on SQLite. On
    /// SQLite the pool serves one writer at a time and the reads memory
    /// reads do not take (those have connections of their own), and every
    /// pooled connection keeps a thread, a page cache and its prepared
    /// statements (~1.3 MB each after load): 16 made most of an idle
    /// server's heap (bench/RESULTS.md, "fourth session").
    pub db_max_connections: Option<u32>,
    /// Most operations in one batched HTTP request.
    pub max_batch: usize,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Largest GraphQL document (the `query` text), in bytes. Big values
    /// belong in `variables`, which only the body limit bounds.
    pub max_query_bytes: usize,
    /// Most lexical tokens in one document.
    pub max_query_tokens: usize,
    /// Deepest nesting of `{`, `[` and `(` in one document.
    pub max_query_nesting: usize,
    /// Most fields in one document once every fragment spread is expanded.
    pub max_query_fields: u64,
    /// Deepest selection (fields within fields).
    pub max_query_depth: u64,
    /// Most aliases in one document, fragments expanded.
    pub max_query_aliases: u64,
    /// Most directives in one document, fragments expanded.
    pub max_query_directives: u64,
    /// Highest cost of one operation: a connection costs `first` (or
    /// `last`) times what is selected below it; memories and exports weigh
    /// more than plain fields.
    pub max_query_cost: usize,
    /// Requests per second one tenant may make on one replica (sustained).
    pub tenant_requests_per_sec: u32,
    /// Requests one tenant may make at once above its rate, on one replica.
    pub tenant_burst: u32,
    /// Requests of one tenant in flight at once on one replica. Keep it
    /// below `db_max_connections` so one tenant cannot hold the whole pool.
    pub tenant_max_concurrent: usize,
    /// Milliseconds a request waits for one of its tenant's in-flight slots
    /// before it is answered `RATE_LIMITED`.
    pub tenant_queue_timeout_ms: u64,
    /// Seconds one HTTP request may take before it is answered `TIMEOUT`.
    pub request_timeout_secs: u64,
    /// At shutdown, how long requests in flight may take to finish before
    /// they are cut off.
    pub shutdown_grace_secs: u64,
    /// At shutdown, how long to keep serving with `/readyz` unready, so a
    /// load balancer that only polls readiness stops sending traffic first.
    /// 0 on Kubernetes, where the chart's `preStop` delay does this.
    pub shutdown_drain_secs: u64,
    /// PostgreSQL `statement_timeout`, seconds (0: none).
    pub db_statement_timeout_secs: u64,
    /// PostgreSQL row-level security, the second wall between tenants
    /// (see `store::rls`). `off` for installs that cannot use it (it costs
    /// a round trip per transaction and turns reads into transactions);
    /// the service then warns at start. No effect on SQLite.
    pub row_level_security: Switch,
    /// `off` for API-only replicas: this process sweeps no tenant.
    pub janitor: Switch,
    /// How often the dispatcher looks for due tenants, in whole seconds
    /// (tokio-cron-scheduler's repeated jobs count whole seconds).
    pub janitor_tick_secs: u64,
    /// Rows per janitor batch (one transaction each).
    pub janitor_batch_size: u64,
    /// `/metrics` only on this address (e.g. `0.0.0.0:9100`), so it need
    /// not be public; unset, it is served beside `/graphql`.
    pub metrics_listen: Option<SocketAddr>,
    /// Most bots of one tenant (0: no limit).
    pub quota_bots: u64,
    /// Most end users of one tenant, over all its bots (0: no limit).
    pub quota_users: u64,
    /// Most live KV keys of one tenant, tenant-wide and per bot together
    /// (0: no limit).
    pub quota_kv_keys: u64,
    /// Most live variables in one memory (0: no limit).
    pub quota_variables_per_memory: u64,
    /// Tenants that get their own label on `botmem_tenant_requests_total`
    /// (0: none, the default). Each costs a few series; keep it small.
    pub metrics_tenant_labels: usize,
    /// Browser origins allowed to call the API (comma-separated, or `*`);
    /// unset, no CORS headers are sent. Tokens travel in headers, never
    /// cookies, so credentials are never allowed.
    pub cors_origins: Option<String>,
    /// `off` hides the schema from introspection (production).
    pub introspection: Switch,
    /// The built-in web pages, `/inspector` and GraphiQL. On by default so
    /// the zero-config start has a console; `off` in production if only
    /// programs talk to the API.
    pub inspector: Switch,
    /// Largest `renderTemplate` template, in bytes.
    pub template_max_bytes: usize,
    /// Largest text one render may produce, in bytes.
    pub template_max_output_bytes: usize,
    /// Deepest nesting of template blocks and subexpressions.
    pub template_max_nesting: usize,
    /// Loop work one render may do: each `#each` pass costs one step plus
    /// one per template element inside the block.
    pub template_max_steps: u64,
    /// How long a replica's claim on a tenant lasts, in seconds.
    pub janitor_lease_secs: u64,
    /// Events a subscriber may fall behind before it is told it lagged and
    /// its subscription ends (one ring shared by all subscribers).
    pub event_buffer: usize,
    /// Seconds a WebSocket client has to send `connection_init` (4408).
    pub ws_init_timeout_secs: u64,
    /// Seconds between server pings; a `graphql-transport-ws` client that
    /// sends nothing for three of them is disconnected.
    pub ws_keepalive_secs: u64,
    /// Seconds one message may take to reach a client that does not read
    /// before its connection is dropped.
    pub ws_send_timeout_secs: u64,
    /// Active subscriptions on one WebSocket connection.
    pub ws_max_subscriptions: usize,
    /// WebSocket connections of one tenant on one replica.
    pub ws_max_connections_per_tenant: usize,
    #[serde(skip)]
    pub clock: Clock,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Switch {
    On,
    Off,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: "sqlite://botmem.db?mode=rwc".into(),
            listen: ([127, 0, 0, 1], 8080).into(),
            jwt_secret: None,
            jwt_public_key_file: None,
            jwt_jwks_file: None,
            jwt_jwks_url: None,
            jwt_jwks_refresh_secs: 300,
            jwt_jwks_cooldown_secs: 10,
            jwt_issuer: None,
            jwt_audience: None,
            jwt_leeway_secs: 60,
            jwt_tenant_claim: "tenant".into(),
            jwt_roles_claim: "roles".into(),
            log_format: LogFormat::Text,
            otlp_endpoint: None,
            migrate: true,
            db_max_connections: None,
            max_batch: 10,
            max_body_bytes: 1 << 20,
            max_query_bytes: 128 << 10,
            max_query_tokens: 10_000,
            max_query_nesting: 100,
            max_query_fields: 2_000,
            max_query_depth: 16,
            max_query_aliases: 100,
            max_query_directives: 100,
            max_query_cost: 10_000,
            tenant_requests_per_sec: 500,
            tenant_burst: 1_000,
            tenant_max_concurrent: 8,
            tenant_queue_timeout_ms: 2_000,
            request_timeout_secs: 30,
            shutdown_grace_secs: 30,
            shutdown_drain_secs: 0,
            db_statement_timeout_secs: 15,
            row_level_security: Switch::On,
            janitor: Switch::On,
            janitor_tick_secs: 1,
            janitor_batch_size: 1000,
            metrics_listen: None,
            quota_bots: 1_000,
            quota_users: 0,
            quota_kv_keys: 100_000,
            quota_variables_per_memory: 1_000,
            metrics_tenant_labels: 0,
            cors_origins: None,
            introspection: Switch::On,
            inspector: Switch::On,
            template_max_bytes: 16 << 10,
            template_max_output_bytes: 64 << 10,
            template_max_nesting: 16,
            template_max_steps: 100_000,
            janitor_lease_secs: 300,
            event_buffer: 4096,
            ws_init_timeout_secs: 10,
            ws_keepalive_secs: 15,
            ws_send_timeout_secs: 10,
            ws_max_subscriptions: 100,
            ws_max_connections_per_tenant: 1000,
            clock: Clock::system(),
        }
    }
}

/// What `botmem --help` prints about configuration.
pub const ENV_HELP: &str = "\
Configuration (environment, or the same keys in lowercase in the --config TOML file):
  BOTMEM_DATABASE_URL         sqlite://botmem.db?mode=rwc (default) or postgres://user@host/db
  BOTMEM_LISTEN               address to serve on (default 127.0.0.1:8080)
  BOTMEM_JWT_SECRET           HS256 shared secret
  BOTMEM_JWT_PUBLIC_KEY_FILE  RS256/ES256 public key (PEM)
  BOTMEM_JWT_JWKS_FILE        RS256/ES256 public keys (JWKS JSON file)
  BOTMEM_JWT_JWKS_URL         an identity provider's JWKS URL, fetched at start and kept fresh
  BOTMEM_JWT_JWKS_REFRESH_SECS  refetch the JWKS when it is this old (default 300)
  BOTMEM_JWT_JWKS_COOLDOWN_SECS least time between refetches for unknown key ids (default 10)
  BOTMEM_JWT_ISSUER           required `iss` claim, when set
  BOTMEM_JWT_AUDIENCE         required `aud` claim, when set
  BOTMEM_JWT_LEEWAY_SECS      clock skew allowed on exp/nbf (default 60)
  BOTMEM_JWT_TENANT_CLAIM     the claim naming the tenant, e.g. org_id or https://example.com/tenant (default tenant)
  BOTMEM_JWT_ROLES_CLAIM      the claim listing the roles (default roles)
  BOTMEM_LOG_FORMAT           text (default) or json
  BOTMEM_OTLP_ENDPOINT        export traces over OTLP/HTTP to this collector, e.g. http://otel-collector:4318 (default: off)
  BOTMEM_MIGRATE              run migrations on `serve` start (default true)
  BOTMEM_DB_MAX_CONNECTIONS   database pool size (default 16 on PostgreSQL, 4 on SQLite)
  BOTMEM_MAX_BATCH            most operations in one batched request (default 10)
  BOTMEM_MAX_BODY_BYTES       largest request body (default 1048576)
  BOTMEM_MAX_QUERY_BYTES      largest GraphQL document; put big values in variables (default 131072)
  BOTMEM_MAX_QUERY_TOKENS     most tokens in one document (default 10000)
  BOTMEM_MAX_QUERY_NESTING    deepest nesting of { [ ( in one document (default 100)
  BOTMEM_MAX_QUERY_FIELDS     most fields once fragments are expanded (default 2000)
  BOTMEM_MAX_QUERY_DEPTH      deepest selection (default 16)
  BOTMEM_MAX_QUERY_ALIASES    most aliases, fragments expanded (default 100)
  BOTMEM_MAX_QUERY_DIRECTIVES most directives, fragments expanded (default 100)
  BOTMEM_MAX_QUERY_COST       highest cost of one operation: first x what is below (default 10000)
  BOTMEM_TENANT_REQUESTS_PER_SEC  sustained requests per tenant and replica (default 500)
  BOTMEM_TENANT_BURST         requests a tenant may make at once above its rate (default 1000)
  BOTMEM_TENANT_MAX_CONCURRENT    requests of one tenant in flight per replica; more wait (default 8)
  BOTMEM_TENANT_QUEUE_TIMEOUT_MS  how long a request waits for one of those slots (default 2000)
  BOTMEM_REQUEST_TIMEOUT_SECS an HTTP request running longer is answered TIMEOUT (default 30)
  BOTMEM_SHUTDOWN_DRAIN_SECS  at shutdown, keep serving this long with /readyz unready (default 0)
  BOTMEM_SHUTDOWN_GRACE_SECS  then requests in flight get this long to finish (default 30)
  BOTMEM_DB_STATEMENT_TIMEOUT_SECS  PostgreSQL statement_timeout, 0 = none (default 15)
  BOTMEM_ROW_LEVEL_SECURITY   on (default) or off: PostgreSQL row-level security between tenants
  BOTMEM_JANITOR              on (default) or off: off for API-only replicas
  BOTMEM_JANITOR_TICK_SECS    how often to look for due tenants, seconds (default 1)
  BOTMEM_JANITOR_BATCH_SIZE   expired rows per janitor batch/transaction, 1 to 10000 (default 1000)
  BOTMEM_JANITOR_LEASE_SECS   how long a replica's claim on a tenant lasts (default 300)
  BOTMEM_QUOTA_BOTS           most bots per tenant, 0 = no limit (default 1000)
  BOTMEM_QUOTA_USERS          most end users per tenant, 0 = no limit (default 0)
  BOTMEM_QUOTA_KV_KEYS        most live KV keys per tenant, 0 = no limit (default 100000)
  BOTMEM_QUOTA_VARIABLES_PER_MEMORY  most live variables in one memory, 0 = no limit (default 1000)
  BOTMEM_METRICS_LISTEN       serve /metrics only on this address, e.g. 0.0.0.0:9100 (default: beside /graphql)
  BOTMEM_METRICS_TENANT_LABELS  label botmem_tenant_requests_total with the first N tenants served, the rest `other` (default 0: off)
  BOTMEM_CORS_ORIGINS         browser origins allowed to call the API, comma-separated or * (default: none)
  BOTMEM_INTROSPECTION        on (default) or off: hide the schema from introspection
  BOTMEM_INSPECTOR            on (default) or off: the web pages /inspector and GraphiQL
  BOTMEM_TEMPLATE_MAX_BYTES   largest renderTemplate template (default 16384)
  BOTMEM_TEMPLATE_MAX_OUTPUT_BYTES  largest rendered text (default 65536)
  BOTMEM_TEMPLATE_MAX_NESTING deepest nesting of template blocks and subexpressions (default 16)
  BOTMEM_TEMPLATE_MAX_STEPS   loop work per render: each #each pass costs 1 + its block's elements (default 100000)
  BOTMEM_EVENT_BUFFER         events of its bot a subscriber may fall behind before it lags (default 4096)
  BOTMEM_WS_INIT_TIMEOUT_SECS time to send connection_init on /graphql/ws (default 10)
  BOTMEM_WS_KEEPALIVE_SECS    server ping interval on /graphql/ws (default 15)
  BOTMEM_WS_SEND_TIMEOUT_SECS a client that reads nothing this long is dropped (default 10)
  BOTMEM_WS_MAX_SUBSCRIPTIONS active subscriptions per connection (default 100)
  BOTMEM_WS_MAX_CONNECTIONS_PER_TENANT  WebSocket connections per tenant and replica (default 1000)
With no JWT key configured, a development secret is used and `serve` prints an admin
token for tenant `dev`: never run like that in production.
Log verbosity: RUST_LOG (default info).";

impl Config {
    /// Defaults, then the optional file, then the environment.
    pub fn load(file: Option<&std::path::Path>) -> Result<Config, String> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            if !file.exists() {
                return Err(format!("config file {} does not exist", file.display()));
            }
            figment = figment.merge(Toml::file(file));
        }
        let config: Config = figment
            // BOTMEM_CONFIG names the file (read by the CLI), not a setting.
            .merge(Env::prefixed("BOTMEM_").ignore(&["config"]))
            .extract()
            .map_err(describe_figment_error)?;
        config.validate()?;
        Ok(config)
    }

    /// Every setting as `BOTMEM_NAME=value` lines, the way the environment
    /// would set it; the JWT secret and a database URL's password are
    /// masked, unset settings are left empty.
    pub fn masked_env(&self) -> String {
        let mut shown = self.clone();
        if shown.jwt_secret.is_some() {
            shown.jwt_secret = Some("********".into());
        }
        shown.database_url = mask_password(&shown.database_url);
        // Defaults that depend on the database are shown as they apply.
        shown.db_max_connections = Some(self.db_pool_size());
        let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(&shown) else {
            return String::new();
        };
        fields
            .into_iter()
            .map(|(key, value)| {
                let value = match value {
                    serde_json::Value::Null => String::new(),
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                format!("BOTMEM_{}={value}\n", key.to_ascii_uppercase())
            })
            .collect()
    }

    /// The allowed origins, parsed: `None` when CORS is off, an empty list
    /// for any origin (`*`).
    pub fn cors_origin_list(&self) -> Result<Option<Vec<String>>, String> {
        let Some(raw) = self
            .cors_origins
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        else {
            return Ok(None);
        };
        if raw == "*" {
            return Ok(Some(vec![]));
        }
        let origins: Vec<String> = raw
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_owned())
            .collect();
        for origin in &origins {
            let ok = (origin.starts_with("http://") || origin.starts_with("https://"))
                && !origin[origin.find("//").unwrap_or(0) + 2..].contains('/')
                && origin.len() > "https://".len();
            if !ok || origin.contains('*') {
                return Err(format!(
                    "BOTMEM_CORS_ORIGINS: {origin:?} is not an origin such as https://dash.example.com (or use * alone)"
                ));
            }
        }
        Ok(Some(origins))
    }

    /// Checks what types alone cannot: combinations and ranges.
    pub fn validate(&self) -> Result<(), String> {
        self.cors_origin_list()?;
        let reserved = ["sub", "exp", "nbf", "iss", "aud", "bots"];
        for (name, claim) in [
            ("BOTMEM_JWT_TENANT_CLAIM", &self.jwt_tenant_claim),
            ("BOTMEM_JWT_ROLES_CLAIM", &self.jwt_roles_claim),
        ] {
            if claim.trim().is_empty() || reserved.contains(&claim.as_str()) {
                return Err(format!("{name} must name a claim other than {reserved:?}"));
            }
        }
        if self.jwt_tenant_claim == self.jwt_roles_claim {
            return Err("BOTMEM_JWT_TENANT_CLAIM and BOTMEM_JWT_ROLES_CLAIM must differ".into());
        }
        if !(self.database_url.starts_with("sqlite:")
            || self.database_url.starts_with("postgres://")
            || self.database_url.starts_with("postgresql://"))
        {
            return Err(format!(
                "BOTMEM_DATABASE_URL must start with sqlite: or postgres://, got {:?}",
                self.database_url
            ));
        }
        let keys = [
            self.jwt_secret.is_some(),
            self.jwt_public_key_file.is_some(),
            self.jwt_jwks_file.is_some(),
            self.jwt_jwks_url.is_some(),
        ];
        if keys.iter().filter(|set| **set).count() > 1 {
            return Err(
                "set only one of BOTMEM_JWT_SECRET, BOTMEM_JWT_PUBLIC_KEY_FILE, \
                 BOTMEM_JWT_JWKS_FILE, BOTMEM_JWT_JWKS_URL: the key decides the accepted algorithms"
                    .into(),
            );
        }
        if let Some(url) = &self.jwt_jwks_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(format!(
                "BOTMEM_JWT_JWKS_URL must be an http(s) URL, got {url:?}"
            ));
        }
        if matches!(&self.jwt_secret, Some(s) if s.len() < 32) {
            return Err("BOTMEM_JWT_SECRET must be at least 32 bytes".into());
        }
        if self.db_max_connections == Some(0) {
            return Err("BOTMEM_DB_MAX_CONNECTIONS must be at least 1".into());
        }
        if self.janitor_tick_secs == 0
            || self.janitor_batch_size == 0
            || self.janitor_lease_secs == 0
        {
            return Err("BOTMEM_JANITOR_TICK_SECS, BOTMEM_JANITOR_BATCH_SIZE and \
                        BOTMEM_JANITOR_LEASE_SECS must be at least 1"
                .into());
        }
        if self.janitor_batch_size > 10_000 {
            // Each batch is one statement with three parameters per row.
            return Err("BOTMEM_JANITOR_BATCH_SIZE must be at most 10000".into());
        }
        if self.event_buffer == 0
            || self.ws_init_timeout_secs == 0
            || self.ws_keepalive_secs == 0
            || self.ws_send_timeout_secs == 0
            || self.ws_max_subscriptions == 0
            || self.ws_max_connections_per_tenant == 0
        {
            return Err(
                "BOTMEM_EVENT_BUFFER and the BOTMEM_WS_* settings must be at least 1".into(),
            );
        }
        let positive = [
            ("BOTMEM_MAX_QUERY_BYTES", self.max_query_bytes as u64),
            ("BOTMEM_MAX_QUERY_TOKENS", self.max_query_tokens as u64),
            ("BOTMEM_MAX_QUERY_NESTING", self.max_query_nesting as u64),
            ("BOTMEM_MAX_QUERY_FIELDS", self.max_query_fields),
            ("BOTMEM_MAX_QUERY_DEPTH", self.max_query_depth),
            ("BOTMEM_MAX_QUERY_COST", self.max_query_cost as u64),
            (
                "BOTMEM_TENANT_REQUESTS_PER_SEC",
                self.tenant_requests_per_sec.into(),
            ),
            ("BOTMEM_TENANT_BURST", self.tenant_burst.into()),
            (
                "BOTMEM_TENANT_MAX_CONCURRENT",
                self.tenant_max_concurrent as u64,
            ),
            ("BOTMEM_REQUEST_TIMEOUT_SECS", self.request_timeout_secs),
            ("BOTMEM_TEMPLATE_MAX_BYTES", self.template_max_bytes as u64),
            (
                "BOTMEM_TEMPLATE_MAX_OUTPUT_BYTES",
                self.template_max_output_bytes as u64,
            ),
            (
                "BOTMEM_TEMPLATE_MAX_NESTING",
                self.template_max_nesting as u64,
            ),
            ("BOTMEM_TEMPLATE_MAX_STEPS", self.template_max_steps),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(format!("{name} must be at least 1"));
        }
        if self.max_batch == 0 {
            return Err("BOTMEM_MAX_BATCH must be at least 1".into());
        }
        Ok(())
    }

    pub fn uses_development_secret(&self) -> bool {
        self.jwt_secret.is_none()
            && self.jwt_public_key_file.is_none()
            && self.jwt_jwks_file.is_none()
            && self.jwt_jwks_url.is_none()
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }

    /// `BOTMEM_DB_MAX_CONNECTIONS`, or the default of the database in use.
    pub fn db_pool_size(&self) -> u32 {
        match self.db_max_connections {
            Some(size) => size,
            None if self.is_sqlite() => 4,
            None => 16,
        }
    }
}

/// Names each bad setting as the operator wrote it: `BOTMEM_LISTEN: ...`.
fn describe_figment_error(error: figment::Error) -> String {
    error
        .into_iter()
        .map(|e| {
            let key = e.path.join("_").to_uppercase();
            let from_env = e
                .metadata
                .as_ref()
                .is_some_and(|m| m.name.contains("environment"));
            let name = if from_env || key.is_empty() {
                format!("BOTMEM_{key}")
            } else {
                key.to_lowercase()
            };
            format!("invalid configuration: {name}: {}", e.kind)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `postgres://user:secret@host/db` → `postgres://user:********@host/db`.
fn mask_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((credentials, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:********@{host}"),
        None => url.to_owned(),
    }
}
