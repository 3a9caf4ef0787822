//! Rule 5: every change emits one event per variable, after its
//! transaction commits, in commit order; a refused change emits nothing.
//! Observed on the service's event bus (subscriptions deliver the same).
mod common;

use std::sync::Arc;

use botmem::{
    Config,
    auth::{Auth, Role},
    domain::{
        App, EndReason, MemoryOp, MemoryRef, NewBot, Promotion, Scope, StartConversation,
        UserSelector,
    },
    model::Event,
    model::{ConversationId, TenantId},
    store::Store,
    store::{BusReceiver, EventBus},
};
use common::*;
use serde_json::json;

type Seen = (MemoryOp, Scope, String, Option<serde_json::Value>, i64, i64);

/// Every event committed so far, in order: a marker is written to a second
/// bot's memory and events are read up to it (on PostgreSQL they arrive
/// through NOTIFY, a moment after their commit).
async fn drain_events(svc: &Service, rx: &mut BusReceiver) -> Vec<Arc<Event>> {
    let (_, app, _, auth, _, marker) = svc;
    let marker_ref = MemoryRef {
        scope: Scope::Bot,
        bot: Some(marker.id),
        user: None,
        conversation: None,
    };
    let write = botmem::domain::VariableWrite {
        name: "marker".into(),
        value: json!(uuid::Uuid::new_v4().to_string()),
        expiry: botmem::domain::Expiry::Default,
        expected_version: None,
    };
    app.set_variable(auth, &marker_ref, write).await.unwrap();
    let mut out = vec![];
    loop {
        let event = tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv())
            .await
            .expect("the marker event arrives")
            .unwrap();
        if let Event::Memory(m) = &*event
            && m.bot_id == marker.id
        {
            return out;
        }
        out.push(event);
    }
}

async fn drain(svc: &Service, rx: &mut BusReceiver) -> Vec<Seen> {
    drain_events(svc, rx)
        .await
        .iter()
        .filter_map(|event| match &**event {
            Event::Memory(m) => Some((
                m.op,
                m.scope,
                m.name.clone(),
                m.value.clone(),
                m.version,
                m.memory_version,
            )),
            _ => None,
        })
        .collect()
}

/// The service on a fresh database, an admin of tenant `t1`, and one bot,
/// observed through its own event bus.
/// The last bot only marks where a drain stops.
type Service = (
    TestServer,
    App,
    EventBus,
    Auth,
    botmem::domain::Bot,
    botmem::domain::Bot,
);

async fn service() -> Service {
    let s = TestServer::start().await;
    let config = Config {
        database_url: s.config.database_url.clone(),
        ..Config::default()
    };
    let store = Store::connect(&config).await.unwrap();
    // On PostgreSQL, events reach the bus through the relay, as in `serve`.
    if let Some(relay) = store.start_relay(Default::default()).await.unwrap() {
        std::mem::drop(relay);
    }
    let app = App::new(store, s.clock.clone());
    let bus = app.events().clone();
    let auth = Auth {
        subject: "t".into(),
        tenant: TenantId::parse("t1").unwrap(),
        roles: vec![Role::Admin],
        bots: None,
        expires_at: s.clock.now() + chrono::TimeDelta::days(1),
    };
    app.admit(&auth).await.unwrap();
    let settings = NewBot {
        name: "b".into(),
        session_timeout: botmem::domain::DEFAULT_SESSION_TIMEOUT,
        retention_policies: vec![],
        promotion: Promotion::all(),
        last_messages_kept: 20,
    };
    let bot = app.create_bot(&auth, settings.clone()).await.unwrap();
    let marker = NewBot {
        name: "marker".into(),
        ..settings
    };
    let marker = app.create_bot(&auth, marker).await.unwrap();
    (s, app, bus, auth, bot, marker)
}

/// A conversation of user "u" on channel "web", with prefilled memory.
async fn start(
    app: &App,
    auth: &Auth,
    bot: &botmem::domain::Bot,
    memory: serde_json::Value,
) -> botmem::domain::Conversation {
    let input = StartConversation {
        bot_id: bot.id,
        user: UserSelector::External {
            channel: "web".into(),
            external_id: "u".into(),
        },
        culture: None,
        debug: false,
        channel_provider: None,
        is_proxy: false,
        memory: Some(memory),
    };
    app.start_conversation(auth, input).await.unwrap()
}

#[tokio::test]
async fn rule5_one_event_per_variable_after_commit_in_order() {
    let svc = service().await;
    let (_, app, bus, auth, bot, _) = &svc;
    let mut rx = bus.subscribe_tenant(&auth.tenant);
    let conversation = start(app, auth, bot, json!({ "a": 1 })).await;
    assert_eq!(
        drain(&svc, &mut rx).await,
        vec![(
            MemoryOp::Set,
            Scope::Conversation,
            "a".into(),
            Some(json!(1)),
            1,
            1
        )]
    );

    let short = MemoryRef::of_conversation(Scope::Conversation, conversation.id);
    app.patch_memory(
        auth,
        &short,
        Some(json!({ "b": 2, "c": 3 })),
        vec!["a".into()],
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        drain(&svc, &mut rx).await,
        vec![
            (
                MemoryOp::Set,
                Scope::Conversation,
                "b".into(),
                Some(json!(2)),
                1,
                2
            ),
            (
                MemoryOp::Set,
                Scope::Conversation,
                "c".into(),
                Some(json!(3)),
                1,
                2
            ),
            (MemoryOp::Unset, Scope::Conversation, "a".into(), None, 2, 2),
        ],
        "one event per variable, one memory version for the operation"
    );

    // Refused (CONFLICT) or unchanged writes announce nothing.
    assert!(
        app.patch_memory(auth, &short, Some(json!({ "b": 9 })), vec![], Some(1))
            .await
            .is_err()
    );
    app.patch_memory(auth, &short, Some(json!({ "b": 2 })), vec![], None)
        .await
        .unwrap();
    assert_eq!(drain(&svc, &mut rx).await, vec![]);

    app.end_conversation(
        auth,
        ConversationId(conversation.id.0),
        EndReason::Completed,
    )
    .await
    .unwrap();
    assert_eq!(
        drain(&svc, &mut rx).await,
        vec![
            (
                MemoryOp::Promoted,
                Scope::User,
                "b".into(),
                Some(json!(2)),
                1,
                1
            ),
            (
                MemoryOp::Promoted,
                Scope::User,
                "c".into(),
                Some(json!(3)),
                1,
                1
            ),
            (
                MemoryOp::Cleared,
                Scope::Conversation,
                "b".into(),
                None,
                2,
                3
            ),
            (
                MemoryOp::Cleared,
                Scope::Conversation,
                "c".into(),
                None,
                2,
                3
            ),
        ]
    );
}

#[tokio::test]
async fn janitor_sweeps_announce_expired_variables_and_sessions() {
    let svc = service().await;
    let (s, app, bus, auth, bot, _) = &svc;
    let conversation = start(app, auth, bot, json!({ "topic": "billing" })).await;
    let bot_ref = MemoryRef {
        scope: Scope::Bot,
        bot: Some(bot.id),
        user: None,
        conversation: None,
    };
    let write = botmem::domain::VariableWrite {
        name: "otp".into(),
        value: json!(1),
        expiry: botmem::domain::Expiry::In(botmem::domain::Duration::parse("1m").unwrap()),
        expected_version: None,
    };
    app.set_variable(auth, &bot_ref, write).await.unwrap();
    let mut rx = bus.subscribe_tenant(&auth.tenant);
    // On PostgreSQL the writes above may still be on their way.
    drain_events(&svc, &mut rx).await;

    s.clock.advance(chrono::TimeDelta::minutes(31));
    let run = app.run_janitor(auth).await.unwrap();
    assert_eq!(
        (
            run.counts.variables_expired,
            run.counts.conversations_expired
        ),
        (1, 1)
    );
    let mut memory = vec![];
    let mut sessions = vec![];
    for event in drain_events(&svc, &mut rx).await {
        match &*event {
            Event::Memory(m) => memory.push((m.op, m.scope, m.name.clone())),
            Event::Conversation(c) => {
                sessions.push((c.kind, c.conversation.id, c.conversation.status))
            }
            Event::Lost => panic!("no event may be lost here"),
            Event::Forget(fact) => panic!("subscribers never see {fact:?}"),
        }
    }
    assert_eq!(
        memory,
        vec![
            (MemoryOp::Expired, Scope::Bot, "otp".to_string()),
            (MemoryOp::Promoted, Scope::User, "topic".to_string()),
            (MemoryOp::Cleared, Scope::Conversation, "topic".to_string()),
        ]
    );
    assert_eq!(
        sessions,
        vec![(
            botmem::model::ConversationEventKind::Expired,
            conversation.id,
            botmem::domain::ConversationStatus::Expired
        )]
    );
}

/// Rule 5 over the wire: a write that fails after its events were staged
/// (here: the variables quota, checked last) announces nothing; and a
/// subscriber that reads the moment an event arrives sees the committed
/// value, as events leave only after the commit.
#[tokio::test]
async fn a_late_failure_announces_nothing_and_events_follow_the_commit() {
    use common::ws::*;
    let w = World::start_with(|c| c.quota_variables_per_memory = 3).await;
    let s = &w.s;
    let mut ws = WsClient::connect(&s.base, Some(TRANSPORT)).await;
    ws.init(&w.token).await;
    ws.subscribe("m", MEMORY_CHANGED, json!({ "bot": w.bot }))
        .await;
    let set = "mutation($r: MemoryRef!, $n: String!, $v: JSON!) { setVariable(input: { ref: $r, name: $n, value: $v }) { version } }";
    until_live(&mut ws, "m", "memoryChanged", |k| {
        let w = &w;
        async move {
            w.gql(
                set,
                json!({ "r": w.bot_ref(), "n": "probe", "v": format!("probe-{k}") }),
            )
            .await;
            format!("probe-{k}")
        }
    })
    .await;

    let too_many: Vec<_> = (0..4)
        .map(|i| json!({ "ref": w.conv_ref(), "name": format!("staged-{i}"), "value": i }))
        .collect();
    let refused = w
        .gql(
            "mutation($i: [SetVariableInput!]!) { setVariables(inputs: $i) { version } }",
            json!({ "i": too_many }),
        )
        .await;
    assert_code(&refused, "QUOTA_EXCEEDED");

    let read = "query($r: MemoryRef!) { variable(ref: $r, name: \"counter\") { value version } }";
    for i in 0..20 {
        let writer = {
            let (http, url, token, r) = (
                reqwest::Client::new(),
                s.url("/graphql"),
                w.token.clone(),
                w.conv_ref(),
            );
            tokio::spawn(async move {
                http.post(url)
                    .bearer_auth(token)
                    .json(&json!({ "query": set, "variables": { "r": r, "n": "counter", "v": i } }))
                    .send()
                    .await
                    .unwrap()
            })
        };
        let event = ws.next_data("m", "memoryChanged").await;
        assert_eq!(
            event["name"], "counter",
            "an event of the refused write: {event}"
        );
        assert_eq!(event["value"], i);
        let seen = w.gql(read, json!({ "r": w.conv_ref() })).await;
        let variable = &seen["data"]["variable"];
        assert!(
            variable["version"].as_i64() >= event["version"].as_i64(),
            "read {variable} right after the event {event}: the commit came later"
        );
        assert_eq!(writer.await.unwrap().status(), 200);
    }
}
