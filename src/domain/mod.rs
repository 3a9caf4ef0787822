//! The rules of botmem, free of GraphQL and HTTP. Every operation takes the
//! caller's [`Auth`](crate::auth::Auth), checks it, validates input into
//! typed values, and asks the store.
mod bots;
mod conversations;
mod duration;
mod janitor;
mod kv;
mod memory;
mod messages;
mod page;
mod privacy;
mod schedule;
mod tenants;
mod text;
mod users;
mod value;
mod watch;

pub use bots::{
    Bot, BotChanges, BotSettings, DEFAULT_MESSAGES_KEPT, DEFAULT_SESSION_TIMEOUT, NewBot,
    Promotion, PromotionMode, RetentionPolicy,
};
pub use conversations::{
    Conversation, ConversationFilter, ConversationStatus, EndReason, StartConversation,
    UserSelector,
};
pub use duration::Duration;
pub use janitor::JanitorSettings;
pub use kv::{KvEntry, KvKey, KvWrite};
pub use memory::{
    Change, Expiry, Memory, MemoryOp, MemoryRef, OwnerKey, OwnerMemory, Variable, VariableWrite,
};
pub use messages::{Direction, MAX_MESSAGES_READ, Message, NewMessage};
pub use page::{
    Page, PageRequest, decode_cursor, decode_key_cursor, encode_cursor, encode_key_cursor,
};
pub use schedule::Schedule;
pub use tenants::{Tenant, TenantDefaults, TenantSettings};
pub use text::{Scope, validate_name, validate_optional_text, validate_text};
pub use users::{UpsertUser, User, UserProfile};
pub use value::{MAX_VALUE_DEPTH, check_json, no_nul};

use crate::{clock::Clock, events::EventBus, store::Store};

/// The service: the store, the clock, and where changes are announced.
/// Cheap to clone.
#[derive(Clone)]
pub struct App {
    pub(crate) store: Store,
    pub(crate) clock: Clock,
    pub(crate) janitor: JanitorSettings,
}

impl App {
    pub fn new(store: Store, clock: Clock) -> App {
        App {
            store,
            clock,
            janitor: JanitorSettings::default(),
        }
    }

    pub fn with_janitor(mut self, settings: JanitorSettings) -> App {
        self.janitor = settings;
        self
    }

    /// Committed changes, in commit order.
    pub fn events(&self) -> &EventBus {
        self.store.events()
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    pub fn store(&self) -> &Store {
        &self.store
    }
}
