//! Database migrations, run on `botmem serve` start (unless disabled) and by
//! `botmem migrate`. Every tenant table keys and indexes `tenant_id` first.
pub use sea_orm_migration::prelude::*;

mod m20261121_000001_foundation;
mod m20261121_000002_memory;
mod m20261121_000003_janitor;
mod m20261121_000004_event_outbox;
mod m20261207_000005_row_level_security;
mod m20261207_000006_variables_expiry_key;
mod m20261207_000007_read_memory_function;

/// Every table that holds tenants' rows, with the column naming the
/// tenant: each is behind PostgreSQL's row-level security (migration
/// `m20261207_000005`).
pub const TENANT_TABLES: [(&str, &str); 10] = [
    ("tenants", "id"),
    ("bots", "tenant_id"),
    ("users", "tenant_id"),
    ("conversations", "tenant_id"),
    ("memories", "tenant_id"),
    ("variables", "tenant_id"),
    ("messages", "tenant_id"),
    ("kv_entries", "tenant_id"),
    ("janitor_runs", "tenant_id"),
    ("event_outbox", "tenant_id"),
];

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261121_000001_foundation::Migration),
            Box::new(m20261121_000002_memory::Migration),
            Box::new(m20261121_000003_janitor::Migration),
            Box::new(m20261121_000004_event_outbox::Migration),
            Box::new(m20261207_000005_row_level_security::Migration),
            Box::new(m20261207_000006_variables_expiry_key::Migration),
            Box::new(m20261207_000007_read_memory_function::Migration),
        ]
    }
}
