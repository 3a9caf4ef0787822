//! What a subscription sees of the event bus: the route of its tenant's
//! bot, narrowed further by the caller, until the token expires. A
//! subscriber that falls behind the bus (or a replica that lost its event
//! feed) gets one `SUBSCRIPTION_LAGGED` error and the stream ends: silently
//! skipping events would leave a dashboard showing a wrong memory.

use chrono::{DateTime, Utc};
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use super::{App, Scope};
use crate::{
    clock::Clock,
    error::{Error, Result},
    model::BotId,
    model::{Auth, Capability},
    model::{ConversationEvent, Event, MemoryEvent},
    store::BusReceiver,
};

impl App {
    /// Memory changes of `bot`, optionally of one scope and/or one owner.
    pub async fn watch_memory(
        &self,
        auth: &Auth,
        bot: BotId,
        scope: Option<Scope>,
        owner: Option<Uuid>,
    ) -> Result<impl Stream<Item = Result<MemoryEvent>> + Send + use<>> {
        self.watch_bot(auth, bot, move |event| match event {
            Event::Memory(e)
                if e.bot_id == bot
                    && scope.is_none_or(|s| s == e.scope)
                    && owner.is_none_or(|o| o == e.owner_id) =>
            {
                Some(e.clone())
            }
            _ => None,
        })
        .await
    }

    /// Conversations of `bot` starting, active, ending and expiring.
    pub async fn watch_conversations(
        &self,
        auth: &Auth,
        bot: BotId,
    ) -> Result<impl Stream<Item = Result<ConversationEvent>> + Send + use<>> {
        self.watch_bot(auth, bot, move |event| match event {
            Event::Conversation(e) if e.conversation.bot_id == bot => Some(e.clone()),
            _ => None,
        })
        .await
    }

    /// The caller's tenant's events that `select` keeps, once the caller may
    /// read `bot`. Subscribed before the check: nothing committed after it
    /// is missed.
    async fn watch_bot<T, F>(
        &self,
        auth: &Auth,
        bot: BotId,
        mut select: F,
    ) -> Result<impl Stream<Item = Result<T>> + Send + use<T, F>>
    where
        T: Send,
        F: FnMut(&Event) -> Option<T> + Send,
    {
        let events = self.events().subscribe(&auth.tenant, bot);
        self.bot_for(auth, Capability::Read, bot).await?;
        // The route already is this tenant's bot; checked again all the same.
        let tenant = auth.tenant.clone();
        let of_tenant = move |event: &Event| {
            if event.tenant() == Some(&tenant) {
                select(event)
            } else {
                None
            }
        };
        Ok(watch(
            events,
            self.clock.clone(),
            auth.expires_at,
            of_tenant,
        ))
    }
}

struct Watch<F> {
    events: BusReceiver,
    clock: Clock,
    expires_at: DateTime<Utc>,
    select: F,
}

fn watch<T, F>(
    events: BusReceiver,
    clock: Clock,
    expires_at: DateTime<Utc>,
    select: F,
) -> impl Stream<Item = Result<T>> + Send
where
    T: Send,
    F: FnMut(&Event) -> Option<T> + Send,
{
    let start = Watch {
        events,
        clock,
        expires_at,
        select,
    };
    futures_util::stream::unfold(Some(start), |state| async move {
        let mut w = state?;
        loop {
            tokio::select! {
                biased;
                _ = w.clock.sleep_until(w.expires_at) => {
                    let expired = Error::Unauthenticated(
                        "the token expired: subscribe again with a new one".into(),
                    );
                    return Some((Err(expired), None));
                }
                received = w.events.recv() => match received {
                    Ok(event) => {
                        if let Event::Lost = *event {
                            return Some((Err(Error::Lagged(None)), None));
                        }
                        if let Some(item) = (w.select)(&event) {
                            crate::telemetry::event_delivered();
                            return Some((Ok(item), Some(w)));
                        }
                    }
                    Err(RecvError::Lagged(missed)) => {
                        crate::telemetry::events_dropped(missed);
                        return Some((Err(Error::Lagged(Some(missed))), None));
                    }
                    Err(RecvError::Closed) => return None,
                },
            }
        }
    })
}
