use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Memories {
    Table,
    TenantId,
    Scope,
    OwnerId,
    BotId,
    Version,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Variables {
    Table,
    TenantId,
    Scope,
    OwnerId,
    Name,
    BotId,
    Value,
    Version,
    ExpiresAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    TenantId,
    ConversationId,
    Id,
    Direction,
    Text,
    Payload,
    At,
}

#[derive(DeriveIden)]
enum KvEntries {
    Table,
    TenantId,
    BotId,
    Key,
    Value,
    Version,
    ExpiresAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    TenantId,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Memories::Table)
                .col(string_len(Memories::TenantId, 64))
                .col(string_len(Memories::Scope, 16))
                .col(uuid(Memories::OwnerId))
                .col(uuid(Memories::BotId))
                .col(big_integer(Memories::Version))
                .col(timestamp_with_time_zone(Memories::UpdatedAt))
                .primary_key(
                    Index::create()
                        .col(Memories::TenantId)
                        .col(Memories::Scope)
                        .col(Memories::OwnerId),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_memories_tenant_bot")
                .table(Memories::Table)
                .col(Memories::TenantId)
                .col(Memories::BotId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Variables::Table)
                .col(string_len(Variables::TenantId, 64))
                .col(string_len(Variables::Scope, 16))
                .col(uuid(Variables::OwnerId))
                .col(string_len(Variables::Name, 128))
                .col(uuid(Variables::BotId))
                .col(json_binary(Variables::Value))
                .col(big_integer(Variables::Version))
                .col(timestamp_with_time_zone_null(Variables::ExpiresAt))
                .col(timestamp_with_time_zone(Variables::CreatedAt))
                .col(timestamp_with_time_zone(Variables::UpdatedAt))
                .primary_key(
                    Index::create()
                        .col(Variables::TenantId)
                        .col(Variables::Scope)
                        .col(Variables::OwnerId)
                        .col(Variables::Name),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_variables_tenant_bot")
                .table(Variables::Table)
                .col(Variables::TenantId)
                .col(Variables::BotId)
                .to_owned(),
        )
        .await?;
        // The janitor looks only at rows that can expire.
        m.create_index(
            Index::create()
                .name("ix_variables_tenant_expires_at")
                .table(Variables::Table)
                .col(Variables::TenantId)
                .col(Variables::ExpiresAt)
                .and_where(Expr::col(Variables::ExpiresAt).is_not_null())
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Messages::Table)
                .col(string_len(Messages::TenantId, 64))
                .col(uuid(Messages::ConversationId))
                .col(uuid(Messages::Id))
                .col(string_len(Messages::Direction, 16))
                .col(text_null(Messages::Text))
                .col(json_binary_null(Messages::Payload))
                .col(timestamp_with_time_zone(Messages::At))
                .primary_key(
                    Index::create()
                        .col(Messages::TenantId)
                        .col(Messages::ConversationId)
                        .col(Messages::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(
                            Messages::Table,
                            (Messages::TenantId, Messages::ConversationId),
                        )
                        .to(
                            Conversations::Table,
                            (Conversations::TenantId, Conversations::Id),
                        )
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(KvEntries::Table)
                .col(string_len(KvEntries::TenantId, 64))
                .col(uuid(KvEntries::BotId))
                .col(string_len(KvEntries::Key, 512))
                .col(json_binary(KvEntries::Value))
                .col(big_integer(KvEntries::Version))
                .col(timestamp_with_time_zone_null(KvEntries::ExpiresAt))
                .col(timestamp_with_time_zone(KvEntries::CreatedAt))
                .col(timestamp_with_time_zone(KvEntries::UpdatedAt))
                .primary_key(
                    Index::create()
                        .col(KvEntries::TenantId)
                        .col(KvEntries::BotId)
                        .col(KvEntries::Key),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_kv_entries_tenant_expires_at")
                .table(KvEntries::Table)
                .col(KvEntries::TenantId)
                .col(KvEntries::ExpiresAt)
                .and_where(Expr::col(KvEntries::ExpiresAt).is_not_null())
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            KvEntries::Table.into_iden(),
            Messages::Table.into_iden(),
            Variables::Table.into_iden(),
            Memories::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
