//! Database migrations, run on `botmem serve` start (unless disabled) and by
//! `botmem migrate`. Every tenant table keys and indexes `tenant_id` first.
pub use sea_orm_migration::prelude::*;

mod m20261121_000001_foundation;
mod m20261121_000002_memory;
mod m20261121_000003_janitor;
mod m20261121_000004_event_outbox;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261121_000001_foundation::Migration),
            Box::new(m20261121_000002_memory::Migration),
            Box::new(m20261121_000003_janitor::Migration),
            Box::new(m20261121_000004_event_outbox::Migration),
        ]
    }
}
