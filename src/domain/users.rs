//! End users of a tenant's bots: found or created by external id, profile
//! kept current, listed and deleted.
use super::App;
use crate::{error::Result, model::*};

impl App {
    /// Finds the user by bot, channel and external id, or creates them;
    /// profile fields given are updated.
    pub async fn upsert_user(&self, auth: &Auth, input: UpsertUser) -> Result<User> {
        self.bot_for(auth, Capability::Write, input.bot_id).await?;
        let input = input.validate()?;
        let tx = self.store.begin(&auth.tenant).await?;
        let user = tx.upsert_user(&input, self.clock.now()).await?;
        tx.commit().await?;
        Ok(user)
    }

    pub async fn user(&self, auth: &Auth, id: UserId) -> Result<Option<User>> {
        auth.require(Capability::Read)?;
        let user = self.store.find_user(&auth.tenant, id).await?;
        Ok(user.filter(|u| auth.may_see_bot(u.bot_id)))
    }

    /// Several users in one read (the `user` of a page of conversations).
    pub async fn users(&self, auth: &Auth, ids: &[UserId]) -> Result<Vec<User>> {
        auth.require(Capability::Read)?;
        let users = self.store.find_users(&auth.tenant, ids).await?;
        Ok(users
            .into_iter()
            .filter(|u| auth.may_see_bot(u.bot_id))
            .collect())
    }

    pub async fn bot_users(
        &self,
        auth: &Auth,
        bot: BotId,
        external_id: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<User>> {
        auth.require_bot(Capability::Read, bot)?;
        self.store
            .list_users(&auth.tenant, bot, external_id, &page)
            .await
    }
}
