//! botmem: the memory backend for chatbot platforms.
//!
//! [`run`] starts the whole service on a listener until `shutdown`
//! resolves; `botmem serve` and the black-box tests start it the same way.
pub mod api;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod error;
pub mod heap;
pub mod janitor;
pub mod model;
pub mod store;
pub mod telemetry;
pub mod traces;

use std::{
    future::{Future, IntoFuture},
    sync::Arc,
};

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::{
    api::http::{HttpState, router},
    auth::Verifier,
    domain::App,
    store::Store,
};
pub use crate::{
    config::Config,
    error::{Error, Result},
};

/// Serves botmem on `listener` until `shutdown` resolves. Then `/readyz`
/// answers 503 at once; after `shutdown_drain_secs` the server stops
/// accepting, closes WebSockets (1001), stops background work and gives
/// requests in flight `shutdown_grace_secs` to finish.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let store = Store::connect_for_serving(&config).await?;
    let cancel = CancellationToken::new();
    let draining = CancellationToken::new();
    // Each new PostgreSQL connection costs a TLS handshake (~90 ms here):
    // the relay's own connection opens while migrations run.
    let migrated = store.prepare_schema(config.migrate);
    let (migrated, relay) = tokio::join!(migrated, store.start_relay(cancel.child_token()));
    if let Err(e) = migrated {
        cancel.cancel();
        return Err(e);
    }
    let relay = relay?;
    let verifier = Verifier::from_config(&config)
        .await
        .map_err(Error::internal)?;
    let app =
        App::new(store.clone(), config.clock.clone())
            .with_janitor(domain::JanitorSettings {
                batch_size: config.janitor_batch_size,
                lease: chrono::TimeDelta::seconds(
                    config.janitor_lease_secs.min(i64::MAX as u64) as i64
                ),
                ..Default::default()
            })
            .with_template_limits(model::TemplateLimits {
                max_bytes: config.template_max_bytes,
                max_output_bytes: config.template_max_output_bytes,
                max_nesting: config.template_max_nesting,
                max_steps: config.template_max_steps,
            });

    let janitor = match config.janitor {
        config::Switch::On => {
            let tick = std::time::Duration::from_secs(config.janitor_tick_secs);
            Some(janitor::start(app.clone(), tick, cancel.child_token()).await?)
        }
        config::Switch::Off => None,
    };
    let secs = std::time::Duration::from_secs;
    let fair = Arc::new(api::fair::Fairness::new(
        config.tenant_requests_per_sec,
        config.tenant_burst,
        config.tenant_max_concurrent,
        std::time::Duration::from_millis(config.tenant_queue_timeout_ms),
    ));
    tokio::spawn(api::fair::forget_idle_tenants(
        fair.clone(),
        cancel.child_token(),
    ));
    tokio::spawn(telemetry::keep_histograms_bounded(cancel.child_token()));
    tokio::spawn(heap::trim_when_quiet(cancel.child_token()));
    let state = HttpState {
        schema: api::schema(app.clone(), &config),
        app,
        verifier: Arc::new(verifier),
        max_batch: config.max_batch,
        ws: Arc::new(api::ws::WsSettings {
            init_timeout: secs(config.ws_init_timeout_secs),
            keepalive: secs(config.ws_keepalive_secs),
            send_timeout: secs(config.ws_send_timeout_secs),
            max_subscriptions: config.ws_max_subscriptions,
            max_connections_per_tenant: config.ws_max_connections_per_tenant,
            max_message_bytes: config.max_body_bytes,
        }),
        connections: Default::default(),
        limits: Arc::new(api::limits::DocumentLimits {
            max_bytes: config.max_query_bytes,
            max_tokens: config.max_query_tokens,
            max_nesting: config.max_query_nesting,
            max_fields: config.max_query_fields,
            max_depth: config.max_query_depth,
            max_aliases: config.max_query_aliases,
            max_directives: config.max_query_directives,
            passed: Default::default(),
        }),
        fair: fair.clone(),
        request_timeout: secs(config.request_timeout_secs),
        metrics_on_main: config.metrics_listen.is_none(),
        cors: config
            .cors_origin_list()
            .map_err(Error::internal)?
            .map(Arc::new),
        draining: draining.clone(),
        cancel: cancel.clone(),
        web_pages: config.inspector == config::Switch::On,
    };
    telemetry::exporter();
    telemetry::label_tenants(config.metrics_tenant_labels);
    let metrics_server = match config.metrics_listen {
        Some(address) => {
            Some(api::observe::serve_metrics(address, state.app.clone(), cancel.clone()).await?)
        }
        None => None,
    };
    let routes =
        router(state, config.max_body_bytes).layer(tower_http::trace::TraceLayer::new_for_http());

    let (stop, drain) = (cancel.clone(), secs(config.shutdown_drain_secs));
    let begin = draining.clone();
    tokio::spawn(async move {
        tokio::select! {
            () = shutdown => {}
            // Stopped for another reason (the server failed).
            () = stop.cancelled() => return,
        }
        begin.cancel();
        if !drain.is_zero() {
            tracing::info!(
                secs = drain.as_secs(),
                "shutting down: /readyz is unready, still serving"
            );
            tokio::time::sleep(drain).await;
        }
        tracing::info!("shutting down: no new connections, finishing requests in flight");
        stop.cancel();
    });
    let address = listener.local_addr().map_err(Error::internal)?;
    tracing::info!(%address, "botmem is serving");
    announce_pages(&config, address);
    let serving = axum::serve(listener, routes)
        .with_graceful_shutdown(cancel.clone().cancelled_owned())
        .into_future();
    let grace = secs(config.shutdown_grace_secs);
    let grace_over = {
        let cancel = cancel.clone();
        async move {
            cancel.cancelled().await;
            tokio::time::sleep(grace).await;
        }
    };
    let served = tokio::select! {
        served = serving => served.map_err(Error::internal),
        () = grace_over => {
            tracing::warn!(
                grace_secs = grace.as_secs(),
                "requests still in flight after the grace period are cut off"
            );
            Ok(())
        }
    };
    cancel.cancel();
    served?;
    if let Some(janitor) = janitor {
        let _ = janitor.await;
    }
    if let Some(relay) = relay {
        let _ = relay.await;
    }
    if let Some(metrics) = metrics_server {
        let _ = metrics.await;
    }
    store.close().await;
    tracing::info!("botmem stopped");
    Ok(())
}

/// Where the web pages are, and in the development start (no key
/// configured) an admin token and a signed-in inspector link. The token
/// rides in the URL fragment, which browsers never send to a server.
fn announce_pages(config: &Config, address: std::net::SocketAddr) {
    let mut base = address;
    if base.ip().is_unspecified() {
        base.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let inspector = format!("http://{base}/inspector");
    if config.inspector == config::Switch::On {
        tracing::info!("memory inspector at {inspector}, GraphiQL at http://{base}/graphiql");
    }
    if !config.uses_development_secret() {
        return;
    }
    tracing::warn!(
        "no JWT key is configured: using the built-in development secret. \
         Anyone can mint tokens for this server. Set BOTMEM_JWT_SECRET (or a public key) in production."
    );
    match cli::mint_token(config, "dev", "dev", &[auth::Role::Admin], &[], 24 * 3600) {
        Ok(token) => {
            tracing::warn!(tenant = "dev", "development admin token (24h): {token}");
            if config.inspector == config::Switch::On {
                tracing::warn!("signed-in inspector: {inspector}#token={token}");
            }
        }
        Err(e) => tracing::error!("cannot mint the development token: {e}"),
    }
}
