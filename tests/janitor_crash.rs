//! Crash safety of sweeps, with a real process: the `botmem` binary is
//! killed (SIGKILL) in the middle of a large sweep, restarted, and swept
//! again. No live row may be lost, and the second sweep finishes the work.
mod common;

use std::time::Duration;

use common::{process::*, *};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

const EXPIRED_ROWS: usize = 60_000;
/// Small batches and a short lease, so a kill lands mid-sweep and a
/// restart can take the tenant over at once.
const BATCHES: &[(&str, &str)] = &[
    ("BOTMEM_JANITOR_BATCH_SIZE", "500"),
    ("BOTMEM_JANITOR_LEASE_SECS", "1"),
    // A whole sweep runs inside one `runJanitor` request; a debug build on
    // a busy machine may need longer than the default 30 s.
    ("BOTMEM_REQUEST_TIMEOUT_SECS", "600"),
];

async fn post(port: u16, token: &str, query: &str) -> Result<Value, reqwest::Error> {
    reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query }))
        .send()
        .await?
        .json()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_process_mid_sweep_loses_nothing_and_the_next_sweep_finishes() {
    // A migrated database with one bot; the subprocess uses the real clock.
    let s = TestServer::start().await;
    let bot: uuid::Uuid = s.create_bot(&s.admin("t1"), "b").await.parse().unwrap();
    let db = sea_orm::Database::connect(&s.config.database_url)
        .await
        .unwrap();
    let now = chrono::Utc::now();
    let row = |i: usize, owner: uuid::Uuid, expires_at| entity::variable::ActiveModel {
        tenant_id: Set("t1".into()),
        scope: Set("user".into()),
        owner_id: Set(owner),
        name: Set(format!("v{i}")),
        bot_id: Set(bot),
        value: Set(entity::StoredJson(json!(i))),
        version: Set(1),
        expires_at: Set(expires_at),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let owners: Vec<uuid::Uuid> = (0..600).map(|_| uuid::Uuid::now_v7()).collect();
    for start in (0..EXPIRED_ROWS).step_by(1000) {
        let rows = (start..start + 1000).map(|i| {
            row(
                i,
                owners[i % owners.len()],
                Some(now - chrono::TimeDelta::seconds(1)),
            )
        });
        entity::variable::Entity::insert_many(rows)
            .exec(&db)
            .await
            .unwrap();
    }
    // Live rows in the same memories, some expiring far in the future.
    let live = (0..300).map(|i| {
        row(
            EXPIRED_ROWS + i,
            owners[i],
            (i % 2 == 0).then(|| now + chrono::TimeDelta::days(1)),
        )
    });
    entity::variable::Entity::insert_many(live)
        .exec(&db)
        .await
        .unwrap();
    let expired_left = || {
        entity::variable::Entity::find()
            .filter(entity::variable::Column::ExpiresAt.lte(now))
            .count(&db)
    };
    let live_left = || {
        entity::variable::Entity::find()
            .filter(
                sea_orm::Condition::any()
                    .add(entity::variable::Column::ExpiresAt.is_null())
                    .add(entity::variable::Column::ExpiresAt.gt(now)),
            )
            .count(&db)
    };

    let mut claims = s.claims("t1", &["admin"]);
    claims.exp = chrono::Utc::now().timestamp() + 3600;
    let token = s.sign(&claims);
    let port = free_port();
    let mut first = spawn_botmem(&s.config.database_url, port, BATCHES);
    wait_up(port).await;
    let sweep = tokio::spawn({
        let token = token.clone();
        async move { post(port, &token, "mutation { runJanitor { variablesExpired } }").await }
    });
    // Kill once the sweep has committed some batches but not all.
    // (Bounded by time, not polls: on a busy machine the sweep may take a
    // while to start.)
    let mut seen_progress = false;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while std::time::Instant::now() < deadline {
        if (expired_left().await.unwrap() as usize) < EXPIRED_ROWS {
            seen_progress = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    first.kill().ok();
    first.wait().ok();
    let killed_mid_sweep = seen_progress && expired_left().await.unwrap() > 0;
    let _ = sweep.await;
    assert!(
        killed_mid_sweep,
        "the sweep was not caught mid-way; raise EXPIRED_ROWS"
    );
    assert_eq!(
        live_left().await.unwrap(),
        300,
        "no live row lost in the crash"
    );

    // Restart; the dead process's lease runs out after a second.
    let port = free_port();
    let mut second = spawn_botmem(&s.config.database_url, port, BATCHES);
    wait_up(port).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let body = post(
        port,
        &token,
        "mutation { runJanitor { variablesExpired error } }",
    )
    .await
    .unwrap();
    assert!(body.get("errors").is_none(), "{body}");
    let runs = post(
        port,
        &token,
        "{ janitorRuns { edges { node { error variablesExpired } } } }",
    )
    .await
    .unwrap();
    second.kill().ok();
    second.wait().ok();

    assert_eq!(
        expired_left().await.unwrap(),
        0,
        "the next sweep finished the work"
    );
    assert_eq!(live_left().await.unwrap(), 300);
    let edges = runs["data"]["janitorRuns"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 2);
    assert!(
        edges[1]["node"]["error"]
            .as_str()
            .unwrap()
            .starts_with("interrupted"),
        "{runs}"
    );
    db.close().await.ok();
}
