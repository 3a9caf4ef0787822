//! What the janitor needs from the database: claiming due tenants (the one
//! query that reads across tenants, by design: it is the scheduler), and
//! finding expired rows of one tenant in bounded batches.
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use entity::{conversation, janitor_run, kv_entry, message, tenant, variable};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, Func, LockBehavior, LockType},
};
use uuid::Uuid;

use super::{Store, conversations, scoped, scoped_delete, scoped_update};
use crate::{
    error::Result,
    model::{BotId, ConversationId, TenantId},
    model::{
        Claimed, Conversation, ExpiredVariable, JanitorRun, JanitorTrigger, OwnerKey, Page,
        PageRequest, Scope, SweepCounts,
    },
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
        let tx = self.write_tx().await?;
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
            .all(&*tx)
            .await?;
        let ids: Vec<String> = due.iter().map(|t| t.id.clone()).collect();
        if !ids.is_empty() {
            tenant::Entity::update_many()
                .col_expr(tenant::Column::JanitorLeaseUntil, Expr::value(lease_until))
                .filter(tenant::Column::Id.is_in(ids))
                .exec(&*tx)
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
        let result = scoped_update::<tenant::Entity>(id)
            .col_expr(tenant::Column::JanitorLeaseUntil, Expr::value(lease_until))
            .filter(
                Condition::any()
                    .add(tenant::Column::JanitorLeaseUntil.is_null())
                    .add(tenant::Column::JanitorLeaseUntil.lt(now)),
            )
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected > 0)
    }

    /// Frees the lease; `next` (when given) is the next scheduled sweep.
    pub async fn release_tenant(
        &self,
        id: &TenantId,
        next: Option<Option<DateTime<Utc>>>,
    ) -> Result<()> {
        let mut update = scoped_update::<tenant::Entity>(id).col_expr(
            tenant::Column::JanitorLeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        );
        if let Some(next) = next {
            update = update.col_expr(tenant::Column::NextJanitorAt, Expr::value(next));
        }
        update.exec(&self.db).await?;
        Ok(())
    }

    /// Starts a run record; a run left unfinished by a dead process is
    /// marked interrupted first (the lease guarantees it is not running).
    pub async fn start_run(
        &self,
        id: &TenantId,
        trigger: JanitorTrigger,
        now: DateTime<Utc>,
    ) -> Result<JanitorRun> {
        scoped_update::<janitor_run::Entity>(id)
            .col_expr(janitor_run::Column::FinishedAt, Expr::value(now))
            .col_expr(
                janitor_run::Column::Error,
                Expr::value("interrupted: the process stopped mid-sweep"),
            )
            .filter(janitor_run::Column::FinishedAt.is_null())
            .exec(&self.db)
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
        .insert(&self.db)
        .await?;
        Ok(to_run(row))
    }

    pub async fn finish_run(&self, id: &TenantId, run: &JanitorRun) -> Result<()> {
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
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Newest first.
    pub async fn janitor_runs(
        &self,
        id: &TenantId,
        request: &PageRequest,
    ) -> Result<Page<JanitorRun>> {
        let mut select = scoped::<janitor_run::Entity>(id);
        if let Some(after) = request.after {
            select = select.filter(janitor_run::Column::Id.lt(after));
        }
        let mut items = select
            .order_by_desc(janitor_run::Column::Id)
            .limit(request.first + 1)
            .all(&self.db)
            .await?;
        let has_next = items.len() as u64 > request.first;
        items.truncate(request.first as usize);
        Ok(Page {
            items: items.into_iter().map(to_run).collect(),
            has_next,
            total: None,
        })
    }

    /// Deletes up to `limit` expired KV entries; returns how many.
    pub async fn delete_expired_kv(
        &self,
        id: &TenantId,
        now: DateTime<Utc>,
        limit: u64,
    ) -> Result<u64> {
        let keys: Vec<(Uuid, String)> = scoped::<kv_entry::Entity>(id)
            .filter(kv_entry::Column::ExpiresAt.lte(now))
            .select_only()
            .columns([kv_entry::Column::BotId, kv_entry::Column::Key])
            .limit(limit)
            .into_tuple()
            .all(&self.db)
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
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected)
    }

    /// Up to `limit` active conversations past their session timeout.
    pub async fn timed_out_conversations(
        &self,
        id: &TenantId,
        now: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<Conversation>> {
        scoped::<conversation::Entity>(id)
            .filter(conversation::Column::Status.eq("active"))
            .filter(conversation::Column::ExpiresAt.lte(now))
            .order_by_asc(conversation::Column::ExpiresAt)
            .limit(limit)
            .all(&self.db)
            .await?
            .into_iter()
            .map(conversations::to_domain)
            .collect()
    }

    /// Marks a timed-out conversation expired inside the caller's
    /// transaction; false if it is not (any more) due.
    pub async fn expire_conversation_in<C: ConnectionTrait>(
        &self,
        db: &C,
        id: &TenantId,
        conversation: ConversationId,
        now: DateTime<Utc>,
        ended_at: DateTime<Utc>,
    ) -> Result<bool> {
        let result = scoped_update::<conversation::Entity>(id)
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
            .exec(db)
            .await?;
        Ok(result.rows_affected > 0)
    }

    /// Bots whose `lastMessagesKept` was lowered since their last trim.
    pub async fn bots_pending_trim(&self, id: &TenantId) -> Result<Vec<(BotId, u64)>> {
        let rows: Vec<(Uuid, i32)> = scoped::<entity::bot::Entity>(id)
            .filter(entity::bot::Column::TrimPending.eq(true))
            .select_only()
            .columns([
                entity::bot::Column::Id,
                entity::bot::Column::LastMessagesKept,
            ])
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(b, keep)| (BotId(b), u64::try_from(keep).unwrap_or(0)))
            .collect())
    }

    /// Trims every message log of a bot to its `keep` newest, then clears
    /// the bot's flag; returns messages removed.
    pub async fn trim_message_logs(&self, id: &TenantId, bot: BotId, keep: u64) -> Result<u64> {
        let removed = self.trim_logs_of(id, bot, keep).await?;
        scoped_update::<entity::bot::Entity>(id)
            .col_expr(entity::bot::Column::TrimPending, Expr::value(false))
            .filter(entity::bot::Column::Id.eq(bot.0))
            .filter(entity::bot::Column::LastMessagesKept.eq(keep as i32))
            .exec(&self.db)
            .await?;
        Ok(removed)
    }

    async fn trim_logs_of(&self, id: &TenantId, bot: BotId, keep: u64) -> Result<u64> {
        let conversations: Vec<Uuid> = scoped::<conversation::Entity>(id)
            .filter(conversation::Column::BotId.eq(bot.0))
            .select_only()
            .column(conversation::Column::Id)
            .into_tuple()
            .all(&self.db)
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
                .all(&self.db)
                .await?;
            for conversation in long {
                removed += self
                    .trim_log(id, ConversationId(conversation), keep)
                    .await?;
            }
        }
        Ok(removed)
    }

    async fn trim_log(
        &self,
        id: &TenantId,
        conversation: ConversationId,
        keep: u64,
    ) -> Result<u64> {
        let cut = scoped::<message::Entity>(id)
            .filter(message::Column::ConversationId.eq(conversation.0))
            .order_by_desc(message::Column::Id)
            .offset(keep)
            .limit(1)
            .one(&self.db)
            .await?;
        let Some(cut) = cut else { return Ok(0) };
        let result = scoped_delete::<message::Entity>(id)
            .filter(message::Column::ConversationId.eq(conversation.0))
            .filter(message::Column::Id.lte(cut.id))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected)
    }
}

/// `(a, b, …) IN (VALUES (…), …)` over bound values. PostgreSQL plans it
/// as a hashed semi-join; the row-value list form `IN ((…), (…))` becomes
/// one OR per tuple, checked against every row (a batch of 1000 took ~1 s).
fn in_values(
    backend: sea_orm::DbBackend,
    columns: &[&str],
    rows: Vec<Vec<sea_orm::Value>>,
) -> Expr {
    // sea-query's placeholder for custom SQL: `$` on PostgreSQL, `?` elsewhere.
    let mark = if backend == sea_orm::DbBackend::Postgres {
        "$"
    } else {
        "?"
    };
    let tuple = format!("({})", vec![mark; columns.len()].join(", "));
    let list = vec![tuple; rows.len()].join(", ");
    let columns = columns
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ");
    Expr::cust_with_values(
        format!("({columns}) IN (VALUES {list})"),
        rows.into_iter().flatten(),
    )
}

fn owner_values<'a>(owners: impl Iterator<Item = &'a (String, Uuid)>) -> Vec<Vec<sea_orm::Value>> {
    owners
        .map(|(s, o)| vec![s.clone().into(), (*o).into()])
        .collect()
}

/// (scope, owner_id, name, version, expires_at) of a row in a sweep batch.
type BatchRow = (String, Uuid, String, i64, Option<DateTime<Utc>>);

impl Store {
    /// Removes up to `limit` expired variables in one transaction with a
    /// fixed number of statements, however many memories they belong to:
    /// the memories are locked first, all at once and in key order (the
    /// order every writer uses), the rows still expired under the lock are
    /// deleted, and each memory steps its version once.
    pub async fn expire_variables_batch(
        &self,
        id: &TenantId,
        now: DateTime<Utc>,
        limit: u64,
        announce: impl FnOnce(&[ExpiredVariable]) -> Vec<crate::model::Event>,
    ) -> Result<Vec<ExpiredVariable>> {
        use std::collections::BTreeSet;

        use entity::memory;
        let backend = self.db.get_database_backend();
        let mut tx = self.write_tx().await?;
        let candidates: Vec<(String, Uuid, String, Uuid)> = scoped::<variable::Entity>(id)
            .filter(variable::Column::ExpiresAt.lte(now))
            .select_only()
            .columns([
                variable::Column::Scope,
                variable::Column::OwnerId,
                variable::Column::Name,
                variable::Column::BotId,
            ])
            .limit(limit)
            .into_tuple()
            .all(&*tx)
            .await?;
        if candidates.is_empty() {
            return Ok(vec![]);
        }
        let owners: BTreeMap<(String, Uuid), Uuid> = candidates
            .iter()
            .map(|(s, o, _, b)| ((s.clone(), *o), *b))
            .collect();
        // Writers create a memory's row before its first variable; make sure
        // of it here too, so that there is always a row to lock.
        let rows = owners
            .iter()
            .map(|((scope, owner), bot)| memory::ActiveModel {
                tenant_id: Set(id.as_str().to_owned()),
                scope: Set(scope.clone()),
                owner_id: Set(*owner),
                bot_id: Set(*bot),
                version: Set(0),
                updated_at: Set(now),
            });
        memory::Entity::insert_many(rows)
            .on_conflict_do_nothing()
            .exec(&*tx)
            .await?;
        let locked: Vec<memory::Model> = scoped::<memory::Entity>(id)
            .filter(in_values(
                backend,
                &["scope", "owner_id"],
                owner_values(owners.keys()),
            ))
            .order_by_asc(memory::Column::Scope)
            .order_by_asc(memory::Column::OwnerId)
            .lock_exclusive()
            .all(&*tx)
            .await?;
        let versions: BTreeMap<(String, Uuid), (i64, Uuid)> = locked
            .into_iter()
            .map(|m| ((m.scope, m.owner_id), (m.version, m.bot_id)))
            .collect();
        let batch: Vec<(String, Uuid, String)> = candidates
            .into_iter()
            .map(|(s, o, n, _)| (s, o, n))
            .collect();
        let row_values = |rows: &mut dyn Iterator<Item = (String, Uuid, String)>| {
            let values = rows
                .map(|(s, o, n)| vec![s.into(), o.into(), n.into()])
                .collect();
            in_values(backend, &["scope", "owner_id", "name"], values)
        };
        // Exact primary-key lookups. No expiry condition in SQL: it steers
        // the planner to the expiry index and every batch would scan all
        // expired rows. The memories are locked, so no writer can change
        // these rows now; the expiry is re-checked here instead.
        let rows: Vec<BatchRow> = scoped::<variable::Entity>(id)
            .filter(row_values(&mut batch.into_iter()))
            .select_only()
            .columns([
                variable::Column::Scope,
                variable::Column::OwnerId,
                variable::Column::Name,
                variable::Column::Version,
                variable::Column::ExpiresAt,
            ])
            .into_tuple()
            .all(&*tx)
            .await?;
        let still_expired: Vec<(String, Uuid, String, i64)> = rows
            .into_iter()
            .filter(|(.., expires_at)| expires_at.is_some_and(|at| at <= now))
            .map(|(s, o, n, v, _)| (s, o, n, v))
            .collect();
        if still_expired.is_empty() {
            tx.commit().await?;
            return Ok(vec![]);
        }
        scoped_delete::<variable::Entity>(id)
            .filter(row_values(
                &mut still_expired
                    .iter()
                    .map(|(s, o, n, _)| (s.clone(), *o, n.clone())),
            ))
            .exec(&*tx)
            .await?;
        let touched: BTreeSet<(String, Uuid)> = still_expired
            .iter()
            .map(|(s, o, _, _)| (s.clone(), *o))
            .collect();
        scoped_update::<memory::Entity>(id)
            .col_expr(
                memory::Column::Version,
                Expr::col(memory::Column::Version).add(1),
            )
            .col_expr(memory::Column::UpdatedAt, Expr::value(now))
            .filter(in_values(
                backend,
                &["scope", "owner_id"],
                owner_values(touched.iter()),
            ))
            .exec(&*tx)
            .await?;
        // Every row here belongs to a memory locked above; a missing one is
        // skipped rather than trusted.
        let expired: Vec<ExpiredVariable> = still_expired
            .into_iter()
            .filter_map(|(scope, owner_id, name, version)| {
                let (memory_version, bot) = *versions.get(&(scope.clone(), owner_id))?;
                let scope = Scope::parse(&scope)?;
                Some(ExpiredVariable {
                    key: OwnerKey { scope, owner_id },
                    bot: BotId(bot),
                    name,
                    version: version + 1,
                    memory_version: memory_version + 1,
                })
            })
            .collect();
        tx.announce(announce(&expired));
        tx.commit().await?;
        Ok(expired)
    }
}
