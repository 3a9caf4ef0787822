//! A janitor sweep of `rows` expired variables through `runJanitor`, with
//! `setVariable` load running beside it, against one raw `DELETE` of the
//! same number of rows.
use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use chrono::{TimeDelta, Utc};
use entity::variable;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Database, DatabaseConnection, EntityTrait, QueryFilter,
};

use crate::load::{self, Body, Outcome};

pub struct Sweep {
    pub elapsed: Duration,
    pub raw_delete: Duration,
    /// `setVariable` load while the sweep ran.
    pub foreground: Outcome,
}

/// `rows` variables that expired an hour ago, over rows/100 memories of
/// the bench bot; names start with `prefix`.
async fn insert_expired(db: &DatabaseConnection, bot: uuid::Uuid, rows: usize, prefix: &str) {
    let then = Utc::now() - TimeDelta::hours(1);
    let owners: Vec<uuid::Uuid> = (0..(rows / 100).max(1))
        .map(|_| uuid::Uuid::now_v7())
        .collect();
    for start in (0..rows).step_by(1000) {
        let batch = (start..(start + 1000).min(rows)).map(|i| variable::ActiveModel {
            tenant_id: Set("bench".into()),
            scope: Set("user".into()),
            owner_id: Set(owners[i % owners.len()]),
            name: Set(format!("{prefix}{i}")),
            bot_id: Set(bot),
            value: Set(entity::StoredJson(serde_json::json!({ "n": i }))),
            version: Set(1),
            expires_at: Set(Some(then)),
            created_at: Set(then - TimeDelta::hours(1)),
            updated_at: Set(then - TimeDelta::hours(1)),
        });
        variable::Entity::insert_many(batch)
            .exec(db)
            .await
            .expect("expired rows inserted");
    }
}

pub async fn sweep(
    database_url: &str,
    addr: SocketAddr,
    token: &str,
    bot: &str,
    rows: usize,
    foreground: Body,
    foreground_connections: usize,
) -> Sweep {
    let db = Database::connect(database_url)
        .await
        .expect("the server's database");
    let bot_id: uuid::Uuid = bot.parse().expect("bot id");
    insert_expired(&db, bot_id, rows, "expired-").await;

    let done = Arc::new(AtomicBool::new(false));
    let load = {
        let (token, done) = (token.to_owned(), done.clone());
        tokio::spawn(async move {
            load::run_until(
                addr,
                &token,
                foreground_connections,
                Duration::from_secs(3600),
                done,
                foreground,
            )
            .await
        })
    };
    let started = Instant::now();
    let answer = load::call(
        addr,
        token,
        r#"{"query":"mutation { runJanitor { variablesExpired error } }"}"#.into(),
    )
    .await;
    let elapsed = started.elapsed();
    done.store(true, Ordering::Relaxed);
    let foreground = load.await.expect("foreground load");
    let swept = answer["data"]["runJanitor"]["variablesExpired"]
        .as_u64()
        .unwrap_or(0);
    assert_eq!(
        swept as usize, rows,
        "the sweep removed every expired row: {answer}"
    );

    insert_expired(&db, bot_id, rows, "raw-").await;
    let started = Instant::now();
    let deleted = variable::Entity::delete_many()
        .filter(variable::Column::TenantId.eq("bench"))
        .filter(variable::Column::ExpiresAt.lte(Utc::now()))
        .exec(&db)
        .await
        .expect("raw delete")
        .rows_affected;
    let raw_delete = started.elapsed();
    assert_eq!(deleted as usize, rows);
    db.close().await.ok();
    Sweep {
        elapsed,
        raw_delete,
        foreground,
    }
}
