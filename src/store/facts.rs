//! A per-process cache of facts that (almost) never change and that every
//! request needs before its one statement: which bot a user belongs to, a
//! bot's settings, a tenant's settings. Keys start with the tenant, so a
//! lookup in another tenant misses and reads the database (not found).
//!
//! Every store write that changes such a fact stages an [`Event::Forget`];
//! it is applied here when the transaction commits and, on PostgreSQL, on
//! every other replica when the relay delivers it (milliseconds later: a
//! replica may serve a bot's old settings, or a just-deleted user, for that
//! long). A lost relay connection empties the cache.
//!
//! A reader that missed notes the epoch before it reads the database and
//! stores its result only if nothing was forgotten meanwhile, so a slow
//! read never puts back a fact a commit has just removed.
use std::{
    collections::HashMap,
    hash::Hash,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

use crate::model::{Bot, BotId, Event, Fact, Tenant, TenantId, UserId};

/// Past this many entries a shelf starts over (a simple bound on memory;
/// the hot set refills in one read each).
const MAX_ENTRIES: usize = 100_000;

struct Shelf<K, V>(Mutex<HashMap<K, V>>);

impl<K: Eq + Hash, V: Clone> Shelf<K, V> {
    fn new() -> Self {
        Shelf(Mutex::new(HashMap::new()))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, V>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn get(&self, key: &K) -> Option<V> {
        self.lock().get(key).cloned()
    }
}

pub(super) struct Facts {
    epoch: AtomicU64,
    user_bots: Shelf<(TenantId, UserId), BotId>,
    bots: Shelf<(TenantId, BotId), Bot>,
    tenants: Shelf<TenantId, Tenant>,
}

/// Where a reader stands before it reads the database.
#[derive(Clone, Copy)]
pub(super) struct Epoch(u64);

impl Facts {
    pub fn new() -> Facts {
        Facts {
            epoch: AtomicU64::new(0),
            user_bots: Shelf::new(),
            bots: Shelf::new(),
            tenants: Shelf::new(),
        }
    }

    pub fn epoch(&self) -> Epoch {
        Epoch(self.epoch.load(Ordering::Acquire))
    }

    /// Stores `value` unless something was forgotten since `seen`; checked
    /// under the shelf's lock, which [`Facts::forget`] also takes.
    fn put<K: Eq + Hash, V: Clone>(&self, shelf: &Shelf<K, V>, seen: Epoch, key: K, value: V) {
        let mut map = shelf.lock();
        if self.epoch.load(Ordering::Acquire) != seen.0 {
            return;
        }
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(key, value);
    }

    pub fn user_bot(&self, tenant: &TenantId, user: UserId) -> Option<BotId> {
        self.user_bots.get(&(tenant.clone(), user))
    }

    pub fn put_user_bot(&self, seen: Epoch, tenant: &TenantId, user: UserId, bot: BotId) {
        self.put(&self.user_bots, seen, (tenant.clone(), user), bot);
    }

    pub fn bot(&self, tenant: &TenantId, id: BotId) -> Option<Bot> {
        self.bots.get(&(tenant.clone(), id))
    }

    pub fn put_bot(&self, seen: Epoch, tenant: &TenantId, bot: &Bot) {
        self.put(&self.bots, seen, (tenant.clone(), bot.id), bot.clone());
    }

    pub fn tenant(&self, id: &TenantId) -> Option<Tenant> {
        self.tenants.get(id)
    }

    pub fn put_tenant(&self, seen: Epoch, tenant: &Tenant) {
        self.put(&self.tenants, seen, tenant.id.clone(), tenant.clone());
    }

    /// Applies the `Forget` (and `Lost`) events among committed `events`.
    pub fn apply(&self, events: &[Event]) {
        for event in events {
            match event {
                Event::Forget(fact) => self.forget(fact),
                Event::Lost => self.forget_all(),
                Event::Memory(_) | Event::Conversation(_) => {}
            }
        }
    }

    fn forget(&self, fact: &Fact) {
        // Every shelf is locked while the epoch moves, so no reader can
        // check the old epoch and then insert after the removal.
        let (mut users, mut bots, mut tenants) =
            (self.user_bots.lock(), self.bots.lock(), self.tenants.lock());
        self.epoch.fetch_add(1, Ordering::AcqRel);
        match fact {
            Fact::User(tenant, user) => {
                users.remove(&(tenant.clone(), *user));
            }
            Fact::Bot(tenant, bot) => {
                bots.remove(&(tenant.clone(), *bot));
                users.retain(|(t, _), b| !(t == tenant && b == bot));
            }
            Fact::Tenant(tenant) => {
                tenants.remove(tenant);
            }
        }
    }

    fn forget_all(&self) {
        let (mut users, mut bots, mut tenants) =
            (self.user_bots.lock(), self.bots.lock(), self.tenants.lock());
        self.epoch.fetch_add(1, Ordering::AcqRel);
        users.clear();
        bots.clear();
        tenants.clear();
    }
}
