//! Tenant isolation: every query and mutation, given ids of another tenant,
//! behaves exactly as for ids that do not exist, and changes nothing.
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
