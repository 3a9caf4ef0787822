//! Bots: created, changed and deleted by admins; their settings (session
//! timeout, retention policies, promotion) are validated in the model.
use super::App;
use crate::{
    error::{Error, Result},
    model::*,
};

impl App {
    pub async fn create_bot(&self, auth: &Auth, settings: NewBot) -> Result<Bot> {
        auth.require_unrestricted(Capability::Admin)?;
        let s = settings.validate()?;
        let now = self.clock.now();
        let bot = Bot {
            id: BotId::generate(),
            name: s.name,
            session_timeout: s.session_timeout,
            retention_policies: s.retention_policies,
            promotion: s.promotion,
            last_messages_kept: s.last_messages_kept,
            created_at: now,
            updated_at: now,
        };
        let tx = self.store.begin(&auth.tenant).await?;
        tx.insert_bot(&bot).await?;
        tx.commit().await?;
        Ok(bot)
    }

    pub async fn update_bot(&self, auth: &Auth, id: BotId, changes: BotChanges) -> Result<Bot> {
        auth.require_bot(Capability::Admin, id)?;
        let now = self.clock.now();
        let mut tx = self.store.begin(&auth.tenant).await?;
        let updated = tx
            .update_bot(id, |bot| {
                let settings = BotSettings {
                    name: changes.name.unwrap_or(bot.name),
                    session_timeout: changes.session_timeout.unwrap_or(bot.session_timeout),
                    retention_policies: changes
                        .retention_policies
                        .unwrap_or(bot.retention_policies),
                    promotion: changes.promotion.unwrap_or(bot.promotion),
                    last_messages_kept: changes
                        .last_messages_kept
                        .unwrap_or(bot.last_messages_kept),
                }
                .validate()?;
                Ok(Bot {
                    id: bot.id,
                    name: settings.name,
                    session_timeout: settings.session_timeout,
                    retention_policies: settings.retention_policies,
                    promotion: settings.promotion,
                    last_messages_kept: settings.last_messages_kept,
                    created_at: bot.created_at,
                    updated_at: now,
                })
            })
            .await?;
        tx.commit().await?;
        Ok(updated)
    }

    /// Deletes the bot with its users, conversations and everything stored
    /// about them.
    pub async fn delete_bot(&self, auth: &Auth, id: BotId) -> Result<bool> {
        auth.require_bot(Capability::Admin, id)?;
        let mut tx = self.store.begin(&auth.tenant).await?;
        if tx.delete_bot(id).await? {
            tx.commit().await?;
            Ok(true)
        } else {
            Err(Error::NotFound("bot"))
        }
    }

    /// `None` for an unknown bot, one of another tenant, or one outside the
    /// token's `bots` claim.
    pub async fn bot(&self, auth: &Auth, id: BotId) -> Result<Option<Bot>> {
        auth.require(Capability::Read)?;
        if !auth.may_see_bot(id) {
            return Ok(None);
        }
        self.store.find_bot(&auth.tenant, id).await
    }

    /// A bot the caller names to act on: it must exist and be allowed.
    pub(crate) async fn bot_for(
        &self,
        auth: &Auth,
        capability: Capability,
        id: BotId,
    ) -> Result<Bot> {
        auth.require_bot(capability, id)?;
        self.store
            .find_bot(&auth.tenant, id)
            .await?
            .ok_or(Error::NotFound("bot"))
    }

    pub async fn bots(&self, auth: &Auth, page: PageRequest) -> Result<Page<Bot>> {
        auth.require(Capability::Read)?;
        self.store
            .list_bots(&auth.tenant, auth.bots.as_deref(), &page)
            .await
    }
}
