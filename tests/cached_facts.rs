//! Each process caches which bot a user belongs to, bots' settings and
//! tenants' settings. A change must reach the replica that made it at
//! once, and every other replica through the event relay; a fact cached
//! for one tenant must stay invisible to another.
mod common;

use std::time::{Duration, Instant};

use common::{TestServer, World, code, require_postgres};
use serde_json::{Value, json};

const READ: &str = "query($r: MemoryRef!) { memory(ref: $r) { version } }";
const SET: &str = "mutation($r: MemoryRef!, $n: String!, $v: JSON!) {
    setVariable(input: { ref: $r, name: $n, value: $v }) { version expiresAt } }";

async fn set(s: &TestServer, token: &str, r: &Value, name: &str, value: Value) -> Value {
    s.gql(token, SET, json!({ "r": r, "n": name, "v": value }))
        .await
}

/// Every fact the write path caches, read once through `s`.
async fn warm(s: &TestServer, w: &World) {
    s.ok(&w.token, READ, json!({ "r": w.user_ref() })).await;
    let written = set(s, &w.token, &w.user_ref(), "otp", json!(1)).await;
    assert_eq!(
        written["data"]["setVariable"]["expiresAt"],
        Value::Null,
        "{written}"
    );
}

/// Changes the bot's policy, the tenant's value limit, and erases the user, through `s`.
async fn change_everything(s: &TestServer, w: &World) {
    s.ok(
        &w.token,
        "mutation($id: UUID!) { updateBot(id: $id, input: {
            retentionPolicies: [{ name: \"otp\", ttl: \"5m\", scopes: [USER, BOT] }] }) { id } }",
        json!({ "id": w.bot }),
    )
    .await;
    s.ok(
        &w.token,
        "mutation { updateTenantSettings(input: { maxValueBytes: 16 }) { maxValueBytes } }",
        json!({}),
    )
    .await;
    s.ok(
        &w.token,
        "mutation($id: UUID!) { deleteUser(id: $id) }",
        json!({ "id": w.user }),
    )
    .await;
}

/// What `s` answers once it knows of [`change_everything`]: the user is
/// gone, the bot's new policy applies, the tenant's new limit refuses.
async fn sees_the_changes(s: &TestServer, w: &World) -> Result<(), String> {
    let read = s.gql(&w.token, READ, json!({ "r": w.user_ref() })).await;
    if code(&read) != "NOT_FOUND" {
        return Err(format!("the erased user still reads: {read}"));
    }
    let written = set(s, &w.token, &w.bot_ref(), "otp", json!(2)).await;
    if written["data"]["setVariable"]["expiresAt"].is_null() {
        return Err(format!("the bot's new policy is not applied: {written}"));
    }
    let big = set(s, &w.token, &w.bot_ref(), "big", json!("x".repeat(64))).await;
    if code(&big) != "QUOTA_EXCEEDED" {
        return Err(format!("the tenant's new limit is not applied: {big}"));
    }
    Ok(())
}

#[tokio::test]
async fn a_change_applies_at_once_on_the_replica_that_made_it() {
    let w = World::new().await;
    warm(&w.s, &w).await;
    change_everything(&w.s, &w).await;
    sees_the_changes(&w.s, &w).await.unwrap();
}

#[tokio::test]
async fn a_fact_cached_for_one_tenant_is_not_found_by_another() {
    let w = World::new().await;
    warm(&w.s, &w).await;
    let other = w.s.admin("t2");
    for r in [w.user_ref(), w.bot_ref(), w.conv_ref()] {
        let read = w.s.gql(&other, READ, json!({ "r": r })).await;
        assert_eq!(code(&read), "NOT_FOUND", "{read}");
        let written = set(&w.s, &other, &r, "x", json!(1)).await;
        assert_eq!(code(&written), "NOT_FOUND", "{written}");
    }
}

/// Several replicas or PostgreSQL's own behaviour: run on PostgreSQL only
/// (`scripts/test`), and failing anywhere else.
mod postgres_only {
    use super::*;

    /// The other replica had every fact cached; the relay makes it forget.
    #[tokio::test]
    async fn a_change_reaches_every_replica_through_the_relay() {
        require_postgres();
        let w = World::new().await;
        let b = w.s.replica(|_| {}).await;
        warm(&b, &w).await;
        change_everything(&w.s, &w).await;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match sees_the_changes(&b, &w).await {
                Ok(()) => break,
                Err(e) if Instant::now() > deadline => {
                    panic!("replica B still serves old facts: {e}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    }
}
