//! Tenant isolation: every query, mutation and subscription of
//! `schema.graphql` (the table in `every_operation`, which must cover every
//! root field), given ids of another tenant or of a bot outside the token's
//! `bots` claim, behaves exactly as for ids that do not exist, shows none of
//! the other tenant's data, and changes nothing, expired rows included.
mod common;

use common::*;
use serde_json::{Value, json};

struct Victim {
    bot: String,
    user: String,
    conversation: String,
}

async fn victim(s: &TestServer) -> Victim {
    let admin = s.admin("victim");
    let bot = s.create_bot(&admin, "secret-bot").await;
    let c = s.start_conversation(&admin, &bot, "vip").await;
    Victim {
        bot,
        user: c["user"]["id"].as_str().unwrap().to_owned(),
        conversation: c["id"].as_str().unwrap().to_owned(),
    }
}

/// Strips what legitimately differs between two calls (none of it names data).
fn shape(mut body: Value) -> Value {
    if let Some(errors) = body["errors"].as_array_mut() {
        for e in errors {
            e.as_object_mut().map(|o| o.remove("locations"));
        }
    }
    body
}

#[tokio::test]
async fn other_tenants_ids_read_as_unknown_ids() {
    let s = TestServer::start().await;
    let v = victim(&s).await;
    let attacker = s.admin("attacker");
    let unknown = uuid::Uuid::now_v7().to_string();
    let reads = [
        ("query($id: UUID!) { bot(id: $id) { id name } }", "bot"),
        ("query($id: UUID!) { user(id: $id) { id } }", "user"),
        (
            "query($id: UUID!) { conversation(id: $id) { id } }",
            "conversation",
        ),
    ];
    for (q, id_kind) in reads {
        let id = match id_kind {
            "bot" => &v.bot,
            "user" => &v.user,
            _ => &v.conversation,
        };
        let crossed = s.gql(&attacker, q, json!({ "id": id })).await;
        let missing = s.gql(&attacker, q, json!({ "id": unknown })).await;
        assert_eq!(crossed["data"][id_kind], Value::Null, "{q}");
        assert_eq!(shape(crossed), shape(missing), "{q}");
    }
    let data = s
        .ok(
            &attacker,
            "{ bots { totalCount edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["bots"]["totalCount"], 0);
}

#[tokio::test]
async fn other_tenants_ids_cannot_be_written() {
    let s = TestServer::start().await;
    let v = victim(&s).await;
    let attacker = s.admin("attacker");
    let unknown = uuid::Uuid::now_v7().to_string();
    type Variables = Box<dyn Fn(&str) -> Value>;
    let writes: Vec<(&str, Variables)> = vec![
        (
            "mutation($id: UUID!) { updateBot(id: $id, input: { name: \"pwned\" }) { id } }",
            Box::new(|id| json!({ "id": id })),
        ),
        (
            "mutation($id: UUID!) { deleteBot(id: $id) }",
            Box::new(|id| json!({ "id": id })),
        ),
        (
            "mutation($id: UUID!) { upsertUser(input: { botId: $id, channel: \"web\", externalId: \"vip\", firstName: \"pwned\" }) { id } }",
            Box::new(|id| json!({ "id": id })),
        ),
        (
            "mutation($id: UUID!) { startConversation(input: { botId: $id, channel: \"web\", externalId: \"vip\" }) { id } }",
            Box::new(|id| json!({ "id": id })),
        ),
        (
            "mutation($id: UUID!) { touchConversation(id: $id) { id } }",
            Box::new(|id| json!({ "id": id })),
        ),
    ];
    for (i, (q, vars)) in writes.iter().enumerate() {
        let target = match i {
            0..=3 => &v.bot,
            _ => &v.conversation,
        };
        let crossed = s.gql(&attacker, q, vars(target)).await;
        let missing = s.gql(&attacker, q, vars(&unknown)).await;
        assert_code(&crossed, "NOT_FOUND");
        assert_eq!(shape(crossed), shape(missing), "{q}");
    }
    // A user of the other tenant cannot be used to start a conversation on
    // one of our bots either.
    let own_bot = s.create_bot(&attacker, "own").await;
    let q = "mutation($b: UUID!, $u: UUID!) { startConversation(input: { botId: $b, userId: $u }) { id } }";
    assert_code(
        &s.gql(&attacker, q, json!({ "b": own_bot, "u": v.user }))
            .await,
        "NOT_FOUND",
    );

    // The victim's data is as it was.
    let q = "query($b: UUID!, $u: UUID!, $c: UUID!) {
        bot(id: $b) { name users { totalCount } conversations { totalCount } }
        user(id: $u) { firstName } conversation(id: $c) { lastActivityAt } }";
    let data = s
        .ok(
            &s.admin("victim"),
            q,
            json!({ "b": v.bot, "u": v.user, "c": v.conversation }),
        )
        .await;
    assert_eq!(data["bot"]["name"], "secret-bot");
    assert_eq!(data["bot"]["users"]["totalCount"], 1);
    assert_eq!(data["bot"]["conversations"]["totalCount"], 1);
    assert_eq!(data["user"]["firstName"], Value::Null);
    assert_eq!(
        data["conversation"]["lastActivityAt"],
        "2030-01-15T12:00:00Z"
    );
}

#[tokio::test]
async fn same_names_in_two_tenants_are_separate() {
    let s = TestServer::start().await;
    let a = s.admin("a");
    let b = s.admin("b");
    let bot_a = s.create_bot(&a, "support").await;
    let bot_b = s.create_bot(&b, "support").await;
    let ca = s.start_conversation(&a, &bot_a, "same-external-id").await;
    let cb = s.start_conversation(&b, &bot_b, "same-external-id").await;
    assert_ne!(ca["user"]["id"], cb["user"]["id"]);
    let q = "{ bots { totalCount edges { node { id users { totalCount } } } } }";
    let da = s.ok(&a, q, json!({})).await;
    assert_eq!(da["bots"]["totalCount"], 1);
    assert_eq!(da["bots"]["edges"][0]["node"]["id"], bot_a.as_str());
    assert_eq!(da["bots"]["edges"][0]["node"]["users"]["totalCount"], 1);
}

/// The ids one operation is aimed at.
#[derive(Clone)]
struct Ids {
    bot: String,
    user: String,
    conversation: String,
}

/// One operation per root field of the schema (several for fields that
/// take a memory of any scope), given the ids it is aimed at.
fn every_operation(ids: &Ids) -> Vec<(&'static str, String, Value)> {
    let (b, u, c) = (&ids.bot, &ids.user, &ids.conversation);
    let refs = [
        ("BOT", json!({ "scope": "BOT", "botId": b })),
        ("USER", json!({ "scope": "USER", "userId": u })),
        (
            "CONVERSATION",
            json!({ "scope": "CONVERSATION", "conversationId": c }),
        ),
        ("TEMP", json!({ "scope": "TEMP", "conversationId": c })),
    ];
    let mut ops: Vec<(&'static str, String, Value)> = vec![
        ("viewer", "{ viewer { subject tenant { id } } }".into(), json!({})),
        ("bots", "{ bots { totalCount edges { node { id name } } } }".into(), json!({})),
        ("bot", "query($b: UUID!) { bot(id: $b) { id name memory { json } } }".into(), json!({ "b": b })),
        ("user", "query($u: UUID!) { user(id: $u) { id memory { json } } }".into(), json!({ "u": u })),
        ("conversation", "query($c: UUID!) { conversation(id: $c) { id status messages { text } } }".into(), json!({ "c": c })),
        ("renderTemplate", "query($c: UUID!) { renderTemplate(conversationId: $c, template: \"{{memory.secret}} {{user.secret}}\") }".into(), json!({ "c": c })),
        ("kv", "query($b: UUID) { kv(botId: $b, key: \"secret\") { value } }".into(), json!({ "b": b })),
        ("kv", "{ kv(key: \"secret\") { value } }".into(), json!({})),
        ("kvEntries", "query($b: UUID) { kvEntries(botId: $b) { edges { node { key value } } } }".into(), json!({ "b": b })),
        ("kvEntries", "{ kvEntries { edges { node { key value } } } }".into(), json!({})),
        ("janitorRuns", "{ janitorRuns { totalCount } }".into(), json!({})),
        ("createBot", "mutation { createBot(input: { name: \"intruder\" }) { id } }".into(), json!({})),
        ("updateBot", "mutation($b: UUID!) { updateBot(id: $b, input: { name: \"pwned\" }) { id } }".into(), json!({ "b": b })),
        ("upsertUser", "mutation($b: UUID!) { upsertUser(input: { botId: $b, channel: \"web\", externalId: \"vip\", firstName: \"pwned\" }) { id } }".into(), json!({ "b": b })),
        ("exportUser", "mutation($u: UUID!) { exportUser(id: $u) }".into(), json!({ "u": u })),
        ("startConversation", "mutation($b: UUID!) { startConversation(input: { botId: $b, channel: \"web\", externalId: \"vip\" }) { id } }".into(), json!({ "b": b })),
        ("appendMessage", "mutation($c: UUID!) { appendMessage(conversationId: $c, input: { direction: INCOMING, text: \"pwned\" }) { id } }".into(), json!({ "c": c })),
        ("touchConversation", "mutation($c: UUID!) { touchConversation(id: $c) { id } }".into(), json!({ "c": c })),
        ("endFlow", "mutation($c: UUID!) { endFlow(conversationId: $c) }".into(), json!({ "c": c })),
        ("kvSet", "mutation($b: UUID) { kvSet(input: { botId: $b, key: \"secret\", value: \"pwned\" }) { version } }".into(), json!({ "b": b })),
        ("kvDelete", "mutation($b: UUID) { kvDelete(botId: $b, key: \"secret\") }".into(), json!({ "b": b })),
        ("updateTenantSettings", "mutation { updateTenantSettings(input: { maxValueBytes: 1024 }) { id } }".into(), json!({})),
        ("runJanitor", "mutation { runJanitor { variablesExpired kvEntriesExpired } }".into(), json!({})),
    ];
    for (_, r) in &refs {
        ops.extend([
            ("memory", "query($r: MemoryRef!) { memory(ref: $r) { version json } }".to_owned(), json!({ "r": r })),
            ("variable", "query($r: MemoryRef!) { variable(ref: $r, name: \"secret\") { value } }".into(), json!({ "r": r })),
            ("setVariable", "mutation($r: MemoryRef!) { setVariable(input: { ref: $r, name: \"secret\", value: \"pwned\" }) { version } }".into(), json!({ "r": r })),
            ("setVariables", "mutation($r: MemoryRef!) { setVariables(inputs: [{ ref: $r, name: \"x\", value: 1 }]) { version } }".into(), json!({ "r": r })),
            ("unsetVariable", "mutation($r: MemoryRef!) { unsetVariable(ref: $r, name: \"secret\") }".into(), json!({ "r": r })),
            ("patchMemory", "mutation($r: MemoryRef!) { patchMemory(ref: $r, set: { secret: \"pwned\" }) { version } }".into(), json!({ "r": r })),
            ("replaceMemory", "mutation($r: MemoryRef!) { replaceMemory(ref: $r, memory: { pwned: true }) { version } }".into(), json!({ "r": r })),
            ("clearMemory", "mutation($r: MemoryRef!) { clearMemory(ref: $r) }".into(), json!({ "r": r })),
        ]);
    }
    // Last: the ones that would destroy what the others aim at.
    ops.extend([
        (
            "endConversation",
            "mutation($c: UUID!) { endConversation(id: $c) { id } }".into(),
            json!({ "c": c }),
        ),
        (
            "deleteUser",
            "mutation($u: UUID!) { deleteUser(id: $u) }".into(),
            json!({ "u": u }),
        ),
        (
            "deleteBot",
            "mutation($b: UUID!) { deleteBot(id: $b) }".into(),
            json!({ "b": b }),
        ),
    ]);
    ops
}

/// The root fields of Query, Mutation and Subscription in schema.graphql.
fn schema_root_fields() -> Vec<String> {
    let sdl =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).unwrap();
    let mut fields = vec![];
    for root in ["Query", "Mutation", "Subscription"] {
        let start = sdl.find(&format!("\ntype {root} {{")).unwrap();
        let body = &sdl[start..];
        let body = &body[body.find('{').unwrap() + 1..body.find("\n}").unwrap()];
        let (mut depth, mut in_description) = (0i32, false);
        for line in body.lines().map(str::trim) {
            if line.starts_with("\"\"\"") {
                in_description = !(in_description || line.len() > 3 && line.ends_with("\"\"\""));
                continue;
            }
            if in_description {
                continue;
            }
            if depth == 0 {
                let name: String = line.chars().take_while(|c| c.is_alphanumeric()).collect();
                if !name.is_empty() {
                    fields.push(name);
                }
            }
            depth += line.matches('(').count() as i32 - line.matches(')').count() as i32;
        }
    }
    fields
}

/// Replaces the ids a response may echo, so answers for a victim's ids and
/// for unknown ids compare equal when they say the same.
fn normalized(mut body: Value, ids: &Ids) -> String {
    if let Some(errors) = body["errors"].as_array_mut() {
        for e in errors {
            e.as_object_mut().map(|o| o.remove("locations"));
        }
    }
    let mut text = body.to_string();
    for (id, name) in [
        (&ids.bot, "BOT"),
        (&ids.user, "USER"),
        (&ids.conversation, "CONV"),
    ] {
        text = text.replace(id.as_str(), name);
    }
    text
}

/// Everything of the victim's, as the victim reads it.
async fn victim_state(s: &TestServer, v: &Ids) -> Value {
    let q = "query($b: UUID!, $u: UUID!, $c: UUID!) {
        bots { totalCount edges { node { id name memory { version json } } } }
        bot(id: $b) { users { totalCount } conversations { totalCount } }
        user(id: $u) { firstName memory { version json } }
        conversation(id: $c) { status lastActivityAt memory { version json } temp { version json } messages { text } }
        botKv: kvEntries(botId: $b) { edges { node { key value version } } }
        tenantKv: kvEntries { edges { node { key value version } } }
        viewer { tenant { maxValueBytes } }
        janitorRuns { totalCount } }";
    s.ok(
        &s.admin("victim"),
        q,
        json!({ "b": v.bot, "u": v.user, "c": v.conversation }),
    )
    .await
}

/// Table-driven over every root field of the schema: another tenant's ids,
/// and ids of a bot outside a token's `bots` claim, read and write exactly
/// like ids that do not exist; no answer carries the victim's data; the
/// victim's data is unchanged afterwards, and another tenant's sweep leaves
/// the victim's expired rows alone.
#[tokio::test]
async fn every_root_field_treats_foreign_ids_as_unknown() {
    let s = TestServer::start().await;
    let owner = s.admin("victim");
    let bot = s.create_bot(&owner, "victim-secret-bot").await;
    let c = s.start_conversation(&owner, &bot, "vip").await;
    let v = Ids {
        bot: bot.clone(),
        user: c["user"]["id"].as_str().unwrap().to_owned(),
        conversation: c["id"].as_str().unwrap().to_owned(),
    };
    for (_, _, vars) in every_operation(&v)
        .iter()
        .filter(|(f, _, _)| *f == "setVariable")
    {
        let q = "mutation($r: MemoryRef!) { a: setVariable(input: { ref: $r, name: \"secret\", value: \"victim-secret\" }) { version }
            b: setVariable(input: { ref: $r, name: \"doomed\", value: \"victim-secret\", expiresIn: \"1m\" }) { version } }";
        s.ok(&owner, q, vars.clone()).await;
    }
    for b in [Some(&v.bot), None] {
        s.ok(&owner, "mutation($b: UUID) { kvSet(input: { botId: $b, key: \"secret\", value: \"victim-secret\" }) { version } }", json!({ "b": b })).await;
    }
    s.ok(&owner, "mutation($c: UUID!) { appendMessage(conversationId: $c, input: { direction: INCOMING, text: \"victim-secret\" }) { id } }", json!({ "c": v.conversation })).await;
    // The bot a one-bot token below is limited to.
    let other_bot = s.create_bot(&owner, "other").await;
    s.clock.advance(chrono::TimeDelta::minutes(2));
    let before = victim_state(&s, &v).await;

    // Every root field is in the table.
    let covered: std::collections::BTreeSet<&str> = every_operation(&v)
        .iter()
        .map(|(f, _, _)| *f)
        .chain(["memoryChanged", "conversationChanged"])
        .collect();
    let missing: Vec<String> = schema_root_fields()
        .into_iter()
        .filter(|f| !covered.contains(f.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "root fields without an isolation check: {missing:?}"
    );

    // Callers: another tenant's admin, and an admin of the victim's tenant
    // whose token is limited to another bot.
    let mut limited = s.claims("victim", &["admin"]);
    limited.bots = Some(vec![other_bot.parse().unwrap()]);
    let callers = [
        ("another tenant", s.admin("attacker")),
        ("a one-bot token", s.sign(&limited)),
    ];
    let unknown = Ids {
        bot: uuid::Uuid::now_v7().to_string(),
        user: uuid::Uuid::now_v7().to_string(),
        conversation: uuid::Uuid::now_v7().to_string(),
    };
    let mut checked = 0;
    for (who, token) in &callers {
        for ((field, q, crossed_vars), (_, _, unknown_vars)) in every_operation(&v)
            .into_iter()
            .zip(every_operation(&unknown))
        {
            let aimed = crossed_vars != unknown_vars;
            let crossed = s.gql(token, &q, crossed_vars).await;
            let text = crossed.to_string();
            assert!(
                !text.contains("victim-secret"),
                "{who}, {field}: the victim's data in {text}"
            );
            checked += 1;
            if !aimed {
                // Aimed at no id (viewer, bots, the tenant-wide KV, ...):
                // the answer must only not show the victim's data.
                continue;
            }
            let missing = s.gql(token, &q, unknown_vars).await;
            assert_eq!(
                normalized(crossed, &v),
                normalized(missing, &unknown),
                "{who}, {field}: {q}"
            );
        }
        for (field, q) in [
            (
                "memoryChanged",
                "subscription($b: UUID!) { memoryChanged(botId: $b) { name } }",
            ),
            (
                "conversationChanged",
                "subscription($b: UUID!) { conversationChanged(botId: $b) { eventKind } }",
            ),
        ] {
            let mut answers = vec![];
            for (ids, id) in [(&v, &v.bot), (&unknown, &unknown.bot)] {
                let mut ws =
                    common::ws::WsClient::connect(&s.base, Some(common::ws::TRANSPORT)).await;
                ws.init(token).await;
                ws.subscribe("s", q, json!({ "b": id })).await;
                answers.push(normalized(ws.recv_json().await, ids));
            }
            assert_eq!(answers[0], answers[1], "{who}, {field}");
            // Refused alike for the victim's bot and an unknown one: not
            // found across tenants, forbidden outside a `bots` claim.
            assert!(
                answers[0].contains("NOT_FOUND") || answers[0].contains("FORBIDDEN"),
                "{who}, {field}: {}",
                answers[0]
            );
            checked += 1;
        }
    }
    assert!(checked > 80, "only {checked} operations checked");

    // The victim's data is as it was, its expired rows included: the other
    // tenants' sweeps removed none of them; the victim's own sweep does.
    assert_eq!(victim_state(&s, &v).await, before);
    let swept = s
        .ok(
            &owner,
            "mutation { runJanitor { variablesExpired } }",
            json!({}),
        )
        .await;
    assert_eq!(swept["runJanitor"]["variablesExpired"], 4, "{swept}");
}
