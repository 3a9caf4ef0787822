//! Crash safety, with the real process killed by SIGKILL:
//! - under ~200 concurrent writers, every acknowledged write survives the
//!   kill and a restart, with at least its acknowledged version (3 kills
//!   in a row);
//! - in the middle of a large sweep no live row is lost, and the next
//!   sweep finishes the work.
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
    let db = sea_orm::Database::connect(&s.superuser_url())
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

const WRITERS: usize = 200;
const CONVERSATIONS: usize = 20;
const KILLS: usize = 3;

/// What the server acknowledged to one writer last: the value it wrote
/// and the version the answer gave.
#[derive(Clone, Copy, Default)]
struct Acked {
    value: i64,
    version: i64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_write_survives_kill_9_and_restart() {
    let s = TestServer::start().await;
    let token = s.admin("t1");
    let bot = s.create_bot(&token, "b").await;
    let mut conversations = vec![];
    for i in 0..CONVERSATIONS {
        let c = s.start_conversation(&token, &bot, &format!("u{i}")).await;
        conversations.push(c["id"].as_str().unwrap().to_owned());
    }
    let acked = std::sync::Arc::new(std::sync::Mutex::new(vec![Acked::default(); WRITERS]));
    let port = free_port();
    let mut total_acked = 0;
    for kill in 0..KILLS {
        let mut server = spawn_botmem(&s.config.database_url, port, &[]);
        wait_up(port).await;
        let so_far = acked.lock().unwrap().clone();
        check_survivors(port, &token, &conversations, &so_far).await;
        let stop = tokio_util::sync::CancellationToken::new();
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (acked, stop, token) = (acked.clone(), stop.clone(), token.clone());
                let conversation = conversations[w % CONVERSATIONS].clone();
                tokio::spawn(async move {
                    write_until_gone(port, w, &conversation, &token, acked, stop).await
                })
            })
            .collect();
        // Kill once the writers are in full flight: a few hundred acks in.
        let floor = total_acked + 300;
        for _ in 0..2_000 {
            if acked_count(&acked) >= floor {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        server.kill().unwrap();
        server.wait().unwrap();
        stop.cancel();
        let mut unanswered = 0;
        for writer in writers {
            unanswered += writer.await.unwrap();
        }
        total_acked = acked_count(&acked);
        eprintln!(
            "kill {}: {total_acked} writes acknowledged so far, {unanswered} in flight at the kill",
            kill + 1
        );
        assert!(
            total_acked >= floor,
            "the writers made no progress before the kill"
        );
    }
    let server = spawn_botmem(&s.config.database_url, port, &[]);
    wait_up(port).await;
    let acked = acked.lock().unwrap().clone();
    check_survivors(port, &token, &conversations, &acked).await;
    drop(server);
}

fn acked_count(acked: &std::sync::Mutex<Vec<Acked>>) -> i64 {
    acked.lock().unwrap().iter().map(|a| a.value).sum()
}

/// Writer `w` sets `w{w}` to 1, 2, 3, … until the server is gone; returns
/// how many writes were in flight (unanswered) when it went.
async fn write_until_gone(
    port: u16,
    w: usize,
    conversation: &str,
    token: &str,
    acked: std::sync::Arc<std::sync::Mutex<Vec<Acked>>>,
    stop: tokio_util::sync::CancellationToken,
) -> usize {
    let http = reqwest::Client::new();
    let mut value = acked.lock().unwrap()[w].value;
    loop {
        value += 1;
        let body = json!({
            "query": "mutation($r: MemoryRef!, $n: String!, $v: JSON!) { setVariable(input: { ref: $r, name: $n, value: $v }) { version } }",
            "variables": {
                "r": { "scope": "CONVERSATION", "conversationId": conversation },
                "n": format!("w{w}"),
                "v": value,
            },
        });
        let sent = http
            .post(format!("http://127.0.0.1:{port}/graphql"))
            .bearer_auth(token)
            .json(&body)
            .send();
        let answer: Value = tokio::select! {
            answer = sent => match answer {
                Ok(r) => match r.json().await { Ok(v) => v, Err(_) => return 1 },
                Err(_) => return 1,
            },
            () = stop.cancelled() => return 1,
        };
        let Some(version) = answer["data"]["setVariable"]["version"].as_i64() else {
            panic!("a write was refused: {answer}");
        };
        acked.lock().unwrap()[w] = Acked { value, version };
    }
}

/// Every writer's variable holds at least what was acknowledged.
async fn check_survivors(port: u16, token: &str, conversations: &[String], acked: &[Acked]) {
    let mut stored = std::collections::HashMap::new();
    for conversation in conversations {
        let answer = post_vars(
            port,
            token,
            "query($r: MemoryRef!) { memory(ref: $r) { variables { name value version } } }",
            json!({ "r": { "scope": "CONVERSATION", "conversationId": conversation } }),
        )
        .await;
        for v in answer["data"]["memory"]["variables"]
            .as_array()
            .unwrap_or_else(|| panic!("{answer}"))
        {
            stored.insert(
                v["name"].as_str().unwrap().to_owned(),
                (v["value"].as_i64().unwrap(), v["version"].as_i64().unwrap()),
            );
        }
    }
    let mut lost = vec![];
    for (w, a) in acked.iter().enumerate().filter(|(_, a)| a.value > 0) {
        let (value, version) = stored.get(&format!("w{w}")).copied().unwrap_or((0, 0));
        if value < a.value || version < a.version {
            lost.push(format!(
                "w{w}: acknowledged {}@v{}, found {value}@v{version}",
                a.value, a.version
            ));
        }
    }
    assert!(lost.is_empty(), "acknowledged writes lost: {lost:#?}");
}

async fn post_vars(port: u16, token: &str, query: &str, variables: Value) -> Value {
    reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}
