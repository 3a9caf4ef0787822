//! The key-value store of a bot: set with expiry and compare-and-set, read,
//! listed by prefix, deleted.
use super::App;
use crate::{
    error::{Error, Result},
    model::*,
};

impl App {
    /// A bot's store needs the bot (and the token's `bots` claim); the
    /// tenant-wide store needs a token not limited to some bots.
    async fn kv_access(
        &self,
        auth: &Auth,
        capability: Capability,
        bot: Option<BotId>,
    ) -> Result<()> {
        match bot {
            Some(bot) => self.bot_for(auth, capability, bot).await.map(|_| ()),
            None => auth.require_unrestricted(capability),
        }
    }

    pub async fn kv_set(&self, auth: &Auth, write: KvWrite) -> Result<KvEntry> {
        check_key("key", &write.key.key, false)?;
        let max = self.max_value_bytes(auth).await?;
        self.check_value("value", &write.value, max)?;
        if write.expected_version.is_some_and(|v| v < 0) {
            return Err(Error::bad_input("expectedVersion", "must not be negative"));
        }
        self.kv_access(auth, Capability::Write, write.key.bot)
            .await?;
        let now = self.clock.now();
        let tx = self.store.begin(&auth.tenant).await?;
        let entry = tx
            .kv_write(&write.key, now, |current| {
                plan_kv_write(current, &write, now)
            })
            .await?;
        tx.commit().await?;
        Ok(entry)
    }

    pub async fn kv_get(&self, auth: &Auth, key: KvKey) -> Result<Option<KvEntry>> {
        check_key("key", &key.key, false)?;
        self.kv_access(auth, Capability::Read, key.bot).await?;
        let now = self.clock.now();
        Ok(self
            .store
            .kv_find(&auth.tenant, &key)
            .await?
            .filter(|e| e.is_live(now)))
    }

    pub async fn kv_entries(
        &self,
        auth: &Auth,
        bot: Option<BotId>,
        prefix: Option<&str>,
        first: i32,
        after: Option<&str>,
    ) -> Result<Page<KvEntry>> {
        if !(0..=MAX_KV_PAGE).contains(&first) {
            return Err(Error::bad_input(
                "first",
                format!("must be between 0 and {MAX_KV_PAGE}"),
            ));
        }
        if let Some(prefix) = prefix {
            check_key("prefix", prefix, true)?;
        }
        let after = after.map(super::decode_key_cursor).transpose()?;
        self.kv_access(auth, Capability::Read, bot).await?;
        self.store
            .kv_list(
                &auth.tenant,
                bot,
                prefix,
                first as u64,
                after.as_deref(),
                self.clock.now(),
            )
            .await
    }

    /// True if a live entry was removed.
    pub async fn kv_delete(&self, auth: &Auth, key: KvKey) -> Result<bool> {
        check_key("key", &key.key, false)?;
        self.kv_access(auth, Capability::Write, key.bot).await?;
        let tx = self.store.begin(&auth.tenant).await?;
        let deleted = tx.kv_delete(&key, self.clock.now()).await?;
        tx.commit().await?;
        Ok(deleted)
    }
}
