//! Users and conversations: find-or-create, profile updates, sessions that
//! time out by the server's clock, listing and filters.
mod common;

use chrono::TimeDelta;
use common::*;
use serde_json::json;

const UPSERT: &str = "mutation($input: UpsertUserInput!) { upsertUser(input: $input) {
  id botId channel externalId firstName lastName avatarUrl locale createdAt } }";

#[tokio::test]
async fn upsert_user_finds_or_creates_and_keeps_omitted_fields() {
    let s = TestServer::start().await;
    let editor = s.token("t1", "editor");
    let bot = s.create_bot(&s.admin("t1"), "b").await;
    let first = s
        .ok(
            &editor,
            UPSERT,
            json!({ "input": { "botId": bot, "channel": "web", "externalId": "42",
            "firstName": "Ada", "locale": "en-GB", "avatarUrl": "https://img.example/a.png" } }),
        )
        .await["upsertUser"]
        .clone();
    assert_eq!(first["firstName"], "Ada");
    let again = s
        .ok(&editor, UPSERT, json!({ "input": { "botId": bot, "channel": "web", "externalId": "42", "lastName": "Lovelace" } }))
        .await["upsertUser"]
        .clone();
    assert_eq!(
        again["id"], first["id"],
        "same bot+channel+externalId is the same user"
    );
    assert_eq!(again["firstName"], "Ada", "omitted fields stay");
    assert_eq!(again["lastName"], "Lovelace");
    assert_eq!(again["locale"], "en-GB");

    let other_channel = s
        .ok(
            &editor,
            UPSERT,
            json!({ "input": { "botId": bot, "channel": "sms", "externalId": "42" } }),
        )
        .await;
    assert_ne!(other_channel["upsertUser"]["id"], first["id"]);

    for (input, field) in [
        (
            json!({ "botId": bot, "channel": "", "externalId": "1" }),
            "channel",
        ),
        (
            json!({ "botId": bot, "channel": "web", "externalId": "  " }),
            "externalId",
        ),
        (
            json!({ "botId": bot, "channel": "web", "externalId": "1", "locale": "not a locale!" }),
            "locale",
        ),
        (
            json!({ "botId": bot, "channel": "web", "externalId": "1", "avatarUrl": "javascript:alert(1)" }),
            "avatarUrl",
        ),
    ] {
        let body = s.gql(&editor, UPSERT, json!({ "input": input })).await;
        assert_code(&body, "BAD_USER_INPUT");
        assert_eq!(body["errors"][0]["extensions"]["field"], field);
    }
    let body = s
        .gql(&editor, UPSERT, json!({ "input": { "botId": uuid::Uuid::now_v7(), "channel": "web", "externalId": "1" } }))
        .await;
    assert_code(&body, "NOT_FOUND");

    let q = "query($bot: UUID!) { bot(id: $bot) { users { totalCount } one: users(externalId: \"42\") { totalCount } } }";
    let data = s.ok(&editor, q, json!({ "bot": bot })).await;
    assert_eq!(data["bot"]["users"]["totalCount"], 2);
    assert_eq!(
        data["bot"]["one"]["totalCount"], 2,
        "externalId 42 on web and on sms"
    );
}

#[tokio::test]
async fn concurrent_upserts_of_one_user_create_one_user() {
    let s = TestServer::start().await;
    let editor = s.token("t1", "editor");
    let bot = s.create_bot(&s.admin("t1"), "b").await;
    let input = json!({ "input": { "botId": bot, "channel": "web", "externalId": "race" } });
    let calls = (0..8).map(|_| s.gql(&editor, UPSERT, input.clone()));
    let results = futures_util::future::join_all(calls).await;
    let ids: std::collections::HashSet<String> = results
        .iter()
        .map(|b| {
            b["data"]["upsertUser"]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("{b}"))
                .to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 1);
}

const START: &str = "mutation($input: StartConversationInput!) { startConversation(input: $input) {
  id botId status endReason channel culture debug channelProvider isProxy
  startedAt lastActivityAt expiresAt endedAt user { id externalId } } }";

#[tokio::test]
async fn start_conversation_by_user_id_or_by_channel_and_external_id() {
    let s = TestServer::start().await;
    let editor = s.token("t1", "editor");
    let bot = s.create_bot(&s.admin("t1"), "b").await;
    let data = s
        .ok(
            &editor,
            START,
            json!({ "input": { "botId": bot, "channel": "telegram", "externalId": "7",
            "culture": "de-DE", "debug": true, "channelProvider": "twilio", "isProxy": true } }),
        )
        .await;
    let c = &data["startConversation"];
    assert_eq!(c["status"], "ACTIVE");
    assert_eq!(c["endReason"], json!(null));
    assert_eq!(c["channel"], "telegram");
    assert_eq!(c["culture"], "de-DE");
    assert_eq!(c["debug"], true);
    assert_eq!(c["channelProvider"], "twilio");
    assert_eq!(c["isProxy"], true);
    assert_eq!(c["startedAt"], "2030-01-15T12:00:00Z");
    assert_eq!(
        c["expiresAt"], "2030-01-15T12:30:00Z",
        "default session timeout 30m"
    );
    assert_eq!(c["user"]["externalId"], "7");

    let user = c["user"]["id"].clone();
    let data = s
        .ok(
            &editor,
            START,
            json!({ "input": { "botId": bot, "userId": user } }),
        )
        .await;
    let c2 = &data["startConversation"];
    assert_eq!(c2["user"]["id"], user);
    assert_eq!(c2["channel"], "telegram", "the channel is the user's");
    assert_eq!(c2["debug"], false);
    assert_eq!(c2["isProxy"], false);

    for input in [
        json!({ "botId": bot }),
        json!({ "botId": bot, "userId": user, "channel": "web", "externalId": "1" }),
        json!({ "botId": bot, "channel": "web" }),
        json!({ "botId": bot, "userId": user, "culture": "??" }),
    ] {
        assert_code(
            &s.gql(&editor, START, json!({ "input": input })).await,
            "BAD_USER_INPUT",
        );
    }
    let other_bot = s.create_bot(&s.admin("t1"), "other").await;
    let body = s
        .gql(
            &editor,
            START,
            json!({ "input": { "botId": other_bot, "userId": user } }),
        )
        .await;
    assert_code(&body, "NOT_FOUND");

    let q =
        "query($u: UUID!) { user(id: $u) { conversations { totalCount edges { node { id } } } } }";
    let data = s.ok(&editor, q, json!({ "u": user })).await;
    assert_eq!(data["user"]["conversations"]["totalCount"], 2);
}

#[tokio::test]
async fn session_times_out_by_the_clock_and_touch_restarts_it() {
    let s = TestServer::start().await;
    let admin = s.admin("t1");
    let bot = s.create_bot(&admin, "b").await;
    s.ok(
        &admin,
        "mutation($id: UUID!) { updateBot(id: $id, input: { sessionTimeout: \"10m\" }) { id } }",
        json!({ "id": bot }),
    )
    .await;
    let c = s.start_conversation(&admin, &bot, "u1").await;
    let touch =
        "mutation($id: UUID!) { touchConversation(id: $id) { status lastActivityAt expiresAt } }";
    let read = "query($id: UUID!) { conversation(id: $id) { status endReason expiresAt endedAt } }";

    s.clock.advance(TimeDelta::minutes(9));
    let data = s.ok(&admin, touch, json!({ "id": c["id"] })).await;
    assert_eq!(
        data["touchConversation"]["lastActivityAt"],
        "2030-01-15T12:09:00Z"
    );
    assert_eq!(
        data["touchConversation"]["expiresAt"],
        "2030-01-15T12:19:00Z"
    );

    s.clock.advance(TimeDelta::minutes(9));
    let data = s.ok(&admin, read, json!({ "id": c["id"] })).await;
    assert_eq!(
        data["conversation"]["status"], "ACTIVE",
        "touched 9 minutes ago: still live"
    );

    s.clock.advance(TimeDelta::minutes(1));
    let data = s.ok(&admin, read, json!({ "id": c["id"] })).await;
    assert_eq!(
        data["conversation"],
        json!({ "status": "EXPIRED", "endReason": "TIMEOUT", "expiresAt": null, "endedAt": "2030-01-15T12:19:00Z" }),
        "expired for readers at once, before any janitor"
    );
    assert_code(
        &s.gql(&admin, touch, json!({ "id": c["id"] })).await,
        "CONVERSATION_ENDED",
    );
    let missing = s
        .gql(&admin, touch, json!({ "id": uuid::Uuid::now_v7() }))
        .await;
    assert_code(&missing, "NOT_FOUND");
}

#[tokio::test]
async fn conversations_filter_by_status() {
    let s = TestServer::start().await;
    let admin = s.admin("t1");
    let bot = s.create_bot(&admin, "b").await;
    let old = s.start_conversation(&admin, &bot, "u1").await;
    s.clock.advance(TimeDelta::minutes(20));
    let fresh = s.start_conversation(&admin, &bot, "u2").await;
    s.clock.advance(TimeDelta::minutes(15));
    let q = "query($b: UUID!) { bot(id: $b) {
        all: conversations { totalCount }
        active: conversations(status: ACTIVE) { totalCount edges { node { id } } }
        expired: conversations(status: EXPIRED) { totalCount edges { node { id status } } }
        ended: conversations(status: ENDED) { totalCount } } }";
    let data = s.ok(&admin, q, json!({ "b": bot })).await;
    let b = &data["bot"];
    assert_eq!(b["all"]["totalCount"], 2);
    assert_eq!(b["active"]["totalCount"], 1);
    assert_eq!(b["active"]["edges"][0]["node"]["id"], fresh["id"]);
    assert_eq!(b["expired"]["totalCount"], 1);
    assert_eq!(
        b["expired"]["edges"][0]["node"],
        json!({ "id": old["id"], "status": "EXPIRED" })
    );
    assert_eq!(b["ended"]["totalCount"], 0);
}

/// The end of a conversation raced from three sides at once: writers
/// (`setVariable`, `appendMessage`), `endConversation`, and the session
/// timeout passing with a janitor sweep. Whoever wins, the conversation is
/// finalized once, its memory is promoted once, every write that was
/// acknowledged is in the promoted memory (none was accepted after the
/// promotion's snapshot), and every refused write says CONVERSATION_ENDED.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ending_raced_by_writers_and_the_janitor_promotes_once_and_loses_nothing() {
    let w = World::new().await;
    let s = &w.s;
    s.ok(
        &w.token,
        "mutation($id: UUID!) { updateBot(id: $id, input: { sessionTimeout: \"10m\" }) { id } }",
        json!({ "id": w.bot }),
    )
    .await;
    for round in 0..8 {
        let c = s
            .start_conversation(&w.token, &w.bot, &format!("racer{round}"))
            .await;
        let (conversation, user) = (
            c["id"].as_str().unwrap().to_owned(),
            c["user"]["id"].as_str().unwrap().to_owned(),
        );
        let conv_ref = json!({ "scope": "CONVERSATION", "conversationId": conversation });
        let user_ref = json!({ "scope": "USER", "userId": user });
        let set = "mutation($r: MemoryRef!, $n: String!, $v: JSON!) { setVariable(input: { ref: $r, name: $n, value: $v }) { version } }";
        s.ok(&w.token, set, json!({ "r": conv_ref, "n": "seed", "v": 0 }))
            .await;
        let read = "query($r: MemoryRef!) { memory(ref: $r) { version json } }";
        let before = s.ok(&w.token, read, json!({ "r": user_ref })).await["memory"]["version"]
            .as_i64()
            .unwrap();

        let (url, token) = (s.url("/graphql"), w.token.clone());
        let post = move |query: &'static str, variables: serde_json::Value| {
            let (http, url, token) = (reqwest::Client::new(), url.clone(), token.clone());
            async move {
                let body = json!({ "query": query, "variables": variables });
                let answer = http
                    .post(url)
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                answer.json::<serde_json::Value>().await.unwrap()
            }
        };
        let writers: Vec<_> = (0..4)
            .map(|i| {
                let (post, conv_ref) = (post.clone(), conv_ref.clone());
                tokio::spawn(async move {
                    let mut acked = None;
                    for value in 1..=25 {
                        let answer = post(
                            set,
                            json!({ "r": conv_ref, "n": format!("w{i}"), "v": value }),
                        )
                        .await;
                        match answer["errors"][0]["extensions"]["code"].as_str() {
                            None => acked = Some(value),
                            Some("CONVERSATION_ENDED") => break,
                            Some(other) => panic!("a write failed with {other}: {answer}"),
                        }
                    }
                    (format!("w{i}"), acked)
                })
            })
            .collect();
        let messages = {
            let (post, conversation) = (post.clone(), conversation.clone());
            tokio::spawn(async move {
                let mut acked = 0;
                for n in 0..25 {
                    let answer = post(
                        "mutation($c: UUID!, $t: String!) { appendMessage(conversationId: $c, input: { direction: INCOMING, text: $t }) { id } }",
                        json!({ "c": conversation, "t": format!("m{n}") }),
                    )
                    .await;
                    match answer["errors"][0]["extensions"]["code"].as_str() {
                        None => acked += 1,
                        Some("CONVERSATION_ENDED") => break,
                        Some(other) => panic!("a message failed with {other}: {answer}"),
                    }
                }
                acked
            })
        };
        let ender = {
            let (post, conversation) = (post.clone(), conversation.clone());
            tokio::spawn(async move {
                tokio::time::sleep(std::time::Duration::from_millis(round * 3)).await;
                post(
                    "mutation($c: UUID!) { endConversation(id: $c) { status } }",
                    json!({ "c": conversation }),
                )
                .await
            })
        };
        let janitor = {
            let (post, clock) = (post.clone(), s.clock.clone());
            tokio::spawn(async move {
                tokio::time::sleep(std::time::Duration::from_millis(12 - round)).await;
                clock.advance(TimeDelta::minutes(11));
                post(
                    "mutation { runJanitor { conversationsExpired } }",
                    json!({}),
                )
                .await
            })
        };
        let mut acked_writes = vec![];
        for writer in writers {
            acked_writes.push(writer.await.unwrap());
        }
        let acked_messages = messages.await.unwrap();
        let ended = ender.await.unwrap();
        let swept = janitor.await.unwrap();

        let state = s
            .ok(
                &w.token,
                "query($c: UUID!, $u: MemoryRef!) { conversation(id: $c) { status messages(last: 100) { text } } memory(ref: $u) { version json } }",
                json!({ "c": conversation, "u": user_ref }),
            )
            .await;
        let status = state["conversation"]["status"].as_str().unwrap();
        let by_end = ended["data"]["endConversation"]["status"] == "ENDED";
        match status {
            "ENDED" => assert!(
                by_end,
                "round {round}: ENDED, but endConversation said {ended}"
            ),
            "EXPIRED" => assert!(
                !by_end,
                "round {round}: EXPIRED after endConversation succeeded"
            ),
            other => panic!("round {round}: conversation left {other}"),
        }
        // The sweep answered (it may also expire earlier rounds' idle
        // conversations, so its count is not this round's alone).
        assert!(swept["errors"].is_null(), "{swept}");
        // One promotion: the user's memory changed exactly once.
        assert_eq!(
            state["memory"]["version"].as_i64().unwrap(),
            before + 1,
            "round {round}: the user's memory was promoted more or less than once: {state}"
        );
        let promoted = &state["memory"]["json"];
        assert_eq!(promoted["seed"], 0, "round {round}: {promoted}");
        for (name, acked) in acked_writes {
            match acked {
                Some(value) => assert_eq!(
                    promoted[&name], value,
                    "round {round}: {name}={value} was acknowledged but not promoted: {promoted}"
                ),
                None => assert!(promoted.get(&name).is_none(), "{promoted}"),
            }
        }
        let logged = state["conversation"]["messages"].as_array().unwrap().len();
        assert_eq!(
            logged, acked_messages,
            "round {round}: acknowledged messages lost or extra"
        );
    }
}
