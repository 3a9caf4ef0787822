//! Subscriptions over `/graphql/ws`, black-box: both subprotocols, the close
//! codes the reference client expects, auth and tenant isolation, order,
//! token expiry, limits, and a second replica on PostgreSQL.
mod common;

use common::{ws::*, *};
use serde_json::{Value, json};

async fn set(s: &TestServer, token: &str, bot: &str, name: &str, value: Value) -> Value {
    s.ok(
        token,
        "mutation($bot: UUID!, $name: String!, $value: JSON!) {
           setVariable(input: { ref: { scope: BOT, botId: $bot }, name: $name, value: $value }) { version } }",
        json!({ "bot": bot, "name": name, "value": value }),
    )
    .await
}

async fn subscribed(s: &TestServer, protocol: &'static str, token: &str, bot: &str) -> WsClient {
    let mut ws = WsClient::connect(&s.base, Some(protocol)).await;
    ws.init(token).await;
    ws.subscribe("m", MEMORY_CHANGED, json!({ "bot": bot }))
        .await;
    // A subscription is live once its resolver has subscribed to the bus;
    // a write acknowledged before that may be missed. Wait for a probe.
    ws
}

/// A server, tenant `t1`'s admin, a bot, and a subscriber to its memory
/// that is live; the memory version the probe reached.
async fn live_subscriber() -> (TestServer, String, String, WsClient, i64) {
    let s = TestServer::start().await;
    let admin = s.admin("t1");
    let bot = s.create_bot(&admin, "b").await;
    let mut ws = subscribed(&s, TRANSPORT, &admin, &bot).await;
    let probed = wait_live(&s, &mut ws, &admin, &bot).await;
    (s, admin, bot, ws, probed)
}

/// Writes probe values to the bot's memory until the subscription `m` sees
/// them; returns the memory version of the newest probe.
async fn wait_live(s: &TestServer, ws: &mut WsClient, token: &str, bot: &str) -> i64 {
    let event = until_live(ws, "m", "memoryChanged", |k| async move {
        let marker = format!("probe-{k}");
        set(s, token, bot, "probe", json!(marker)).await;
        marker
    })
    .await;
    event["memoryVersion"].as_i64().unwrap()
}

#[tokio::test]
async fn transport_protocol_delivers_every_change_with_versions() {
    let s = TestServer::start().await;
    let admin = s.admin("t1");
    let bot = s.create_bot(&admin, "b").await;
    let mut ws = subscribed(&s, TRANSPORT, &s.token("t1", "viewer"), &bot).await;
    let probed = wait_live(&s, &mut ws, &admin, &bot).await;

    set(&s, &admin, &bot, "lang", json!("en")).await;
    let e = ws.next_data("m", "memoryChanged").await;
    assert_eq!(
        (
            &e["op"],
            &e["scope"],
            &e["ownerId"],
            &e["name"],
            &e["value"]
        ),
        (
            &json!("SET"),
            &json!("BOT"),
            &json!(bot),
            &json!("lang"),
            &json!("en")
        )
    );
    assert_eq!(
        (e["version"].as_i64(), e["memoryVersion"].as_i64()),
        (Some(1), Some(probed + 1))
    );
    assert_eq!(e["at"], "2030-01-15T12:00:00Z");

    s.ok(
        &admin,
        "mutation($bot: UUID!) { patchMemory(ref: { scope: BOT, botId: $bot },
           set: { a: 1 }, unset: [\"lang\"]) { version } }",
        json!({ "bot": bot }),
    )
    .await;
    let a = ws.next_data("m", "memoryChanged").await;
    let lang = ws.next_data("m", "memoryChanged").await;
    assert_eq!(
        (&a["op"], &a["name"], &a["value"]),
        (&json!("SET"), &json!("a"), &json!(1))
    );
    assert_eq!(
        (&lang["op"], &lang["name"], &lang["value"]),
        (&json!("UNSET"), &json!("lang"), &Value::Null)
    );
    assert_eq!(
        a["memoryVersion"], lang["memoryVersion"],
        "one memory version per operation"
    );

    s.ok(
        &admin,
        "mutation($bot: UUID!) { clearMemory(ref: { scope: BOT, botId: $bot }) }",
        json!({ "bot": bot }),
    )
    .await;
    let mut cleared = vec![];
    for _ in 0..2 {
        let e = ws.next_data("m", "memoryChanged").await;
        assert_eq!(e["op"], "CLEARED");
        cleared.push(e["name"].as_str().unwrap().to_owned());
    }
    cleared.sort();
    assert_eq!(cleared, ["a", "probe"]);

    // The client completes: the server stops sending for that id.
    ws.send(json!({"type": "complete", "id": "m"})).await;
    set(&s, &admin, &bot, "after", json!(1)).await;
    ws.send(json!({"type": "ping"})).await;
    assert_eq!(ws.recv_json().await, json!({"type": "pong"}));
}

#[tokio::test]
async fn legacy_protocol_takes_a_token_field_and_sends_data() {
    let s = TestServer::start().await;
    let admin = s.admin("t1");
    let bot = s.create_bot(&admin, "b").await;
    let mut ws = WsClient::connect(&s.base, Some(LEGACY)).await;
    let ack = ws
        .init_with(json!({ "token": s.token("t1", "viewer") }))
        .await;
    assert_eq!(ack, Frame::Json(json!({"type": "connection_ack"})));
    ws.subscribe("m", MEMORY_CHANGED, json!({ "bot": bot }))
        .await;
    wait_live(&s, &mut ws, &admin, &bot).await;
    set(&s, &admin, &bot, "x", json!([1, 2])).await;
    let e = ws.next_data("m", "memoryChanged").await;
    assert_eq!((&e["name"], &e["value"]), (&json!("x"), &json!([1, 2])));
    ws.send(json!({"type": "stop", "id": "m"})).await;
    ws.send(json!({"type": "connection_terminate"})).await;
    assert_eq!(ws.closed_with().await.0, 1000);
}

#[tokio::test]
async fn scope_and_owner_narrow_what_is_delivered() {
    let s = TestServer::start().await;
    let admin = s.admin("t1");
    let bot = s.create_bot(&admin, "b").await;
    let one = s.start_conversation(&admin, &bot, "u1").await;
    let two = s.start_conversation(&admin, &bot, "u2").await;
    let (one, two) = (one["id"].as_str().unwrap(), two["id"].as_str().unwrap());
    let mut ws = WsClient::connect(&s.base, Some(TRANSPORT)).await;
    ws.init(&admin).await;
    ws.subscribe(
        "m",
        MEMORY_CHANGED,
        json!({ "bot": bot, "scope": "CONVERSATION", "owner": two }),
    )
    .await;
    let write = |conversation: &str, scope: &str, value: Value| {
        let query = format!(
            "mutation($c: UUID!, $v: JSON!) {{ setVariable(input: {{
               ref: {{ scope: {scope}, conversationId: $c }}, name: \"n\", value: $v }}) {{ version }} }}"
        );
        let vars = json!({ "c": conversation, "v": value });
        let admin = admin.clone();
        let s = &s;
        async move { s.ok(&admin, &query, vars).await }
    };
    // Until the subscription is live, probe the watched memory.
    until_live(&mut ws, "m", "memoryChanged", |k| {
        let write = &write;
        async move {
            write(two, "CONVERSATION", json!(format!("probe-{k}"))).await;
            format!("probe-{k}")
        }
    })
    .await;
    write(one, "CONVERSATION", json!(1)).await; // other owner
    write(two, "TEMP", json!(2)).await; // other scope
    set(&s, &admin, &bot, "n", json!(3)).await; // bot memory
    write(two, "CONVERSATION", json!(4)).await;
    let e = ws.next_data("m", "memoryChanged").await;
    assert_eq!(
        (&e["value"], &e["scope"], &e["ownerId"]),
        (&json!(4), &json!("CONVERSATION"), &json!(two))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_of_one_owner_arrive_in_commit_order() {
    let (s, admin, bot, mut ws, probed) = live_subscriber().await;
    // Eight writers race on one memory; whatever order they commit in, the
    // subscriber must see memory versions one after another, without gap or swap.
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let (s, admin, bot) = (&s, admin.clone(), bot.clone());
            async move {
                for i in 0..5 {
                    set(s, &admin, &bot, &format!("w{w}"), json!(i)).await;
                }
            }
        })
        .collect();
    futures_util::future::join_all(writers).await;
    let mut versions = vec![];
    for _ in 0..40 {
        let e = ws.next_data("m", "memoryChanged").await;
        versions.push(e["memoryVersion"].as_i64().unwrap());
    }
    assert_eq!(versions, (probed + 1..probed + 41).collect::<Vec<_>>());
}

#[tokio::test]
async fn conversation_events_follow_a_session_to_its_expiry() {
    let s = TestServer::start().await;
    let admin = s.admin("t1");
    let bot = s.create_bot(&admin, "b").await;
    let mut ws = WsClient::connect(&s.base, Some(TRANSPORT)).await;
    ws.init(&admin).await;
    ws.subscribe("c", CONVERSATION_CHANGED, json!({ "bot": bot }))
        .await;
    // Probe until live: each start is one STARTED event.
    let first = until_live(&mut ws, "c", "conversationChanged", |k| {
        let (s, admin, bot) = (&s, &admin, &bot);
        async move {
            let c = s
                .start_conversation(admin, bot, &format!("probe-{k}"))
                .await;
            c["id"].as_str().unwrap().to_owned()
        }
    })
    .await;
    assert_eq!(first["kind"], "STARTED");
    let first = first["conversation"].clone();

    let c = s.start_conversation(&admin, &bot, "u").await;
    let id = c["id"].as_str().unwrap();
    assert_eq!(
        ws.next_data("c", "conversationChanged").await["kind"],
        "STARTED"
    );
    s.ok(
        &admin,
        "mutation($c: UUID!) { appendMessage(conversationId: $c, input: { direction: INCOMING, text: \"hi\" }) { id } }",
        json!({ "c": id }),
    )
    .await;
    let e = ws.next_data("c", "conversationChanged").await;
    // The typed field says the same as the contract's text one.
    assert_eq!(e["eventKind"], e["kind"], "{e}");
    assert_eq!(
        (&e["kind"], &e["conversation"]["status"]),
        (&json!("ACTIVITY"), &json!("ACTIVE"))
    );
    s.ok(
        &admin,
        "mutation($c: UUID!) { endConversation(id: $c) { id } }",
        json!({ "c": id }),
    )
    .await;
    let e = ws.next_data("c", "conversationChanged").await;
    assert_eq!(
        (
            &e["kind"],
            &e["conversation"]["status"],
            &e["conversation"]["endReason"]
        ),
        (&json!("ENDED"), &json!("ENDED"), &json!("COMPLETED"))
    );
    // The probe conversations time out and the janitor finalizes them.
    s.clock.advance(chrono::TimeDelta::minutes(31));
    s.ok(
        &admin,
        "mutation { runJanitor { conversationsExpired } }",
        json!({}),
    )
    .await;
    // (Every probe conversation expires; the last probe is among them.)
    loop {
        let e = ws.next_data("c", "conversationChanged").await;
        assert_eq!(e["eventKind"], e["kind"], "{e}");
        assert_eq!(
            (
                &e["kind"],
                &e["conversation"]["status"],
                &e["conversation"]["endReason"]
            ),
            (&json!("EXPIRED"), &json!("EXPIRED"), &json!("TIMEOUT"))
        );
        if e["conversation"]["id"] == first["id"] {
            break;
        }
    }
}

#[tokio::test]
async fn janitor_expiry_reaches_subscribers() {
    let (s, admin, bot, mut ws, _) = live_subscriber().await;
    s.ok(
        &admin,
        "mutation($bot: UUID!) { setVariable(input: { ref: { scope: BOT, botId: $bot },
           name: \"otp\", value: 1, expiresIn: \"1m\" }) { version } }",
        json!({ "bot": bot }),
    )
    .await;
    assert_eq!(ws.next_data("m", "memoryChanged").await["op"], "SET");
    s.clock.advance(chrono::TimeDelta::minutes(2));
    s.ok(
        &admin,
        "mutation { runJanitor { variablesExpired } }",
        json!({}),
    )
    .await;
    let e = ws.next_data("m", "memoryChanged").await;
    assert_eq!(
        (&e["op"], &e["name"], &e["value"]),
        (&json!("EXPIRED"), &json!("otp"), &Value::Null)
    );
}

#[tokio::test]
async fn close_codes_match_the_reference_client() {
    let s = TestServer::start_with(|c| c.ws_init_timeout_secs = 1).await;
    let admin = s.admin("t1");
    let bot = s.create_bot(&admin, "b").await;
    let vars = json!({ "bot": bot });

    for protocol in [TRANSPORT, LEGACY] {
        // 4401: subscribe before the ack.
        let mut ws = WsClient::connect(&s.base, Some(protocol)).await;
        ws.subscribe("1", MEMORY_CHANGED, vars.clone()).await;
        assert_eq!(ws.closed_with().await.0, 4401, "{protocol}");

        // 4403: a token that does not verify, or none at all.
        for payload in [json!({ "Authorization": "Bearer nonsense" }), json!({})] {
            let mut ws = WsClient::connect(&s.base, Some(protocol)).await;
            ws.send(json!({"type": "connection_init", "payload": payload}))
                .await;
            let (code, reason) = ws.closed_with().await;
            assert_eq!(code, 4403, "{protocol}");
            assert!(reason.starts_with("Forbidden"), "{reason}");
        }

        // 4429: a second connection_init.
        let mut ws = WsClient::connect(&s.base, Some(protocol)).await;
        ws.init(&admin).await;
        ws.send(json!({"type": "connection_init", "payload": {"token": admin}}))
            .await;
        assert_eq!(ws.closed_with().await.0, 4429, "{protocol}");

        // 4409: an id already in use.
        let mut ws = WsClient::connect(&s.base, Some(protocol)).await;
        ws.init(&admin).await;
        ws.subscribe("1", MEMORY_CHANGED, vars.clone()).await;
        ws.subscribe("1", MEMORY_CHANGED, vars.clone()).await;
        assert_eq!(ws.closed_with().await.0, 4409, "{protocol}");

        // 4400: not a message of the protocol.
        let mut ws = WsClient::connect(&s.base, Some(protocol)).await;
        ws.send(json!({"type": "subscribe"})).await;
        assert_eq!(ws.closed_with().await.0, 4400, "{protocol}");

        // 4408: no connection_init in time (1 s here, 10 s by default).
        let mut ws = WsClient::connect(&s.base, Some(protocol)).await;
        assert_eq!(ws.closed_with().await.0, 4408, "{protocol}");
    }

    // 4406: neither subprotocol offered.
    let mut ws = WsClient::connect(&s.base, None).await;
    assert_eq!(ws.closed_with().await.0, 4406);
}

#[tokio::test]
async fn the_server_pings_and_answers_pings() {
    let s = TestServer::start_with(|c| c.ws_keepalive_secs = 1).await;
    let admin = s.admin("t1");
    let mut ws = WsClient::connect(&s.base, Some(TRANSPORT)).await;
    ws.init(&admin).await;
    ws.send(json!({"type": "ping", "payload": {"n": 1}})).await;
    assert_eq!(ws.recv_json().await, json!({"type": "pong"}));
    let ping = ws.recv_raw(std::time::Duration::from_secs(5)).await;
    assert_eq!(ping, Frame::Json(json!({"type": "ping"})));

    let mut legacy = WsClient::connect(&s.base, Some(LEGACY)).await;
    legacy
        .send(json!({"type": "connection_init", "payload": {"token": admin}}))
        .await;
    let wait = std::time::Duration::from_secs(5);
    assert_eq!(
        legacy.recv_raw(wait).await,
        Frame::Json(json!({"type": "connection_ack"}))
    );
    assert_eq!(
        legacy.recv_raw(wait).await,
        Frame::Json(json!({"type": "ka"}))
    );
    assert_eq!(
        legacy.recv_raw(wait).await,
        Frame::Json(json!({"type": "ka"}))
    );
}

#[tokio::test]
async fn other_tenants_and_other_bots_stay_invisible() {
    let s = TestServer::start().await;
    let (a, b) = (s.admin("tenant-a"), s.admin("tenant-b"));
    let bot_a = s.create_bot(&a, "b").await;
    let bot_b = s.create_bot(&b, "b").await;
    let other_bot_a = s.create_bot(&a, "other").await;

    // Tenant B names tenant A's bot: refused as unknown, like any query.
    for query in [MEMORY_CHANGED, CONVERSATION_CHANGED] {
        let mut ws = WsClient::connect(&s.base, Some(TRANSPORT)).await;
        ws.init(&b).await;
        ws.subscribe("x", query, json!({ "bot": bot_a })).await;
        let m = ws.recv_json().await;
        assert_eq!(
            (&m["type"], &m["id"]),
            (&json!("error"), &json!("x")),
            "{m}"
        );
        assert_eq!(m["payload"][0]["extensions"]["code"], "NOT_FOUND", "{m}");
    }

    // A token limited to one bot cannot watch another of its tenant.
    let mut claims = s.claims("tenant-a", &["viewer"]);
    claims.bots = Some(vec![bot_a.parse().unwrap()]);
    let limited = s.sign(&claims);
    let mut ws = WsClient::connect(&s.base, Some(TRANSPORT)).await;
    ws.init(&limited).await;
    ws.subscribe("x", MEMORY_CHANGED, json!({ "bot": other_bot_a }))
        .await;
    let m = ws.recv_json().await;
    assert_eq!(m["type"], "error", "{m}");
    assert_eq!(m["payload"][0]["extensions"]["code"], "FORBIDDEN", "{m}");

    // Tenant B watches its own bot while tenant A writes: B sees only B.
    let mut ws = subscribed(&s, TRANSPORT, &b, &bot_b).await;
    wait_live(&s, &mut ws, &b, &bot_b).await;
    for i in 0..5 {
        set(&s, &a, &bot_a, "secret", json!(i)).await;
    }
    set(&s, &b, &bot_b, "mine", json!(1)).await;
    let e = ws.next_data("m", "memoryChanged").await;
    assert_eq!((&e["name"], &e["botId"]), (&json!("mine"), &json!(bot_b)));
}

/// A viewer's `memoryChanged` subscription on a new bot, with a token that
/// expires in five minutes; with an admin token of the same tenant.
async fn subscribed_with_five_minutes_left() -> (TestServer, String, String, WsClient) {
    let s = TestServer::start().await;
    let admin = s.admin("t1");
    let bot = s.create_bot(&admin, "b").await;
    let mut claims = s.claims("t1", &["viewer"]);
    claims.exp = s.clock.now().timestamp() + 300;
    let short = s.sign(&claims);
    let ws = subscribed(&s, TRANSPORT, &short, &bot).await;
    (s, admin, bot, ws)
}

#[tokio::test]
async fn a_subscription_ends_when_its_token_expires() {
    let (s, admin, bot, mut ws) = subscribed_with_five_minutes_left().await;
    wait_live(&s, &mut ws, &admin, &bot).await;

    s.clock.advance(chrono::TimeDelta::minutes(6));
    let payload = ws.next_result("m").await;
    assert_eq!(
        payload["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{payload}"
    );
    assert_eq!(ws.recv_json().await, json!({"type": "complete", "id": "m"}));
    // A new subscription on the same connection is refused as well.
    ws.subscribe("n", MEMORY_CHANGED, json!({ "bot": bot }))
        .await;
    let m = ws.recv_json().await;
    assert_eq!(
        (&m["type"], &m["payload"][0]["extensions"]["code"]),
        (&json!("error"), &json!("UNAUTHENTICATED"))
    );
}

/// As the README says: a result with the error, then `complete`, also for a
/// subscription that received no event before its token expired.
#[tokio::test]
async fn a_token_expiring_before_any_event_ends_with_a_result_then_complete() {
    let (s, _admin, _bot, mut ws) = subscribed_with_five_minutes_left().await;
    // Messages are handled in order: after the pong, the subscribe was.
    ws.send(json!({"type": "ping"})).await;
    assert_eq!(ws.recv_json().await["type"], "pong");
    s.clock.advance(chrono::TimeDelta::minutes(6));
    let m = ws.recv_json().await;
    assert_eq!(m["type"], "next", "{m}");
    assert_eq!(
        m["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{m}"
    );
    assert_eq!(ws.recv_json().await, json!({"type": "complete", "id": "m"}));
}

#[tokio::test]
async fn limits_on_subscriptions_and_connections_are_enforced() {
    let s = TestServer::start_with(|c| {
        c.ws_max_subscriptions = 2;
        c.ws_max_connections_per_tenant = 1;
    })
    .await;
    let admin = s.admin("t1");
    let bot = s.create_bot(&admin, "b").await;
    let vars = json!({ "bot": bot });
    let mut ws = WsClient::connect(&s.base, Some(TRANSPORT)).await;
    ws.init(&admin).await;
    ws.subscribe("1", MEMORY_CHANGED, vars.clone()).await;
    ws.subscribe("2", MEMORY_CHANGED, vars.clone()).await;
    ws.subscribe("3", MEMORY_CHANGED, vars.clone()).await;
    let m = ws.recv_json().await;
    assert_eq!(
        (&m["type"], &m["id"]),
        (&json!("error"), &json!("3")),
        "{m}"
    );
    assert_eq!(m["payload"][0]["extensions"]["code"], "LIMIT_EXCEEDED");
    // Completing one frees its place.
    ws.send(json!({"type": "complete", "id": "1"})).await;
    ws.subscribe("3", MEMORY_CHANGED, vars.clone()).await;
    // Write until the new subscription is live; the completed one hears nothing.
    let mut ids = std::collections::BTreeSet::new();
    while !ids.contains("3") {
        set(&s, &admin, &bot, "x", json!(ids.len())).await;
        let m = ws.recv_json().await;
        ids.insert(m["id"].as_str().unwrap().to_owned());
    }
    assert!(!ids.contains("1"), "{ids:?}");

    // A second connection of the tenant is turned away (try again later);
    // another tenant is not affected.
    let mut second = WsClient::connect(&s.base, Some(TRANSPORT)).await;
    second
        .send(json!({"type": "connection_init", "payload": {"token": admin}}))
        .await;
    let (code, reason) = second.closed_with().await;
    assert_eq!(code, 1013);
    assert!(reason.contains("limit 1"), "{reason}");
    let mut other = WsClient::connect(&s.base, Some(TRANSPORT)).await;
    other.init(&s.admin("t2")).await;
    // Once the first connection is gone, the tenant may connect again.
    drop(ws);
    let mut retried = false;
    for _ in 0..50 {
        let mut again = WsClient::connect(&s.base, Some(TRANSPORT)).await;
        match again.init_with(json!({ "token": admin })).await {
            Frame::Json(m) if m["type"] == "connection_ack" => {
                retried = true;
                break;
            }
            _ => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
        }
    }
    assert!(retried, "the slot of a closed connection is freed");
}

#[tokio::test]
async fn queries_and_mutations_also_work_over_the_socket() {
    let s = TestServer::start().await;
    let admin = s.admin("t1");
    let mut ws = WsClient::connect(&s.base, Some(TRANSPORT)).await;
    ws.init(&admin).await;
    ws.subscribe("q", "query { viewer { subject roles } }", json!({}))
        .await;
    let data = ws.next_data("q", "viewer").await;
    assert_eq!(data["roles"], json!(["ADMIN"]));
    assert_eq!(ws.recv_json().await, json!({"type": "complete", "id": "q"}));
    // A query that does not validate is one `error` message.
    ws.subscribe("bad", "query { nope }", json!({})).await;
    let m = ws.recv_json().await;
    assert_eq!(
        (&m["type"], &m["id"]),
        (&json!("error"), &json!("bad")),
        "{m}"
    );
    assert_eq!(
        m["payload"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{m}"
    );
}

/// Events are routed by tenant and bot: tenant A writes ten times the
/// event buffer, in commits larger than the buffer, while tenant B's
/// subscriber reads at its own pace. B's subscription stays live and gets
/// every one of its events in order; only A's idle subscriber lags.
#[tokio::test]
async fn one_tenants_burst_does_not_lag_another_tenants_subscriber() {
    const BUFFER: usize = 16;
    let s = TestServer::start_with(|c| c.event_buffer = BUFFER).await;
    let (a, b) = (s.admin("tenant-a"), s.admin("tenant-b"));
    let (bot_a, bot_b) = (s.create_bot(&a, "a").await, s.create_bot(&b, "b").await);
    let mut idle_a = subscribed(&s, TRANSPORT, &a, &bot_a).await;
    wait_live(&s, &mut idle_a, &a, &bot_a).await;
    let mut watcher_b = subscribed(&s, TRANSPORT, &b, &bot_b).await;
    wait_live(&s, &mut watcher_b, &b, &bot_b).await;

    let burst: serde_json::Map<String, Value> = (0..2 * BUFFER)
        .map(|i| (format!("k{i}"), json!(i)))
        .collect();
    let mut sent = 0;
    for round in 0..5 {
        s.ok(
            &a,
            "mutation($bot: UUID!, $set: JSON) { patchMemory(ref: { scope: BOT, botId: $bot }, set: $set) { version } }",
            json!({ "bot": bot_a, "set": Value::Object(burst.iter().map(|(k, _)| (k.clone(), json!(round))).collect()) }),
        )
        .await;
        sent += burst.len();
        for i in 0..3 {
            set(&s, &b, &bot_b, "step", json!(round * 3 + i)).await;
        }
    }
    assert!(sent >= 10 * BUFFER, "A wrote {sent} events");
    for expected in 0..15 {
        let e = watcher_b.next_data("m", "memoryChanged").await;
        assert_eq!(
            (&e["name"], &e["value"]),
            (&json!("step"), &json!(expected))
        );
    }
    // A's own subscriber, which read nothing, fell behind A's burst.
    let lagged = idle_a.next_result("m").await;
    assert_eq!(
        lagged["errors"][0]["extensions"]["code"], "SUBSCRIPTION_LAGGED",
        "{lagged}"
    );
}

/// A subscription's results keep the order the query selected, as queries'
/// do (async-graphql builds them outside the path that reorders queries).
#[tokio::test]
async fn subscription_results_keep_the_selection_order() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};
    let w = World::new().await;
    let url = format!("{}/graphql/ws", w.s.base.replacen("http", "ws", 1));
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let send = |m: Value| Message::Text(m.to_string().into());
    socket
        .send(send(json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {}", w.token) } })))
        .await
        .unwrap();
    let selection = ["op", "value", "name", "at", "version", "botId", "scope"];
    let query = format!(
        "subscription($b: UUID!) {{ memoryChanged(botId: $b) {{ {} }} }}",
        selection.join(" ")
    );
    socket
        .send(send(json!({ "type": "subscribe", "id": "m", "payload": { "query": query, "variables": { "b": w.bot } } })))
        .await
        .unwrap();
    let set = "mutation($r: MemoryRef!, $k: Int!) { setVariable(input: { ref: $r, name: \"x\", value: $k }) { version } }";
    for k in 0..100 {
        w.gql(set, json!({ "r": w.bot_ref(), "k": k })).await;
        let next = tokio::time::timeout(std::time::Duration::from_millis(300), async {
            loop {
                match socket.next().await {
                    Some(Ok(Message::Text(text))) if text.contains("\"next\"") => {
                        return text.to_string();
                    }
                    Some(Ok(_)) => continue,
                    other => panic!("{other:?}"),
                }
            }
        })
        .await;
        let Ok(text) = next else { continue };
        let positions: Vec<usize> = selection
            .iter()
            .map(|f| {
                text.find(&format!("\"{f}\":"))
                    .unwrap_or_else(|| panic!("{f} in {text}"))
            })
            .collect();
        assert!(
            positions.windows(2).all(|p| p[0] < p[1]),
            "fields out of selection order: {text}"
        );
        return;
    }
    panic!("the subscription never delivered");
}

/// Several replicas or PostgreSQL's own behaviour: run on PostgreSQL only
/// (`scripts/test`), and failing anywhere else.
mod postgres_only {
    use super::*;

    /// Two `botmem` replicas on one PostgreSQL database: a subscriber on B sees
    /// writes made through A, in order, large values whole.
    #[tokio::test]
    async fn a_write_on_one_replica_reaches_a_subscriber_on_another() {
        require_postgres();
        let a = TestServer::start().await;
        let b = a.replica(|_| {}).await;
        let admin = a.admin("t1");
        let bot = a.create_bot(&admin, "b").await;
        let mut ws = subscribed(&b, TRANSPORT, &admin, &bot).await;
        let probed = wait_live(&a, &mut ws, &admin, &bot).await;

        // Larger than NOTIFY's 8000-byte payload: goes through the outbox.
        let big = "x".repeat(20_000);
        set(&a, &admin, &bot, "big", json!(big)).await;
        for i in 0..10 {
            let replica = if i % 2 == 0 { &a } else { &b };
            set(replica, &admin, &bot, "n", json!(i)).await;
        }
        let e = ws.next_data("m", "memoryChanged").await;
        assert_eq!(e["value"].as_str().map(str::len), Some(20_000));
        let mut seen = vec![];
        for _ in 0..10 {
            let e = ws.next_data("m", "memoryChanged").await;
            seen.push((
                e["value"].as_i64().unwrap(),
                e["memoryVersion"].as_i64().unwrap(),
            ));
        }
        assert_eq!(
            seen,
            (0..10).map(|i| (i, probed + 2 + i)).collect::<Vec<_>>()
        );

        // One operation whose events together exceed one notification: they
        // are split over several, and arrive complete and in order.
        let set: serde_json::Map<String, Value> = (0..10)
            .map(|i| (format!("k{i}"), json!(format!("{i}{}", "y".repeat(2_000)))))
            .collect();
        a.ok(
        &admin,
        "mutation($bot: UUID!, $set: JSON!) { patchMemory(ref: { scope: BOT, botId: $bot }, set: $set) { version } }",
        json!({ "bot": bot, "set": set }),
    )
    .await;
        let mut names = vec![];
        for _ in 0..10 {
            let e = ws.next_data("m", "memoryChanged").await;
            assert_eq!(e["memoryVersion"], probed + 12);
            assert_eq!(e["value"].as_str().map(str::len), Some(2_001));
            names.push(e["name"].as_str().unwrap().to_owned());
        }
        let mut expected: Vec<String> = (0..10).map(|i| format!("k{i}")).collect();
        expected.sort();
        names.sort();
        assert_eq!(names, expected);
    }

    /// One operation's events in its order, when one of them is too large
    /// for a notification and goes through the outbox between the others.
    #[tokio::test]
    async fn an_event_through_the_outbox_keeps_its_place_among_the_others() {
        require_postgres();
        let (s, admin, bot, mut ws, _) = live_subscriber().await;

        s.ok(
            &admin,
            "mutation($bot: UUID!, $set: JSON!) { patchMemory(ref: { scope: BOT, botId: $bot }, set: $set) { version } }",
            json!({ "bot": bot, "set": { "a": 1, "b": "x".repeat(20_000), "c": 2 } }),
        )
        .await;
        let mut names = vec![];
        for _ in 0..3 {
            let e = ws.next_data("m", "memoryChanged").await;
            names.push(e["name"].as_str().unwrap().to_owned());
        }
        // A patch's events come in name order; `b` alone needs the outbox.
        assert_eq!(names, ["a", "b", "c"]);
    }

    /// A replica whose event listener loses its database connection cannot
    /// know what it missed: its subscriptions end with `SUBSCRIPTION_LAGGED`,
    /// and the listener reconnects for the next ones.
    #[tokio::test]
    async fn a_lost_listener_connection_ends_subscriptions_instead_of_skipping_events() {
        require_postgres();
        let (s, admin, bot, mut ws, _) = live_subscriber().await;

        let db = sea_orm::Database::connect(&s.superuser_url())
            .await
            .unwrap();
        let killed = sea_orm::ConnectionTrait::execute_unprepared(
            &db,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND query ILIKE 'listen%'",
        )
        .await
        .unwrap();
        assert_eq!(killed.rows_affected(), 1, "one listener connection");
        let payload = ws.next_result("m").await;
        assert_eq!(
            payload["errors"][0]["extensions"]["code"], "SUBSCRIPTION_LAGGED",
            "{payload}"
        );
        assert_eq!(ws.recv_json().await, json!({"type": "complete", "id": "m"}));

        // The listener is back: a new subscription sees new writes.
        ws.subscribe("m", MEMORY_CHANGED, json!({ "bot": bot }))
            .await;
        wait_live(&s, &mut ws, &admin, &bot).await;
    }
}
