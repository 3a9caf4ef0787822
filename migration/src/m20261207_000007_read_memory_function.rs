use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// PostgreSQL only: `botmem_read_memory`, the read of one memory in one
/// statement that names its tenant for row-level security itself.
///
/// Outside a transaction a read had to open one only to name the tenant
/// (`BEGIN; set_config`, the `SELECT`, the `ROLLBACK`): three round trips
/// where the read is one, and a third of a read's CPU on both sides. A
/// `set_config` in the read's own SQL comes too late: the policy's test
/// runs before the query's own conditions. A PL/pgSQL function runs its
/// statements in order, keeps its query's plan for the session, and its
/// `set_config(…, true)` ends with the one statement's own transaction,
/// so the name never outlives the read.
///
/// The function runs as its caller (`SECURITY INVOKER`), so the policy
/// still applies; it filters by tenant itself as every query does. It is
/// `STABLE` although it sets a value: that value lives only as long as the
/// statement that calls it, which needs the function's rows and so cannot
/// skip the call, and `STABLE` keeps its query on the caller's snapshot.
///
/// It reads one memory, by scalar key, because then its plan is the
/// primary key's lookup for every key and PostgreSQL keeps it. A version
/// taking lists of keys (as text to split) was replanned on every call,
/// and cost PostgreSQL more than the three round trips (pgbench on 1 000
/// memories of 10 variables, 4 clients: 3 806 calls/s, against 3 853 for
/// the transaction and 7 994–9 584 for this one). Reads of many memories
/// at once (the nested `memory` of a page) keep the transaction.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != sea_orm_migration::sea_orm::DbBackend::Postgres {
            return Ok(());
        }
        m.get_connection()
            .execute_unprepared(
                r#"
CREATE FUNCTION botmem_read_memory(
    read_tenant text, read_scope text, read_owner uuid, read_now timestamptz)
RETURNS TABLE (scope text, owner_id uuid, bot_id uuid, version bigint, name text,
               value jsonb, variable_version bigint, expires_at timestamptz,
               created_at timestamptz, updated_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY INVOKER AS $fn$
#variable_conflict use_column
BEGIN
    PERFORM set_config('botmem.tenant', read_tenant, true);
    RETURN QUERY
    SELECT m.scope::text, m.owner_id, m.bot_id, m.version, v.name::text, v.value,
           v.version, v.expires_at, v.created_at, v.updated_at
    FROM memories m
    LEFT JOIN variables v
           ON v.tenant_id = m.tenant_id AND v.scope = m.scope AND v.owner_id = m.owner_id
          AND (v.expires_at IS NULL OR v.expires_at > read_now)
    WHERE m.tenant_id = read_tenant AND m.scope = read_scope AND m.owner_id = read_owner
    ORDER BY v.name;
END
$fn$"#,
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != sea_orm_migration::sea_orm::DbBackend::Postgres {
            return Ok(());
        }
        m.get_connection()
            .execute_unprepared(
                "DROP FUNCTION IF EXISTS botmem_read_memory(text, text, uuid, timestamptz)",
            )
            .await?;
        Ok(())
    }
}
