//! Subscriptions: live memory and conversation changes, delivered over
//! `/graphql/ws` ([`super::ws`]). Each stream ends with an error when the
//! caller's token expires or when it falls behind the event bus.
use async_graphql::{Context, Json, Object, Result, Subscription};
use futures_util::{Stream, StreamExt};
use uuid::Uuid;

use super::{
    context::{app, auth},
    enums::{MemoryOp, MemoryScope},
    memory::int,
    objects::Conversation,
    scalars::DateTime,
};
use crate::{model as events, model::BotId};

#[derive(Default)]
pub struct SubscriptionRoot;

/// Live changes over WebSocket at `/graphql/ws` (viewer), sent after their transaction commits, in
/// commit order. A stream ends with UNAUTHENTICATED when the token expires, and with
/// SUBSCRIPTION_LAGGED when it falls behind: read the current state and subscribe again.
#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// Every change to memory of this bot; narrow with scope and ownerId.
    async fn memory_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The bot to watch: NOT_FOUND if unknown, FORBIDDEN outside the token's `bots` claim."
        )]
        bot_id: Uuid,
        #[graphql(desc = "Only changes in this scope.")] scope: Option<MemoryScope>,
        #[graphql(desc = "Only changes of this owner: a bot, user or conversation id.")]
        owner_id: Option<Uuid>,
    ) -> Result<impl Stream<Item = Result<MemoryEvent>> + use<>> {
        let stream = app(ctx)
            .watch_memory(auth(ctx)?, BotId(bot_id), scope.map(Into::into), owner_id)
            .await?;
        Ok(stream.map(|e| e.map(MemoryEvent).map_err(|e| super::errors::graphql(&e))))
    }

    /// Conversations of this bot starting, having activity (touch, message, memory write), ending
    /// and expiring.
    async fn conversation_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The bot to watch: NOT_FOUND if unknown, FORBIDDEN outside the token's `bots` claim."
        )]
        bot_id: Uuid,
    ) -> Result<impl Stream<Item = Result<ConversationEvent>> + use<>> {
        let stream = app(ctx)
            .watch_conversations(auth(ctx)?, BotId(bot_id))
            .await?;
        Ok(stream.map(|e| {
            e.map(ConversationEvent)
                .map_err(|e| super::errors::graphql(&e))
        }))
    }
}

pub struct MemoryEvent(events::MemoryEvent);

/// One change to one variable.
#[Object]
impl MemoryEvent {
    /// What happened.
    async fn op(&self) -> MemoryOp {
        self.0.op.into()
    }
    /// The bot whose memory changed.
    async fn bot_id(&self) -> Uuid {
        self.0.bot_id.0
    }
    /// Which memory changed.
    async fn scope(&self) -> MemoryScope {
        self.0.scope.into()
    }
    /// The memory's owner: the bot, the user or the conversation.
    async fn owner_id(&self) -> Uuid {
        self.0.owner_id
    }
    /// The variable's name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The value after the change; null for UNSET, EXPIRED, CLEARED.
    async fn value(&self) -> Option<Json<serde_json::Value>> {
        self.0.value.clone().map(Json)
    }
    /// The variable's version after the change.
    async fn version(&self) -> i32 {
        int(self.0.version)
    }
    /// The memory's version after the operation; shared by every event of one operation.
    async fn memory_version(&self) -> i32 {
        int(self.0.memory_version)
    }
    /// When it changed.
    async fn at(&self) -> DateTime {
        self.0.at.into()
    }
}

pub struct ConversationEvent(events::ConversationEvent);

/// A conversation of the bot started, had activity, ended or expired.
#[Object]
impl ConversationEvent {
    /// The conversation as it was right after the change.
    async fn conversation(&self) -> Conversation {
        Conversation(self.0.conversation.clone())
    }
    /// STARTED, ACTIVITY, ENDED or EXPIRED, as text (kept for the contract; `eventKind` is the same,
    /// typed).
    async fn kind(&self) -> &'static str {
        self.0.kind.as_str()
    }
    /// What happened, as an enum that generated clients can match on.
    async fn event_kind(&self) -> super::enums::ConversationEventKind {
        self.0.kind.into()
    }
    /// When it happened.
    async fn at(&self) -> DateTime {
        self.0.at.into()
    }
}
