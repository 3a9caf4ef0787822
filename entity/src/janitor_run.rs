use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "janitor_runs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    /// UUIDv7: newest first is descending id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `schedule` or `manual`.
    pub trigger: String,
    pub started_at: DateTimeUtc,
    /// Null while running, or if the process died mid-sweep (the next
    /// sweep of the tenant marks such a run interrupted).
    pub finished_at: Option<DateTimeUtc>,
    pub variables_expired: i64,
    pub kv_entries_expired: i64,
    pub conversations_expired: i64,
    pub messages_trimmed: i64,
    pub error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
