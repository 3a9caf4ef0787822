//! Message logs of conversations: appended (activity, rule 6) and read newest
//! last.
use serde_json::Value;
use uuid::Uuid;

use super::{App, MemoryRef};
use crate::{
    error::{Error, Result},
    model::*,
};

impl App {
    pub async fn append_message(
        &self,
        auth: &Auth,
        conversation: ConversationId,
        input: NewMessage,
    ) -> Result<Message> {
        auth.require(Capability::Write)?;
        if input.text.is_none() && input.payload.as_ref().is_none_or(Value::is_null) {
            return Err(Error::bad_input(
                "input",
                "a message needs text or a payload",
            ));
        }
        if input
            .text
            .as_ref()
            .is_some_and(|t| t.chars().count() > MAX_TEXT_CHARS)
        {
            return Err(Error::bad_input(
                "text",
                format!("must be at most {MAX_TEXT_CHARS} characters"),
            ));
        }
        if let Some(text) = &input.text {
            no_nul("text", text)?;
        }
        if let Some(payload) = &input.payload {
            let max = self.max_value_bytes(auth).await?;
            self.check_value("payload", payload, max)?;
        }
        let target = self
            .resolve(
                auth,
                Capability::Write,
                &MemoryRef::of_conversation(Scope::Conversation, conversation),
            )
            .await?;
        target.conversation.ok_or(Error::NotFound("conversation"))?;
        let now = self.clock.now();
        let message = Message {
            id: Uuid::now_v7(),
            direction: input.direction,
            text: input.text,
            payload: input.payload.filter(|p| !p.is_null()),
            at: now,
        };
        let expires_at = now + target.bot.session_timeout.as_timedelta();
        let keep = target.bot.last_messages_kept.max(0) as u64;
        let mut tx = self.store.begin(&auth.tenant).await?;
        let touched = tx
            .append_message(conversation, &message, keep, expires_at)
            .await?;
        tx.stage([super::conversations::activity(auth, &touched, now)]);
        tx.commit().await?;
        Ok(message)
    }

    /// The newest `last` messages, oldest first.
    pub async fn messages(
        &self,
        auth: &Auth,
        conversation: ConversationId,
        last: i32,
    ) -> Result<Vec<Message>> {
        self.resolve(
            auth,
            Capability::Read,
            &MemoryRef::of_conversation(Scope::Conversation, conversation),
        )
        .await?;
        let mut logs = self.message_logs(auth, &[conversation], last).await?;
        Ok(logs.remove(&conversation).unwrap_or_default())
    }

    /// The newest `last` messages of each conversation, in one read: the
    /// nested `messages` of a page of conversations the caller has read.
    pub async fn message_logs(
        &self,
        auth: &Auth,
        conversations: &[ConversationId],
        last: i32,
    ) -> Result<std::collections::HashMap<ConversationId, Vec<Message>>> {
        auth.require(Capability::Read)?;
        if !(0..=MAX_MESSAGES_READ).contains(&last) {
            return Err(Error::bad_input(
                "last",
                format!("must be between 0 and {MAX_MESSAGES_READ}"),
            ));
        }
        self.store
            .messages(&auth.tenant, conversations, last as usize)
            .await
    }
}
