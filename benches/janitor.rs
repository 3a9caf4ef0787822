//! Janitor scheduler overhead: the CPU an idle server with 10 000 tenants
//! spends with the janitor on against off. Run: `cargo bench --bench janitor`.
//! (Sweep throughput and foreground latency during a sweep are measured by
//! `./scripts/bench`.)
//!
//! Env: BENCH_DB=sqlite|postgres|both, BENCH_TENANTS (default 10000),
//! BENCH_IDLE_SECS (10).
mod common;

use std::time::{Duration, Instant};

use botmem::{clock::Clock, config::Switch};
use chrono::{TimeDelta, Utc};
use common::{Bench, databases, env_or};
use entity::tenant;
use sea_orm::{ActiveValue::Set, Database, EntityTrait};
use serde_json::json;

/// CPU seconds (user + system) this process has used.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

async fn scheduler_overhead(kind: &str, tenants: usize, idle: Duration) {
    let mut figures = vec![];
    for janitor in [Switch::Off, Switch::On] {
        let clock = Clock::manual(Utc::now());
        let b = Bench::start(kind, clock.clone(), |c| c.janitor = janitor).await;
        b.gql("{ viewer { subject } }", json!({})).await;
        let db = Database::connect(&b.url).await.unwrap();
        let later = clock.now() + TimeDelta::days(1);
        for start in (0..tenants).step_by(1000) {
            let rows = (start..(start + 1000).min(tenants)).map(|i| tenant::ActiveModel {
                id: Set(format!("idle{i}")),
                janitor_schedule: Set("0 0 0 * * *".into()),
                max_value_bytes: Set(65536),
                next_janitor_at: Set(Some(later)),
                janitor_lease_until: Set(None),
                created_at: Set(clock.now()),
            });
            tenant::Entity::insert_many(rows).exec(&db).await.unwrap();
        }
        let (cpu, wall) = (cpu_seconds(), Instant::now());
        tokio::time::sleep(idle).await;
        figures.push(100.0 * (cpu_seconds() - cpu) / wall.elapsed().as_secs_f64());
        db.close().await.ok();
        b.stop().await;
    }
    println!(
        "idle, {tenants} tenants {kind:<9} CPU janitor off {:>5.2} % | on (1 s tick) {:>5.2} % | added {:>5.2} % of one core",
        figures[0],
        figures[1],
        figures[1] - figures[0]
    );
}

#[tokio::main]
async fn main() {
    let tenants: usize = env_or("BENCH_TENANTS", 10_000);
    let idle = Duration::from_secs(env_or("BENCH_IDLE_SECS", 10));
    println!(
        "botmem janitor scheduler benchmark: {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    for kind in databases() {
        scheduler_overhead(kind, tenants, idle).await;
    }
}
