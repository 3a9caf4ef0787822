//! Generated values (nesting around the limit, odd code points, numbers at
//! the i64/u64/f64 edges) through every write path, on the database the
//! suite runs against. Each is refused with `BAD_USER_INPUT`, or reads back
//! equal (and exports); nothing is ever `INTERNAL`.
//! `BOTMEM_PROPTEST_CASES` sets the number of cases (default 200).
mod common;

use common::*;
use proptest::{prelude::*, test_runner::TestRunner};
use serde_json::{Value, json};

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("JSON has no NaN or infinity", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        Just(json!(i64::MIN)),
        Just(json!(u64::MAX)),
        Just(json!(9007199254740993.0_f64)),
        Just(json!(1e300)),
        Just(json!(-0.0)),
        ".{0,12}".prop_map(Value::String),
        prop::sample::select(vec![
            "\u{0}",
            "a\u{0}",
            "\u{FFFF}",
            "\u{10FFFF}",
            "\u{202E}x",
            "\u{7F}\n\t"
        ])
        .prop_map(|s| Value::String(s.to_owned())),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    let shallow = leaf().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z\u{0}]{1,3}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    // Wrap in 0..=70 arrays: around the 64-level limit.
    (shallow, 0usize..=70).prop_map(|(v, depth)| (0..depth).fold(v, |v, _| json!([v])))
}

/// serde_json equality, except that numbers compare as JSON numbers do.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[test]
fn every_write_path_stores_exactly_or_refuses() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let cases: u32 = std::env::var("BOTMEM_PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200);
    let (s, token, bot, user, conversation) = runtime.block_on(async {
        let s = TestServer::start_with(|c| c.tenant_requests_per_sec = 100_000).await;
        let token = s.admin("t1");
        let bot = s.create_bot(&token, "bot").await;
        let c = s.start_conversation(&token, &bot, "u1").await;
        let user = c["user"]["id"].as_str().unwrap().to_owned();
        let conversation = c["id"].as_str().unwrap().to_owned();
        (s, token, bot, user, conversation)
    });
    let mut runner = TestRunner::new(ProptestConfig::with_cases(cases));
    let outcomes = std::cell::RefCell::new(std::collections::BTreeMap::<&str, u32>::new());
    let result = runner.run(&(value(), 0usize..6), |(v, path)| {
        let (outcome, stored) =
            runtime.block_on(write(&s, &token, &bot, &user, &conversation, path, &v));
        *outcomes.borrow_mut().entry(outcome).or_default() += 1;
        match outcome {
            "refused" => Ok(()),
            "stored" => {
                prop_assert!(same(&stored, &v), "path {path}: wrote {v}, read {stored}");
                Ok(())
            }
            other => Err(TestCaseError::fail(format!("path {path}: {other} for {v}"))),
        }
    });
    println!("outcomes: {:?}", outcomes.borrow());
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// How a write path's stored value is read back from the response.
type ReadBack = Box<dyn Fn(&Value) -> Value>;

/// Writes `v` by write path `path` and reads it back.
async fn write(
    s: &TestServer,
    token: &str,
    bot: &str,
    user: &str,
    conversation: &str,
    path: usize,
    v: &Value,
) -> (&'static str, Value) {
    let user_ref = json!({ "scope": "USER", "userId": user });
    let conv_ref = json!({ "scope": "CONVERSATION", "conversationId": conversation });
    let memory = "query($r: MemoryRef!) { memory(ref: $r) { json } }";
    let (query, variables, read): (&str, Value, ReadBack) = match path {
        0 => (
            "mutation($i: SetVariableInput!) { setVariable(input: $i) { version } }",
            json!({ "i": { "ref": user_ref, "name": "p", "value": v } }),
            Box::new(|m: &Value| m["memory"]["json"]["p"].clone()),
        ),
        1 => (
            "mutation($i: [SetVariableInput!]!) { setVariables(inputs: $i) { version } }",
            json!({ "i": [{ "ref": user_ref, "name": "p", "value": v }] }),
            Box::new(|m: &Value| m["memory"]["json"]["p"].clone()),
        ),
        2 => (
            "mutation($r: MemoryRef!, $s: JSON) { patchMemory(ref: $r, set: $s) { version } }",
            json!({ "r": conv_ref, "s": { "p": v } }),
            Box::new(|m: &Value| m["memory"]["json"]["p"].clone()),
        ),
        3 => (
            "mutation($r: MemoryRef!, $m: JSON!) { replaceMemory(ref: $r, memory: $m) { version } }",
            json!({ "r": conv_ref, "m": { "p": v } }),
            Box::new(|m: &Value| m["memory"]["json"]["p"].clone()),
        ),
        4 => (
            "mutation($b: UUID, $v: JSON!) { kvSet(input: { botId: $b, key: \"p\", value: $v }) { value } }",
            json!({ "b": bot, "v": v }),
            Box::new(|m: &Value| m["kvSet"]["value"].clone()),
        ),
        _ => (
            "mutation($b: UUID!, $m: JSON) { startConversation(input: { botId: $b, channel: \"web\", externalId: \"prefill\", memory: $m }) { memory { json } } }",
            json!({ "b": bot, "m": { "p": v } }),
            Box::new(|m: &Value| m["startConversation"]["memory"]["json"]["p"].clone()),
        ),
    };
    let body = s.gql(token, query, variables).await;
    if let Some(errors) = body.get("errors") {
        let code = errors[0]["extensions"]["code"].as_str().unwrap_or("");
        return match code {
            "BAD_USER_INPUT" | "QUOTA_EXCEEDED" => ("refused", Value::Null),
            _ => ("unexpected error", body),
        };
    }
    let stored = match path {
        0 | 1 => s.gql(token, memory, json!({ "r": user_ref })).await["data"].clone(),
        2 | 3 => s.gql(token, memory, json!({ "r": conv_ref })).await["data"].clone(),
        _ => body["data"].clone(),
    };
    let export = s
        .gql(
            token,
            "mutation($id: UUID!) { exportUser(id: $id) }",
            json!({ "id": user }),
        )
        .await;
    if export.get("errors").is_some() {
        return ("export failed", export);
    }
    ("stored", read(&stored))
}
