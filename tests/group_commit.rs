//! Group commit: a tenant's concurrent memory writes share one
//! transaction, and each keeps its own outcome. The groups are made
//! deterministic by holding a database lock from outside: the group that
//! is committing waits on it, the writes sent meanwhile queue, and they go
//! together once it is released (`/metrics` shows the queue, the groups and
//! their outcomes).
mod common;

use std::time::Duration;

use common::*;
use sea_orm::sqlx::{self, Connection, Executor};
use serde_json::{Value, json};

const SET: &str = "mutation($r: MemoryRef!, $n: String!, $v: JSON!, $e: Int) {
  setVariable(input: { ref: $r, name: $n, value: $v, expectedVersion: $e }) { name value version } }";

/// A lock only the test holds: PostgreSQL, the bot memory's row
/// (`FOR UPDATE`); SQLite, the database's one write lock.
enum Blocker {
    Postgres(sqlx::PgConnection),
    Sqlite(sqlx::SqliteConnection),
}

impl Blocker {
    async fn hold(s: &TestServer, bot: &str) -> Blocker {
        let url = s.superuser_url();
        if using_postgres() {
            let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
            c.execute("BEGIN").await.unwrap();
            let lock =
                "SELECT 1 FROM memories WHERE scope = 'bot' AND owner_id = $1::uuid FOR UPDATE";
            let locked = sqlx::query(lock).bind(bot).fetch_all(&mut c).await.unwrap();
            assert_eq!(locked.len(), 1, "the bot's memory row exists");
            Blocker::Postgres(c)
        } else {
            let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
            c.execute("BEGIN IMMEDIATE").await.unwrap();
            Blocker::Sqlite(c)
        }
    }

    async fn release(self) {
        match self {
            Blocker::Postgres(mut c) => c.execute("ROLLBACK").await.map(drop),
            Blocker::Sqlite(mut c) => c.execute("ROLLBACK").await.map(drop),
        }
        .unwrap();
    }
}

/// The value of one series of `/metrics` (0 when absent).
async fn metric(s: &TestServer, series: &str) -> f64 {
    let text = s
        .http()
        .get(s.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.trim().parse::<f64>().unwrap())
        .next()
        .unwrap_or(0.0)
}

async fn wait_for_metric(s: &TestServer, series: &str, value: f64) {
    for _ in 0..2000 {
        if metric(s, series).await == value {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{series} never reached {value}");
}

/// Sends a `setVariable` in a task of its own; its response body.
fn set(
    w: &World,
    r: Value,
    name: &str,
    value: Value,
    expected: Option<i64>,
) -> tokio::task::JoinHandle<Value> {
    let (http, base, token) = (w.s.http().clone(), w.s.base.clone(), w.token.clone());
    let variables = json!({ "r": r, "n": name, "v": value, "e": expected });
    tokio::spawn(async move { post_gql(&http, &base, &token, SET, variables).await })
}

/// A group is committing (blocked by `Blocker`) and `queued` writes wait.
async fn one_group_blocked_with_queued(s: &TestServer, queued: f64) {
    wait_for_metric(s, "botmem_write_groups_in_flight", 1.0).await;
    wait_for_metric(s, "botmem_write_queue", queued).await;
}

async fn memory_version(w: &World, r: Value) -> i64 {
    let data =
        w.s.ok(
            &w.token,
            "query($r: MemoryRef!) { memory(ref: $r) { version } }",
            json!({ "r": r }),
        )
        .await;
    data["memory"]["version"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_queued_behind_a_commit_go_together_and_each_keeps_its_outcome() {
    let w = World::new().await;
    let s = &w.s;
    let ended = s.start_conversation(&w.token, &w.bot, "u2").await;
    let ended_id = ended["id"].as_str().unwrap().to_owned();
    s.ok(
        &w.token,
        "mutation($id: UUID!) { endConversation(id: $id) { status } }",
        json!({ "id": ended_id }),
    )
    .await;
    let ended_ref = json!({ "scope": "CONVERSATION", "conversationId": ended_id });
    let first = set(&w, w.bot_ref(), "x", json!(0), None).await.unwrap();
    assert_eq!(first["data"]["setVariable"]["version"], 1, "{first}");

    let committed = "botmem_write_groups_total{outcome=\"committed\"}";
    let committed_writes = "botmem_write_group_writes_total{outcome=\"committed\"}";
    let refused_writes = "botmem_write_group_writes_total{outcome=\"refused\"}";
    let before = (
        metric(s, committed).await,
        metric(s, committed_writes).await,
        metric(s, refused_writes).await,
    );
    let blocker = Blocker::hold(s, &w.bot).await;
    let blocked = set(&w, w.bot_ref(), "x", json!(1), None);
    one_group_blocked_with_queued(s, 0.0).await;
    // Queued meanwhile, in this order (each queued before the next is sent).
    let mut queued = Vec::new();
    let writes = [
        (w.user_ref(), "u", json!(1), None),
        (w.conv_ref(), "c", json!(1), Some(7)), // a compare-and-set that fails
        (ended_ref.clone(), "e", json!(1), None), // its conversation has ended
        (w.temp_ref(), "t", json!(1), None),
        (w.bot_ref(), "x", json!(2), None), // after the blocked write of x
        (w.user_ref(), "u2", json!(2), None), // the same memory as "u": a group later
    ];
    for (i, (r, name, value, expected)) in writes.into_iter().enumerate() {
        queued.push(set(&w, r, name, value, expected));
        wait_for_metric(s, "botmem_write_queue", (i + 1) as f64).await;
    }
    blocker.release().await;

    let blocked = blocked.await.unwrap();
    assert_eq!(blocked["data"]["setVariable"]["version"], 2, "{blocked}");
    let mut answers = Vec::new();
    for q in queued {
        answers.push(q.await.unwrap());
    }
    assert_eq!(
        answers[0]["data"]["setVariable"]["value"], 1,
        "{}",
        answers[0]
    );
    assert_code(&answers[1], "CONFLICT");
    assert_code(&answers[2], "CONVERSATION_ENDED");
    assert_eq!(
        answers[3]["data"]["setVariable"]["value"], 1,
        "{}",
        answers[3]
    );
    assert_eq!(
        answers[4]["data"]["setVariable"]["value"], 2,
        "{}",
        answers[4]
    );
    assert_eq!(
        answers[5]["data"]["setVariable"]["value"], 2,
        "{}",
        answers[5]
    );

    // Groups: the blocked write; the five queued writes of different
    // memories (three commit, two are refused); then "u2".
    assert_eq!(metric(s, committed).await - before.0, 3.0);
    assert_eq!(metric(s, committed_writes).await - before.1, 5.0);
    assert_eq!(metric(s, refused_writes).await - before.2, 2.0);
    assert_eq!(
        metric(s, "botmem_write_groups_total{outcome=\"alone\"}").await,
        0.0
    );
    // Each memory stepped once per write that changed it; the refused
    // writes changed nothing.
    assert_eq!(memory_version(&w, w.bot_ref()).await, 3);
    assert_eq!(memory_version(&w, w.user_ref()).await, 2);
    assert_eq!(memory_version(&w, w.conv_ref()).await, 0);
    assert_eq!(memory_version(&w, w.temp_ref()).await, 1);
    assert_eq!(memory_version(&w, ended_ref).await, 0);
    let conversation = s
        .ok(
            &w.token,
            "query($id: UUID!) { conversation(id: $id) { status } }",
            json!({ "id": ended_id }),
        )
        .await;
    assert_eq!(conversation["conversation"]["status"], "ENDED");
}

/// The variables quota is known only once the rows are saved: a group
/// that crosses it does not commit, and its writes run alone, so only the
/// one at fault fails, and only the others are announced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_that_cannot_commit_runs_its_writes_alone() {
    use common::ws::*;
    let w = World::start_with(|c| c.quota_variables_per_memory = 2).await;
    let s = &w.s;
    for name in ["a", "b"] {
        let r = set(&w, w.user_ref(), name, json!(0), None).await.unwrap();
        assert!(r["errors"].is_null(), "{r}");
    }
    set(&w, w.bot_ref(), "x", json!(0), None).await.unwrap();
    let mut ws = WsClient::connect(&s.base, Some(TRANSPORT)).await;
    ws.init(&w.token).await;
    ws.subscribe("m", MEMORY_CHANGED, json!({ "bot": w.bot }))
        .await;
    until_live(&mut ws, "m", "memoryChanged", |k| {
        let w = &w;
        async move {
            let marker = format!("probe-{k}");
            set(w, w.bot_ref(), "probe", json!(marker), None)
                .await
                .unwrap();
            marker
        }
    })
    .await;

    let other = s.start_conversation(&w.token, &w.bot, "u2").await;
    let other_ref = json!({ "scope": "CONVERSATION", "conversationId": other["id"] });
    let blocker = Blocker::hold(s, &w.bot).await;
    let blocked = set(&w, w.bot_ref(), "x", json!(1), None);
    one_group_blocked_with_queued(s, 0.0).await;
    let over = set(&w, w.user_ref(), "c", json!(1), None);
    wait_for_metric(s, "botmem_write_queue", 1.0).await;
    let conv = set(&w, w.conv_ref(), "k", json!(1), None);
    wait_for_metric(s, "botmem_write_queue", 2.0).await;
    // Another conversation's: the TEMP memory of the first conversation
    // would wait for a group of its own.
    let temp = set(&w, other_ref, "t", json!(1), None);
    one_group_blocked_with_queued(s, 3.0).await;
    blocker.release().await;

    assert!(blocked.await.unwrap()["errors"].is_null());
    assert_code(&over.await.unwrap(), "QUOTA_EXCEEDED");
    assert_eq!(conv.await.unwrap()["data"]["setVariable"]["value"], 1);
    assert_eq!(temp.await.unwrap()["data"]["setVariable"]["value"], 1);
    assert_eq!(
        metric(s, "botmem_write_groups_total{outcome=\"alone\"}").await,
        1.0
    );
    assert_eq!(
        metric(s, "botmem_write_group_writes_total{outcome=\"alone\"}").await,
        3.0
    );
    assert_eq!(
        memory_version(&w, w.user_ref()).await,
        2,
        "the refused write left no trace"
    );

    // The bot memory is at its quota too: the last event overwrites "x".
    let last = set(&w, w.bot_ref(), "x", json!("last"), None)
        .await
        .unwrap();
    assert!(last["errors"].is_null(), "{last}");
    let mut names = Vec::new();
    loop {
        let event = ws.next_data("m", "memoryChanged").await;
        if event["value"] == "last" {
            break;
        }
        names.push(event["name"].as_str().unwrap().to_owned());
    }
    names.retain(|n| n != "probe");
    names.sort();
    assert_eq!(
        names,
        ["k", "t", "x"],
        "the refused write announced nothing"
    );
}
