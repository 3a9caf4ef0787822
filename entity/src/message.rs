use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub conversation_id: Uuid,
    /// UUIDv7: orders the log.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `incoming` or `outgoing`.
    pub direction: String,
    pub text: Option<String>,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub payload: Option<crate::StoredJson>,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
