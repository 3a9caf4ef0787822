//! botmem against PostgreSQL's own limit, in one run (`./scripts/bench`).
//!
//! For each database it starts the release `botmem serve` as a child process
//! on a fresh database, seeds one bot with 1 000 users of 10 long-term
//! variables each, restarts it to time a cold start, then drives every
//! workload over real HTTP from this process (each response checked), at
//! each connection count. `pgbench` runs the equivalent statements in the
//! same run; the table shows botmem's rate as a ratio of pgbench's, because
//! these machines are shared and noisy. Then janitor sweeps of expired rows,
//! with `setVariable` load beside them, against a raw `DELETE`.
//!
//! On PostgreSQL the server connects as [`SERVICE_ROLE`], which owns the
//! database and is held by row-level security, as in production; the
//! `postgres-rls-off` run is the same with `BOTMEM_ROW_LEVEL_SECURITY=off`,
//! and the report gives the ratio of the two.
mod janitor;
mod load;
mod pgbench;
mod server;
mod workloads;

use std::{fmt::Write as _, path::PathBuf, time::Duration};

use clap::Parser;
use sea_orm::{ConnectionTrait, Database};

use server::Server;

#[derive(Parser)]
#[command(about = "botmem against pgbench in one run; appends the table to bench/RESULTS.md")]
struct Args {
    /// Databases to run on: sqlite, postgres, postgres-rls-off (PostgreSQL
    /// with row-level security switched off).
    #[arg(
        long,
        default_value = "sqlite,postgres,postgres-rls-off",
        value_delimiter = ','
    )]
    db: Vec<String>,
    /// Seconds each workload is measured (after a one-second warm-up).
    #[arg(long, default_value_t = 5)]
    secs: u64,
    /// Connection counts.
    #[arg(long, default_value = "8,64", value_delimiter = ',')]
    connections: Vec<usize>,
    /// Workloads to run (default all): setVariable, memory, patchMemory, mixed, __typename.
    #[arg(long, value_delimiter = ',')]
    workloads: Vec<String>,
    /// Janitor sweeps, in expired rows (0 to skip).
    #[arg(long, default_value = "100000,1000000", value_delimiter = ',')]
    janitor_rows: Vec<usize>,
    /// Connections of `setVariable` load beside each janitor sweep (0: the
    /// sweep alone).
    #[arg(long, default_value_t = 8)]
    janitor_foreground: usize,
    /// PostgreSQL server (without a database name).
    #[arg(
        long,
        env = "BOTMEM_TEST_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432"
    )]
    postgres: String,
    /// Print only; do not append to bench/RESULTS.md.
    #[arg(long)]
    no_record: bool,
}

/// One line of the result table.
struct Row {
    workload: String,
    db: String,
    connections: String,
    rate: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
    baseline: Option<f64>,
    cpu_per_request_ms: f64,
    db_cpu_per_request_ms: Option<f64>,
    rss_mb: f64,
    note: String,
}

/// The role botmem connects as on PostgreSQL: no SUPERUSER, no BYPASSRLS.
const SERVICE_ROLE: &str = "botmem_bench";

/// A fresh database of `kind` and what removes it afterwards.
struct Fresh {
    /// What the server connects with.
    url: String,
    /// The same database as a superuser, for rows written around the server.
    superuser_url: String,
    drop_pg: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

async fn fresh(kind: &str, postgres: &str) -> Fresh {
    if kind.starts_with("postgres") {
        let name = format!("botmem_bench_{}", uuid::Uuid::new_v4().simple());
        let admin_url = format!("{postgres}/postgres");
        let admin = Database::connect(&admin_url).await.expect("PostgreSQL");
        let role = format!(
            "DO $$ BEGIN CREATE ROLE {SERVICE_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS; \
             EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        );
        admin.execute_unprepared(&role).await.expect("create role");
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name} OWNER {SERVICE_ROLE}"))
            .await
            .expect("create database");
        admin.close().await.ok();
        let (scheme, rest) = postgres.split_once("://").expect("a postgres:// URL");
        let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
        Fresh {
            url: format!("{scheme}://{SERVICE_ROLE}@{host}/{name}"),
            superuser_url: format!("{postgres}/{name}"),
            drop_pg: Some((admin_url, name)),
            _dir: None,
        }
    } else {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("bench.db").display()
        );
        Fresh {
            superuser_url: url.clone(),
            url,
            drop_pg: None,
            _dir: Some(dir),
        }
    }
}

impl Fresh {
    async fn remove(self) {
        if let Some((admin_url, name)) = self.drop_pg {
            let admin = Database::connect(&admin_url).await.expect("PostgreSQL");
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await
                .ok();
            admin.close().await.ok();
        }
    }
}

struct Baselines(Vec<(String, usize, pgbench::Figures)>);

impl Baselines {
    fn get(&self, workload: &str, connections: usize) -> Option<&pgbench::Figures> {
        self.0
            .iter()
            .find(|(w, c, _)| w == workload && *c == connections)
            .map(|(_, _, f)| f)
    }
}

async fn measure_pgbench(args: &Args, workloads: &[&str]) -> Baselines {
    let mut found = vec![];
    let Some(pg) = pgbench::Pgbench::prepare(&args.postgres).await else {
        return Baselines(found);
    };
    for &connections in &args.connections {
        for &workload in workloads {
            if pgbench::equivalent(workload).is_none() {
                continue;
            }
            if let Some(f) = pg
                .run(workload, connections, Duration::from_secs(args.secs))
                .await
            {
                eprintln!(
                    "pgbench {workload:<12} {connections:>3} clients {:>8.0} tps  p99 {:.2} ms",
                    f.tps, f.p99_ms
                );
                found.push((workload.to_owned(), connections, f));
            }
        }
    }
    pg.drop().await;
    Baselines(found)
}

/// Start-up figures of one database.
struct Process {
    db: String,
    cold_start: Duration,
    rss_started_mb: f64,
    rss_idle_after_mb: f64,
    anon_idle_after_mb: f64,
}

async fn run_database(
    kind: &str,
    args: &Args,
    workloads: &[&str],
    baselines: &Baselines,
    rows: &mut Vec<Row>,
) -> Process {
    let binary = server::botmem_binary();
    let token = server::token(&binary).await;
    let database = fresh(kind, &args.postgres).await;
    let settings: &[(&str, &str)] = if kind == "postgres-rls-off" {
        &[("BOTMEM_ROW_LEVEL_SECURITY", "off")]
    } else {
        &[]
    };
    let first = Server::start(&binary, &database.url, settings).await;
    let seeded = workloads::seed(first.addr, &token).await;
    first.stop().await;
    if kind.starts_with("postgres") {
        // The statistics autovacuum gathers within a minute of the seed
        // (as it does for any table that grows): without them PostgreSQL
        // takes every table for empty and plans a multi-key read as a
        // scan of the tenant's rows.
        let db = Database::connect(&database.superuser_url)
            .await
            .expect("PostgreSQL");
        db.execute_unprepared("ANALYZE").await.expect("ANALYZE");
        db.close().await.ok();
    }
    // Cold start on an existing, migrated database.
    let server = Server::start(&binary, &database.url, settings).await;
    let rss_started_mb = server.rss() as f64 / 1e6;
    eprintln!(
        "{kind}: ready in {:?}, RSS {rss_started_mb:.1} MB",
        server.started_in
    );
    let secs = Duration::from_secs(args.secs);
    let mut quiet_set_p99 = None;
    for &connections in &args.connections {
        for &workload in workloads {
            let body = workloads::body(workload, &seeded);
            load::run(
                server.addr,
                &token,
                connections,
                Duration::from_secs(1),
                body.clone(),
            )
            .await;
            let groups = group_totals(server.addr).await;
            let (cpu, db_cpu) = (server.cpu(), server::postgres_cpu());
            let mut outcome = load::run(server.addr, &token, connections, secs, body).await;
            let grouped = group_totals(server.addr).await;
            let group_size = (grouped.1 - groups.1) / (grouped.0 - groups.0);
            let cpu = server.cpu().saturating_sub(cpu);
            let db_cpu = server::postgres_cpu().saturating_sub(db_cpu);
            let requests = outcome.requests.max(1) as f64;
            let per_request = |d: Duration| d.as_secs_f64() * 1e3 / requests;
            let baseline = baselines.get(workload, connections);
            let p99 = outcome.quantile_ms(0.99);
            if workload == "setVariable" && connections == 8 {
                quiet_set_p99 = Some(p99);
            }
            let row = Row {
                workload: workload.to_owned(),
                db: kind.to_owned(),
                connections: connections.to_string(),
                rate: outcome.per_second(),
                p50_ms: outcome.quantile_ms(0.5),
                p99_ms: p99,
                errors: outcome.errors,
                baseline: baseline.map(|b| b.tps),
                cpu_per_request_ms: per_request(cpu),
                db_cpu_per_request_ms: kind.starts_with("postgres").then(|| per_request(db_cpu)),
                rss_mb: server.rss() as f64 / 1e6,
                note: [
                    baseline
                        .map(|b| format!("pgbench p50 {:.2} ms, p99 {:.2} ms", b.p50_ms, b.p99_ms)),
                    group_size
                        .is_finite()
                        .then(|| format!("{group_size:.1} writes per group commit")),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("; "),
            };
            if let Some(e) = &outcome.first_error {
                eprintln!(
                    "{workload} on {kind}: {} errors, first: {e}",
                    outcome.errors
                );
            }
            eprintln!("{}", markdown_row(&row));
            rows.push(row);
        }
    }
    for &n in args.janitor_rows.iter().filter(|n| **n > 0) {
        let body = workloads::body("setVariable", &seeded);
        let (cpu, db_cpu) = (server.cpu(), server::postgres_cpu());
        let mut sweep = janitor::sweep(
            &database.superuser_url,
            server.addr,
            &token,
            &seeded.bot,
            n,
            body,
            args.janitor_foreground,
        )
        .await;
        let per_row = |d: Duration| d.as_secs_f64() * 1e3 / n as f64;
        let p99 = sweep.foreground.quantile_ms(0.99);
        let row = Row {
            workload: format!("janitor {}k rows", n / 1000),
            db: kind.to_owned(),
            connections: format!("{} (fg)", args.janitor_foreground),
            rate: n as f64 / sweep.elapsed.as_secs_f64(),
            p50_ms: sweep.foreground.quantile_ms(0.5),
            p99_ms: p99,
            errors: sweep.foreground.errors,
            baseline: Some(n as f64 / sweep.raw_delete.as_secs_f64()),
            cpu_per_request_ms: per_row(server.cpu().saturating_sub(cpu)),
            db_cpu_per_request_ms: kind
                .starts_with("postgres")
                .then(|| per_row(server::postgres_cpu().saturating_sub(db_cpu))),
            rss_mb: server.rss() as f64 / 1e6,
            note: format!(
                "rows/s vs raw DELETE; {:.1} s; fg setVariable p99 {:.1}× quiet",
                sweep.elapsed.as_secs_f64(),
                quiet_set_p99.map_or(f64::NAN, |q| p99 / q)
            ),
        };
        eprintln!("{}", markdown_row(&row));
        rows.push(row);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let process = Process {
        db: kind.to_owned(),
        cold_start: server.started_in,
        rss_started_mb,
        rss_idle_after_mb: server.rss() as f64 / 1e6,
        anon_idle_after_mb: server.rss_anon() as f64 / 1e6,
    };
    server.stop().await;
    database.remove().await;
    process
}

/// Committed group commits and the writes they committed so far.
async fn group_totals(addr: std::net::SocketAddr) -> (f64, f64) {
    (
        load::metric(addr, "botmem_write_groups_total{outcome=\"committed\"}").await,
        load::metric(
            addr,
            "botmem_write_group_writes_total{outcome=\"committed\"}",
        )
        .await,
    )
}

/// Each workload's rate with row-level security on, as a ratio of the
/// same workload with it off.
fn rls_cost(rows: &[Row]) -> String {
    let mut lines = String::new();
    for on in rows.iter().filter(|r| r.db == "postgres") {
        let off = rows.iter().find(|r| {
            r.db == "postgres-rls-off"
                && r.workload == on.workload
                && r.connections == on.connections
        });
        if let Some(off) = off {
            let _ = writeln!(
                lines,
                "- row-level security, {} at {} connections: {:.0} req/s on, {:.0} off ({:.2}×); p99 {:.2} ms on, {:.2} off",
                on.workload,
                on.connections,
                on.rate,
                off.rate,
                on.rate / off.rate,
                on.p99_ms,
                off.p99_ms
            );
        }
    }
    lines
}

const HEADER: &str = "| workload | db | conns | req/s | p50 ms | p99 ms | errors | pgbench tps | ratio | server CPU ms/req | PG CPU ms/req | RSS MB | note |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|";

fn markdown_row(r: &Row) -> String {
    let opt =
        |v: Option<f64>, digits: usize| v.map_or("–".to_owned(), |v| format!("{v:.digits$}"));
    format!(
        "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {} | {} | {} | {:.3} | {} | {:.1} | {} |",
        r.workload,
        r.db,
        r.connections,
        r.rate,
        r.p50_ms,
        r.p99_ms,
        r.errors,
        opt(r.baseline, 0),
        opt(r.baseline.map(|b| r.rate / b), 2),
        r.cpu_per_request_ms,
        opt(r.db_cpu_per_request_ms, 3),
        r.rss_mb,
        r.note
    )
}

fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or("?".into(), |kb| format!("{:.1} GB", kb as f64 / 1048576.0));
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let dirty = std::process::Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .output()
        .is_ok_and(|o| !o.stdout.is_empty());
    let date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC");
    format!(
        "{date}, commit {commit}{}, {cores} cores, {memory}",
        if dirty { " (with local changes)" } else { "" }
    )
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let workloads: Vec<&str> = workloads::WORKLOADS
        .into_iter()
        .filter(|w| args.workloads.is_empty() || args.workloads.iter().any(|a| a == w))
        .collect();
    let baselines = measure_pgbench(&args, &workloads).await;
    let mut rows = vec![];
    let mut processes = vec![];
    for kind in ["sqlite", "postgres", "postgres-rls-off"] {
        if args.db.iter().any(|d| d == kind) {
            processes.push(run_database(kind, &args, &workloads, &baselines, &mut rows).await);
        }
    }
    let mut report = format!(
        "## {}\n\n{} s per workload after 1 s of warm-up; load from `botmem-bench` (hyper, one task per connection) on the same machine.\n\n{HEADER}\n",
        machine(),
        args.secs
    );
    for row in &rows {
        let _ = writeln!(report, "{}", markdown_row(row));
    }
    report.push('\n');
    report.push_str(&rls_cost(&rows));
    for p in &processes {
        let _ = writeln!(
            report,
            "- {}: cold start to `/readyz` on an existing database {:.0} ms; RSS after start {:.1} MB, idle after load {:.1} MB ({:.1} MB of it anonymous: heap and stacks)",
            p.db,
            p.cold_start.as_secs_f64() * 1e3,
            p.rss_started_mb,
            p.rss_idle_after_mb,
            p.anon_idle_after_mb
        );
    }
    println!("\n{report}");
    if !args.no_record {
        let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "RESULTS.md"].iter().collect();
        let mut text = std::fs::read_to_string(&path).unwrap_or_else(|_| {
            "# Bench results\n\nAppended by `./scripts/bench`, newest last. Compare ratios, not absolute numbers: the machines are shared.\n\n".into()
        });
        text.push_str(&report);
        text.push('\n');
        std::fs::write(&path, text).expect("bench/RESULTS.md written");
        eprintln!("appended to {}", path.display());
    }
}
