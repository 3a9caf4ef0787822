//! What changed, as subscribers see it. Writers stage events on their
//! write transaction; the store publishes them after commit
//! ([`crate::store`]).
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::{BotId, Conversation, MemoryOp, OwnerKey, Scope, TenantId, UserId};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MemoryEvent {
    pub tenant: TenantId,
    pub op: MemoryOp,
    pub bot_id: BotId,
    pub scope: Scope,
    pub owner_id: Uuid,
    pub name: String,
    pub value: Option<Value>,
    pub version: i64,
    pub memory_version: i64,
    pub at: DateTime<Utc>,
}

impl MemoryEvent {
    /// A variable the janitor removed (rule 2): an `EXPIRED` change whose
    /// version steps past the variable's last one, in the memory's new
    /// version.
    pub fn expired(
        tenant: &TenantId,
        bot_id: BotId,
        key: OwnerKey,
        name: &str,
        last_version: i64,
        memory_version: i64,
        at: DateTime<Utc>,
    ) -> MemoryEvent {
        MemoryEvent {
            tenant: tenant.clone(),
            op: MemoryOp::Expired,
            bot_id,
            scope: key.scope,
            owner_id: key.owner_id,
            name: name.to_owned(),
            value: None,
            version: last_version + 1,
            memory_version,
            at,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConversationEventKind {
    Started,
    Activity,
    Ended,
    Expired,
}

impl ConversationEventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationEventKind::Started => "STARTED",
            ConversationEventKind::Activity => "ACTIVITY",
            ConversationEventKind::Ended => "ENDED",
            ConversationEventKind::Expired => "EXPIRED",
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ConversationEvent {
    pub tenant: TenantId,
    pub conversation: Conversation,
    pub kind: ConversationEventKind,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Event {
    Memory(MemoryEvent),
    Conversation(ConversationEvent),
    /// This replica may have missed events (its PostgreSQL listener lost
    /// its connection): every subscription must start over, as on a lag.
    Lost,
    /// A fact every replica may hold in its cache changed or is gone; no
    /// subscriber sees it.
    Forget(Fact),
}

/// What a process caches because it (almost) never changes: which bot a
/// user belongs to, a bot's settings, a tenant's settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fact {
    User(TenantId, UserId),
    /// The bot, and with it the users of that bot.
    Bot(TenantId, BotId),
    Tenant(TenantId),
}

impl Event {
    pub fn conversation(
        tenant: &TenantId,
        conversation: &Conversation,
        kind: ConversationEventKind,
        at: DateTime<Utc>,
    ) -> Event {
        Event::Conversation(ConversationEvent {
            tenant: tenant.clone(),
            conversation: conversation.clone(),
            kind,
            at,
        })
    }

    /// The tenant and bot an event belongs to; `None` for `Lost`, which
    /// concerns every subscriber.
    pub fn route(&self) -> Option<(&TenantId, BotId)> {
        match self {
            Event::Memory(e) => Some((&e.tenant, e.bot_id)),
            Event::Conversation(e) => Some((&e.tenant, e.conversation.bot_id)),
            Event::Lost | Event::Forget(_) => None,
        }
    }

    pub fn tenant(&self) -> Option<&TenantId> {
        match self {
            Event::Memory(e) => Some(&e.tenant),
            Event::Conversation(e) => Some(&e.tenant),
            Event::Forget(Fact::User(t, _) | Fact::Bot(t, _) | Fact::Tenant(t)) => Some(t),
            Event::Lost => None,
        }
    }
}
