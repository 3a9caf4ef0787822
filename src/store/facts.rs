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
    future::Future,
    hash::Hash,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

use crate::{
    error::Result,
    model::{Bot, BotId, Event, Fact, Tenant, TenantId, UserId},
};

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

impl Facts {
    pub fn new() -> Facts {
        Facts {
            epoch: AtomicU64::new(0),
            user_bots: Shelf::new(),
            bots: Shelf::new(),
            tenants: Shelf::new(),
        }
    }

    /// The cached value, or `load`'s, stored unless something was
    /// forgotten while `load` ran (checked under the shelf's lock, which
    /// [`Facts::forget`] also takes). Absent values are not cached.
    ///
    /// `load` makes its read only on a miss, and that read is boxed: a
    /// database read's future is kilobytes, and held inline it made every
    /// future that awaits a lookup as large, copied each time one was built
    /// and handed on, hit or miss (`memmove` was the top symbol of a cached
    /// memory read's profile).
    async fn through<K, V, F, L>(&self, shelf: &Shelf<K, V>, key: K, load: L) -> Result<Option<V>>
    where
        K: Eq + Hash,
        V: Clone,
        L: FnOnce() -> F,
        F: Future<Output = Result<Option<V>>> + Send,
    {
        if let Some(value) = shelf.get(&key) {
            return Ok(Some(value));
        }
        let seen = self.epoch.load(Ordering::Acquire);
        let value = Box::pin(load()).await?;
        if let Some(value) = &value {
            let mut map = shelf.lock();
            if self.epoch.load(Ordering::Acquire) == seen {
                if map.len() >= MAX_ENTRIES {
                    map.clear();
                }
                map.insert(key, value.clone());
            }
        }
        Ok(value)
    }

    pub async fn user_bot<F: Future<Output = Result<Option<BotId>>> + Send>(
        &self,
        tenant: &TenantId,
        user: UserId,
        load: impl FnOnce() -> F,
    ) -> Result<Option<BotId>> {
        self.through(&self.user_bots, (tenant.clone(), user), load)
            .await
    }

    pub async fn bot<F: Future<Output = Result<Option<Bot>>> + Send>(
        &self,
        tenant: &TenantId,
        id: BotId,
        load: impl FnOnce() -> F,
    ) -> Result<Option<Bot>> {
        self.through(&self.bots, (tenant.clone(), id), load).await
    }

    pub async fn tenant<F: Future<Output = Result<Option<Tenant>>> + Send>(
        &self,
        id: &TenantId,
        load: impl FnOnce() -> F,
    ) -> Result<Option<Tenant>> {
        self.through(&self.tenants, id.clone(), load).await
    }

    /// Applies the `Forget` (and `Lost`) events among committed `events`.
    pub fn apply(&self, events: &[Event]) {
        for event in events {
            match event {
                Event::Forget(fact) => self.forget(Some(fact)),
                Event::Lost => self.forget(None),
                Event::Memory(_) | Event::Conversation(_) => {}
            }
        }
    }

    /// Removes what `fact` names; `None` empties every shelf. Every shelf
    /// is locked while the epoch moves, so no reader can check the old
    /// epoch and then insert after the removal.
    fn forget(&self, fact: Option<&Fact>) {
        let (mut users, mut bots, mut tenants) =
            (self.user_bots.lock(), self.bots.lock(), self.tenants.lock());
        self.epoch.fetch_add(1, Ordering::AcqRel);
        match fact {
            Some(Fact::User(tenant, user)) => {
                users.remove(&(tenant.clone(), *user));
            }
            Some(Fact::Bot(tenant, bot)) => {
                bots.remove(&(tenant.clone(), *bot));
                users.retain(|(t, _), b| !(t == tenant && b == bot));
            }
            Some(Fact::Tenant(tenant)) => {
                tenants.remove(tenant);
            }
            None => {
                users.clear();
                bots.clear();
                tenants.clear();
            }
        }
    }
}
