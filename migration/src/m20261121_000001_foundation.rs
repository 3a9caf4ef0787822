use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
    JanitorSchedule,
    MaxValueBytes,
    NextJanitorAt,
    JanitorLeaseUntil,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Bots {
    Table,
    TenantId,
    Id,
    Name,
    SessionTimeoutSecs,
    RetentionPolicies,
    PromotionMode,
    PromotionNames,
    LastMessagesKept,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    TenantId,
    Id,
    BotId,
    Channel,
    ExternalId,
    FirstName,
    LastName,
    AvatarUrl,
    Locale,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    TenantId,
    Id,
    BotId,
    UserId,
    Status,
    EndReason,
    Channel,
    Culture,
    Debug,
    ChannelProvider,
    IsProxy,
    StartedAt,
    LastActivityAt,
    ExpiresAt,
    EndedAt,
}

fn tenant_id<T: IntoIden>(col: T) -> ColumnDef {
    string_len(col, 64)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Tenants::Table)
                .col(tenant_id(Tenants::Id).primary_key())
                .col(string(Tenants::JanitorSchedule))
                .col(integer(Tenants::MaxValueBytes))
                .col(timestamp_with_time_zone_null(Tenants::NextJanitorAt))
                .col(timestamp_with_time_zone_null(Tenants::JanitorLeaseUntil))
                .col(timestamp_with_time_zone(Tenants::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_tenants_next_janitor_at")
                .table(Tenants::Table)
                .col(Tenants::NextJanitorAt)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Bots::Table)
                .col(tenant_id(Bots::TenantId))
                .col(uuid(Bots::Id))
                .col(string_len(Bots::Name, 200))
                .col(big_integer(Bots::SessionTimeoutSecs))
                .col(json_binary(Bots::RetentionPolicies))
                .col(string_len(Bots::PromotionMode, 16))
                .col(json_binary(Bots::PromotionNames))
                .col(integer(Bots::LastMessagesKept))
                .col(timestamp_with_time_zone(Bots::CreatedAt))
                .col(timestamp_with_time_zone(Bots::UpdatedAt))
                .primary_key(Index::create().col(Bots::TenantId).col(Bots::Id))
                .foreign_key(
                    ForeignKey::create()
                        .from(Bots::Table, Bots::TenantId)
                        .to(Tenants::Table, Tenants::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_bots_tenant_name")
                .table(Bots::Table)
                .col(Bots::TenantId)
                .col(Bots::Name)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Users::Table)
                .col(tenant_id(Users::TenantId))
                .col(uuid(Users::Id))
                .col(uuid(Users::BotId))
                .col(string_len(Users::Channel, 100))
                .col(string_len(Users::ExternalId, 255))
                .col(string_len_null(Users::FirstName, 255))
                .col(string_len_null(Users::LastName, 255))
                .col(string_len_null(Users::AvatarUrl, 2048))
                .col(string_len_null(Users::Locale, 35))
                .col(timestamp_with_time_zone(Users::CreatedAt))
                .col(timestamp_with_time_zone(Users::UpdatedAt))
                .primary_key(Index::create().col(Users::TenantId).col(Users::Id))
                .foreign_key(
                    ForeignKey::create()
                        .from(Users::Table, (Users::TenantId, Users::BotId))
                        .to(Bots::Table, (Bots::TenantId, Bots::Id))
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_users_tenant_bot_channel_external")
                .table(Users::Table)
                .col(Users::TenantId)
                .col(Users::BotId)
                .col(Users::Channel)
                .col(Users::ExternalId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_users_tenant_bot_id")
                .table(Users::Table)
                .col(Users::TenantId)
                .col(Users::BotId)
                .col(Users::Id)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Conversations::Table)
                .col(tenant_id(Conversations::TenantId))
                .col(uuid(Conversations::Id))
                .col(uuid(Conversations::BotId))
                .col(uuid(Conversations::UserId))
                .col(string_len(Conversations::Status, 16))
                .col(string_len_null(Conversations::EndReason, 16))
                .col(string_len(Conversations::Channel, 100))
                .col(string_len_null(Conversations::Culture, 35))
                .col(boolean(Conversations::Debug))
                .col(string_len_null(Conversations::ChannelProvider, 100))
                .col(boolean(Conversations::IsProxy))
                .col(timestamp_with_time_zone(Conversations::StartedAt))
                .col(timestamp_with_time_zone(Conversations::LastActivityAt))
                .col(timestamp_with_time_zone_null(Conversations::ExpiresAt))
                .col(timestamp_with_time_zone_null(Conversations::EndedAt))
                .primary_key(
                    Index::create()
                        .col(Conversations::TenantId)
                        .col(Conversations::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(
                            Conversations::Table,
                            (Conversations::TenantId, Conversations::UserId),
                        )
                        .to(Users::Table, (Users::TenantId, Users::Id))
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            (
                "ix_conversations_tenant_bot_id",
                [Conversations::BotId, Conversations::Id],
            ),
            (
                "ix_conversations_tenant_user_id",
                [Conversations::UserId, Conversations::Id],
            ),
        ] {
            let mut index = Index::create();
            index
                .name(name)
                .table(Conversations::Table)
                .col(Conversations::TenantId);
            for col in cols {
                index.col(col);
            }
            m.create_index(index.to_owned()).await?;
        }
        // The janitor finds timed-out sessions by expiry; ended ones have none.
        m.create_index(
            Index::create()
                .name("ix_conversations_tenant_expires_at")
                .table(Conversations::Table)
                .col(Conversations::TenantId)
                .col(Conversations::ExpiresAt)
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Conversations::Table.into_iden(),
            Users::Table.into_iden(),
            Bots::Table.into_iden(),
            Tenants::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
