//! The `botmem` command line: serve, migrate, token, schema.
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

use crate::{
    auth::{Claims, Role, mint_hs256},
    config::{Config, DEVELOPMENT_SECRET, ENV_HELP},
    domain::Duration,
    store::Store,
};

#[derive(Parser)]
#[command(name = "botmem", version, about = "Memory backend for chatbot platforms (GraphQL)", after_help = ENV_HELP)]
pub struct Cli {
    /// Optional TOML file with the same keys as the environment, in lowercase
    /// without the BOTMEM_ prefix (environment variables win).
    #[arg(long, global = true, env = "BOTMEM_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the GraphQL API (runs migrations first unless BOTMEM_MIGRATE=false).
    ///
    /// Listens on BOTMEM_LISTEN (default 127.0.0.1:8080): POST/GET /graphql,
    /// GraphiQL in a browser at /graphql, WebSocket subscriptions at
    /// /graphql/ws, /healthz and /readyz. Stores in BOTMEM_DATABASE_URL
    /// (default: the SQLite file botmem.db in the current folder). With no
    /// JWT key configured it uses a development secret and logs an admin
    /// token for tenant `dev`: never in production. Every setting is listed
    /// below; Ctrl-C (SIGINT) or SIGTERM shut down gracefully.
    #[command(after_help = ENV_HELP)]
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Mint a token for development and scripts.
    ///
    /// Signed with BOTMEM_JWT_SECRET (HS256), or, when none is set, the
    /// built-in development secret that `botmem serve` then uses as well.
    /// With a public key or JWKS configured, tokens come from your identity
    /// provider instead, and this command refuses. Adds `iss`/`aud` when
    /// BOTMEM_JWT_ISSUER/BOTMEM_JWT_AUDIENCE are set. Prints the token alone.
    Token {
        /// The `tenant` claim: whose data the token reaches (A-Z a-z 0-9 - _ .,
        /// at most 64). A tenant is created on its first request.
        #[arg(long, default_value = "dev")]
        tenant: String,
        /// The `sub` claim: who the token is for.
        #[arg(long, default_value = "botmem-cli")]
        subject: String,
        /// viewer, editor or admin; repeat for several.
        #[arg(long = "role", default_value = "admin")]
        roles: Vec<String>,
        /// Limit the token to these bot ids; repeat for several.
        #[arg(long = "bot")]
        bots: Vec<uuid::Uuid>,
        /// How long the token is valid, e.g. 1h, 30d.
        #[arg(long, default_value = "24h", value_parser = parse_duration)]
        ttl: Duration,
    },
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Print the effective configuration (defaults, file and environment
    /// merged) as environment variables, with secrets and database
    /// passwords masked.
    Config,
}

fn parse_duration(raw: &str) -> Result<Duration, String> {
    Duration::parse(raw)
}

/// Signs a token for `botmem token` and the development announcement.
pub fn mint_token(
    config: &Config,
    tenant: &str,
    subject: &str,
    roles: &[Role],
    bots: &[uuid::Uuid],
    ttl_secs: u64,
) -> Result<String, String> {
    if config.jwt_public_key_file.is_some() || config.jwt_jwks_file.is_some() {
        return Err(
            "botmem token signs with BOTMEM_JWT_SECRET; with public keys configured, \
                    tokens come from your identity provider"
                .into(),
        );
    }
    crate::model::TenantId::parse(tenant).map_err(|_| format!("invalid tenant {tenant:?}"))?;
    let secret = config.jwt_secret.as_deref().unwrap_or(DEVELOPMENT_SECRET);
    let claims = Claims {
        sub: subject.to_owned(),
        tenant: tenant.to_owned(),
        roles: roles.iter().map(|r| r.as_claim().to_owned()).collect(),
        exp: config.clock.now().timestamp() + ttl_secs as i64,
        nbf: None,
        bots: (!bots.is_empty()).then(|| bots.to_vec()),
        iss: config.jwt_issuer.clone(),
        aud: config.jwt_audience.clone(),
    };
    // Under the claim names the server reads (BOTMEM_JWT_TENANT_CLAIM, …).
    let mut claims = serde_json::to_value(&claims).map_err(|e| e.to_string())?;
    if let Some(map) = claims.as_object_mut() {
        for (standard, configured) in [
            ("tenant", &config.jwt_tenant_claim),
            ("roles", &config.jwt_roles_claim),
        ] {
            if let Some(value) = map.remove(standard) {
                map.insert(configured.clone(), value);
            }
        }
    }
    mint_hs256(secret, &claims)
}

/// Entry point of the binary; returns the process exit code.
pub async fn main() -> i32 {
    let cli = Cli::parse();
    if let Command::Schema = cli.command {
        print!("{}", crate::api::sdl());
        return 0;
    }
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("botmem: {e}");
            return 2;
        }
    };
    let tracing = match crate::traces::init(config.log_format, config.otlp_endpoint.as_deref()) {
        Ok(tracing) => tracing,
        Err(e) => {
            eprintln!("botmem: {e}");
            return 2;
        }
    };
    let outcome = match cli.command {
        Command::Schema => unreachable!("handled above"),
        Command::Serve => serve(config).await,
        Command::Migrate => migrate(config).await,
        Command::Config => {
            print!("{}", config.masked_env());
            Ok(())
        }
        Command::Token {
            tenant,
            subject,
            roles,
            bots,
            ttl,
        } => token(&config, &tenant, &subject, &roles, &bots, ttl),
    };
    tracing.shutdown().await;
    match outcome {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("botmem: {e}");
            1
        }
    }
}

async fn serve(config: Config) -> Result<(), String> {
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    crate::run(config, listener, shutdown_signal())
        .await
        .map_err(|e| e.operator_message())
}

async fn migrate(config: Config) -> Result<(), String> {
    let store = Store::connect(&config)
        .await
        .map_err(|e| e.operator_message())?;
    store.migrate().await.map_err(|e| e.operator_message())?;
    store.close().await;
    tracing::info!("migrations applied");
    Ok(())
}

fn token(
    config: &Config,
    tenant: &str,
    subject: &str,
    roles: &[String],
    bots: &[uuid::Uuid],
    ttl: Duration,
) -> Result<(), String> {
    let roles = roles
        .iter()
        .map(|r| {
            Role::from_claim(r)
                .ok_or_else(|| format!("unknown role {r:?}: use viewer, editor or admin"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    println!(
        "{}",
        mint_token(config, tenant, subject, &roles, bots, ttl.as_secs())?
    );
    Ok(())
}

/// SIGTERM (Kubernetes) or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
