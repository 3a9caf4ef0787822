//! Events across replicas on PostgreSQL. A writer's events go out with
//! `pg_notify` inside its own transaction, so PostgreSQL delivers them only
//! if it commits, and in commit order, to every listening replica (the
//! writer's own included: one path, one order). A notification holds at
//! most 8000 bytes; events that do not fit are stored in `event_outbox`
//! in the same transaction and the notification names the row.
use std::{sync::Arc, time::Duration};

use entity::event_outbox;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set, Statement,
    sea_query::{Expr, ExprTrait},
    sqlx::postgres::{PgListener, PgNotification},
};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{rls, scoped};
use crate::{
    error::{Error, Result},
    model::Event,
    model::TenantId,
    store::{EventBus, facts::Facts},
};

const CHANNEL: &str = "botmem_events";
/// Below PostgreSQL's 8000-byte payload limit, with room for the envelope.
const MAX_NOTIFY_BYTES: usize = 7_900;
/// Outbox rows outlive the notification that names them by this much; a
/// replica reads them within milliseconds.
const OUTBOX_KEEP: &str = "5 minutes";

#[derive(Serialize, Deserialize)]
enum Notice {
    /// Events, in order.
    Events(Vec<Event>),
    /// Events in an outbox row.
    Outbox { tenant: TenantId, id: Uuid },
}

/// Sends `events` as part of `tx`: packed into as few notifications as fit,
/// in order; an event too large for one notification goes to the outbox,
/// and its place in the order to a notification that points there. Each
/// event is serialized once and notifications are assembled from the
/// pieces ([`HEAD`], [`TAIL`]). The notifications go out together
/// ([`notify_all`]): a janitor batch of 1 000 expired variables needs ~40,
/// and one round trip each was most of the batch's time.
pub(super) async fn send(tx: &impl ConnectionTrait, events: &[Event]) -> Result<()> {
    let mut notices: Vec<String> = vec![];
    let mut pending: Vec<String> = vec![];
    let mut pending_bytes = HEAD.len() + TAIL.len();
    for event in events {
        let json = serde_json::to_string(event).map_err(Error::internal)?;
        let alone = HEAD.len() + json.len() + TAIL.len() > MAX_NOTIFY_BYTES;
        if !pending.is_empty() && (alone || pending_bytes + json.len() + 1 > MAX_NOTIFY_BYTES) {
            notices.push(events_notice(&pending));
            pending.clear();
            pending_bytes = HEAD.len() + TAIL.len();
        }
        if alone {
            let tenant = event.tenant().cloned();
            notices.extend(via_outbox(tx, tenant, format!("[{json}]")).await?);
            continue;
        }
        pending_bytes += json.len() + 1;
        pending.push(json);
    }
    if !pending.is_empty() {
        notices.push(events_notice(&pending));
    }
    notify_all(tx, notices).await
}

/// `events` as the statement that sends them in one notification, if they
/// fit in one: a write can then carry them in its own round trip
/// (`Tx::save_memories`). `None` when they need more (the commit sends them).
pub(super) fn in_one_notification(
    events: &[Event],
) -> Result<Option<sea_orm::sea_query::SelectStatement>> {
    let mut pieces = Vec::with_capacity(events.len());
    let mut bytes = HEAD.len() + TAIL.len();
    for event in events {
        let json = serde_json::to_string(event).map_err(Error::internal)?;
        bytes += json.len() + 1;
        if bytes > MAX_NOTIFY_BYTES {
            return Ok(None);
        }
        pieces.push(json);
    }
    let payload = events_notice(&pieces);
    let call = sea_orm::sea_query::Func::cust("pg_notify").args([CHANNEL.into(), payload.into()]);
    Ok(Some(
        sea_orm::sea_query::Query::select().expr(call).to_owned(),
    ))
}

/// The JSON of `Notice::Events` around already serialized events.
const HEAD: &str = r#"{"Events":["#;
const TAIL: &str = "]}";

/// `Notice::Events` of events serialized one by one, without parsing them again.
fn events_notice(events: &[String]) -> String {
    format!("{HEAD}{}{TAIL}", events.join(","))
}

/// Stores `payload` (a JSON array of events) in the outbox; the notice
/// that points to it (`None` for an event of no tenant).
async fn via_outbox(
    tx: &impl ConnectionTrait,
    tenant: Option<TenantId>,
    payload: String,
) -> Result<Option<String>> {
    let Some(tenant) = tenant else {
        return Ok(None);
    };
    let id = Uuid::now_v7();
    event_outbox::ActiveModel {
        tenant_id: Set(tenant.as_str().to_owned()),
        id: Set(id),
        payload: Set(payload),
        ..Default::default()
    }
    .insert(tx)
    .await?;
    let notice = serde_json::to_string(&Notice::Outbox { tenant, id }).map_err(Error::internal)?;
    Ok(Some(notice))
}

/// Notices sent per statement: `SELECT pg_notify($1, $2), pg_notify($1,
/// $3), …`, whose calls PostgreSQL makes left to right, so in order.
const NOTICES_PER_STATEMENT: usize = 64;

async fn notify_all(tx: &impl ConnectionTrait, notices: Vec<String>) -> Result<()> {
    let mut notices = notices.into_iter().peekable();
    while notices.peek().is_some() {
        let mut values: Vec<sea_orm::Value> = vec![CHANNEL.into()];
        values.extend(notices.by_ref().take(NOTICES_PER_STATEMENT).map(Into::into));
        let calls: Vec<String> = (2..=values.len())
            .map(|i| format!("pg_notify($1, ${i})"))
            .collect();
        tx.execute_raw(Statement::from_sql_and_values(
            tx.get_database_backend(),
            format!("SELECT {}", calls.join(", ")),
            values,
        ))
        .await?;
    }
    Ok(())
}

pub(super) type Listener = PgListener;

/// A listening connection opened ahead (`Store::connect`); `None` if that
/// failed, and `start` tries again and reports why.
pub(super) async fn connect_listener(url: String) -> Option<PgListener> {
    PgListener::connect(&url).await.ok()
}

/// Listens (before returning, so no commit after this call is missed) and
/// relays every notification to `bus` until `cancel`.
pub(super) async fn start(
    early: Option<PgListener>,
    db: DatabaseConnection,
    wall: bool,
    bus: EventBus,
    facts: Arc<Facts>,
    cancel: CancellationToken,
) -> Result<tokio::task::JoinHandle<()>> {
    let mut listener = match early {
        Some(listener) => listener,
        None => PgListener::connect_with(db.get_postgres_connection_pool())
            .await
            .map_err(Error::internal)?,
    };
    listener.listen(CHANNEL).await.map_err(Error::internal)?;
    let relayed = Relayed { bus, facts };
    Ok(tokio::spawn(relay(listener, db, wall, relayed, cancel)))
}

/// Where relayed events go: the cache of facts, then the subscribers.
struct Relayed {
    bus: EventBus,
    facts: Arc<Facts>,
}

impl Relayed {
    fn publish(&self, events: Vec<Event>) {
        self.facts.apply(&events);
        self.bus.publish(events);
    }
}

async fn relay(
    mut listener: PgListener,
    db: DatabaseConnection,
    wall: bool,
    relayed: Relayed,
    cancel: CancellationToken,
) {
    // The first cleanup waits a period: the relay starts while migrations
    // may still be creating the outbox table.
    let period = Duration::from_secs(60);
    let mut cleanup = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = cleanup.tick() => {
                if let Err(e) = delete_old_outbox_rows(&db, wall).await {
                    tracing::warn!(error = %e.operator_message(), "event outbox cleanup failed");
                }
            }
            received = listener.try_recv() => match received {
                Ok(Some(notification)) => {
                    if let Err(e) = deliver(&db, wall, &relayed, &notification).await {
                        tracing::error!(error = %e.operator_message(), "an event notification was lost");
                        relayed.publish(vec![Event::Lost]);
                    }
                }
                // The connection dropped; the next call reconnects and
                // listens again. Whatever was committed meanwhile is gone for
                // this replica: its subscribers must start over.
                Ok(None) => {
                    tracing::warn!("event listener lost its connection; reconnecting");
                    relayed.publish(vec![Event::Lost]);
                }
                Err(e) => {
                    tracing::error!(error = %e, "event listener cannot reconnect; retrying in 1 s");
                    tokio::select! {
                        _ = cancel.cancelled() => return,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            }
        }
    }
}

async fn deliver(
    db: &DatabaseConnection,
    wall: bool,
    relayed: &Relayed,
    n: &PgNotification,
) -> Result<()> {
    let notice: Notice = serde_json::from_str(n.payload()).map_err(Error::internal)?;
    let events = match notice {
        Notice::Events(events) => events,
        Notice::Outbox { tenant, id } => {
            let db = rls::bind(db, wall, tenant.as_str()).await?;
            let row = scoped::<event_outbox::Entity>(&tenant)
                .filter(event_outbox::Column::Id.eq(id))
                .one(&db)
                .await?
                .ok_or_else(|| Error::internal(format!("outbox row {id} is gone")))?;
            serde_json::from_str(&row.payload).map_err(Error::internal)?
        }
    };
    relayed.publish(events);
    Ok(())
}

/// Housekeeping across tenants (rows are only kept for delivery, by age),
/// one of the two paths through the wall ([`rls`]).
async fn delete_old_outbox_rows(db: &DatabaseConnection, wall: bool) -> Result<()> {
    let db = rls::bind(db, wall, rls::ALL_TENANTS).await?;
    event_outbox::Entity::delete_many()
        .filter(
            Expr::col(event_outbox::Column::CreatedAt)
                .lt(Expr::cust(format!("now() - interval '{OUTBOX_KEEP}'"))),
        )
        .exec(&db)
        .await?;
    rls::finish(db).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assembled_notifications_read_back_as_notices() {
        let events = [Event::Lost, Event::Lost];
        let parts: Vec<String> = events
            .iter()
            .map(|e| serde_json::to_string(e).unwrap())
            .collect();
        let assembled = events_notice(&parts);
        let expected = serde_json::to_string(&Notice::Events(events.to_vec())).unwrap();
        assert_eq!(assembled, expected);
    }
}
