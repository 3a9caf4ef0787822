//! What the janitor needs from the database besides memory writes (which
//! go through [`Tx`] like any other): claiming due tenants (the one query
//! that reads across tenants, by design: it is the scheduler), its run
//! records, and idempotent maintenance of one tenant in bounded batches
//! (expired KV entries, message-log trims), which emits no events.

use chrono::{DateTime, Utc};
use entity::{conversation, janitor_run, kv_entry, message, tenant};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Expr, ExprTrait, Func, LockBehavior, LockType},
};
use uuid::Uuid;

use super::{Store, Tx, conversations, rls, scoped, scoped_delete, scoped_update};
use crate::{
    error::Result,
    model::{BotId, ConversationId, TenantId},
    model::{Claimed, Conversation, JanitorRun, JanitorTrigger, Page, PageRequest, SweepCounts},
};

fn to_run(m: janitor_run::Model) -> JanitorRun {
    JanitorRun {
        id: m.id,
        trigger: if m.trigger == "manual" {
            JanitorTrigger::Manual
        } else {
            JanitorTrigger::Schedule
        },
        started_at: m.started_at,
        finished_at: m.finished_at,
        counts: SweepCounts {
            variables_expired: m.variables_expired,
            kv_entries_expired: m.kv_entries_expired,
            conversations_expired: m.conversations_expired,
            messages_trimmed: m.messages_trimmed,
        },
        error: m.error,
    }
}

impl Store {
    /// Claims up to `limit` tenants whose sweep is due and whose lease is
    /// free, leasing them until `lease_until`. Rows another replica is
    /// claiming right now are skipped, not waited for.
    pub async fn claim_due_tenants(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<Claimed>> {
        let (tx, _gate) = self.housekeeping().await?;
        let due = tenant::Entity::find()
            .filter(tenant::Column::NextJanitorAt.lte(now))
            .filter(
                Condition::any()
                    .add(tenant::Column::JanitorLeaseUntil.is_null())
                    .add(tenant::Column::JanitorLeaseUntil.lt(now)),
            )
            .order_by_asc(tenant::Column::NextJanitorAt)
            .limit(limit)
            .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
            .all(&tx)
            .await?;
        let ids: Vec<String> = due.iter().map(|t| t.id.clone()).collect();
        if !ids.is_empty() {
            tenant::Entity::update_many()
                .col_expr(tenant::Column::JanitorLeaseUntil, Expr::value(lease_until))
                .filter(tenant::Column::Id.is_in(ids))
                .exec(&tx)
                .await?;
        }
        tx.commit().await?;
        Ok(due
            .into_iter()
            .filter_map(|t| {
                Some(Claimed {
                    tenant: TenantId::parse(&t.id).ok()?,
                    schedule: t.janitor_schedule,
                })
            })
            .collect())
    }

    /// Claims one tenant now (a manual run); false if a sweep holds it.
    pub async fn claim_tenant(
        &self,
        id: &TenantId,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<bool> {
        let db = self.bound(id).await?;
        let result = scoped_update::<tenant::Entity>(id)
            .col_expr(tenant::Column::JanitorLeaseUntil, Expr::value(lease_until))
            .filter(
                Condition::any()
                    .add(tenant::Column::JanitorLeaseUntil.is_null())
                    .add(tenant::Column::JanitorLeaseUntil.lt(now)),
            )
            .exec(&db)
            .await?;
        rls::finish(db).await?;
        Ok(result.rows_affected > 0)
    }

    /// Frees the lease; `next` (when given) is the next scheduled sweep.
    pub async fn release_tenant(
        &self,
        id: &TenantId,
        next: Option<Option<DateTime<Utc>>>,
    ) -> Result<()> {
        let db = self.bound(id).await?;
        let mut update = scoped_update::<tenant::Entity>(id).col_expr(
            tenant::Column::JanitorLeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        );
        if let Some(next) = next {
            update = update.col_expr(tenant::Column::NextJanitorAt, Expr::value(next));
        }
        update.exec(&db).await?;
        rls::finish(db).await
    }

    /// Starts a run record; a run left unfinished by a dead process is
    /// marked interrupted first (the lease guarantees it is not running).
    pub async fn start_run(
        &self,
        id: &TenantId,
        trigger: JanitorTrigger,
        now: DateTime<Utc>,
    ) -> Result<JanitorRun> {
        let db = self.bound(id).await?;
        scoped_update::<janitor_run::Entity>(id)
            .col_expr(janitor_run::Column::FinishedAt, Expr::value(now))
            .col_expr(
                janitor_run::Column::Error,
                Expr::value("interrupted: the process stopped mid-sweep"),
            )
            .filter(janitor_run::Column::FinishedAt.is_null())
            .exec(&db)
            .await?;
        let row = janitor_run::ActiveModel {
            tenant_id: Set(id.as_str().to_owned()),
            id: Set(Uuid::now_v7()),
            trigger: Set(match trigger {
                JanitorTrigger::Schedule => "schedule",
                JanitorTrigger::Manual => "manual",
            }
            .into()),
            started_at: Set(now),
            finished_at: Set(None),
            variables_expired: Set(0),
            kv_entries_expired: Set(0),
            conversations_expired: Set(0),
            messages_trimmed: Set(0),
            error: Set(None),
        }
        .insert(&db)
        .await?;
        rls::finish(db).await?;
        Ok(to_run(row))
    }

    pub async fn finish_run(&self, id: &TenantId, run: &JanitorRun) -> Result<()> {
        let db = self.bound(id).await?;
        scoped_update::<janitor_run::Entity>(id)
            .col_expr(
                janitor_run::Column::FinishedAt,
                Expr::value(run.finished_at),
            )
            .col_expr(
                janitor_run::Column::VariablesExpired,
                Expr::value(run.counts.variables_expired),
            )
            .col_expr(
                janitor_run::Column::KvEntriesExpired,
                Expr::value(run.counts.kv_entries_expired),
            )
            .col_expr(
                janitor_run::Column::ConversationsExpired,
                Expr::value(run.counts.conversations_expired),
            )
            .col_expr(
                janitor_run::Column::MessagesTrimmed,
                Expr::value(run.counts.messages_trimmed),
            )
            .col_expr(janitor_run::Column::Error, Expr::value(run.error.clone()))
            .filter(janitor_run::Column::Id.eq(run.id))
            .exec(&db)
            .await?;
        rls::finish(db).await
    }

    /// Newest first.
    pub async fn janitor_runs(
        &self,
        id: &TenantId,
        request: &PageRequest,
    ) -> Result<Page<JanitorRun>> {
        let db = self.bound(id).await?;
        let mut select = scoped::<janitor_run::Entity>(id);
        // Cheap: one index range of the tenant's runs.
        let total = select.clone().count(&db).await?;
        if let Some(after) = request.after {
            select = select.filter(janitor_run::Column::Id.lt(after));
        }
        let mut items = select
            .order_by_desc(janitor_run::Column::Id)
            .limit(request.first + 1)
            .all(&db)
            .await?;
        let has_next = items.len() as u64 > request.first;
        items.truncate(request.first as usize);
        Ok(Page {
            items: items.into_iter().map(to_run).collect(),
            has_next,
            has_previous: request.after.is_some(),
            total: Some(total),
        })
    }

    /// Deletes up to `limit` expired KV entries; returns how many.
    pub async fn delete_expired_kv(
        &self,
        id: &TenantId,
        now: DateTime<Utc>,
        limit: u64,
    ) -> Result<u64> {
        let db = self.bound(id).await?;
        let keys: Vec<(Uuid, String)> = scoped::<kv_entry::Entity>(id)
            .filter(kv_entry::Column::ExpiresAt.lte(now))
            .select_only()
            .columns([kv_entry::Column::BotId, kv_entry::Column::Key])
            .limit(limit)
            .into_tuple()
            .all(&db)
            .await?;
        if keys.is_empty() {
            return Ok(0);
        }
        let mut any = Condition::any();
        for (bot, key) in keys {
            any = any.add(
                Condition::all()
                    .add(kv_entry::Column::BotId.eq(bot))
                    .add(kv_entry::Column::Key.eq(key)),
            );
        }
        // Re-checked at delete time: a key rewritten meanwhile is live again.
        let result = scoped_delete::<kv_entry::Entity>(id)
            .filter(any)
            .filter(kv_entry::Column::ExpiresAt.lte(now))
            .exec(&db)
            .await?;
        rls::finish(db).await?;
        Ok(result.rows_affected)
    }

    /// Up to `limit` active conversations past their session timeout.
    pub async fn timed_out_conversations(
        &self,
        id: &TenantId,
        now: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<Conversation>> {
        let db = self.bound(id).await?;
        scoped::<conversation::Entity>(id)
            .filter(conversation::Column::Status.eq("active"))
            .filter(conversation::Column::ExpiresAt.lte(now))
            .order_by_asc(conversation::Column::ExpiresAt)
            .limit(limit)
            .all(&db)
            .await?
            .into_iter()
            .map(conversations::to_domain)
            .collect()
    }

    /// Bots whose `lastMessagesKept` was lowered since their last trim.
    pub async fn bots_pending_trim(&self, id: &TenantId) -> Result<Vec<(BotId, u64)>> {
        let db = self.bound(id).await?;
        let rows: Vec<(Uuid, i32)> = scoped::<entity::bot::Entity>(id)
            .filter(entity::bot::Column::TrimPending.eq(true))
            .select_only()
            .columns([
                entity::bot::Column::Id,
                entity::bot::Column::LastMessagesKept,
            ])
            .into_tuple()
            .all(&db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(b, keep)| (BotId(b), u64::try_from(keep).unwrap_or(0)))
            .collect())
    }

    /// Trims every message log of a bot to its `keep` newest, then clears
    /// the bot's flag; returns messages removed.
    pub async fn trim_message_logs(&self, id: &TenantId, bot: BotId, keep: u64) -> Result<u64> {
        let db = self.bound(id).await?;
        let removed = trim_logs_of(&db, id, bot, keep).await?;
        scoped_update::<entity::bot::Entity>(id)
            .col_expr(entity::bot::Column::TrimPending, Expr::value(false))
            .filter(entity::bot::Column::Id.eq(bot.0))
            .filter(entity::bot::Column::LastMessagesKept.eq(keep as i32))
            .exec(&db)
            .await?;
        rls::finish(db).await?;
        Ok(removed)
    }
}

async fn trim_logs_of(
    db: &impl ConnectionTrait,
    id: &TenantId,
    bot: BotId,
    keep: u64,
) -> Result<u64> {
    let conversations: Vec<Uuid> = scoped::<conversation::Entity>(id)
        .filter(conversation::Column::BotId.eq(bot.0))
        .select_only()
        .column(conversation::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let mut removed = 0;
    for chunk in conversations.chunks(500) {
        let long: Vec<Uuid> = scoped::<message::Entity>(id)
            .filter(message::Column::ConversationId.is_in(chunk.iter().copied()))
            .select_only()
            .column(message::Column::ConversationId)
            .group_by(message::Column::ConversationId)
            .having(Expr::expr(Func::count(Expr::col(message::Column::Id))).gt(keep as i64))
            .into_tuple()
            .all(db)
            .await?;
        for conversation in long {
            removed += trim_log(db, id, ConversationId(conversation), keep).await?;
        }
    }
    Ok(removed)
}

async fn trim_log(
    db: &impl ConnectionTrait,
    id: &TenantId,
    conversation: ConversationId,
    keep: u64,
) -> Result<u64> {
    let cut = scoped::<message::Entity>(id)
        .filter(message::Column::ConversationId.eq(conversation.0))
        .order_by_desc(message::Column::Id)
        .offset(keep)
        .limit(1)
        .one(db)
        .await?;
    let Some(cut) = cut else { return Ok(0) };
    let result = scoped_delete::<message::Entity>(id)
        .filter(message::Column::ConversationId.eq(conversation.0))
        .filter(message::Column::Id.lte(cut.id))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

impl Tx {
    /// Marks a timed-out conversation expired; false if it is not (any
    /// more) due.
    pub async fn expire_conversation(
        &self,
        conversation: ConversationId,
        now: DateTime<Utc>,
        ended_at: DateTime<Utc>,
    ) -> Result<bool> {
        let result = scoped_update::<conversation::Entity>(self.tenant())
            .col_expr(conversation::Column::Status, Expr::value("expired"))
            .col_expr(conversation::Column::EndReason, Expr::value("timeout"))
            .col_expr(conversation::Column::EndedAt, Expr::value(ended_at))
            .col_expr(
                conversation::Column::ExpiresAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(conversation::Column::Id.eq(conversation.0))
            .filter(conversation::Column::Status.eq("active"))
            .filter(conversation::Column::ExpiresAt.lte(now))
            .exec(self.db())
            .await?;
        Ok(result.rows_affected > 0)
    }
}
