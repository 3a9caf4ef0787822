//! What botmem tells operators: Prometheus metrics, all named here so the
//! README's list and the code cannot drift apart. Every layer records
//! through these functions (the `metrics` facade, like `tracing`); the
//! exporter renders them at `/metrics`.
//!
//! No label carries a tenant: a deployment with 100 000 tenants would make
//! as many series. The one exception is opt-in and capped:
//! `botmem_tenant_requests_total` ([`label_tenants`]). Operation labels are
//! root field names of the schema (bounded by it), never client-chosen
//! operation names.
use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// The process's exporter, installed on first use (one per process, as
/// the `metrics` facade has one global recorder).
pub fn exporter() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let buckets = [
            0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
        ];
        let recorder = PrometheusBuilder::new()
            .set_buckets(&buckets)
            .expect("fixed buckets are valid")
            .build_recorder();
        let handle = recorder.handle();
        // Fails only if another recorder was installed first (an embedding
        // program's): then its recorder gets the metrics instead.
        let _ = metrics::set_global_recorder(recorder);
        describe();
        handle
    })
}

/// Folds recorded histogram samples into their buckets every few seconds
/// until `cancel`. The exporter keeps every raw sample until it renders or
/// runs its upkeep; with nobody scraping `/metrics` that grew the process
/// by ~1.3 MiB a minute under load (the 10-minute soak found it).
pub async fn keep_histograms_bounded(cancel: tokio_util::sync::CancellationToken) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(5));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = every.tick() => exporter().run_upkeep(),
        }
    }
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_histogram!(
        "botmem_request_duration_seconds",
        metrics::Unit::Seconds,
        "GraphQL requests over HTTP by root field and outcome (ok, error, refused)"
    );
    describe_counter!("botmem_errors_total", "GraphQL errors by extensions.code");
    describe_gauge!("botmem_websocket_connections", "Open WebSocket connections");
    describe_gauge!("botmem_subscriptions", "Active subscriptions");
    describe_counter!(
        "botmem_events_published_total",
        "Committed change events published on this replica"
    );
    describe_counter!(
        "botmem_events_delivered_total",
        "Events delivered to subscribers"
    );
    describe_counter!(
        "botmem_events_dropped_total",
        "Events subscribers missed because they fell behind (their subscription ended LAGGED)"
    );
    describe_counter!("botmem_janitor_runs_total", "Janitor sweeps by outcome");
    describe_counter!(
        "botmem_janitor_ticks_total",
        "Dispatcher ticks this replica completed (each looks for due tenants)"
    );
    describe_histogram!(
        "botmem_janitor_run_duration_seconds",
        metrics::Unit::Seconds,
        "Janitor sweep durations"
    );
    describe_counter!(
        "botmem_janitor_rows_expired_total",
        "Rows the janitor removed, by kind"
    );
    describe_gauge!(
        "botmem_db_connections",
        "Database pool connections by state (in_use, idle)"
    );
    describe_counter!(
        "botmem_tenant_requests_total",
        "GraphQL requests by tenant and outcome, for the first BOTMEM_METRICS_TENANT_LABELS tenants a replica serves (the rest: tenant=\"other\")"
    );
    describe_counter!(
        "botmem_jwks_fetches_total",
        "Fetches of BOTMEM_JWT_JWKS_URL by outcome (ok, error)"
    );
    describe_gauge!(
        "botmem_write_queue",
        "Memory writes waiting for their tenant's next group commit"
    );
    describe_gauge!(
        "botmem_write_groups_in_flight",
        "Group commits under way (at most one per tenant)"
    );
    describe_counter!(
        "botmem_write_groups_total",
        "Group commits by outcome (committed; alone: it could not commit and its writes ran alone)"
    );
    describe_counter!(
        "botmem_write_group_writes_total",
        "Memory writes of group commits by outcome (committed; refused: the write failed on its own or its caller left; alone)"
    );
    describe_histogram!(
        "botmem_db_acquire_seconds",
        metrics::Unit::Seconds,
        "Time to get a pooled connection and begin a transaction"
    );
}

/// Tenants that get a label of their own: at most `cap`, taken in the
/// order the replica first serves them, and kept until it restarts, so a
/// series never changes meaning. Busy tenants show up first in practice;
/// the rest are summed under `other`.
struct TenantLabels {
    cap: usize,
    labelled: Mutex<HashSet<String>>,
}

static TENANT_LABELS: OnceLock<TenantLabels> = OnceLock::new();

/// Turns on `botmem_tenant_requests_total` for up to `cap` tenants (0:
/// off). Set once per process, at start.
pub fn label_tenants(cap: usize) {
    if cap > 0 {
        let _ = TENANT_LABELS.set(TenantLabels {
            cap,
            labelled: Mutex::new(HashSet::new()),
        });
    }
}

fn tenant_label(tenant: &str) -> Option<String> {
    let labels = TENANT_LABELS.get()?;
    let mut labelled = labels.labelled.lock().unwrap_or_else(|p| p.into_inner());
    if labelled.contains(tenant) {
        return Some(tenant.to_owned());
    }
    if labelled.len() < labels.cap {
        labelled.insert(tenant.to_owned());
        return Some(tenant.to_owned());
    }
    Some("other".to_owned())
}

/// One GraphQL request over HTTP.
/// `operation` is the root field; several read at once count as
/// `multiple`. `tenant` is known once the token was verified.
pub fn request(
    operation: &str,
    tenant: Option<&str>,
    outcome: &'static str,
    took: Duration,
    codes: &[String],
) {
    if let Some(label) = tenant.and_then(tenant_label) {
        counter!("botmem_tenant_requests_total", "tenant" => label, "outcome" => outcome)
            .increment(1);
    }
    let operation = match operation.contains(',') {
        true => "multiple".to_owned(),
        false => operation.to_owned(),
    };
    histogram!("botmem_request_duration_seconds", "operation" => operation, "outcome" => outcome)
        .record(took.as_secs_f64());
    for code in codes {
        counter!("botmem_errors_total", "code" => code.clone()).increment(1);
    }
}

pub fn events_published(n: usize) {
    counter!("botmem_events_published_total").increment(n as u64);
}

pub fn event_delivered() {
    counter!("botmem_events_delivered_total").increment(1);
}

pub fn events_dropped(n: u64) {
    counter!("botmem_events_dropped_total").increment(n);
}

pub fn janitor_tick() {
    counter!("botmem_janitor_ticks_total").increment(1);
}

pub fn janitor_run(failed: bool, took: Duration, expired: &[(&'static str, i64)]) {
    let outcome = if failed { "error" } else { "ok" };
    counter!("botmem_janitor_runs_total", "outcome" => outcome).increment(1);
    histogram!("botmem_janitor_run_duration_seconds").record(took.as_secs_f64());
    for (kind, rows) in expired {
        counter!("botmem_janitor_rows_expired_total", "kind" => *kind)
            .increment((*rows).max(0) as u64);
    }
}

pub fn db_pool(in_use: u32, idle: u32) {
    gauge!("botmem_db_connections", "state" => "in_use").set(in_use as f64);
    gauge!("botmem_db_connections", "state" => "idle").set(idle as f64);
}

pub fn jwks_fetched(ok: bool) {
    let outcome = if ok { "ok" } else { "error" };
    counter!("botmem_jwks_fetches_total", "outcome" => outcome).increment(1);
}

/// Writes queued for a group commit, and group commits under way.
pub fn write_groups(queued: usize, in_flight: usize) {
    gauge!("botmem_write_queue").set(queued as f64);
    gauge!("botmem_write_groups_in_flight").set(in_flight as f64);
}

/// A group commit ended: `committed` or `alone`, with its writes by outcome.
pub fn write_group_ended(outcome: &'static str, writes: [(&'static str, usize); 3]) {
    counter!("botmem_write_groups_total", "outcome" => outcome).increment(1);
    for (outcome, n) in writes {
        counter!("botmem_write_group_writes_total", "outcome" => outcome).increment(n as u64);
    }
}

pub fn db_acquired(took: Duration) {
    histogram!("botmem_db_acquire_seconds").record(took.as_secs_f64());
}

/// Holds one unit of a gauge (an open WebSocket, an active subscription)
/// for as long as it lives, so every way of ending counts.
pub struct Held(&'static str);

impl Held {
    pub fn websocket() -> Held {
        Held::new("botmem_websocket_connections")
    }

    pub fn subscription() -> Held {
        Held::new("botmem_subscriptions")
    }

    fn new(name: &'static str) -> Held {
        gauge!(name).increment(1.0);
        Held(name)
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        gauge!(self.0).decrement(1.0);
    }
}
