//! Bots: settings stored and validated, Relay pagination, cascading delete.
mod common;

use common::*;
use serde_json::json;

const CREATE: &str = "mutation($input: CreateBotInput!) { createBot(input: $input) {
  id name sessionTimeout lastMessagesKept promotion { mode names }
  retentionPolicies { name ttl scopes } createdAt updatedAt } }";

#[tokio::test]
async fn create_bot_stores_settings_and_defaults() {
    let s = TestServer::start().await;
    let admin = s.admin("t1");
    let data = s
        .ok(&admin, CREATE, json!({ "input": { "name": "plain" } }))
        .await;
    let bot = &data["createBot"];
    assert_eq!(bot["sessionTimeout"], "30m");
    assert_eq!(bot["lastMessagesKept"], 20);
    assert_eq!(bot["promotion"], json!({ "mode": "ALL", "names": [] }));
    assert_eq!(bot["retentionPolicies"], json!([]));
    assert_eq!(
        bot["createdAt"], "2030-01-15T12:00:00Z",
        "times come from the server clock"
    );

    let input = json!({
        "name": "  shop  ",
        "sessionTimeout": "PT2H",
        "lastMessagesKept": 5,
        "promotion": { "mode": "LISTED", "names": ["email", "email", "city"] },
        "retentionPolicies": [
            { "name": "email", "ttl": "P60D" },
            { "name": "mood", "ttl": "1d", "scopes": ["USER", "CONVERSATION"] }
        ]
    });
    let data = s.ok(&admin, CREATE, json!({ "input": input })).await;
    let bot = &data["createBot"];
    assert_eq!(bot["name"], "shop");
    assert_eq!(bot["sessionTimeout"], "2h");
    assert_eq!(bot["lastMessagesKept"], 5);
    assert_eq!(
        bot["promotion"],
        json!({ "mode": "LISTED", "names": ["city", "email"] })
    );
    assert_eq!(
        bot["retentionPolicies"],
        json!([
            { "name": "email", "ttl": "60d", "scopes": ["USER"] },
            { "name": "mood", "ttl": "1d", "scopes": ["USER", "CONVERSATION"] }
        ])
    );
    // Read back from the database, not from the mutation's echo.
    let read = s
        .ok(&admin, "query($id: UUID!) { bot(id: $id) { name sessionTimeout retentionPolicies { name ttl scopes } promotion { mode names } } }",
            json!({ "id": bot["id"] }))
        .await;
    assert_eq!(read["bot"]["retentionPolicies"], bot["retentionPolicies"]);
    assert_eq!(read["bot"]["promotion"], bot["promotion"]);
    assert_eq!(read["bot"]["sessionTimeout"], "2h");
}

#[tokio::test]
async fn invalid_bot_settings_are_bad_user_input_and_change_nothing() {
    let s = TestServer::start().await;
    let admin = s.admin("t1");
    for (input, field) in [
        (json!({ "name": "" }), "name"),
        (json!({ "name": "a\u{0007}b" }), "name"),
        (json!({ "name": "x".repeat(201) }), "name"),
        (
            json!({ "name": "b", "lastMessagesKept": -1 }),
            "lastMessagesKept",
        ),
        (
            json!({ "name": "b", "lastMessagesKept": 100000 }),
            "lastMessagesKept",
        ),
        (
            json!({ "name": "b", "promotion": { "mode": "LISTED" } }),
            "promotion.names",
        ),
        (
            json!({ "name": "b", "promotion": { "mode": "ALL", "names": ["a"] } }),
            "promotion.names",
        ),
        (
            json!({ "name": "b", "retentionPolicies": [{ "name": "", "ttl": "1d" }] }),
            "retentionPolicies[0].name",
        ),
        (
            json!({ "name": "b", "retentionPolicies": [{ "name": "a", "ttl": "1d", "scopes": [] }] }),
            "retentionPolicies[0].scopes",
        ),
        (
            json!({ "name": "b", "retentionPolicies": [{ "name": "a", "ttl": "1d" }, { "name": "a", "ttl": "2d" }] }),
            "retentionPolicies[1]",
        ),
    ] {
        let body = s.gql(&admin, CREATE, json!({ "input": input })).await;
        assert_code(&body, "BAD_USER_INPUT");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    for bad_duration in ["0s", "5 minutes", "P1M", "-1h"] {
        let body = s
            .gql(
                &admin,
                CREATE,
                json!({ "input": { "name": "b", "sessionTimeout": bad_duration } }),
            )
            .await;
        assert_code(&body, "BAD_USER_INPUT");
        assert_eq!(
            body["errors"][0]["extensions"]["field"], "sessionTimeout",
            "{body}"
        );
    }
    let body = s
        .gql(&admin, CREATE, json!({ "input": { "name": "b", "retentionPolicies": [{ "name": "a", "ttl": "soon" }] } }))
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["field"], "retentionPolicies[0].ttl",
        "{body}"
    );
    // Errors raised by GraphQL itself (types, unknown fields) carry a code too.
    for query in [
        "{ bots(first: \"x\") { totalCount } }",
        "{ nope }",
        "{ bots { ",
    ] {
        assert_code(&s.gql(&admin, query, json!({})).await, "BAD_USER_INPUT");
    }
    let data = s.ok(&admin, "{ bots { totalCount } }", json!({})).await;
    assert_eq!(data["bots"]["totalCount"], 0);
}

#[tokio::test]
async fn bot_names_are_unique_per_tenant() {
    let s = TestServer::start().await;
    s.create_bot(&s.admin("t1"), "same").await;
    let body = s
        .gql(
            &s.admin("t1"),
            CREATE,
            json!({ "input": { "name": "same" } }),
        )
        .await;
    assert_code(&body, "CONFLICT");
    s.create_bot(&s.admin("t2"), "same").await;
}

#[tokio::test]
async fn update_bot_changes_only_what_is_given() {
    let s = TestServer::start().await;
    let admin = s.admin("t1");
    let id = s.create_bot(&admin, "orig").await;
    s.clock.advance(chrono::TimeDelta::minutes(5));
    let q = "mutation($id: UUID!, $input: UpdateBotInput!) { updateBot(id: $id, input: $input) {
        name sessionTimeout lastMessagesKept promotion { mode names } createdAt updatedAt } }";
    let data = s
        .ok(&admin, q, json!({ "id": id, "input": { "sessionTimeout": "90s", "promotion": { "mode": "NONE" } } }))
        .await;
    let bot = &data["updateBot"];
    assert_eq!(bot["name"], "orig");
    assert_eq!(bot["sessionTimeout"], "90s");
    assert_eq!(bot["promotion"]["mode"], "NONE");
    assert_eq!(bot["createdAt"], "2030-01-15T12:00:00Z");
    assert_eq!(bot["updatedAt"], "2030-01-15T12:05:00Z");

    let body = s
        .gql(
            &admin,
            q,
            json!({ "id": id, "input": { "lastMessagesKept": 5000 } }),
        )
        .await;
    assert_code(&body, "BAD_USER_INPUT");
    let other = s.create_bot(&admin, "other").await;
    let body = s
        .gql(
            &admin,
            q,
            json!({ "id": other, "input": { "name": "orig" } }),
        )
        .await;
    assert_code(&body, "CONFLICT");
    let body = s
        .gql(
            &admin,
            q,
            json!({ "id": uuid::Uuid::now_v7(), "input": { "name": "z" } }),
        )
        .await;
    assert_code(&body, "NOT_FOUND");
    let data = s
        .ok(
            &admin,
            "query($id: UUID!) { bot(id: $id) { lastMessagesKept name } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        data["bot"],
        json!({ "lastMessagesKept": 20, "name": "orig" })
    );
}

#[tokio::test]
async fn bots_paginate_with_stable_cursors() {
    let s = TestServer::start().await;
    let admin = s.admin("t1");
    let mut ids = vec![];
    for i in 0..5 {
        ids.push(s.create_bot(&admin, &format!("bot{i}")).await);
    }
    let q = "query($first: Int, $after: String) { bots(first: $first, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }";
    let mut seen = vec![];
    let mut after = serde_json::Value::Null;
    loop {
        let data = s.ok(&admin, q, json!({ "first": 2, "after": after })).await;
        let page = &data["bots"];
        assert_eq!(
            page["totalCount"],
            ids.len(),
            "counts every bot, not just this page"
        );
        for edge in page["edges"].as_array().unwrap() {
            seen.push(edge["node"]["id"].as_str().unwrap().to_owned());
        }
        if !page["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
        // A bot created mid-way appears at the end, not in the middle.
        if seen.len() == 2 {
            ids.push(s.create_bot(&admin, "late").await);
        }
    }
    assert_eq!(seen, ids, "every bot once, in creation order");

    let default_page = s
        .ok(&admin, "{ bots { edges { node { id } } } }", json!({}))
        .await;
    assert_eq!(default_page["bots"]["edges"].as_array().unwrap().len(), 6);
    for (vars, field) in [
        (json!({ "first": -1 }), "first"),
        (json!({ "first": 101 }), "first"),
        (json!({ "first": 2, "after": "not-a-cursor" }), "after"),
    ] {
        let body = s.gql(&admin, q, vars).await;
        assert_code(&body, "BAD_USER_INPUT");
        assert_eq!(body["errors"][0]["extensions"]["field"], field);
    }
}

/// Rows of `bot` in every table that holds a bot's data, counted in the
/// database itself.
async fn rows_of_bot(s: &TestServer, bot: &str) -> [u64; 6] {
    use entity::{conversation, kv_entry, memory, message, user, variable};
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let db = sea_orm::Database::connect(&s.superuser_url())
        .await
        .unwrap();
    let id: uuid::Uuid = bot.parse().unwrap();
    let conversations = conversation::Entity::find()
        .filter(conversation::Column::BotId.eq(id))
        .all(&db)
        .await
        .unwrap();
    let messages = message::Entity::find()
        .filter(message::Column::ConversationId.is_in(conversations.iter().map(|c| c.id)))
        .count(&db)
        .await
        .unwrap();
    let counts = [
        user::Entity::find()
            .filter(user::Column::BotId.eq(id))
            .count(&db)
            .await
            .unwrap(),
        conversations.len() as u64,
        messages,
        memory::Entity::find()
            .filter(memory::Column::BotId.eq(id))
            .count(&db)
            .await
            .unwrap(),
        variable::Entity::find()
            .filter(variable::Column::BotId.eq(id))
            .count(&db)
            .await
            .unwrap(),
        kv_entry::Entity::find()
            .filter(kv_entry::Column::BotId.eq(id))
            .count(&db)
            .await
            .unwrap(),
    ];
    db.close().await.ok();
    counts
}

#[tokio::test]
async fn delete_bot_deletes_its_users_and_conversations() {
    let s = TestServer::start().await;
    let admin = s.admin("t1");
    let doomed = s.create_bot(&admin, "doomed").await;
    let kept = s.create_bot(&admin, "kept").await;
    let c1 = s.start_conversation(&admin, &doomed, "u1").await;
    let c2 = s.start_conversation(&admin, &kept, "u1").await;
    // Memory of every scope, KV entries and messages for both bots.
    for (bot, c) in [(&doomed, &c1), (&kept, &c2)] {
        let refs = [
            json!({ "scope": "BOT", "botId": bot }),
            json!({ "scope": "USER", "userId": c["user"]["id"] }),
            json!({ "scope": "CONVERSATION", "conversationId": c["id"] }),
            json!({ "scope": "TEMP", "conversationId": c["id"] }),
        ];
        for r in refs {
            s.ok(
                &admin,
                "mutation($r: MemoryRef!) { setVariable(input: { ref: $r, name: \"x\", value: 1 }) { version } }",
                json!({ "r": r }),
            )
            .await;
        }
        s.ok(
            &admin,
            "mutation($b: UUID!) { kvSet(input: { botId: $b, key: \"k\", value: 1 }) { version } }",
            json!({ "b": bot }),
        )
        .await;
        s.ok(
            &admin,
            "mutation($c: UUID!) { appendMessage(conversationId: $c, input: { direction: INCOMING, text: \"hi\" }) { id } }",
            json!({ "c": c["id"] }),
        )
        .await;
    }
    assert_eq!(rows_of_bot(&s, &doomed).await, [1, 1, 1, 4, 4, 1]);

    let del = "mutation($id: UUID!) { deleteBot(id: $id) }";
    assert_eq!(
        s.ok(&admin, del, json!({ "id": doomed })).await["deleteBot"],
        true
    );
    assert_code(
        &s.gql(&admin, del, json!({ "id": doomed })).await,
        "NOT_FOUND",
    );

    let q = "query($c1: UUID!, $u1: UUID!, $c2: UUID!, $b: UUID!) {
        c1: conversation(id: $c1) { id } u1: user(id: $u1) { id }
        c2: conversation(id: $c2) { id } b: bot(id: $b) { id } }";
    let data = s
        .ok(
            &admin,
            q,
            json!({ "c1": c1["id"], "u1": c1["user"]["id"], "c2": c2["id"], "b": doomed }),
        )
        .await;
    assert_eq!(data["c1"], json!(null));
    assert_eq!(data["u1"], json!(null));
    assert_eq!(data["b"], json!(null));
    assert_eq!(
        data["c2"]["id"], c2["id"],
        "another bot's data is untouched"
    );
    // users, conversations, messages, memories, variables, KV entries
    assert_eq!(rows_of_bot(&s, &doomed).await, [0; 6], "rows left behind");
    assert_eq!(rows_of_bot(&s, &kept).await, [1, 1, 1, 4, 4, 1]);
}
