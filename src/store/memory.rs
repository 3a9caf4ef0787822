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
    domain::{OwnerKey, OwnerMemory, Scope, Variable},
    error::{Error, Result},
    ids::{BotId, TenantId},
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

    /// The memory's version and live variables, from one snapshot.
    pub async fn read_memory(
        &self,
        tenant: &TenantId,
        key: OwnerKey,
        now: DateTime<Utc>,
    ) -> Result<(i64, Vec<Variable>)> {
        let tx = self
            .db
            .begin_with_config(Some(IsolationLevel::RepeatableRead), None)
            .await?;
        let version =
            of_owner::<memory::Entity>(tenant, key, memory::Column::Scope, memory::Column::OwnerId)
                .one(&tx)
                .await?
                .map_or(0, |m| m.version);
        let rows = of_owner::<variable::Entity>(
            tenant,
            key,
            variable::Column::Scope,
            variable::Column::OwnerId,
        )
        .filter(
            sea_orm::Condition::any()
                .add(variable::Column::ExpiresAt.is_null())
                .add(variable::Column::ExpiresAt.gt(now)),
        )
        .order_by_asc(variable::Column::Name)
        .all(&tx)
        .await?;
        tx.commit().await?;
        Ok((version, rows.into_iter().map(to_variable).collect()))
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
    pub fn announce(&mut self, events: impl IntoIterator<Item = crate::events::Event>) {
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
