//! Committed changes, fanned out in commit order. In one process a
//! broadcast channel; a subscriber that falls behind is told it lagged
//! instead of slowing writers or growing memory.
use std::sync::Arc;

use tokio::sync::broadcast;

use crate::model::Event;

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
