//! The right to be forgotten and to a copy: everything stored about one
//! end user, erased or exported.
use serde_json::{Value, json};

use super::{App, ConversationFilter, MAX_PAGE, MemoryRef, PageRequest, Scope};
use crate::{
    error::{Error, Result},
    model::UserId,
    model::{Auth, Capability},
};

fn memory_json(memory: &super::Memory) -> Value {
    Value::Object(
        memory
            .variables
            .iter()
            .map(|v| {
                (
                    v.name.clone(),
                    json!({ "value": v.value, "version": v.version, "expiresAt": v.expires_at, "updatedAt": v.updated_at }),
                )
            })
            .collect(),
    )
}

impl App {
    /// Erases the user, their conversations, messages and all their memory.
    pub async fn delete_user(&self, auth: &Auth, id: UserId) -> Result<bool> {
        auth.require(Capability::Write)?;
        self.user(auth, id).await?.ok_or(Error::NotFound("user"))?;
        let mut tx = self.store.begin(&auth.tenant).await?;
        let deleted = tx.delete_user(id).await?;
        tx.commit().await?;
        Ok(deleted)
    }

    /// Everything stored about one user, as JSON: profile, long-term
    /// memory, and each conversation with its memory, temp memory and
    /// kept messages.
    pub async fn export_user(&self, auth: &Auth, id: UserId) -> Result<Value> {
        let user = self.user(auth, id).await?.ok_or(Error::NotFound("user"))?;
        let long = self
            .memory(
                auth,
                &MemoryRef {
                    scope: Scope::User,
                    bot: None,
                    user: Some(id),
                    conversation: None,
                },
            )
            .await?;
        let mut conversations = Vec::new();
        let mut after = None;
        loop {
            let filter = ConversationFilter {
                bot: None,
                user: Some(id),
                status: None,
            };
            let page = self
                .conversations(
                    auth,
                    filter,
                    PageRequest {
                        first: MAX_PAGE as u64,
                        after,
                    },
                )
                .await?;
            for c in &page.items {
                let short = self
                    .memory(auth, &MemoryRef::of_conversation(Scope::Conversation, c.id))
                    .await?;
                let temp = self
                    .memory(auth, &MemoryRef::of_conversation(Scope::Temp, c.id))
                    .await?;
                let messages = self
                    .messages(auth, c.id, crate::model::MAX_MESSAGES_READ)
                    .await?;
                conversations.push(json!({
                    "id": c.id.0, "botId": c.bot_id.0, "status": format!("{:?}", c.status).to_uppercase(),
                    "endReason": c.end_reason.map(|r| format!("{r:?}").to_uppercase()),
                    "channel": c.channel, "culture": c.culture, "debug": c.debug,
                    "channelProvider": c.channel_provider, "isProxy": c.is_proxy,
                    "startedAt": c.started_at, "lastActivityAt": c.last_activity_at, "endedAt": c.ended_at,
                    "memory": memory_json(&short), "temp": memory_json(&temp),
                    "messages": messages.iter().map(|m| json!({
                        "id": m.id, "direction": format!("{:?}", m.direction).to_uppercase(),
                        "text": m.text, "payload": m.payload, "at": m.at,
                    })).collect::<Vec<_>>(),
                }));
            }
            if !page.has_next {
                break;
            }
            after = page.items.last().map(|c| c.id.0);
        }
        Ok(json!({
            "user": {
                "id": user.id.0, "botId": user.bot_id.0, "channel": user.channel, "externalId": user.external_id,
                "firstName": user.first_name, "lastName": user.last_name, "avatarUrl": user.avatar_url,
                "locale": user.locale, "createdAt": user.created_at,
            },
            "memory": memory_json(&long),
            "conversations": conversations,
        }))
    }
}
