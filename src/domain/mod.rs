//! The use cases of botmem, free of GraphQL, HTTP and SQL. Every operation
//! takes the caller's [`Auth`](crate::model::Auth), checks it, parses input
//! into model values, applies the model's rules, and writes through one
//! tenant-bound store transaction whose events it stages.
mod bots;
mod conversations;
mod janitor;
mod kv;
mod memory;
mod messages;
mod privacy;
mod templates;
mod tenants;
mod users;
mod watch;

/// The model's types are the domain's vocabulary: callers of the domain
/// name them from here or from [`crate::model`] alike.
pub use crate::model::*;
pub use janitor::JanitorSettings;
pub use memory::{Memory, MemoryRef, VariableWrite};

use crate::{
    clock::Clock,
    store::{EventBus, Store},
};

/// The service: the store, the clock, and where changes are announced.
/// Cheap to clone.
#[derive(Clone)]
pub struct App {
    store: Store,
    clock: Clock,
    janitor: JanitorSettings,
    templates: TemplateLimits,
    /// The writes waiting for their tenant's next group commit.
    groups: std::sync::Arc<memory::Groups>,
}

impl App {
    pub fn new(store: Store, clock: Clock) -> App {
        App {
            store,
            clock,
            janitor: JanitorSettings::default(),
            templates: TemplateLimits::default(),
            groups: Default::default(),
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

    /// Database pool connections: (in use, idle).
    pub fn pool_stats(&self) -> (u32, u32) {
        self.store.pool_stats()
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The database answers and no migration is pending.
    pub async fn ready(&self) -> crate::error::Result<bool> {
        self.store.ready().await
    }
}
