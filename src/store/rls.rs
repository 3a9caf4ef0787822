//! Row-level security on PostgreSQL: the second wall between tenants.
//!
//! The first wall is this module's parent: every query filters by
//! `tenant_id`. The second is the database's: every tenant table carries
//! the policy `tenant_wall` (migration `m20261207_000005`), which shows a
//! statement only the rows of the tenant named by the setting
//! `botmem.tenant`, and refuses to write any other. A query that forgot
//! its filter reads nothing, instead of everyone's rows.
//!
//! - A [`super::Tx`] names its tenant with `set_config(…, true)` (`SET
//!   LOCAL`) in its `BEGIN` message ([`PgTx`]), so the name ends with the
//!   transaction and never leaks to the pool's next user.
//! - Reads and the few writes outside a `Tx` go through [`bind`]: with the
//!   wall up, a short transaction that names the tenant; without it, the
//!   pool itself.
//! - Housekeeping that must cross tenants names `*` ([`ALL_TENANTS`]) in
//!   its own transaction, in two places and nowhere else: the janitor's
//!   claim of due tenants (`Store::housekeeping`) and the event outbox's
//!   cleanup (`notify`). Only those two tables' policies accept `*`.
//! - `BOTMEM_ROW_LEVEL_SECURITY=off`, for installs that cannot afford the
//!   round trip it costs, names no tenant and lifts `FORCE` from the tables
//!   at start, so their owner passes the policies ([`apply`]); the service
//!   warns.
//!
//! Superusers and `BYPASSRLS` roles pass through any policy: the service
//! warns when it connects as one ([`apply`]).

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

use super::conn::{Conn, PgTx};

use crate::error::Result;

/// The value of `botmem.tenant` that shows every tenant's rows. Never a
/// tenant id: those are letters, digits, `-`, `_` and `.`.
pub(super) const ALL_TENANTS: &str = "*";

/// A connection for one tenant's statements outside a `Tx`: a transaction
/// that named the tenant when the wall is up, the pool otherwise. Reads
/// just drop it (the rollback travels with the connection's release);
/// writes end with [`finish`].
pub(super) async fn bind<'a>(
    db: &'a DatabaseConnection,
    wall: bool,
    tenant: &str,
) -> Result<Conn<'a>> {
    if !wall {
        return Ok(Conn::Pool(db));
    }
    Ok(Conn::Pg(PgTx::begin(db, Some(tenant)).await?))
}

/// Commits what was written through [`bind`].
pub(super) async fn finish(db: Conn<'_>) -> Result<()> {
    db.commit().await
}

/// Makes the tables' `FORCE ROW LEVEL SECURITY` follow the setting (the
/// owner passes the policies without it), then warns when the wall is down:
/// switched off, or passed by the role the service connects as. Altering
/// needs the tables' owner: a service connecting as another role fails to
/// start when the tables are not as the setting asks.
pub(super) async fn apply(db: &impl ConnectionTrait, wall: bool) -> Result<()> {
    let tables: Vec<String> = migration::TENANT_TABLES
        .iter()
        .map(|(t, _)| (*t).to_owned())
        .collect();
    let sql = "SELECT c.relname::text AS name FROM pg_class c \
               WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' \
               AND c.relname = ANY($1) AND c.relforcerowsecurity <> $2";
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            [tables.into(), wall.into()],
        ))
        .await?;
    for row in rows {
        let table: String = row.try_get("", "name")?;
        let force = if wall { "FORCE" } else { "NO FORCE" };
        db.execute_unprepared(&format!("ALTER TABLE {table} {force} ROW LEVEL SECURITY"))
            .await
            .map_err(|e| {
                crate::error::Error::internal(format!(
                    "BOTMEM_ROW_LEVEL_SECURITY={}: cannot {force} row-level security on {table} \
                     (only the tables' owner can): {e}",
                    if wall { "on" } else { "off" }
                ))
            })?;
    }
    if !wall {
        tracing::warn!(
            "BOTMEM_ROW_LEVEL_SECURITY=off: tenants are kept apart by the service's queries alone"
        );
        return Ok(());
    }
    let sql = "SELECT current_user::text AS name, rolsuper OR rolbypassrls AS bypasses \
               FROM pg_roles WHERE rolname = current_user";
    let row = db
        .query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await?;
    if let Some(row) = row
        && row.try_get::<bool>("", "bypasses").unwrap_or(false)
    {
        let role = row.try_get::<String>("", "name").unwrap_or_default();
        tracing::warn!(
            role = %role,
            "the database role is a superuser or has BYPASSRLS: row-level security does not apply \
             to it; connect as a role without them (see README, Row-level security)"
        );
    }
    Ok(())
}
