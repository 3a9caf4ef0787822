//! Memory writes happen inside a [`MemoryTx`]: each memory touched is
//! locked first (its `memories` row, `FOR UPDATE` on PostgreSQL; SQLite's
//! IMMEDIATE transaction already admits one writer), in a fixed order, so
//! compare-and-set never loses an update and two writers never deadlock.
use chrono::{DateTime, Utc};
use entity::StoredJson;
use entity::{memory, variable};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, IsolationLevel, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait, sea_query::OnConflict,
};

use super::{Store, scoped, scoped_delete, scoped_update};
use crate::{
    error::{Error, Result},
    model::{BotId, TenantId},
    model::{OwnerKey, OwnerMemory, Scope, Variable},
};

pub(super) fn to_variable(m: variable::Model) -> Variable {
    Variable {
        name: m.name,
        value: m.value.0,
        version: m.version,
        expires_at: m.expires_at,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

fn of_owner<E: entity::TenantScoped>(
    tenant: &TenantId,
    key: OwnerKey,
    scope_col: E::Column,
    owner_col: E::Column,
) -> sea_orm::Select<E> {
    scoped::<E>(tenant)
        .filter(scope_col.eq(key.scope.as_str()))
        .filter(owner_col.eq(key.owner_id))
}

pub struct MemoryTx {
    pub(super) tx: super::WriteTx,
    pub(super) tenant: TenantId,
}

impl Store {
    pub async fn memory_tx(&self, tenant: &TenantId) -> Result<MemoryTx> {
        Ok(MemoryTx {
            tx: self.write_tx().await?,
            tenant: tenant.clone(),
        })
    }

    /// Versions and live variables of several memories, from one snapshot
    /// (two statements whatever the number of memories). Memories of bots
    /// outside `visible` are left out.
    pub async fn read_memories(
        &self,
        tenant: &TenantId,
        keys: &[OwnerKey],
        visible: impl Fn(BotId) -> bool,
        now: DateTime<Utc>,
    ) -> Result<Vec<(OwnerKey, i64, Vec<Variable>)>> {
        let owners: Vec<uuid::Uuid> = keys.iter().map(|k| k.owner_id).collect();
        let scopes: std::collections::BTreeSet<&str> =
            keys.iter().map(|k| k.scope.as_str()).collect();
        // SQLite reads one snapshot in any transaction (and warns when asked
        // for an isolation level); PostgreSQL needs REPEATABLE READ for it.
        let isolation = (!self.is_sqlite()).then_some(IsolationLevel::RepeatableRead);
        let tx = self.db.begin_with_config(isolation, None).await?;
        let versions = scoped::<memory::Entity>(tenant)
            .filter(memory::Column::OwnerId.is_in(owners.clone()))
            .filter(memory::Column::Scope.is_in(scopes.iter().copied()))
            .all(&tx)
            .await?;
        let rows = scoped::<variable::Entity>(tenant)
            .filter(variable::Column::OwnerId.is_in(owners))
            .filter(variable::Column::Scope.is_in(scopes.iter().copied()))
            .filter(
                sea_orm::Condition::any()
                    .add(variable::Column::ExpiresAt.is_null())
                    .add(variable::Column::ExpiresAt.gt(now)),
            )
            .order_by_asc(variable::Column::Name)
            .all(&tx)
            .await?;
        tx.commit().await?;
        let mut found: std::collections::BTreeMap<OwnerKey, (i64, Vec<Variable>)> =
            keys.iter().map(|k| (*k, (0, vec![]))).collect();
        let key_of =
            |scope: &str, owner_id| Scope::parse(scope).map(|scope| OwnerKey { scope, owner_id });
        for m in versions.into_iter().filter(|m| visible(BotId(m.bot_id))) {
            if let Some(entry) = key_of(&m.scope, m.owner_id).and_then(|k| found.get_mut(&k)) {
                entry.0 = m.version;
            }
        }
        for v in rows.into_iter().filter(|v| visible(BotId(v.bot_id))) {
            if let Some(entry) = key_of(&v.scope, v.owner_id).and_then(|k| found.get_mut(&k)) {
                entry.1.push(to_variable(v));
            }
        }
        Ok(found
            .into_iter()
            .map(|(key, (version, variables))| (key, version, variables))
            .collect())
    }
}

impl MemoryTx {
    pub fn connection(&self) -> &DatabaseTransaction {
        &self.tx
    }

    /// Locks the memory (creating its row at version 0) and returns its version.
    pub async fn lock(&self, key: OwnerKey, bot: BotId, now: DateTime<Utc>) -> Result<i64> {
        let row = memory::ActiveModel {
            tenant_id: Set(self.tenant.as_str().to_owned()),
            scope: Set(key.scope.as_str().to_owned()),
            owner_id: Set(key.owner_id),
            bot_id: Set(bot.0),
            version: Set(0),
            updated_at: Set(now),
        };
        memory::Entity::insert(row)
            .on_conflict_do_nothing()
            .exec(&*self.tx)
            .await?;
        let locked = of_owner::<memory::Entity>(
            &self.tenant,
            key,
            memory::Column::Scope,
            memory::Column::OwnerId,
        )
        .lock_exclusive()
        .one(&*self.tx)
        .await?
        .ok_or_else(|| Error::internal("memory row vanished under lock"))?;
        Ok(locked.version)
    }

    /// Rows of the memory (live or not): all, or only the names given.
    pub async fn load(&self, key: OwnerKey, names: Option<&[String]>) -> Result<Vec<Variable>> {
        let mut select = of_owner::<variable::Entity>(
            &self.tenant,
            key,
            variable::Column::Scope,
            variable::Column::OwnerId,
        );
        if let Some(names) = names {
            select = select.filter(variable::Column::Name.is_in(names.iter().cloned()));
        }
        Ok(select
            .all(&*self.tx)
            .await?
            .into_iter()
            .map(to_variable)
            .collect())
    }

    /// Writes what the operation changed and steps the memory version.
    pub async fn save(&self, memory: &OwnerMemory, now: DateTime<Utc>) -> Result<()> {
        let key = memory.key;
        let (writes, deletes) = memory.dirty_rows();
        if !deletes.is_empty() {
            scoped_delete::<variable::Entity>(&self.tenant)
                .filter(variable::Column::Scope.eq(key.scope.as_str()))
                .filter(variable::Column::OwnerId.eq(key.owner_id))
                .filter(variable::Column::Name.is_in(deletes.iter().map(|n| n.to_string())))
                .exec(&*self.tx)
                .await?;
        }
        if !writes.is_empty() {
            let rows = writes.into_iter().map(|v| variable::ActiveModel {
                tenant_id: Set(self.tenant.as_str().to_owned()),
                scope: Set(key.scope.as_str().to_owned()),
                owner_id: Set(key.owner_id),
                name: Set(v.name.clone()),
                bot_id: Set(memory.bot_id.0),
                value: Set(StoredJson(v.value.clone())),
                version: Set(v.version),
                expires_at: Set(v.expires_at),
                created_at: Set(v.created_at),
                updated_at: Set(v.updated_at),
            });
            variable::Entity::insert_many(rows)
                .on_conflict(
                    OnConflict::columns([
                        variable::Column::TenantId,
                        variable::Column::Scope,
                        variable::Column::OwnerId,
                        variable::Column::Name,
                    ])
                    .update_columns([
                        variable::Column::Value,
                        variable::Column::Version,
                        variable::Column::ExpiresAt,
                        variable::Column::CreatedAt,
                        variable::Column::UpdatedAt,
                    ])
                    .to_owned(),
                )
                .exec(&*self.tx)
                .await?;
        }
        if memory.changed() {
            scoped_update::<memory::Entity>(&self.tenant)
                .col_expr(
                    memory::Column::Version,
                    sea_orm::sea_query::Expr::value(memory.new_version()),
                )
                .col_expr(
                    memory::Column::UpdatedAt,
                    sea_orm::sea_query::Expr::value(now),
                )
                .filter(memory::Column::Scope.eq(key.scope.as_str()))
                .filter(memory::Column::OwnerId.eq(key.owner_id))
                .exec(&*self.tx)
                .await?;
        }
        Ok(())
    }

    /// Events to announce if, and only if, this transaction commits.
    pub fn announce(&mut self, events: impl IntoIterator<Item = crate::model::Event>) {
        self.tx.announce(events);
    }

    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await
    }
}

/// Deletes every memory row and variable of a bot (bot deletion), of one
/// owner, or of several owners.
pub(super) async fn delete_memories_of_bot<C: sea_orm::ConnectionTrait>(
    db: &C,
    tenant: &TenantId,
    bot: BotId,
) -> Result<()> {
    scoped_delete::<variable::Entity>(tenant)
        .filter(variable::Column::BotId.eq(bot.0))
        .exec(db)
        .await?;
    scoped_delete::<memory::Entity>(tenant)
        .filter(memory::Column::BotId.eq(bot.0))
        .exec(db)
        .await?;
    Ok(())
}

pub(super) async fn delete_memories_of_owners<C: sea_orm::ConnectionTrait>(
    db: &C,
    tenant: &TenantId,
    scopes: &[Scope],
    owners: &[uuid::Uuid],
) -> Result<()> {
    if owners.is_empty() {
        return Ok(());
    }
    let scopes: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    scoped_delete::<variable::Entity>(tenant)
        .filter(variable::Column::Scope.is_in(scopes.clone()))
        .filter(variable::Column::OwnerId.is_in(owners.iter().copied()))
        .exec(db)
        .await?;
    scoped_delete::<memory::Entity>(tenant)
        .filter(memory::Column::Scope.is_in(scopes))
        .filter(memory::Column::OwnerId.is_in(owners.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}
