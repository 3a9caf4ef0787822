use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Events too large for one PostgreSQL NOTIFY (8000 bytes) wait here for
/// the replicas; the notification carries only their key. Rows are removed
/// a few minutes after their creation (`created_at` is the database's own
/// clock, not the service's).
#[derive(DeriveIden)]
enum EventOutbox {
    Table,
    TenantId,
    Id,
    Payload,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(EventOutbox::Table)
                .col(string_len(EventOutbox::TenantId, 64))
                .col(uuid(EventOutbox::Id))
                .col(text(EventOutbox::Payload))
                .col(
                    timestamp_with_time_zone(EventOutbox::CreatedAt)
                        .default(Expr::current_timestamp()),
                )
                .primary_key(
                    Index::create()
                        .col(EventOutbox::TenantId)
                        .col(EventOutbox::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("event_outbox_created_at")
                .table(EventOutbox::Table)
                .col(EventOutbox::CreatedAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(EventOutbox::Table).to_owned())
            .await
    }
}
