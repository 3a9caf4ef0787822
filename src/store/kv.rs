//! The key-value store: writes lock the entry's row (a placeholder for a new
//! key) so compare-and-set never loses an update; prefix listing in key order.
use chrono::{DateTime, Utc};
use entity::StoredJson;
use entity::kv_entry;
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, Func},
};
use uuid::Uuid;

use super::{Store, Tx, scoped, scoped_delete};
use crate::{
    error::{Error, Result},
    model::{BotId, TenantId},
    model::{KvEntry, KvKey, Page, Quota},
};

fn bot_column(bot: Option<BotId>) -> Uuid {
    bot.map_or(Uuid::nil(), |b| b.0)
}

fn to_domain(m: kv_entry::Model) -> KvEntry {
    KvEntry {
        bot: (!m.bot_id.is_nil()).then_some(BotId(m.bot_id)),
        key: m.key,
        value: m.value.0,
        version: m.version,
        expires_at: m.expires_at,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

fn by_key(tenant: &TenantId, key: &KvKey) -> sea_orm::Select<kv_entry::Entity> {
    scoped::<kv_entry::Entity>(tenant)
        .filter(kv_entry::Column::BotId.eq(bot_column(key.bot)))
        .filter(kv_entry::Column::Key.eq(key.key.as_str()))
}

fn live_at(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(kv_entry::Column::ExpiresAt.is_null())
        .add(kv_entry::Column::ExpiresAt.gt(now))
}

impl Store {
    pub async fn kv_find(&self, tenant: &TenantId, key: &KvKey) -> Result<Option<KvEntry>> {
        let db = self.bound(tenant).await?;
        Ok(by_key(tenant, key).one(&db).await?.map(to_domain))
    }

    /// Live entries in key order, after the cursor key, whose key starts
    /// with `prefix` character for character (compared with `substr`, so
    /// `%` and `_` mean themselves).
    pub async fn kv_list(
        &self,
        tenant: &TenantId,
        bot: Option<BotId>,
        prefix: Option<&str>,
        first: u64,
        after: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Page<KvEntry>> {
        let db = self.bound(tenant).await?;
        let mut select = scoped::<kv_entry::Entity>(tenant)
            .filter(kv_entry::Column::BotId.eq(bot_column(bot)))
            .filter(live_at(now));
        if let Some(prefix) = prefix.filter(|p| !p.is_empty()) {
            // PostgreSQL has substr(text, int, int): bind an int, not a bigint.
            let length = i32::try_from(prefix.chars().count()).unwrap_or(i32::MAX);
            let head = Func::cust("substr")
                .arg(Expr::col(kv_entry::Column::Key))
                .arg(1)
                .arg(length);
            select = select.filter(Expr::expr(head).eq(prefix));
        }
        if let Some(after) = after {
            select = select.filter(kv_entry::Column::Key.gt(after));
        }
        let mut items: Vec<KvEntry> = select
            .order_by_asc(kv_entry::Column::Key)
            .limit(first + 1)
            .all(&db)
            .await?
            .into_iter()
            .map(to_domain)
            .collect();
        let has_next = items.len() as u64 > first;
        items.truncate(first as usize);
        Ok(Page {
            items,
            has_next,
            has_previous: after.is_some(),
            total: None,
        })
    }
}

pub(super) async fn delete_kv_of_bot<C: ConnectionTrait>(
    db: &C,
    tenant: &TenantId,
    bot: BotId,
) -> Result<()> {
    scoped_delete::<kv_entry::Entity>(tenant)
        .filter(kv_entry::Column::BotId.eq(bot.0))
        .exec(db)
        .await?;
    Ok(())
}

impl Tx {
    /// Locks the entry's row and lets `plan` decide its next state. A
    /// missing row is first created as an already-expired placeholder, so
    /// that there is a row to lock and two writers of a new key serialize
    /// (the placeholder is invisible to readers and rolls back with the
    /// transaction).
    pub async fn kv_write(
        &self,
        key: &KvKey,
        now: DateTime<Utc>,
        plan: impl FnOnce(Option<&KvEntry>) -> Result<Option<KvEntry>>,
    ) -> Result<KvEntry> {
        let tenant = self.tenant();
        let placeholder = kv_entry::ActiveModel {
            tenant_id: Set(tenant.as_str().to_owned()),
            bot_id: Set(bot_column(key.bot)),
            key: Set(key.key.clone()),
            value: Set(StoredJson(serde_json::Value::Bool(false))),
            version: Set(0),
            expires_at: Set(Some(DateTime::<Utc>::UNIX_EPOCH)),
            created_at: Set(now),
            updated_at: Set(now),
        };
        kv_entry::Entity::insert(placeholder)
            .on_conflict_do_nothing()
            .exec(self.db())
            .await?;
        let row = by_key(tenant, key)
            .lock_exclusive()
            .one(self.db())
            .await?
            .ok_or_else(|| Error::internal("kv row vanished under lock"))?;
        let current = to_domain(row.clone());
        let next = match plan(Some(&current))? {
            Some(next) => next,
            None => {
                return Ok(current);
            }
        };
        if self.quotas.kv_keys.is_some() && !current.is_live(now) && next.is_live(now) {
            let live = scoped::<kv_entry::Entity>(tenant)
                .filter(live_at(now))
                .count(self.db())
                .await?;
            self.quotas.admit(Quota::KvKeys, live + 1)?;
        }
        let mut active = row.into_active_model();
        active.value = Set(StoredJson(next.value.clone()));
        active.version = Set(next.version);
        active.expires_at = Set(next.expires_at);
        active.created_at = Set(next.created_at);
        active.updated_at = Set(next.updated_at);
        active.update(self.db()).await?;
        Ok(next)
    }

    pub async fn kv_delete(&self, key: &KvKey, now: DateTime<Utc>) -> Result<bool> {
        let tenant = self.tenant();
        let result = scoped_delete::<kv_entry::Entity>(tenant)
            .filter(kv_entry::Column::BotId.eq(bot_column(key.bot)))
            .filter(kv_entry::Column::Key.eq(key.key.as_str()))
            .filter(live_at(now))
            .exec(self.db())
            .await?;
        Ok(result.rows_affected > 0)
    }
}
