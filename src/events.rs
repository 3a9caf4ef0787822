//! Changes, announced in commit order. In one process a broadcast channel
//! fans them out; a subscriber that falls behind is told it lagged instead
//! of slowing writers or growing memory. Writers never publish here
//! directly: they hand their events to their write transaction, which
//! publishes them after commit (SQLite) or sends them through PostgreSQL
//! NOTIFY, from which every replica's relay publishes them
//! ([`crate::store`]).
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::{
    domain::{Conversation, MemoryOp, Scope},
    ids::{BotId, TenantId},
};

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
}

impl Event {
    pub fn tenant(&self) -> Option<&TenantId> {
        match self {
            Event::Memory(e) => Some(&e.tenant),
            Event::Conversation(e) => Some(&e.tenant),
            Event::Lost => None,
        }
    }
}

#[derive(Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Arc<Event>>,
}

impl EventBus {
    pub fn new(capacity: usize) -> EventBus {
        EventBus {
            sender: broadcast::channel(capacity.max(1)).0,
        }
    }

    /// In commit order; never blocks (no subscriber is fine).
    pub fn publish(&self, events: impl IntoIterator<Item = Event>) {
        for event in events {
            let _ = self.sender.send(Arc::new(event));
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.sender.subscribe()
    }
}
