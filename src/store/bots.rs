//! Bots and their settings as rows; deleting a bot deletes its memory and KV
//! entries here, the rest by cascading foreign keys.
use entity::bot;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, PaginatorTrait, QueryFilter};
use serde::{Deserialize, Serialize};

use super::{Store, Tx, conflict_or_internal, page, scoped, scoped_delete};
use crate::{
    error::{Error, Result},
    model::{Bot, Duration, Page, PageRequest, Promotion, PromotionMode, RetentionPolicy, Scope},
    model::{BotId, Fact, Quota, TenantId},
};

const DUPLICATE_NAME: &str = "a bot with this name already exists";

#[derive(Serialize, Deserialize)]
struct StoredPolicy {
    name: String,
    ttl_secs: u64,
    scopes: Vec<String>,
}

fn to_domain(m: bot::Model) -> Result<Bot> {
    let corrupt = |what: &str| Error::internal(format!("bot {}: stored {what} is invalid", m.id));
    let policies: Vec<StoredPolicy> = serde_json::from_value(m.retention_policies.clone())
        .map_err(|_| corrupt("retention_policies"))?;
    let retention_policies = policies
        .into_iter()
        .map(|p| {
            Ok(RetentionPolicy {
                ttl: Duration::from_secs(p.ttl_secs).map_err(|_| corrupt("ttl"))?,
                scopes: p
                    .scopes
                    .iter()
                    .map(|s| Scope::parse(s).ok_or_else(|| corrupt("scope")))
                    .collect::<Result<_>>()?,
                name: p.name,
            })
        })
        .collect::<Result<_>>()?;
    let mode = match m.promotion_mode.as_str() {
        "all" => PromotionMode::All,
        "none" => PromotionMode::None,
        "listed" => PromotionMode::Listed,
        _ => return Err(corrupt("promotion_mode")),
    };
    Ok(Bot {
        id: BotId(m.id),
        session_timeout: Duration::from_secs(m.session_timeout_secs.max(0) as u64)
            .map_err(|_| corrupt("session_timeout"))?,
        retention_policies,
        promotion: Promotion {
            mode,
            names: serde_json::from_value(m.promotion_names.clone())
                .map_err(|_| corrupt("promotion_names"))?,
        },
        last_messages_kept: m.last_messages_kept,
        name: m.name,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn to_row(tenant: &TenantId, bot: &Bot) -> bot::ActiveModel {
    let policies: Vec<StoredPolicy> = bot
        .retention_policies
        .iter()
        .map(|p| StoredPolicy {
            name: p.name.clone(),
            ttl_secs: p.ttl.as_secs(),
            scopes: p.scopes.iter().map(|s| s.as_str().to_owned()).collect(),
        })
        .collect();
    bot::ActiveModel {
        tenant_id: Set(tenant.as_str().to_owned()),
        id: Set(bot.id.0),
        name: Set(bot.name.clone()),
        session_timeout_secs: Set(bot.session_timeout.as_secs() as i64),
        retention_policies: Set(serde_json::to_value(policies).unwrap_or_default()),
        promotion_mode: Set(match bot.promotion.mode {
            PromotionMode::All => "all",
            PromotionMode::None => "none",
            PromotionMode::Listed => "listed",
        }
        .into()),
        promotion_names: Set(serde_json::json!(bot.promotion.names)),
        last_messages_kept: Set(bot.last_messages_kept),
        // A new bot has nothing to trim; `update_bot` decides for changes.
        trim_pending: Set(false),
        created_at: Set(bot.created_at),
        updated_at: Set(bot.updated_at),
    }
}

impl Store {
    /// Cached per process; every change of a bot goes through a [`Tx`]
    /// method that makes every replica forget it.
    pub async fn find_bot(&self, tenant: &TenantId, id: BotId) -> Result<Option<Bot>> {
        let read = || async move {
            let db = self.bound(tenant).await?;
            scoped::<bot::Entity>(tenant)
                .filter(bot::Column::Id.eq(id.0))
                .one(&db)
                .await?
                .map(to_domain)
                .transpose()
        };
        self.facts.bot(tenant, id, read).await
    }

    pub async fn list_bots(
        &self,
        tenant: &TenantId,
        only: Option<&[BotId]>,
        request: &PageRequest,
    ) -> Result<Page<Bot>> {
        let db = self.bound(tenant).await?;
        let mut select = scoped::<bot::Entity>(tenant);
        if let Some(only) = only {
            select = select.filter(bot::Column::Id.is_in(only.iter().map(|b| b.0)));
        }
        page(&db, select, bot::Column::Id, request, true)
            .await?
            .try_map(to_domain)
    }
}

impl Tx {
    pub async fn insert_bot(&self, bot: &Bot) -> Result<()> {
        let tenant = self.tenant();
        if self.quotas.bots.is_some() {
            let bots = scoped::<bot::Entity>(tenant).count(self.db()).await?;
            self.quotas.admit(Quota::Bots, bots + 1)?;
        }
        to_row(tenant, bot)
            .insert(self.db())
            .await
            .map_err(|e| conflict_or_internal(e, DUPLICATE_NAME))?;
        Ok(())
    }

    /// Reads, changes and writes the bot in one transaction.
    pub async fn update_bot(
        &mut self,
        id: BotId,
        change: impl FnOnce(Bot) -> Result<Bot>,
    ) -> Result<Bot> {
        self.forget(Fact::Bot(self.tenant().clone(), id));
        let tenant = self.tenant();
        let current = scoped::<bot::Entity>(tenant)
            .filter(bot::Column::Id.eq(id.0))
            .one(self.db())
            .await?
            .ok_or(Error::NotFound("bot"))?;
        let (kept_before, pending_before) = (current.last_messages_kept, current.trim_pending);
        let updated = change(to_domain(current)?)?;
        let mut row = to_row(tenant, &updated).reset_all();
        row.trim_pending = Set(pending_before || updated.last_messages_kept < kept_before);
        row.update(self.db())
            .await
            .map_err(|e| conflict_or_internal(e, DUPLICATE_NAME))?;
        Ok(updated)
    }

    /// Memory and KV entries are deleted here; users, conversations and
    /// messages go with the bot through cascading foreign keys.
    pub async fn delete_bot(&mut self, id: BotId) -> Result<bool> {
        self.forget(Fact::Bot(self.tenant().clone(), id));
        let tenant = self.tenant();
        super::memory::delete_memories_of_bot(self.db(), tenant, id).await?;
        super::kv::delete_kv_of_bot(self.db(), tenant, id).await?;
        let result = scoped_delete::<bot::Entity>(tenant)
            .filter(bot::Column::Id.eq(id.0))
            .exec(self.db())
            .await?;
        Ok(result.rows_affected > 0)
    }
}
