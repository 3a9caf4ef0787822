//! Message logs: appended with activity on a live conversation and trimmed to
//! the bot's window in the same transaction; read newest last, batched.
use chrono::{DateTime, Utc};
use std::collections::HashMap;

use entity::StoredJson;
use entity::message;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::{Store, Tx, scoped, scoped_delete};
use crate::{
    error::{Error, Result},
    model::{Conversation, ConversationId, TenantId},
    model::{Direction, Message},
};

fn direction_str(d: Direction) -> &'static str {
    match d {
        Direction::Incoming => "incoming",
        Direction::Outgoing => "outgoing",
    }
}

fn to_domain(m: message::Model) -> Result<Message> {
    let direction = match m.direction.as_str() {
        "incoming" => Direction::Incoming,
        "outgoing" => Direction::Outgoing,
        _ => return Err(Error::internal(format!("message {}: bad direction", m.id))),
    };
    Ok(Message {
        id: m.id,
        direction,
        text: m.text,
        payload: m.payload.map(|p| p.0),
        at: m.at,
    })
}

impl Store {
    /// The newest `last` messages of each conversation, oldest first, in
    /// one statement. Appends trim each log to its bot's `lastMessagesKept`,
    /// so reading whole logs and cutting here stays bounded.
    pub async fn messages(
        &self,
        tenant: &TenantId,
        conversations: &[ConversationId],
        last: usize,
    ) -> Result<HashMap<ConversationId, Vec<Message>>> {
        let db = self.bound(tenant).await?;
        let rows = scoped::<message::Entity>(tenant)
            .filter(message::Column::ConversationId.is_in(conversations.iter().map(|c| c.0)))
            .order_by_desc(message::Column::Id)
            .all(&db)
            .await?;
        let mut logs: HashMap<ConversationId, Vec<Message>> =
            conversations.iter().map(|c| (*c, vec![])).collect();
        for row in rows {
            if let Some(log) = logs.get_mut(&ConversationId(row.conversation_id))
                && log.len() < last
            {
                log.push(to_domain(row)?);
            }
        }
        logs.values_mut().for_each(|log| log.reverse());
        Ok(logs)
    }
}

impl Tx {
    /// Appends to a live conversation (marking activity, and returning it
    /// as touched) and trims the log to the `keep` newest.
    pub async fn append_message(
        &self,
        conversation: ConversationId,
        m: &Message,
        keep: u64,
        expires_at: DateTime<Utc>,
    ) -> Result<Conversation> {
        let tenant = self.tenant();
        let touched = self
            .touch_conversation(conversation, m.at, expires_at)
            .await?
            .ok_or(Error::ConversationEnded)?;
        message::ActiveModel {
            tenant_id: Set(tenant.as_str().to_owned()),
            conversation_id: Set(conversation.0),
            id: Set(m.id),
            direction: Set(direction_str(m.direction).into()),
            text: Set(m.text.clone()),
            payload: Set(m.payload.clone().map(StoredJson)),
            at: Set(m.at),
        }
        .insert(self.db())
        .await?;
        let of_conversation = || {
            scoped::<message::Entity>(tenant)
                .filter(message::Column::ConversationId.eq(conversation.0))
        };
        // The newest message that falls out of the window, if any.
        let cut = of_conversation()
            .order_by_desc(message::Column::Id)
            .offset(keep)
            .limit(1)
            .one(self.db())
            .await?;
        if let Some(cut) = cut {
            scoped_delete::<message::Entity>(tenant)
                .filter(message::Column::ConversationId.eq(conversation.0))
                .filter(message::Column::Id.lte(cut.id))
                .exec(self.db())
                .await?;
        }
        Ok(touched)
    }
}
