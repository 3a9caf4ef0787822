//! Committed changes, fanned out in commit order and routed: each
//! (tenant, bot) has its own broadcast channel, created when its first
//! subscriber arrives and dropped with its last. A subscriber is woken only
//! by events of the bot it watches, so one tenant's burst neither wakes nor
//! lags another tenant's subscribers. A subscriber that falls behind its own
//! channel is told it lagged instead of slowing writers or growing memory.
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard},
};

use tokio::sync::broadcast::{self, error::RecvError};

use crate::model::{BotId, Event, TenantId};

/// Where a subscriber listens: one bot of a tenant, or a whole tenant (for
/// in-process observers that need every event of it, in commit order).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Route {
    Bot(TenantId, BotId),
    Tenant(TenantId),
}

type Channels = HashMap<Route, broadcast::Sender<Arc<Event>>>;

#[derive(Clone)]
pub struct EventBus {
    channels: Arc<Mutex<Channels>>,
    /// Events a route's channel holds for its slowest subscriber.
    capacity: usize,
}

impl EventBus {
    pub fn new(capacity: usize) -> EventBus {
        EventBus {
            channels: Default::default(),
            capacity: capacity.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Channels> {
        self.channels.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// In commit order; never blocks. An event goes to its bot's channel and
    /// its tenant's, if anyone listens there; `Lost` goes everywhere.
    pub fn publish(&self, events: impl IntoIterator<Item = Event>) {
        let channels = self.lock();
        let mut published = 0;
        for event in events {
            published += usize::from(!matches!(event, Event::Forget(_)));
            let event = Arc::new(event);
            match event.route() {
                Some((tenant, bot)) => {
                    for route in [
                        Route::Bot(tenant.clone(), bot),
                        Route::Tenant(tenant.clone()),
                    ] {
                        if let Some(sender) = channels.get(&route) {
                            let _ = sender.send(event.clone());
                        }
                    }
                }
                None if matches!(*event, Event::Forget(_)) => {}
                None => {
                    for sender in channels.values() {
                        let _ = sender.send(event.clone());
                    }
                }
            }
        }
        crate::telemetry::events_published(published);
    }

    /// Events of one bot of `tenant`, from now on.
    pub fn subscribe(&self, tenant: &TenantId, bot: BotId) -> BusReceiver {
        self.listen(Route::Bot(tenant.clone(), bot))
    }

    /// Every event of `tenant`, from now on.
    pub fn subscribe_tenant(&self, tenant: &TenantId) -> BusReceiver {
        self.listen(Route::Tenant(tenant.clone()))
    }

    fn listen(&self, route: Route) -> BusReceiver {
        let mut channels = self.lock();
        let sender = channels
            .entry(route.clone())
            .or_insert_with(|| broadcast::channel(self.capacity).0);
        BusReceiver {
            receiver: sender.subscribe(),
            route,
            bus: self.clone(),
        }
    }

    /// Channels with at least one subscriber (for tests and metrics).
    pub fn routes(&self) -> usize {
        self.lock().len()
    }
}

/// One subscriber's end of its route; the route's channel goes away with
/// its last subscriber.
pub struct BusReceiver {
    receiver: broadcast::Receiver<Arc<Event>>,
    route: Route,
    bus: EventBus,
}

impl BusReceiver {
    pub async fn recv(&mut self) -> Result<Arc<Event>, RecvError> {
        self.receiver.recv().await
    }
}

impl Drop for BusReceiver {
    fn drop(&mut self) {
        let mut channels = self.bus.lock();
        // This receiver still counts until its fields drop.
        if channels
            .get(&self.route)
            .is_some_and(|sender| sender.receiver_count() <= 1)
        {
            channels.remove(&self.route);
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::model::{MemoryEvent, MemoryOp, Scope};

    fn event(tenant: &TenantId, bot: BotId) -> Event {
        Event::Memory(MemoryEvent {
            tenant: tenant.clone(),
            op: MemoryOp::Set,
            bot_id: bot,
            scope: Scope::Bot,
            owner_id: bot.0,
            name: "n".into(),
            value: None,
            version: 1,
            memory_version: 1,
            at: Utc::now(),
        })
    }

    #[tokio::test]
    async fn events_reach_only_their_route_and_routes_go_with_their_last_subscriber() {
        let bus = EventBus::new(4);
        let (a, b) = (TenantId::parse("a").unwrap(), TenantId::parse("b").unwrap());
        let (bot_a, bot_b) = (BotId::generate(), BotId::generate());
        let mut of_b = bus.subscribe(&b, bot_b);
        let mut of_tenant_a = bus.subscribe_tenant(&a);
        // A burst of tenant A, far over the capacity, lags only A's routes.
        bus.publish((0..100).map(|_| event(&a, bot_a)));
        bus.publish([event(&b, bot_b)]);
        let got = of_b.recv().await.unwrap();
        assert_eq!(got.route(), Some((&b, bot_b)));
        assert!(matches!(
            of_tenant_a.recv().await,
            Err(RecvError::Lagged(_))
        ));
        // `Lost` reaches every route.
        bus.publish([Event::Lost]);
        assert!(matches!(*of_b.recv().await.unwrap(), Event::Lost));
        assert_eq!(bus.routes(), 2);
        drop(of_b);
        drop(of_tenant_a);
        assert_eq!(bus.routes(), 0);
    }
}
