//! The rules of memory (DESIGN.md), each with a test named after it, and
//! the Botpress, NativeChat and SAP sequences as scenarios.
mod common;

use chrono::TimeDelta;
use common::*;
use serde_json::{Value, json};

const SET: &str = "mutation($input: SetVariableInput!) { setVariable(input: $input) { name value version expiresAt createdAt updatedAt } }";
const MEMORY: &str = "query($ref: MemoryRef!) { memory(ref: $ref) { scope ownerId version json variables { name value version expiresAt } } }";
const VARIABLE: &str = "query($ref: MemoryRef!, $name: String!) { variable(ref: $ref, name: $name) { value version expiresAt } }";

/// Memory shortcuts of these tests.
trait MemoryWorld {
    async fn set(&self, r: Value, name: &str, value: Value) -> Value;
    async fn set_with(&self, input: Value) -> Value;
    async fn memory(&self, r: Value) -> Value;
}

impl MemoryWorld for World {
    async fn set(&self, r: Value, name: &str, value: Value) -> Value {
        self.set_with(json!({ "ref": r, "name": name, "value": value }))
            .await
    }

    async fn set_with(&self, input: Value) -> Value {
        self.s.ok(&self.token, SET, json!({ "input": input })).await["setVariable"].clone()
    }

    async fn memory(&self, r: Value) -> Value {
        self.s.ok(&self.token, MEMORY, json!({ "ref": r })).await["memory"].clone()
    }
}

#[tokio::test]
async fn rule1_variables_are_addressed_by_scope_and_owner() {
    let w = World::new().await;
    for (r, value) in [
        (w.bot_ref(), 1),
        (w.user_ref(), 2),
        (w.conv_ref(), 3),
        (w.temp_ref(), 4),
    ] {
        w.set(r, "x", json!(value)).await;
    }
    assert_eq!(w.memory(w.bot_ref()).await["json"], json!({ "x": 1 }));
    assert_eq!(w.memory(w.user_ref()).await["json"], json!({ "x": 2 }));
    assert_eq!(w.memory(w.conv_ref()).await["json"], json!({ "x": 3 }));
    assert_eq!(w.memory(w.temp_ref()).await["json"], json!({ "x": 4 }));
    let m = w.memory(w.user_ref()).await;
    assert_eq!(m["scope"], "USER");
    assert_eq!(m["ownerId"], w.user.as_str());

    // Values are any JSON.
    for value in [
        json!({ "a": [1, { "b": null }] }),
        json!([1, "two"]),
        json!("s"),
        json!(3.5),
        json!(false),
    ] {
        assert_eq!(
            w.set(w.user_ref(), "any", value.clone()).await["value"],
            value
        );
        // Read back as stored, not only as the mutation echoed it.
        assert_eq!(w.memory(w.user_ref()).await["json"]["any"], value);
    }

    // The nested fields read the same memories.
    let q = "query($b: UUID!, $c: UUID!) { bot(id: $b) { memory { json } }
        conversation(id: $c) { memory { json } temp { json } user { memory { json } } } }";
    let data =
        w.s.ok(&w.token, q, json!({ "b": w.bot, "c": w.conversation }))
            .await;
    assert_eq!(data["bot"]["memory"]["json"], json!({ "x": 1 }));
    assert_eq!(data["conversation"]["memory"]["json"], json!({ "x": 3 }));
    assert_eq!(data["conversation"]["temp"]["json"], json!({ "x": 4 }));
    assert_eq!(data["conversation"]["user"]["memory"]["json"]["x"], 2);

    // A ref with the wrong id for its scope is bad input.
    for r in [
        json!({ "scope": "BOT", "userId": w.user }),
        json!({ "scope": "USER", "botId": w.bot }),
        json!({ "scope": "CONVERSATION", "userId": w.user }),
        json!({ "scope": "TEMP" }),
    ] {
        let body = w.gql(MEMORY, json!({ "ref": r })).await;
        assert_code(&body, "BAD_USER_INPUT");
        assert_eq!(body["errors"][0]["extensions"]["field"], "ref");
    }
    // Owners of another tenant are not found, for reads and writes.
    let stranger = w.s.admin("t2");
    for r in [w.bot_ref(), w.user_ref(), w.conv_ref()] {
        assert_code(
            &w.s.gql(&stranger, MEMORY, json!({ "ref": r.clone() }))
                .await,
            "NOT_FOUND",
        );
        let input = json!({ "ref": r, "name": "x", "value": 666 });
        assert_code(
            &w.s.gql(&stranger, SET, json!({ "input": input })).await,
            "NOT_FOUND",
        );
    }
    assert_eq!(w.memory(w.user_ref()).await["json"]["x"], 2, "unchanged");
}

#[tokio::test]
async fn rule1_bad_names_and_values_are_refused() {
    let w = World::new().await;
    for (input, code, field) in [
        (
            json!({ "ref": w.user_ref(), "name": "", "value": 1 }),
            "BAD_USER_INPUT",
            "input.name",
        ),
        (
            json!({ "ref": w.user_ref(), "name": "a\nb", "value": 1 }),
            "BAD_USER_INPUT",
            "input.name",
        ),
        (
            json!({ "ref": w.user_ref(), "name": "x".repeat(129), "value": 1 }),
            "BAD_USER_INPUT",
            "input.name",
        ),
        (
            json!({ "ref": w.user_ref(), "name": "n", "value": "x".repeat(70_000) }),
            "QUOTA_EXCEEDED",
            "",
        ),
        (
            json!({ "ref": w.user_ref(), "name": "n", "value": 1, "expiresIn": "5m", "expiresAt": "2031-01-01T00:00:00Z" }),
            "BAD_USER_INPUT",
            "input.expiresIn",
        ),
        (
            json!({ "ref": w.user_ref(), "name": "n", "value": 1, "expiresAt": "2000-01-01T00:00:00Z" }),
            "BAD_USER_INPUT",
            "input.expiresAt",
        ),
        (
            json!({ "ref": w.user_ref(), "name": "n", "value": 1, "expiresIn": "soon" }),
            "BAD_USER_INPUT",
            "input.expiresIn",
        ),
    ] {
        let body = w.gql(SET, json!({ "input": input })).await;
        assert_code(&body, code);
        if !field.is_empty() {
            assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
        }
    }
    let body = w
        .gql(
            "mutation($r: MemoryRef!) { patchMemory(ref: $r, set: { a: null }) { version } }",
            json!({ "r": w.user_ref() }),
        )
        .await;
    assert_code(&body, "BAD_USER_INPUT");
    let body = w
        .gql(
            "mutation($r: MemoryRef!) { replaceMemory(ref: $r, memory: [1, 2]) { version } }",
            json!({ "r": w.user_ref() }),
        )
        .await;
    assert_code(&body, "BAD_USER_INPUT");
    assert_eq!(
        w.memory(w.user_ref()).await["version"],
        0,
        "nothing was written"
    );
}

#[tokio::test]
async fn rule2_expired_variables_do_not_exist_before_any_janitor() {
    let w = World::new().await;
    let v = w
        .set_with(json!({ "ref": w.user_ref(), "name": "otp", "value": "1234", "expiresIn": "5m" }))
        .await;
    assert_eq!(v["expiresAt"], "2030-01-15T12:05:00Z");
    w.set(w.user_ref(), "name", json!("Ada")).await;
    w.s.clock.advance(TimeDelta::minutes(5));
    let m = w.memory(w.user_ref()).await;
    assert_eq!(m["json"], json!({ "name": "Ada" }));
    assert_eq!(m["variables"].as_array().unwrap().len(), 1);
    let data =
        w.s.ok(
            &w.token,
            VARIABLE,
            json!({ "ref": w.user_ref(), "name": "otp" }),
        )
        .await;
    assert_eq!(data["variable"], Value::Null);
    // Expired means absent for compare-and-set too: version 0 may create it.
    let again = w
        .set_with(json!({ "ref": w.user_ref(), "name": "otp", "value": "9", "expectedVersion": 0 }))
        .await;
    assert_eq!(again["version"], 1);
    assert_eq!(again["expiresAt"], Value::Null);
}

#[tokio::test]
async fn rule3_botpress_policies_email_60d_mood_1d_reset_on_change() {
    let w = World::with_bot(
        json!({ "name": "bp", "sessionTimeout": "2d", "retentionPolicies": [
        { "name": "email", "ttl": "60d" },
        { "name": "mood", "ttl": "1d", "scopes": ["USER", "CONVERSATION"] }
    ] }),
    )
    .await;
    let email = w.set(w.user_ref(), "email", json!("a@example.com")).await;
    assert_eq!(email["expiresAt"], "2030-03-16T12:00:00Z", "60 days");
    let mood = w.set(w.conv_ref(), "mood", json!("happy")).await;
    assert_eq!(
        mood["expiresAt"], "2030-01-16T12:00:00Z",
        "1 day, in the conversation scope too"
    );
    let other = w.set(w.conv_ref(), "email", json!("x")).await;
    assert_eq!(
        other["expiresAt"],
        Value::Null,
        "email's policy is for USER only"
    );

    w.s.clock.advance(TimeDelta::hours(6));
    let same = w.set(w.conv_ref(), "mood", json!("happy")).await;
    assert_eq!(
        same["expiresAt"], "2030-01-16T12:00:00Z",
        "same value keeps the clock"
    );
    assert_eq!(same["version"], 1, "and is no change");
    let changed = w.set(w.conv_ref(), "mood", json!("sad")).await;
    assert_eq!(
        changed["expiresAt"], "2030-01-16T18:00:00Z",
        "a new value restarts it"
    );
    assert_eq!(changed["version"], 2);
    let explicit = w
        .set_with(json!({ "ref": w.conv_ref(), "name": "mood", "value": "sad", "expiresIn": "1h" }))
        .await;
    assert_eq!(
        explicit["expiresAt"], "2030-01-15T19:00:00Z",
        "the write's own expiry wins"
    );
    let at = w
        .set_with(json!({ "ref": w.user_ref(), "name": "email", "value": "b@example.com", "expiresAt": "2030-02-01T00:00:00Z" }))
        .await;
    assert_eq!(at["expiresAt"], "2030-02-01T00:00:00Z");

    w.s.clock.advance(TimeDelta::hours(1));
    assert_eq!(
        w.memory(w.conv_ref()).await["json"],
        json!({ "email": "x" }),
        "mood expired after its 1h"
    );
}

#[tokio::test]
async fn rule4_versions_and_expected_version_conflicts_change_nothing() {
    let w = World::new().await;
    let r = w.user_ref();
    let v1 = w
        .set_with(json!({ "ref": r, "name": "a", "value": 1, "expectedVersion": 0 }))
        .await;
    assert_eq!(v1["version"], 1);
    let body = w
        .gql(
            SET,
            json!({ "input": { "ref": r, "name": "a", "value": 2, "expectedVersion": 0 } }),
        )
        .await;
    assert_code(&body, "CONFLICT");
    let v2 = w
        .set_with(json!({ "ref": r, "name": "a", "value": 2, "expectedVersion": 1 }))
        .await;
    assert_eq!(v2["version"], 2);
    assert_eq!(w.memory(r.clone()).await["version"], 2);

    let unset = "mutation($r: MemoryRef!, $n: String!, $v: Int) { unsetVariable(ref: $r, name: $n, expectedVersion: $v) }";
    assert_code(
        &w.gql(unset, json!({ "r": r, "n": "a", "v": 1 })).await,
        "CONFLICT",
    );
    assert_eq!(w.memory(r.clone()).await["json"], json!({ "a": 2 }));

    // setVariables: all or nothing, one version step per memory.
    let many = "mutation($i: [SetVariableInput!]!) { setVariables(inputs: $i) { name version } }";
    let body = w
        .gql(
            many,
            json!({ "i": [
            { "ref": r, "name": "b", "value": 1 },
            { "ref": r, "name": "a", "value": 3, "expectedVersion": 1 }
        ] }),
        )
        .await;
    assert_code(&body, "CONFLICT");
    assert_eq!(
        w.memory(r.clone()).await["json"],
        json!({ "a": 2 }),
        "b was not written"
    );
    let data =
        w.s.ok(
            &w.token,
            many,
            json!({ "i": [
            { "ref": r, "name": "b", "value": 1 },
            { "ref": r, "name": "a", "value": 3, "expectedVersion": 2 },
            { "ref": w.bot_ref(), "name": "c", "value": 1 }
        ] }),
        )
        .await;
    assert_eq!(
        data["setVariables"],
        json!([{ "name": "b", "version": 1 }, { "name": "a", "version": 3 }, { "name": "c", "version": 1 }])
    );
    assert_eq!(
        w.memory(r.clone()).await["version"],
        3,
        "one step for two variables"
    );

    // patchMemory and replaceMemory compare the memory's version.
    let patch = "mutation($r: MemoryRef!, $v: Int) { patchMemory(ref: $r, set: { d: 1 }, unset: [\"b\"], expectedVersion: $v) { version json } }";
    assert_code(&w.gql(patch, json!({ "r": r, "v": 2 })).await, "CONFLICT");
    let data = w.s.ok(&w.token, patch, json!({ "r": r, "v": 3 })).await;
    assert_eq!(
        data["patchMemory"],
        json!({ "version": 4, "json": { "a": 3, "d": 1 } })
    );
    assert!(
        w.gql(unset, json!({ "r": r, "n": "a", "v": 3 })).await["data"]["unsetVariable"]
            .as_bool()
            .unwrap()
    );
    assert!(
        !w.gql(unset, json!({ "r": r, "n": "a" })).await["data"]["unsetVariable"]
            .as_bool()
            .unwrap(),
        "already gone"
    );
    assert_eq!(
        w.memory(r).await["version"],
        5,
        "removing nothing is no step"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rule4_concurrent_compare_and_set_never_loses_an_update() {
    // Retried conflicts make well over the default burst of requests in a
    // second; this test is about compare-and-set, not the fair share.
    let w = World::start_with(|c| {
        c.tenant_requests_per_sec = 100_000;
        c.tenant_burst = 100_000;
    })
    .await;
    let r = w.bot_ref();
    w.set(r.clone(), "counter", json!(0)).await;
    let writers = 16;
    let increments = 5;
    let worker = |_: usize| {
        let (s, token, r) = (&w.s, &w.token, r.clone());
        async move {
            let mut conflicts = 0;
            for _ in 0..increments {
                loop {
                    let data = s
                        .ok(token, VARIABLE, json!({ "ref": r, "name": "counter" }))
                        .await;
                    let (value, version) = (
                        data["variable"]["value"].as_i64().unwrap(),
                        data["variable"]["version"].clone(),
                    );
                    let input = json!({ "ref": r, "name": "counter", "value": value + 1, "expectedVersion": version });
                    let body = s.gql(token, SET, json!({ "input": input })).await;
                    match code(&body).as_str() {
                        "" => break,
                        "CONFLICT" => conflicts += 1,
                        other => panic!("unexpected {other}: {body}"),
                    }
                }
            }
            conflicts
        }
    };
    let conflicts: usize = futures_util::future::join_all((0..writers).map(worker))
        .await
        .into_iter()
        .sum();
    assert!(
        conflicts > 0,
        "the writers never raced: the test proves nothing"
    );
    let data =
        w.s.ok(&w.token, VARIABLE, json!({ "ref": r, "name": "counter" }))
            .await;
    assert_eq!(
        data["variable"]["value"],
        writers * increments,
        "no lost update ({conflicts} conflicts retried)"
    );
    assert_eq!(data["variable"]["version"], writers * increments + 1);
}

#[tokio::test]
async fn rule6_sessions_count_memory_writes_as_activity() {
    let w = World::new().await;
    w.s.clock.advance(TimeDelta::minutes(29));
    w.set(w.temp_ref(), "step", json!(2)).await;
    w.s.clock.advance(TimeDelta::minutes(29));
    let q = "query($c: UUID!) { conversation(id: $c) { status lastActivityAt expiresAt } }";
    let data = w.s.ok(&w.token, q, json!({ "c": w.conversation })).await;
    assert_eq!(
        data["conversation"],
        json!({ "status": "ACTIVE", "lastActivityAt": "2030-01-15T12:29:00Z", "expiresAt": "2030-01-15T12:59:00Z" })
    );
    w.s.clock.advance(TimeDelta::minutes(1));
    let body = w
        .gql(
            SET,
            json!({ "input": { "ref": w.conv_ref(), "name": "late", "value": 1 } }),
        )
        .await;
    assert_code(&body, "CONVERSATION_ENDED");
}

const END: &str = "mutation($c: UUID!, $r: EndReason) { endConversation(id: $c, reason: $r) { status endReason endedAt expiresAt } }";

#[tokio::test]
async fn rule6_nativechat_end_promotes_short_term_into_long_term_and_resets() {
    let w = World::new().await;
    w.set(w.user_ref(), "name", json!("Ada")).await;
    w.set(w.user_ref(), "city", json!("Paris")).await;
    w.set(w.conv_ref(), "city", json!("London")).await;
    w.set(w.conv_ref(), "doctor", json!("Dr. Who")).await;
    w.set(w.temp_ref(), "step", json!(3)).await;
    let long_version = w.memory(w.user_ref()).await["version"].as_i64().unwrap();

    w.s.clock.advance(TimeDelta::minutes(1));
    let data = w.s.ok(&w.token, END, json!({ "c": w.conversation })).await;
    assert_eq!(
        data["endConversation"],
        json!({ "status": "ENDED", "endReason": "COMPLETED", "endedAt": "2030-01-15T12:01:00Z", "expiresAt": null })
    );
    let long = w.memory(w.user_ref()).await;
    assert_eq!(
        long["json"],
        json!({ "name": "Ada", "city": "London", "doctor": "Dr. Who" })
    );
    assert_eq!(long["version"], long_version + 1, "promotion is one step");
    assert_eq!(w.memory(w.conv_ref()).await["json"], json!({}));
    assert_eq!(w.memory(w.temp_ref()).await["json"], json!({}));
}

#[tokio::test]
async fn rule7_writes_to_an_ended_conversation_fail() {
    let w = World::new().await;
    w.s.ok(&w.token, END, json!({ "c": w.conversation })).await;
    for (q, vars) in [
        (
            SET,
            json!({ "input": { "ref": w.conv_ref(), "name": "x", "value": 1 } }),
        ),
        (END, json!({ "c": w.conversation })),
        (
            "mutation($c: UUID!) { endFlow(conversationId: $c) }",
            json!({ "c": w.conversation }),
        ),
        (
            "mutation($c: UUID!) { appendMessage(conversationId: $c, input: { direction: INCOMING, text: \"hi\" }) { id } }",
            json!({ "c": w.conversation }),
        ),
        (
            "mutation($c: UUID!) { touchConversation(id: $c) { id } }",
            json!({ "c": w.conversation }),
        ),
    ] {
        assert_code(&w.gql(q, vars).await, "CONVERSATION_ENDED");
    }
    let body = w
        .gql(END, json!({ "c": w.conversation, "r": "TIMEOUT" }))
        .await;
    assert_code(&body, "BAD_USER_INPUT");
}

#[tokio::test]
async fn rule6_promotion_policy_none_and_listed() {
    for (promotion, expected) in [
        (json!({ "mode": "NONE" }), json!({})),
        (
            json!({ "mode": "LISTED", "names": ["keep"] }),
            json!({ "keep": 1 }),
        ),
    ] {
        let w = World::with_bot(json!({ "name": "p", "promotion": promotion })).await;
        w.set(w.conv_ref(), "keep", json!(1)).await;
        w.set(w.conv_ref(), "drop", json!(2)).await;
        w.s.ok(
            &w.token,
            END,
            json!({ "c": w.conversation, "r": "ABANDONED" }),
        )
        .await;
        assert_eq!(w.memory(w.user_ref()).await["json"], expected);
        assert_eq!(w.memory(w.conv_ref()).await["json"], json!({}));
    }
}

#[tokio::test]
async fn end_flow_clears_temp_only() {
    let w = World::new().await;
    w.set(w.temp_ref(), "a", json!(1)).await;
    w.set(w.temp_ref(), "b", json!(2)).await;
    w.set(w.conv_ref(), "c", json!(3)).await;
    let data =
        w.s.ok(
            &w.token,
            "mutation($c: UUID!) { endFlow(conversationId: $c) }",
            json!({ "c": w.conversation }),
        )
        .await;
    assert_eq!(data["endFlow"], 2);
    assert_eq!(w.memory(w.temp_ref()).await["json"], json!({}));
    assert_eq!(w.memory(w.conv_ref()).await["json"], json!({ "c": 3 }));
    let clear = "mutation($r: MemoryRef!) { clearMemory(ref: $r) }";
    assert_eq!(
        w.s.ok(&w.token, clear, json!({ "r": w.conv_ref() })).await["clearMemory"],
        1
    );
}

#[tokio::test]
async fn sap_sequence_prefill_replace_then_set_and_unset() {
    let w = World::new().await;
    let start = "mutation($b: UUID!, $m: JSON) { startConversation(input: { botId: $b, channel: \"web\", externalId: \"sap\", memory: $m }) { id memory { version json } } }";
    let data =
        w.s.ok(
            &w.token,
            start,
            json!({ "b": w.bot, "m": { "lang": "fr", "cart": { "items": 2 } } }),
        )
        .await;
    let c = &data["startConversation"];
    assert_eq!(
        c["memory"],
        json!({ "version": 1, "json": { "lang": "fr", "cart": { "items": 2 } } })
    );
    let r = json!({ "scope": "CONVERSATION", "conversationId": c["id"] });

    // A webhook reply replaces the whole memory.
    let replace = "mutation($r: MemoryRef!, $m: JSON!) { replaceMemory(ref: $r, memory: $m) { version json variables { name version } } }";
    let data =
        w.s.ok(
            &w.token,
            replace,
            json!({ "r": r, "m": { "lang": "fr", "order": 42 } }),
        )
        .await;
    assert_eq!(
        data["replaceMemory"]["json"],
        json!({ "lang": "fr", "order": 42 })
    );
    assert_eq!(data["replaceMemory"]["version"], 2);
    assert_eq!(
        data["replaceMemory"]["variables"][0],
        json!({ "name": "lang", "version": 1 }),
        "unchanged value, unchanged version"
    );

    // The edit-memory action: set some, unset others.
    let patch = "mutation($r: MemoryRef!) { patchMemory(ref: $r, set: { paid: true, order: 43 }, unset: [\"lang\"]) { version json } }";
    let data = w.s.ok(&w.token, patch, json!({ "r": r })).await;
    assert_eq!(
        data["patchMemory"],
        json!({ "version": 3, "json": { "order": 43, "paid": true } })
    );

    let bad = "mutation($r: MemoryRef!) { patchMemory(ref: $r, set: { a: 1 }, unset: [\"a\"]) { version } }";
    assert_code(&w.gql(bad, json!({ "r": r })).await, "BAD_USER_INPUT");
    let bad_start = w.gql(start, json!({ "b": w.bot, "m": [1] })).await;
    assert_code(&bad_start, "BAD_USER_INPUT");
}

#[tokio::test]
async fn messages_keep_the_newest_per_bot_setting() {
    let w = World::with_bot(json!({ "name": "m", "lastMessagesKept": 3 })).await;
    let append = "mutation($c: UUID!, $i: MessageInput!) { appendMessage(conversationId: $c, input: $i) { id direction text payload at } }";
    for i in 0..5 {
        let input = json!({ "direction": if i % 2 == 0 { "INCOMING" } else { "OUTGOING" }, "text": format!("m{i}"), "payload": { "i": i } });
        w.s.ok(&w.token, append, json!({ "c": w.conversation, "i": input }))
            .await;
    }
    let q = "query($c: UUID!, $l: Int) { conversation(id: $c) { messages(last: $l) { text direction payload } } }";
    let data =
        w.s.ok(&w.token, q, json!({ "c": w.conversation, "l": 20 }))
            .await;
    let texts: Vec<&str> = data["conversation"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["m2", "m3", "m4"], "oldest first, trimmed to 3");
    let data =
        w.s.ok(&w.token, q, json!({ "c": w.conversation, "l": 1 }))
            .await;
    assert_eq!(
        data["conversation"]["messages"],
        json!([{ "text": "m4", "direction": "INCOMING", "payload": { "i": 4 } }])
    );
    let body = w
        .gql(
            append,
            json!({ "c": w.conversation, "i": { "direction": "INCOMING" } }),
        )
        .await;
    assert_code(&body, "BAD_USER_INPUT");
}

const KV_SET: &str =
    "mutation($i: KvSetInput!) { kvSet(input: $i) { botId key value version expiresAt } }";
const KV_LIST: &str = "query($b: UUID, $p: String, $f: Int, $a: String) { kvEntries(botId: $b, prefix: $p, first: $f, after: $a) { edges { node { key } cursor } pageInfo { hasNextPage endCursor } } }";

#[tokio::test]
async fn kv_store_with_literal_prefixes_expiry_and_versions() {
    let w = World::new().await;
    for key in ["a_1", "ab", "a%", "a_2", "b"] {
        w.s.ok(
            &w.token,
            KV_SET,
            json!({ "i": { "botId": w.bot, "key": key, "value": key } }),
        )
        .await;
    }
    let keys = |data: &Value| -> Vec<String> {
        data["kvEntries"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["key"].as_str().unwrap().to_owned())
            .collect()
    };
    let data =
        w.s.ok(&w.token, KV_LIST, json!({ "b": w.bot, "p": "a_" }))
            .await;
    assert_eq!(keys(&data), ["a_1", "a_2"], "_ is not a wildcard");
    let data =
        w.s.ok(&w.token, KV_LIST, json!({ "b": w.bot, "p": "a%" }))
            .await;
    assert_eq!(keys(&data), ["a%"], "% is not a wildcard");
    let page1 =
        w.s.ok(&w.token, KV_LIST, json!({ "b": w.bot, "f": 2 }))
            .await;
    assert_eq!(page1["kvEntries"]["pageInfo"]["hasNextPage"], true);
    let page2 =
        w.s.ok(
            &w.token,
            KV_LIST,
            json!({ "b": w.bot, "f": 10, "a": page1["kvEntries"]["pageInfo"]["endCursor"] }),
        )
        .await;
    assert_eq!(keys(&page1).len() + keys(&page2).len(), 5);

    // Tenant-wide store is separate from the bot's.
    let data =
        w.s.ok(
            &w.token,
            KV_SET,
            json!({ "i": { "key": "ab", "value": 1, "expiresIn": "10m" } }),
        )
        .await;
    assert_eq!(
        data["kvSet"],
        json!({ "botId": null, "key": "ab", "value": 1, "version": 1, "expiresAt": "2030-01-15T12:10:00Z" })
    );
    let get = "query($b: UUID, $k: String!) { kv(botId: $b, key: $k) { value version } }";
    assert_eq!(
        w.s.ok(&w.token, get, json!({ "b": w.bot, "k": "ab" }))
            .await["kv"]["value"],
        "ab"
    );

    // Compare-and-set.
    let body = w
        .gql(
            KV_SET,
            json!({ "i": { "key": "ab", "value": 2, "expectedVersion": 0 } }),
        )
        .await;
    assert_code(&body, "CONFLICT");
    let data =
        w.s.ok(
            &w.token,
            KV_SET,
            json!({ "i": { "key": "ab", "value": 2, "expectedVersion": 1, "expiresIn": "10m" } }),
        )
        .await;
    assert_eq!(data["kvSet"]["version"], 2);

    // Expiry hides the entry at once.
    w.s.clock.advance(TimeDelta::minutes(10));
    assert_eq!(
        w.s.ok(&w.token, get, json!({ "k": "ab" })).await["kv"],
        Value::Null
    );
    let data =
        w.s.ok(
            &w.token,
            KV_SET,
            json!({ "i": { "key": "ab", "value": 3, "expectedVersion": 0 } }),
        )
        .await;
    assert_eq!(data["kvSet"]["version"], 1, "an expired key does not exist");

    let del = "mutation($b: UUID, $k: String!) { kvDelete(botId: $b, key: $k) }";
    assert_eq!(
        w.s.ok(&w.token, del, json!({ "b": w.bot, "k": "b" })).await["kvDelete"],
        true
    );
    assert_eq!(
        w.s.ok(&w.token, del, json!({ "b": w.bot, "k": "b" })).await["kvDelete"],
        false
    );

    // Another tenant sees none of it; a bot-limited token cannot use the tenant-wide store.
    let stranger = w.s.admin("t2");
    assert_eq!(
        w.s.ok(&stranger, get, json!({ "k": "ab" })).await["kv"],
        Value::Null
    );
    assert_code(
        &w.s.gql(&stranger, get, json!({ "b": w.bot, "k": "ab" }))
            .await,
        "NOT_FOUND",
    );
    let mut claims = w.s.claims("t1", &["editor"]);
    claims.bots = Some(vec![w.bot.parse().unwrap()]);
    let limited = w.s.sign(&claims);
    assert_code(
        &w.s.gql(&limited, get, json!({ "k": "ab" })).await,
        "FORBIDDEN",
    );
    w.s.ok(&limited, get, json!({ "b": w.bot, "k": "ab" }))
        .await;
}

#[tokio::test]
async fn deleting_a_bot_deletes_its_memory_and_kv() {
    let w = World::new().await;
    w.set(w.bot_ref(), "x", json!(1)).await;
    w.set(w.user_ref(), "y", json!(1)).await;
    w.s.ok(
        &w.token,
        KV_SET,
        json!({ "i": { "botId": w.bot, "key": "k", "value": 1 } }),
    )
    .await;
    w.s.ok(
        &w.token,
        "mutation($b: UUID!) { deleteBot(id: $b) }",
        json!({ "b": w.bot }),
    )
    .await;
    // Recreating nothing: the old owner ids are simply gone.
    assert_code(
        &w.gql(MEMORY, json!({ "ref": w.bot_ref() })).await,
        "NOT_FOUND",
    );
    assert_code(
        &w.gql(MEMORY, json!({ "ref": w.user_ref() })).await,
        "NOT_FOUND",
    );
    assert_code(
        &w.gql(
            "query($b: UUID) { kv(botId: $b, key: \"k\") { value } }",
            json!({ "b": w.bot }),
        )
        .await,
        "NOT_FOUND",
    );
}

#[tokio::test]
async fn export_user_returns_everything_and_delete_user_erases_it() {
    let w = World::new().await;
    w.set(w.user_ref(), "email", json!("a@example.com")).await;
    w.set(w.conv_ref(), "topic", json!("billing")).await;
    w.set(w.temp_ref(), "step", json!(1)).await;
    let append = "mutation($c: UUID!) { appendMessage(conversationId: $c, input: { direction: INCOMING, text: \"hi\" }) { id } }";
    w.s.ok(&w.token, append, json!({ "c": w.conversation }))
        .await;
    // Another user of the same bot, who must survive.
    let other =
        w.s.start_conversation(&w.token, &w.bot, "someone-else")
            .await;
    let other_ref = json!({ "scope": "CONVERSATION", "conversationId": other["id"] });
    w.set(other_ref.clone(), "keep", json!(true)).await;

    let export = "mutation($u: UUID!) { exportUser(id: $u) }";
    let stranger = w.s.admin("t2");
    assert_code(
        &w.s.gql(&stranger, export, json!({ "u": w.user })).await,
        "NOT_FOUND",
    );
    let data = w.s.ok(&w.token, export, json!({ "u": w.user })).await;
    let e = &data["exportUser"];
    assert_eq!(e["user"]["externalId"], "u1");
    assert_eq!(e["memory"]["email"]["value"], "a@example.com");
    let c = &e["conversations"][0];
    assert_eq!(c["id"], w.conversation.as_str());
    assert_eq!(c["memory"]["topic"]["value"], "billing");
    assert_eq!(c["temp"]["step"]["value"], 1);
    assert_eq!(c["messages"][0]["text"], "hi");
    assert_eq!(e["conversations"].as_array().unwrap().len(), 1);

    let delete = "mutation($u: UUID!) { deleteUser(id: $u) }";
    assert_code(
        &w.s.gql(&stranger, delete, json!({ "u": w.user })).await,
        "NOT_FOUND",
    );
    assert_eq!(
        w.s.ok(&w.token, delete, json!({ "u": w.user })).await["deleteUser"],
        true
    );
    assert_code(
        &w.gql(MEMORY, json!({ "ref": w.user_ref() })).await,
        "NOT_FOUND",
    );
    assert_code(
        &w.gql(MEMORY, json!({ "ref": w.conv_ref() })).await,
        "NOT_FOUND",
    );
    assert_code(&w.gql(delete, json!({ "u": w.user })).await, "NOT_FOUND");
    assert_eq!(w.memory(other_ref).await["json"], json!({ "keep": true }));

    // Erased means erased: no row names the user or their conversation.
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let db = sea_orm::Database::connect(&w.s.superuser_url())
        .await
        .unwrap();
    let owners: Vec<uuid::Uuid> = vec![w.user.parse().unwrap(), w.conversation.parse().unwrap()];
    let variables = entity::variable::Entity::find()
        .filter(entity::variable::Column::OwnerId.is_in(owners.clone()))
        .count(&db)
        .await
        .unwrap();
    let memories = entity::memory::Entity::find()
        .filter(entity::memory::Column::OwnerId.is_in(owners))
        .count(&db)
        .await
        .unwrap();
    let messages = entity::message::Entity::find()
        .filter(
            entity::message::Column::ConversationId
                .eq(w.conversation.parse::<uuid::Uuid>().unwrap()),
        )
        .count(&db)
        .await
        .unwrap();
    assert_eq!((variables, memories, messages), (0, 0, 0));
    db.close().await.ok();
}
