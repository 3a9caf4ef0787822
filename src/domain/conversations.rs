//! Conversations: started (with the user found or created, and memory
//! prefilled), touched by activity, ended with promotion of short-term memory
//! (rule 6).
use super::App;
use crate::{
    error::{Error, Result},
    model::*,
};

impl App {
    pub async fn start_conversation(
        &self,
        auth: &Auth,
        input: StartConversation,
    ) -> Result<Conversation> {
        let bot = self.bot_for(auth, Capability::Write, input.bot_id).await?;
        let prefill = match input.memory {
            Some(memory) => {
                let max = self.max_value_bytes(auth).await?;
                Some(super::memory::object_entries(self, "memory", memory, max)?)
            }
            None => None,
        };
        let user = match input.user {
            UserSelector::Id(id) => UserSelector::Id(id),
            UserSelector::External {
                channel,
                external_id,
            } => {
                let checked = UpsertUser {
                    bot_id: bot.id,
                    channel,
                    external_id,
                    profile: UserProfile::default(),
                }
                .validate()?;
                UserSelector::External {
                    channel: checked.channel,
                    external_id: checked.external_id,
                }
            }
        };
        let now = self.clock.now();
        let draft = Conversation {
            id: ConversationId::generate(),
            bot_id: bot.id,
            // Filled in by the store once the user is resolved.
            user_id: UserId(uuid::Uuid::nil()),
            status: ConversationStatus::Active,
            end_reason: None,
            channel: String::new(),
            culture: crate::model::validate_locale("culture", input.culture.as_deref())?,
            debug: input.debug,
            channel_provider: validate_optional_text(
                "channelProvider",
                input.channel_provider.as_deref(),
                100,
            )?,
            is_proxy: input.is_proxy,
            started_at: now,
            last_activity_at: now,
            expires_at: Some(now + bot.session_timeout.as_timedelta()),
            ended_at: None,
        };
        let prefill = prefill
            .map(|entries| super::memory::prefilled(&bot, draft.id, entries, now))
            .transpose()?;
        let mut tx = self.store.begin(&auth.tenant).await?;
        let started = tx
            .start_conversation(&user, draft, prefill.as_ref())
            .await?;
        tx.stage([Event::conversation(
            &auth.tenant,
            &started,
            ConversationEventKind::Started,
            now,
        )]);
        if let Some(memory) = &prefill {
            tx.stage(super::memory::change_events(&auth.tenant, memory, now).collect::<Vec<_>>());
        }
        tx.commit().await?;
        Ok(started)
    }

    pub async fn conversation(
        &self,
        auth: &Auth,
        id: ConversationId,
    ) -> Result<Option<Conversation>> {
        auth.require(Capability::Read)?;
        let found = self.store.find_conversation(&auth.tenant, id).await?;
        let now = self.clock.now();
        Ok(found
            .filter(|c| auth.may_see_bot(c.bot_id))
            .map(|c| c.as_seen_at(now)))
    }

    /// Marks activity: the session timeout starts again from now.
    pub async fn touch_conversation(
        &self,
        auth: &Auth,
        id: ConversationId,
    ) -> Result<Conversation> {
        auth.require(Capability::Write)?;
        let now = self.clock.now();
        let conversation = self
            .store
            .find_conversation(&auth.tenant, id)
            .await?
            .filter(|c| auth.may_see_bot(c.bot_id))
            .ok_or(Error::NotFound("conversation"))?;
        let bot = self
            .bot_for(auth, Capability::Write, conversation.bot_id)
            .await?;
        let expires_at = now + bot.session_timeout.as_timedelta();
        let mut tx = self.store.begin(&auth.tenant).await?;
        let touched = tx
            .touch_conversation(id, now, expires_at)
            .await?
            .ok_or(Error::ConversationEnded)?;
        tx.stage([activity(auth, &touched, now)]);
        tx.commit().await?;
        Ok(touched)
    }

    /// Conversations of a bot or of a user, as the filter says.
    pub async fn conversations(
        &self,
        auth: &Auth,
        filter: ConversationFilter,
        page: PageRequest,
    ) -> Result<Page<Conversation>> {
        auth.require(Capability::Read)?;
        if let Some(bot) = filter.bot {
            auth.require_bot(Capability::Read, bot)?;
        }
        let now = self.clock.now();
        let page = self
            .store
            .list_conversations(&auth.tenant, &filter, now, &page)
            .await?;
        page.try_map(|c| Ok(c.as_seen_at(now)))
    }
}

/// Rule 6: a write to a conversation's memory or messages is activity.
pub(super) fn activity(
    auth: &Auth,
    conversation: &Conversation,
    at: chrono::DateTime<chrono::Utc>,
) -> Event {
    Event::conversation(
        &auth.tenant,
        conversation,
        ConversationEventKind::Activity,
        at,
    )
}
