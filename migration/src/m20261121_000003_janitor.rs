use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum JanitorRuns {
    Table,
    TenantId,
    Id,
    Trigger,
    StartedAt,
    FinishedAt,
    VariablesExpired,
    KvEntriesExpired,
    ConversationsExpired,
    MessagesTrimmed,
    Error,
}

#[derive(DeriveIden)]
enum Bots {
    Table,
    TrimPending,
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    TenantId,
    Status,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(JanitorRuns::Table)
                .col(string_len(JanitorRuns::TenantId, 64))
                .col(uuid(JanitorRuns::Id))
                .col(string_len(JanitorRuns::Trigger, 16))
                .col(timestamp_with_time_zone(JanitorRuns::StartedAt))
                .col(timestamp_with_time_zone_null(JanitorRuns::FinishedAt))
                .col(big_integer(JanitorRuns::VariablesExpired))
                .col(big_integer(JanitorRuns::KvEntriesExpired))
                .col(big_integer(JanitorRuns::ConversationsExpired))
                .col(big_integer(JanitorRuns::MessagesTrimmed))
                .col(text_null(JanitorRuns::Error))
                .primary_key(
                    Index::create()
                        .col(JanitorRuns::TenantId)
                        .col(JanitorRuns::Id),
                )
                .to_owned(),
        )
        .await?;
        // Set when a bot's lastMessagesKept is lowered: its logs need a trim.
        m.alter_table(
            Table::alter()
                .table(Bots::Table)
                .add_column(boolean(Bots::TrimPending).default(false))
                .to_owned(),
        )
        .await?;
        // Timed-out sessions: only active rows can time out.
        m.create_index(
            Index::create()
                .name("ix_conversations_tenant_active_expires_at")
                .table(Conversations::Table)
                .col(Conversations::TenantId)
                .col(Conversations::ExpiresAt)
                .and_where(Expr::col(Conversations::Status).eq("active"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_conversations_tenant_active_expires_at")
                .table(Conversations::Table)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Bots::Table)
                .drop_column(Bots::TrimPending)
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table(JanitorRuns::Table).to_owned())
            .await
    }
}
