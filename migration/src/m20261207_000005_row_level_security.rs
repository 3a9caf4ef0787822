use sea_orm_migration::prelude::*;

use crate::TENANT_TABLES;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The two tables the service's housekeeping reads across tenants (the
/// janitor's claim of due tenants, the outbox's cleanup): their policy also
/// shows every row when `botmem.tenant` is `*`.
const HOUSEKEEPING_TABLES: [&str; 2] = ["tenants", "event_outbox"];

/// PostgreSQL only: a second wall behind the store's own `tenant_id`
/// filters. A statement sees and writes only the rows of the tenant named
/// by the setting `botmem.tenant`, which the service sets at the start of
/// every transaction; with the setting absent it sees nothing.
///
/// The policy is a plain equality on purpose: the planner merges it with
/// the query's own `tenant_id = $1` into one test made once per statement
/// (a one-time filter), so row estimates and plans stay those of the query
/// alone. An `OR` in it made the planner assume far fewer rows, and chose
/// a nested loop that made the janitor's batch delete 200× slower; only
/// the two housekeeping tables, read by key or by age, carry one.
///
/// `FORCE` holds the tables' owner to the policy too, so the service may
/// own its tables; the service sets it at start from
/// `BOTMEM_ROW_LEVEL_SECURITY`. Superusers and `BYPASSRLS` roles pass
/// through any policy (the service warns).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != sea_orm_migration::sea_orm::DbBackend::Postgres {
            return Ok(());
        }
        let db = m.get_connection();
        for (table, column) in TENANT_TABLES {
            let mut visible = format!("{column} = current_setting('botmem.tenant', true)");
            if HOUSEKEEPING_TABLES.contains(&table) {
                visible.push_str(" OR current_setting('botmem.tenant', true) = '*'");
            }
            db.execute_unprepared(&format!(
                "ALTER TABLE {table} ENABLE ROW LEVEL SECURITY; \
                 ALTER TABLE {table} FORCE ROW LEVEL SECURITY; \
                 CREATE POLICY tenant_wall ON {table} USING ({visible})"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != sea_orm_migration::sea_orm::DbBackend::Postgres {
            return Ok(());
        }
        let db = m.get_connection();
        for (table, _) in TENANT_TABLES {
            db.execute_unprepared(&format!(
                "DROP POLICY IF EXISTS tenant_wall ON {table}; \
                 ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY; \
                 ALTER TABLE {table} DISABLE ROW LEVEL SECURITY"
            ))
            .await?;
        }
        Ok(())
    }
}
