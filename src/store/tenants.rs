//! Tenant rows: created once per process on first use, settings updated
//! through a tenant-bound transaction.
use std::{collections::HashSet, sync::Mutex};

use entity::tenant;
use sea_orm::{ActiveValue::Set, EntityTrait};

use super::{Store, Tx, rls, scoped};
use crate::{
    error::Result,
    model::TenantId,
    model::{Tenant, TenantDefaults},
};

/// Tenants this process has already made sure exist, so the first request
/// of a tenant pays for the insert and the rest do not.
#[derive(Default)]
pub(super) struct KnownTenants(Mutex<HashSet<TenantId>>);

impl Store {
    /// Creates the tenant's row with defaults on its first authenticated
    /// use in this process (`defaults` is only called then).
    pub async fn ensure_tenant(
        &self,
        id: &TenantId,
        defaults: impl FnOnce() -> Result<TenantDefaults>,
    ) -> Result<()> {
        if self
            .known_tenants
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(id)
        {
            return Ok(());
        }
        let defaults = defaults()?;
        let row = tenant::ActiveModel {
            id: Set(id.as_str().to_owned()),
            janitor_schedule: Set(defaults.janitor_schedule.clone()),
            max_value_bytes: Set(defaults.max_value_bytes),
            next_janitor_at: Set(defaults.next_janitor_at),
            janitor_lease_until: Set(None),
            created_at: Set(defaults.now),
        };
        let db = self.bound(id).await?;
        tenant::Entity::insert(row)
            .on_conflict_do_nothing()
            .exec(&db)
            .await?;
        rls::finish(db).await?;
        self.known_tenants
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone());
        Ok(())
    }

    /// The tenant's settings, cached per process (they change only through
    /// [`Tx::update_tenant_settings`]).
    pub async fn tenant(&self, id: &TenantId) -> Result<Option<Tenant>> {
        let read = || async move {
            let db = self.bound(id).await?;
            let row = scoped::<tenant::Entity>(id).one(&db).await?;
            Ok(row.map(|t| Tenant {
                id: TenantId::parse(&t.id).unwrap_or_else(|_| id.clone()),
                janitor_schedule: t.janitor_schedule,
                max_value_bytes: t.max_value_bytes,
                created_at: t.created_at,
            }))
        };
        self.facts.tenant(id, read).await
    }
}

impl Tx {
    pub async fn update_tenant_settings(
        &mut self,
        schedule: Option<(String, Option<chrono::DateTime<chrono::Utc>>)>,
        max_value_bytes: Option<i32>,
    ) -> Result<()> {
        use sea_orm::sea_query::Expr;
        if schedule.is_none() && max_value_bytes.is_none() {
            return Ok(());
        }
        self.forget(crate::model::Fact::Tenant(self.tenant().clone()));
        let mut update = super::scoped_update::<tenant::Entity>(self.tenant());
        if let Some((text, next)) = schedule {
            update = update
                .col_expr(tenant::Column::JanitorSchedule, Expr::value(text))
                .col_expr(tenant::Column::NextJanitorAt, Expr::value(next));
        }
        if let Some(bytes) = max_value_bytes {
            update = update.col_expr(tenant::Column::MaxValueBytes, Expr::value(bytes));
        }
        update.exec(self.db()).await?;
        Ok(())
    }
}
