//! The janitor: tenant schedules, sweeps (expired variables and KV
//! entries, timed-out sessions finalized with promotion, message trims),
//! manual runs, exactly-once across replicas, and finishing interrupted
//! sweeps. Time moves by the injected clock; waits below only give the
//! background dispatcher (a real-time tick) its turn, with a bound.
mod common;

use std::time::Duration;

use chrono::TimeDelta;
use common::*;
use serde_json::{Value, json};

const SETTINGS: &str = "mutation($i: TenantSettingsInput!) { updateTenantSettings(input: $i) { janitorSchedule maxValueBytes } }";
const RUN: &str = "mutation { runJanitor { trigger startedAt finishedAt variablesExpired kvEntriesExpired conversationsExpired messagesTrimmed error } }";
const RUNS: &str = "{ janitorRuns { edges { node { id trigger variablesExpired kvEntriesExpired conversationsExpired error finishedAt } } } }";

/// Dispatcher ticks this process completed (`/metrics`).
async fn ticks(s: &TestServer) -> u64 {
    let metrics = s.http().get(s.url("/metrics")).send().await.unwrap();
    let metrics = metrics.text().await.unwrap();
    metrics
        .lines()
        .find(|l| l.starts_with("botmem_janitor_ticks_total"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0) as u64
}

/// Moves the clock by `by` (possibly zero) and waits until the dispatcher
/// has completed a whole tick that saw the new time: two ticks after the
/// move, as at most one was already running. Instead of sleeping and
/// hoping a tick happened.
async fn advance_and_settle(s: &TestServer, by: TimeDelta) {
    let before = ticks(s).await;
    s.clock.advance(by);
    for _ in 0..1500 {
        if ticks(s).await >= before + 2 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the janitor dispatcher did not tick");
}

fn long_token(s: &TestServer, tenant: &str) -> String {
    let mut claims = s.claims(tenant, &["admin"]);
    claims.exp += 400 * 86_400;
    s.sign(&claims)
}

async fn runs(s: &TestServer, token: &str) -> Vec<Value> {
    s.ok(token, RUNS, json!({})).await["janitorRuns"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

/// Polls until `done` holds for the tenant's runs and none is still
/// running (a run is listed from the moment its sweep starts), at most `limit`.
async fn wait_for_runs(
    s: &TestServer,
    token: &str,
    limit: Duration,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = std::time::Instant::now() + limit;
    loop {
        let found = runs(s, token).await;
        let finished = found.iter().all(|r| r["finishedAt"].is_string());
        if (done(&found) && finished) || std::time::Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn tenant_settings_are_validated_and_applied() {
    let s = TestServer::start().await;
    let admin = s.admin("t1");
    let data = s
        .ok(
            &admin,
            SETTINGS,
            json!({ "i": { "janitorSchedule": " */30 * * * * * ", "maxValueBytes": 10 } }),
        )
        .await;
    assert_eq!(
        data["updateTenantSettings"],
        json!({ "janitorSchedule": "*/30 * * * * *", "maxValueBytes": 10 })
    );
    for (input, field) in [
        (
            json!({ "janitorSchedule": "*/2 * * * *" }),
            "janitorSchedule",
        ),
        (
            json!({ "janitorSchedule": "every minute" }),
            "janitorSchedule",
        ),
        (
            json!({ "janitorSchedule": "0 0 0 30 2 *" }),
            "janitorSchedule",
        ),
        (json!({ "maxValueBytes": 0 }), "maxValueBytes"),
        (json!({ "maxValueBytes": 100_000_000 }), "maxValueBytes"),
    ] {
        let body = s.gql(&admin, SETTINGS, json!({ "i": input })).await;
        assert_code(&body, "BAD_USER_INPUT");
        assert_eq!(body["errors"][0]["extensions"]["field"], field);
    }
    assert_code(
        &s.gql(
            &s.token("t1", "editor"),
            SETTINGS,
            json!({ "i": { "maxValueBytes": 99 } }),
        )
        .await,
        "FORBIDDEN",
    );
    let tenant = s
        .ok(
            &admin,
            "{ viewer { tenant { janitorSchedule maxValueBytes } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        tenant["viewer"]["tenant"],
        json!({ "janitorSchedule": "*/30 * * * * *", "maxValueBytes": 10 })
    );

    // The new limit applies to writes at once.
    let bot = s.create_bot(&admin, "b").await;
    let set = "mutation($b: UUID!, $v: JSON!) { setVariable(input: { ref: { scope: BOT, botId: $b }, name: \"x\", value: $v }) { version } }";
    assert_code(
        &s.gql(&admin, set, json!({ "b": bot, "v": "more than ten bytes" }))
            .await,
        "QUOTA_EXCEEDED",
    );
    s.ok(&admin, set, json!({ "b": bot, "v": 12345 })).await;
}

#[tokio::test]
async fn run_janitor_expires_variables_kv_and_sessions_with_promotion() {
    let s = TestServer::start().await;
    let admin = long_token(&s, "t1");
    let bot = s
        .ok(
            &admin,
            "mutation { createBot(input: { name: \"b\", sessionTimeout: \"10m\" }) { id } }",
            json!({}),
        )
        .await["createBot"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let c = s.start_conversation(&admin, &bot, "u1").await;
    let set = "mutation($i: SetVariableInput!) { setVariable(input: $i) { version } }";
    let user_ref = json!({ "scope": "USER", "userId": c["user"]["id"] });
    let conv_ref = json!({ "scope": "CONVERSATION", "conversationId": c["id"] });
    s.ok(
        &admin,
        set,
        json!({ "i": { "ref": user_ref, "name": "otp", "value": 1, "expiresIn": "1m" } }),
    )
    .await;
    s.ok(
        &admin,
        set,
        json!({ "i": { "ref": user_ref, "name": "name", "value": "Ada" } }),
    )
    .await;
    s.ok(
        &admin,
        set,
        json!({ "i": { "ref": conv_ref, "name": "topic", "value": "billing" } }),
    )
    .await;
    let kv = "mutation($i: KvSetInput!) { kvSet(input: $i) { version } }";
    s.ok(
        &admin,
        kv,
        json!({ "i": { "botId": bot, "key": "short", "value": 1, "expiresIn": "1m" } }),
    )
    .await;
    s.ok(
        &admin,
        kv,
        json!({ "i": { "botId": bot, "key": "long", "value": 1 } }),
    )
    .await;

    s.clock.advance(TimeDelta::minutes(11));
    let run = s.ok(&admin, RUN, json!({})).await["runJanitor"].clone();
    assert_eq!(run["trigger"], "MANUAL");
    assert_eq!(run["error"], Value::Null);
    assert_eq!(
        (
            run["variablesExpired"].clone(),
            run["kvEntriesExpired"].clone(),
            run["conversationsExpired"].clone()
        ),
        (json!(1), json!(1), json!(1))
    );
    let q = "query($c: UUID!, $u: UUID!) { conversation(id: $c) { status endReason endedAt memory { json } }
        user(id: $u) { memory { json } } }";
    let data = s
        .ok(&admin, q, json!({ "c": c["id"], "u": c["user"]["id"] }))
        .await;
    assert_eq!(
        data["conversation"],
        json!({ "status": "EXPIRED", "endReason": "TIMEOUT", "endedAt": "2030-01-15T12:10:00Z", "memory": { "json": {} } })
    );
    assert_eq!(
        data["user"]["memory"]["json"],
        json!({ "name": "Ada", "topic": "billing" }),
        "promoted as on end"
    );

    // Idempotent: a second sweep finds nothing.
    let again = s.ok(&admin, RUN, json!({})).await["runJanitor"].clone();
    assert_eq!(
        (
            again["variablesExpired"].as_i64(),
            again["conversationsExpired"].as_i64()
        ),
        (Some(0), Some(0))
    );
    let listed = runs(&s, &admin).await;
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["variablesExpired"], 0, "newest first");
    assert_eq!(listed[1]["variablesExpired"], 1);

    // Garbage is gone from the tables, live data is not.
    use sea_orm::{EntityTrait, PaginatorTrait};
    let db = sea_orm::Database::connect(&s.superuser_url())
        .await
        .unwrap();
    assert_eq!(
        entity::variable::Entity::find().count(&db).await.unwrap(),
        2,
        "name and promoted topic"
    );
    assert_eq!(
        entity::kv_entry::Entity::find().count(&db).await.unwrap(),
        1
    );
    db.close().await.ok();
    // Other tenants see none of these runs.
    assert!(runs(&s, &s.admin("t2")).await.is_empty());
}

#[tokio::test]
async fn lowering_last_messages_kept_trims_logs_at_the_next_sweep() {
    let s = TestServer::start().await;
    let admin = long_token(&s, "t1");
    let bot = s.create_bot(&admin, "b").await;
    let c = s.start_conversation(&admin, &bot, "u1").await;
    let append = "mutation($c: UUID!) { appendMessage(conversationId: $c, input: { direction: INCOMING, text: \"m\" }) { id } }";
    for _ in 0..6 {
        s.ok(&admin, append, json!({ "c": c["id"] })).await;
    }
    s.ok(
        &admin,
        "mutation($b: UUID!) { updateBot(id: $b, input: { lastMessagesKept: 2 }) { id } }",
        json!({ "b": bot }),
    )
    .await;
    let run = s.ok(&admin, RUN, json!({})).await["runJanitor"].clone();
    assert_eq!(run["messagesTrimmed"], 4);
    let q = "query($c: UUID!) { conversation(id: $c) { messages { id } } }";
    assert_eq!(
        s.ok(&admin, q, json!({ "c": c["id"] })).await["conversation"]["messages"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        s.ok(&admin, RUN, json!({})).await["runJanitor"]["messagesTrimmed"],
        0,
        "trimmed once"
    );
}

#[tokio::test]
async fn sweeps_work_in_batches_and_finish_an_interrupted_sweep() {
    let s = TestServer::start_with(|c| c.janitor_batch_size = 2).await;
    let admin = long_token(&s, "t1");
    let bot = s.create_bot(&admin, "b").await;
    let set = "mutation($i: SetVariableInput!) { setVariable(input: $i) { version } }";
    for n in 0..7 {
        let r = json!({ "scope": "BOT", "botId": bot });
        s.ok(
            &admin,
            set,
            json!({ "i": { "ref": r, "name": format!("v{n}"), "value": n, "expiresIn": "1m" } }),
        )
        .await;
    }
    s.ok(
        &admin,
        set,
        json!({ "i": { "ref": { "scope": "BOT", "botId": bot }, "name": "keep", "value": true } }),
    )
    .await;
    s.clock.advance(TimeDelta::minutes(2));

    // A sweep that died: its run never finished, its lease ran out.
    let store = botmem::store::Store::connect(&botmem::Config {
        database_url: s.config.database_url.clone(),
        ..botmem::Config::default()
    })
    .await
    .unwrap();
    let tenant = botmem::model::TenantId::parse("t1").unwrap();
    store
        .start_run(
            &tenant,
            botmem::model::JanitorTrigger::Schedule,
            s.clock.now(),
        )
        .await
        .unwrap();

    let run = s.ok(&admin, RUN, json!({})).await["runJanitor"].clone();
    assert_eq!(run["variablesExpired"], 7, "four batches of at most two");
    let listed = runs(&s, &admin).await;
    assert_eq!(listed.len(), 2);
    assert!(
        listed[1]["error"]
            .as_str()
            .unwrap()
            .starts_with("interrupted"),
        "{listed:?}"
    );
    assert!(listed[1]["finishedAt"].is_string());
    let m = s
        .ok(
            &admin,
            "query($b: UUID!) { bot(id: $b) { memory { version json } } }",
            json!({ "b": bot }),
        )
        .await;
    assert_eq!(m["bot"]["memory"]["json"], json!({ "keep": true }));
    // Each batch is its own transaction and steps the memory's version
    // once: 8 writes, then ceil(7 / 2) = 4 batches.
    assert_eq!(
        m["bot"]["memory"]["version"],
        8 + 4,
        "not four batches: {m}"
    );
}

#[tokio::test]
async fn the_schedule_drives_sweeps_and_changes_take_effect_at_once() {
    let s = TestServer::start_with(|c| {
        c.janitor = botmem::config::Switch::On;
        c.janitor_tick_secs = 1;
    })
    .await;
    let admin = long_token(&s, "t1");
    let bot = s.create_bot(&admin, "b").await;
    let set = "mutation($i: SetVariableInput!) { setVariable(input: $i) { version } }";
    let r = json!({ "scope": "BOT", "botId": bot });
    s.ok(
        &admin,
        set,
        json!({ "i": { "ref": r, "name": "otp", "value": 1, "expiresIn": "5s" } }),
    )
    .await;
    s.ok(
        &admin,
        SETTINGS,
        json!({ "i": { "janitorSchedule": "*/10 * * * * *" } }),
    )
    .await;

    // Not due yet: the dispatcher ticks, and nothing runs.
    advance_and_settle(&s, TimeDelta::zero()).await;
    advance_and_settle(&s, TimeDelta::seconds(5)).await;
    assert!(runs(&s, &admin).await.is_empty());

    s.clock.advance(TimeDelta::seconds(5));
    let found = wait_for_runs(&s, &admin, Duration::from_secs(15), |r| !r.is_empty()).await;
    assert_eq!(found.len(), 1, "one sweep for the due time: {found:?}");
    assert_eq!(found[0]["trigger"], "SCHEDULE");
    assert_eq!(found[0]["variablesExpired"], 1);

    // A schedule far away: moving past the old cadence runs nothing more.
    s.ok(
        &admin,
        SETTINGS,
        json!({ "i": { "janitorSchedule": "0 0 0 1 1 *" } }),
    )
    .await;
    advance_and_settle(&s, TimeDelta::minutes(5)).await;
    assert_eq!(runs(&s, &admin).await.len(), 1);
}

#[tokio::test]
async fn each_due_sweep_runs_once_across_two_replicas() {
    let fast = |c: &mut botmem::Config| {
        c.janitor = botmem::config::Switch::On;
        c.janitor_tick_secs = 1;
    };
    let a = TestServer::start_with(fast).await;
    let b = a.replica(fast).await;
    let tenants: Vec<String> = (0..6).map(|n| format!("tenant{n}")).collect();
    for tenant in &tenants {
        // Alternate replicas: each tenant row is created and configured through one of them.
        let server = if tenant.ends_with(['0', '2', '4']) {
            &a
        } else {
            &b
        };
        server
            .ok(
                &long_token(server, tenant),
                SETTINGS,
                json!({ "i": { "janitorSchedule": "*/10 * * * * *" } }),
            )
            .await;
    }
    for round in 1..=2 {
        a.clock.advance(TimeDelta::seconds(10));
        b.clock.advance(TimeDelta::seconds(10));
        for tenant in &tenants {
            let token = long_token(&a, tenant);
            let found =
                wait_for_runs(&a, &token, Duration::from_secs(15), |r| r.len() >= round).await;
            assert!(
                found.len() >= round,
                "{tenant} was not swept in round {round}"
            );
        }
        // Give both dispatchers time to make a mistake, then count.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        for tenant in &tenants {
            let found = runs(&a, &long_token(&a, tenant)).await;
            assert_eq!(
                found.len(),
                round,
                "{tenant}: exactly one sweep per due time, got {found:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_replica_with_the_janitor_off_sweeps_nothing() {
    let s = TestServer::start_with(|c| {
        c.janitor = botmem::config::Switch::Off;
        c.janitor_tick_secs = 1;
    })
    .await;
    let admin = long_token(&s, "t1");
    s.ok(
        &admin,
        SETTINGS,
        json!({ "i": { "janitorSchedule": "* * * * * *" } }),
    )
    .await;
    s.clock.advance(TimeDelta::minutes(1));
    // Manual runs still work on an API-only replica.
    s.ok(&admin, RUN, json!({})).await;
    assert_eq!(runs(&s, &admin).await.len(), 1);
    // No dispatcher runs at all: it has never ticked.
    assert_eq!(ticks(&s).await, 0, "a dispatcher runs with the janitor off");
}

/// A bot of `tenant` with 20 variables expiring in a minute, and a
/// schedule that keeps the tenant from being due until a test sets another.
async fn seed_twenty_expiring(s: &TestServer, tenant: &str) {
    let token = long_token(s, tenant);
    let far = json!({ "i": { "janitorSchedule": "0 0 0 1 1 *" } });
    s.ok(&token, SETTINGS, far).await;
    let bot = s.create_bot(&token, "b").await;
    let inputs: Vec<Value> = (0..20)
        .map(|i| json!({ "ref": { "scope": "BOT", "botId": bot }, "name": format!("v{i}"), "value": i, "expiresIn": "1m" }))
        .collect();
    s.ok(
        &token,
        "mutation($i: [SetVariableInput!]!) { setVariables(inputs: $i) { version } }",
        json!({ "i": inputs }),
    )
    .await;
}

/// Locks every variable row of `tenant` until the returned transaction
/// ends (keep the connection too): a sweep of it blocks there.
async fn hold_rows_of(
    s: &TestServer,
    tenant: &str,
) -> (sea_orm::DatabaseConnection, sea_orm::DatabaseTransaction) {
    let lock = sea_orm::Database::connect(&s.superuser_url())
        .await
        .unwrap();
    let held = sea_orm::TransactionTrait::begin(&lock).await.unwrap();
    let sql = format!("SELECT 1 FROM variables WHERE tenant_id = '{tenant}' FOR UPDATE");
    sea_orm::ConnectionTrait::execute_unprepared(&held, &sql)
        .await
        .unwrap();
    (lock, held)
}

/// Exactly once across replicas, with the race forced: one replica's sweep
/// of a tenant is held mid-batch (the test holds that tenant's rows locked)
/// while the other replica keeps ticking over due tenants with real work.
/// The held tenant is swept once, by the replica that claimed it, and the
/// others are swept by whichever replica is free; no rows are swept twice.
mod postgres_only {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_claimed_tenant_is_not_swept_by_another_replica() {
        require_postgres();
        let on = |c: &mut botmem::Config| {
            c.janitor = botmem::config::Switch::On;
            c.janitor_tick_secs = 1;
            // The hold below must outlast the test, not a statement limit.
            c.db_statement_timeout_secs = 0;
        };
        let a = TestServer::start_with(on).await;
        let b = a.replica(on).await;
        let tenants = ["held", "free1", "free2"];
        for tenant in tenants {
            seed_twenty_expiring(&a, tenant).await;
        }
        // Expired, but nobody is due until the schedules say so.
        for s in [&a, &b] {
            s.clock.advance(TimeDelta::minutes(2));
        }
        for tenant in tenants {
            let every_10s = json!({ "i": { "janitorSchedule": "*/10 * * * * *" } });
            a.ok(&long_token(&a, tenant), SETTINGS, every_10s).await;
        }
        // Hold the rows of "held": whichever replica claims it blocks there.
        let (_lock, held) = hold_rows_of(&a, "held").await;

        for s in [&a, &b] {
            s.clock.advance(TimeDelta::seconds(10));
        }
        let token = long_token(&a, "held");
        let mut started = vec![];
        for _ in 0..1500 {
            started = runs(&a, &token).await;
            if !started.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(
            started.len(),
            1,
            "no sweep of the held tenant began: {started:?}"
        );
        // The other replica keeps ticking past more due times; the held
        // tenant's claim (lease: 5 minutes) keeps it away from "held" (had
        // it tried, it would block on the rows too and tick no more).
        // Both replicas count into one process-wide metric; the held one
        // completes no tick, so these are the other's.
        for _ in 0..3 {
            let before = ticks(&a).await;
            for s in [&a, &b] {
                s.clock.advance(TimeDelta::seconds(10));
            }
            for _ in 0..1500 {
                if ticks(&a).await >= before + 2 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            assert!(
                ticks(&a).await >= before + 2,
                "the free replica stopped ticking"
            );
        }
        let during = runs(&a, &token).await;
        assert_eq!(
            during.len(),
            1,
            "one sweep of the held tenant, still running: {during:?}"
        );
        assert!(during[0]["finishedAt"].is_null(), "{during:?}");

        held.rollback().await.unwrap();
        let found = wait_for_runs(&a, &token, Duration::from_secs(20), |r| {
            r.first().is_some_and(|run| run["finishedAt"].is_string())
        })
        .await;
        assert_eq!(found[0]["variablesExpired"], 20, "{found:?}");
        let expired: i64 = found
            .iter()
            .map(|run| run["variablesExpired"].as_i64().unwrap_or(0))
            .sum();
        assert_eq!(
            expired, 20,
            "the held tenant's rows were swept once: {found:?}"
        );
        assert!(found.iter().all(|run| run["error"].is_null()), "{found:?}");
        for tenant in ["free1", "free2"] {
            let found = wait_for_runs(&a, &long_token(&a, tenant), Duration::from_secs(20), |r| {
                r.iter().any(|run| run["variablesExpired"] == 20)
            })
            .await;
            let expired: i64 = found
                .iter()
                .map(|run| run["variablesExpired"].as_i64().unwrap_or(0))
                .sum();
            assert_eq!(expired, 20, "{tenant}'s rows were swept once: {found:?}");
        }
    }

    /// One replica claims several due tenants at once; the sweep of the
    /// first is stuck on locked rows. The others claimed with it are swept
    /// meanwhile, not after it (they were, one by one, before).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stuck_sweep_does_not_hold_up_the_tenants_claimed_with_it() {
        require_postgres();
        let s = TestServer::start_with(|c| {
            c.janitor = botmem::config::Switch::On;
            c.janitor_tick_secs = 1;
            c.db_statement_timeout_secs = 0;
        })
        .await;
        let tenants = ["held", "free1", "free2"];
        for tenant in tenants {
            seed_twenty_expiring(&s, tenant).await;
        }
        s.clock.advance(TimeDelta::minutes(2));
        let (_lock, held) = hold_rows_of(&s, "held").await;
        // "held" falls due first (every second, against every 10 s), so
        // one tick claims all three with "held" at the head.
        let every = |schedule: &str| json!({ "i": { "janitorSchedule": schedule } });
        s.ok(&long_token(&s, "held"), SETTINGS, every("* * * * * *"))
            .await;
        for tenant in ["free1", "free2"] {
            s.ok(&long_token(&s, tenant), SETTINGS, every("*/10 * * * * *"))
                .await;
        }
        s.clock.advance(TimeDelta::seconds(10));

        for tenant in ["free1", "free2"] {
            let found = wait_for_runs(&s, &long_token(&s, tenant), Duration::from_secs(20), |r| {
                r.iter().any(|run| run["variablesExpired"] == 20)
            })
            .await;
            assert!(
                found.iter().any(|run| run["variablesExpired"] == 20),
                "{tenant} waited behind the stuck sweep: {found:?}"
            );
        }
        let token = long_token(&s, "held");
        let during = runs(&s, &token).await;
        assert_eq!(during.len(), 1, "{during:?}");
        assert!(during[0]["finishedAt"].is_null(), "{during:?}");

        held.rollback().await.unwrap();
        let found = wait_for_runs(&s, &token, Duration::from_secs(20), |r| {
            r.first().is_some_and(|run| run["finishedAt"].is_string())
        })
        .await;
        assert_eq!(found[0]["variablesExpired"], 20, "{found:?}");
    }
}
