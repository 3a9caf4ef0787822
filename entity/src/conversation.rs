use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "conversations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub bot_id: Uuid,
    pub user_id: Uuid,
    /// `active`, `ended` or `expired`. An `active` row whose `expires_at`
    /// has passed reads as expired before the janitor finalizes it.
    pub status: String,
    /// `completed`, `abandoned` or `timeout`.
    pub end_reason: Option<String>,
    pub channel: String,
    pub culture: Option<String>,
    pub debug: bool,
    pub channel_provider: Option<String>,
    pub is_proxy: bool,
    pub started_at: DateTimeUtc,
    pub last_activity_at: DateTimeUtc,
    /// `last_activity_at + bot.session_timeout` while active; null once ended.
    pub expires_at: Option<DateTimeUtc>,
    pub ended_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
