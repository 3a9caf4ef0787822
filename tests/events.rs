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
    events::{Event, EventBus},
    ids::{ConversationId, TenantId},
    store::Store,
};
use common::*;
use serde_json::json;
use tokio::sync::broadcast::Receiver;

fn drain(
    rx: &mut Receiver<Arc<Event>>,
) -> Vec<(MemoryOp, Scope, String, Option<serde_json::Value>, i64, i64)> {
    let mut out = vec![];
    while let Ok(event) = rx.try_recv() {
        if let Event::Memory(m) = &*event {
            out.push((
                m.op,
                m.scope,
                m.name.clone(),
                m.value.clone(),
                m.version,
                m.memory_version,
            ));
        }
    }
    out
}

/// The service on a fresh database, an admin of tenant `t1`, and one bot,
/// observed through its own event bus.
type Service = (TestServer, App, EventBus, Auth, botmem::domain::Bot);

async fn service() -> Service {
    let s = TestServer::start().await;
    let config = Config {
        database_url: s.config.database_url.clone(),
        ..Config::default()
    };
    let bus = EventBus::new(1024);
    let app = App::new(
        Store::connect(&config).await.unwrap(),
        s.clock.clone(),
        bus.clone(),
    );
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
    let bot = app.create_bot(&auth, settings).await.unwrap();
    (s, app, bus, auth, bot)
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
    let (_server, app, bus, auth, bot) = service().await;
    let mut rx = bus.subscribe();
    let conversation = start(&app, &auth, &bot, json!({ "a": 1 })).await;
    assert_eq!(
        drain(&mut rx),
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
        &auth,
        &short,
        Some(json!({ "b": 2, "c": 3 })),
        vec!["a".into()],
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        drain(&mut rx),
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
        app.patch_memory(&auth, &short, Some(json!({ "b": 9 })), vec![], Some(1))
            .await
            .is_err()
    );
    app.patch_memory(&auth, &short, Some(json!({ "b": 2 })), vec![], None)
        .await
        .unwrap();
    assert_eq!(drain(&mut rx), vec![]);

    app.end_conversation(
        &auth,
        ConversationId(conversation.id.0),
        EndReason::Completed,
    )
    .await
    .unwrap();
    assert_eq!(
        drain(&mut rx),
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
    let (s, app, bus, auth, bot) = service().await;
    let conversation = start(&app, &auth, &bot, json!({ "topic": "billing" })).await;
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
    app.set_variable(&auth, &bot_ref, write).await.unwrap();
    let mut rx = bus.subscribe();

    s.clock.advance(chrono::TimeDelta::minutes(31));
    let run = app.run_janitor(&auth).await.unwrap();
    assert_eq!(
        (
            run.counts.variables_expired,
            run.counts.conversations_expired
        ),
        (1, 1)
    );
    let mut memory = vec![];
    let mut sessions = vec![];
    while let Ok(event) = rx.try_recv() {
        match &*event {
            Event::Memory(m) => memory.push((m.op, m.scope, m.name.clone())),
            Event::Conversation(c) => {
                sessions.push((c.kind, c.conversation.id, c.conversation.status))
            }
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
            botmem::events::ConversationEventKind::Expired,
            conversation.id,
            botmem::domain::ConversationStatus::Expired
        )]
    );
}
