use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tenants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub janitor_schedule: String,
    pub max_value_bytes: i32,
    /// When the janitor should next sweep this tenant (from its schedule).
    pub next_janitor_at: Option<DateTimeUtc>,
    /// A replica holding this lease is sweeping the tenant until then.
    pub janitor_lease_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
