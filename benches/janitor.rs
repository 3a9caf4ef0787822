//! Janitor benchmark. Run: `cargo bench --bench janitor`.
//! - sweep throughput: N expired variables (spread over N/100 memories)
//!   swept by `runJanitor`, against one raw `DELETE … WHERE expires_at <= now`
//!   of the same rows in the same run;
//! - foreground `setVariable` latency while a sweep runs, against without;
//! - scheduler overhead: CPU of an idle server with 10 000 tenants, janitor
//!   on against off.
//!
//! Env: BENCH_DB=sqlite|postgres|both, BENCH_ROWS (default 100000; e.g.
//! "100000,1000000"), BENCH_TENANTS (default 10000), BENCH_IDLE_SECS (10).
mod common;

use std::time::{Duration, Instant};

use botmem::{clock::Clock, config::Switch};
use chrono::{TimeDelta, Utc};
use common::{Bench, Figures, databases, env_or, measure};
use entity::{tenant, variable};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Database, DatabaseConnection, EntityTrait, QueryFilter,
};
use serde_json::json;

/// Inserts `rows` variables expiring one second after `now`, over rows/100 memories.
async fn insert_expiring(
    db: &DatabaseConnection,
    bot: uuid::Uuid,
    rows: usize,
    now: chrono::DateTime<Utc>,
) {
    let owners: Vec<uuid::Uuid> = (0..(rows / 100).max(1))
        .map(|_| uuid::Uuid::now_v7())
        .collect();
    for start in (0..rows).step_by(1000) {
        let batch = (start..(start + 1000).min(rows)).map(|i| variable::ActiveModel {
            tenant_id: Set("bench".into()),
            scope: Set("user".into()),
            owner_id: Set(owners[i % owners.len()]),
            name: Set(format!("v{i}")),
            bot_id: Set(bot),
            value: Set(entity::StoredJson(json!({ "n": i }))),
            version: Set(1),
            expires_at: Set(Some(now + TimeDelta::seconds(1))),
            created_at: Set(now),
            updated_at: Set(now),
        });
        variable::Entity::insert_many(batch).exec(db).await.unwrap();
    }
}

async fn sweep_throughput(kind: &str, rows: usize) {
    let clock = Clock::manual(Utc::now());
    let b = Bench::start(kind, clock.clone(), |c| c.janitor = Switch::Off).await;
    let bot = b.create_bot().await.parse().unwrap();
    let db = Database::connect(&b.url).await.unwrap();
    insert_expiring(&db, bot, rows, clock.now()).await;
    clock.advance(TimeDelta::seconds(2));
    let started = Instant::now();
    let run = b
        .gql(
            "mutation { runJanitor { variablesExpired error } }",
            json!({}),
        )
        .await;
    let swept = started.elapsed();
    assert_eq!(run["data"]["runJanitor"]["variablesExpired"], rows, "{run}");

    insert_expiring(&db, bot, rows, clock.now()).await;
    clock.advance(TimeDelta::seconds(2));
    let started = Instant::now();
    let deleted = variable::Entity::delete_many()
        .filter(variable::Column::TenantId.eq("bench"))
        .filter(variable::Column::ExpiresAt.lte(clock.now()))
        .exec(&db)
        .await
        .unwrap()
        .rows_affected;
    let raw = started.elapsed();
    assert_eq!(deleted as usize, rows);
    println!(
        "sweep {rows:>8} rows  {kind:<9} {:>8.0} rows/s ({:>6.2} s) | raw DELETE {:>9.0} rows/s ({:>5.2} s) | ratio {:.2}",
        rows as f64 / swept.as_secs_f64(),
        swept.as_secs_f64(),
        rows as f64 / raw.as_secs_f64(),
        raw.as_secs_f64(),
        raw.as_secs_f64() / swept.as_secs_f64(),
    );
    db.close().await.ok();
    b.stop().await;
}

async fn foreground_during_sweep(kind: &str, rows: usize) {
    let clock = Clock::manual(Utc::now());
    let b = Bench::start(kind, clock.clone(), |c| c.janitor = Switch::Off).await;
    let bot = b.create_bot().await;
    let set = "mutation($i: SetVariableInput!) { setVariable(input: $i) { version } }";
    let write = |i: usize| {
        let r = json!({ "scope": "BOT", "botId": bot });
        b.gql(
            set,
            json!({ "i": { "ref": r, "name": format!("k{}", i % 50), "value": i } }),
        )
    };
    let quiet = measure(600, 4, write).await;
    let db = Database::connect(&b.url).await.unwrap();
    insert_expiring(&db, bot.parse().unwrap(), rows, clock.now()).await;
    clock.advance(TimeDelta::seconds(2));
    let sweep = tokio::spawn(b.gql("mutation { runJanitor { variablesExpired } }", json!({})));
    tokio::time::sleep(Duration::from_millis(50)).await;
    let busy = measure(600, 4, write).await;
    let still_sweeping = !sweep.is_finished();
    sweep.await.unwrap();
    println!(
        "setVariable {kind:<9} quiet p50 {:>6.2} ms p99 {:>6.2} ms | during a {rows}-row sweep p50 {:>6.2} ms p99 {:>6.2} ms (sweep outlasted the writes: {still_sweeping}) | p99 ratio {:.2}",
        Figures::ms(quiet.p50),
        Figures::ms(quiet.p99),
        Figures::ms(busy.p50),
        Figures::ms(busy.p99),
        Figures::ms(busy.p99) / Figures::ms(quiet.p99),
    );
    db.close().await.ok();
    b.stop().await;
}

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
    let rows: String = env_or("BENCH_ROWS", "100000".to_string());
    let tenants: usize = env_or("BENCH_TENANTS", 10_000);
    let idle = Duration::from_secs(env_or("BENCH_IDLE_SECS", 10));
    println!(
        "botmem janitor benchmark: batches of 1000, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    for kind in databases() {
        for n in rows
            .split(',')
            .filter_map(|r| r.trim().parse::<usize>().ok())
        {
            sweep_throughput(kind, n).await;
        }
        foreground_during_sweep(kind, 100_000).await;
        scheduler_overhead(kind, tenants, idle).await;
    }
}
