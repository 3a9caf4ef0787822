use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bots")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub session_timeout_secs: i64,
    /// `[{"name": "...", "ttl_secs": 60, "scopes": ["user"]}]`
    pub retention_policies: Json,
    /// `all`, `none` or `listed`.
    pub promotion_mode: String,
    /// Names promoted when the mode is `listed`: `["a", "b"]`.
    pub promotion_names: Json,
    pub last_messages_kept: i32,
    /// `lastMessagesKept` was lowered: the janitor trims this bot's logs.
    pub trim_pending: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
