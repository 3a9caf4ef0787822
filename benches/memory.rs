//! Memory throughput and latency over HTTP, against a raw-database baseline
//! measured in the same run (the machines are shared and noisy: read the
//! ratios). Run: `cargo bench --bench memory`.
//!
//! Env: BENCH_DB=sqlite|postgres|both (default both), BENCH_REQUESTS
//! (default 3000 per phase), BENCH_CONCURRENCY (default 16),
//! BOTMEM_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432).
mod common;

use botmem::clock::Clock;
use common::{Bench, Figures, databases, env_or, measure};
use entity::variable;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Database, EntityTrait, QueryFilter, sea_query::OnConflict,
};
use serde_json::json;

fn row(op: &str, db: &str, botmem: &Figures, raw: &Figures) {
    println!(
        "{op:<12} {db:<9} {:>6.0} req/s  p50 {:>6.2} ms  p99 {:>7.2} ms | raw {:>6.0} /s  p50 {:>6.2} ms  p99 {:>6.2} ms | ratio botmem/raw {:.2}",
        botmem.per_second,
        Figures::ms(botmem.p50),
        Figures::ms(botmem.p99),
        raw.per_second,
        Figures::ms(raw.p50),
        Figures::ms(raw.p99),
        botmem.per_second / raw.per_second,
    );
}

async fn bench(kind: &str, requests: usize, concurrency: usize) {
    let b = Bench::start(kind, Clock::system(), |_| {}).await;
    let bot = b.create_bot().await;
    let upsert = "mutation($b: UUID!, $e: String!) { upsertUser(input: { botId: $b, channel: \"web\", externalId: $e }) { id } }";
    let mut users = vec![];
    for n in 0..16 {
        let data = b
            .gql(upsert, json!({ "b": bot, "e": format!("u{n}") }))
            .await;
        users.push(
            data["data"]["upsertUser"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let set = "mutation($i: SetVariableInput!) { setVariable(input: $i) { version } }";
    let value = |i: usize| json!({ "n": i, "text": "hello" });

    // All writers on one user's memory: they queue on its lock, by design.
    let one = measure(requests, concurrency, |i| {
        let r = json!({ "scope": "USER", "userId": users[0] });
        b.gql(
            set,
            json!({ "i": { "ref": r, "name": format!("k{}", i % 100), "value": value(i) } }),
        )
    })
    .await;
    // The same writes spread over 16 users: memories do not contend.
    let spread = measure(requests, concurrency, |i| {
        let r = json!({ "scope": "USER", "userId": users[i % users.len()] });
        b.gql(
            set,
            json!({ "i": { "ref": r, "name": format!("k{}", i % 100), "value": value(i) } }),
        )
    })
    .await;
    let read = measure(requests, concurrency, |_| {
        let r = json!({ "scope": "USER", "userId": users[0] });
        b.gql(
            "query($r: MemoryRef!) { memory(ref: $r) { version json } }",
            json!({ "r": r }),
        )
    })
    .await;

    // Baseline: the same rows written and read with single SQL statements,
    // no HTTP, no GraphQL, no auth, no transaction, no lock.
    let raw_db = Database::connect(&b.url).await.unwrap();
    let owner: uuid::Uuid = users[0].parse().unwrap();
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
                value: Set(entity::StoredJson(value(i))),
                version: Set(1),
                expires_at: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            };
            let key = [
                variable::Column::TenantId,
                variable::Column::Scope,
                variable::Column::OwnerId,
                variable::Column::Name,
            ];
            variable::Entity::insert(row)
                .on_conflict(
                    OnConflict::columns(key)
                        .update_columns([variable::Column::Value])
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
    row("set 1 user", kind, &one, &raw_set);
    row("set 16 users", kind, &spread, &raw_set);
    row("memory read", kind, &read, &raw_read);
    raw_db.close().await.ok();
    b.stop().await;
}

#[tokio::main]
async fn main() {
    let requests: usize = env_or("BENCH_REQUESTS", 3000);
    let concurrency: usize = env_or("BENCH_CONCURRENCY", 16);
    println!(
        "botmem memory benchmark: {requests} requests per phase, {concurrency} in flight, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    for kind in databases() {
        bench(kind, requests, concurrency).await;
    }
}
